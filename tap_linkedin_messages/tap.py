"""`tap-linkedin-messages`: its settings and its streams."""

from __future__ import annotations

import copy
import sys
from typing import TYPE_CHECKING, Any, cast

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.tap_base import CliTestOptionValue

from tap_linkedin_messages.accounts import Accounts
from tap_linkedin_messages.concurrency import RequestGate
from tap_linkedin_messages.ledger import CreditLedger
from tap_linkedin_messages.providers import DEFAULT_PROVIDER, PROVIDERS, ProviderError
from tap_linkedin_messages.providers.base import ALL_CATEGORIES, CONNECTION_SETTINGS
from tap_linkedin_messages.redaction import mask_secrets_in_logs, secrets_in
from tap_linkedin_messages.strategies import strategy_for
from tap_linkedin_messages.streams import ConversationsStream, MessagesStream
from tap_linkedin_messages.walker import Sessions
from tap_linkedin_messages.writer import InboxWriter

if TYPE_CHECKING:
    import click

# A start_date the SDK could not parse fails here, at start, naming the setting.
_ISO_DATE_TIME = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"

#: Each provider's own settings, in the registry's order, each named once.
PROVIDER_SETTINGS = {
    prop.name: prop
    for properties in (CONNECTION_SETTINGS, *(p.settings for p in PROVIDERS.values()))
    for prop in properties.wrapped.values()
}


def _as_account_setting(prop: th.Property) -> th.Property:
    """A setting as an `accounts` entry takes it: without its default, which the SDK would
    write into every entry, over the tap's own value (`country: US` read as FR)."""
    entry_setting = copy.copy(prop)
    entry_setting.default = None
    return entry_setting


def _provider_is(name: str) -> dict:
    """JSON schema: the `provider` setting is `name` (left out, it is the default)."""
    chosen = {"properties": {"provider": {"const": name}}, "required": ["provider"]}
    if name == DEFAULT_PROVIDER:
        return {"anyOf": [chosen, {"not": {"required": ["provider"]}}]}
    return chosen


class TapLinkedInMessages(Tap):
    """LinkedIn inbox conversations and messages, through the provider a user picks."""

    name = "tap-linkedin-messages"
    # The SDK's msgspec writer: about twice the records per second of the default one,
    # and the same Singer messages (tests/test_postgres_e2e.py loads them into target-jsonl
    # and target-postgres); each SCHEMA message serialized once (`writer.py`).
    message_writer_class: type[GenericSingerWriter] = InboxWriter

    config_jsonschema = {
        **th.PropertiesList(
            th.Property(
                "provider",
                th.StringType(allowed_values=sorted(PROVIDERS)),
                default=DEFAULT_PROVIDER,
                title="Provider",
                description="Which source reads the inbox: "
                + ", ".join(p.title for p in PROVIDERS.values())
                + ".",
            ),
            *PROVIDER_SETTINGS.values(),
            th.Property(
                "accounts",
                th.ArrayType(
                    th.ObjectType(
                        th.Property("account_id", th.StringType(min_length=1), required=True),
                        *(
                            _as_account_setting(p)
                            for name, p in PROVIDER_SETTINGS.items()
                            if name != "account_id"
                        ),
                        # A misspelt or misplaced setting (`provider`) is named, not ignored.
                        additional_properties=False,
                    )
                ),
                title="Accounts",
                description=(
                    "Several LinkedIn accounts in one run, instead of `account_id`: a list of "
                    "`{account_id, ...}` objects, each with its own connection settings "
                    f"({', '.join(f'`{n}`' for n in PROVIDER_SETTINGS if n != 'account_id')}) "
                    "or the tap's. Each account keeps its own bookmarks; an account whose own "
                    "setting fails is named, keeps its bookmarks, and the others are read "
                    "(exit code 1)."
                ),
            ),
            th.Property(
                "start_date",
                th.DateTimeType(),
                title="Start date",
                description="Nothing older than this date-time is emitted (RFC 3339).",
            ),
            th.Property(
                "inbox_categories",
                th.ArrayType(th.StringType(allowed_values=list(ALL_CATEGORIES))),
                default=["INBOX"],
                title="Inbox categories",
                description=(
                    "Inbox folders to read: INBOX, UNREAD, MY_CONNECTIONS, INMAIL, STARRED "
                    "(ConnectSafely and Unipile: INBOX and UNREAD). A conversation found in "
                    "several is read once."
                ),
            ),
            th.Property(
                "page_size",
                th.IntegerType(minimum=1),
                default=100,
                title="Page size",
                description="Items asked for per request (conversations or messages).",
            ),
            th.Property(
                "lookback_minutes",
                th.NumberType(minimum=0),
                default=10,
                title="Lookback",
                description=(
                    "Minutes before the bookmark that each run looks at again, for messages a "
                    "provider lists late. Conversations in that window are read again only if "
                    "their activity changed, so an unchanged inbox costs nothing extra."
                ),
            ),
            th.Property(
                "max_credits",
                th.IntegerType(minimum=1),
                title="Max credits",
                description=(
                    "Budget of provider credits for one run. The run stops before a request "
                    "that could exceed it, having emitted everything read so far and without "
                    "advancing the bookmarks; exit code 1. Unset: no budget."
                ),
            ),
            th.Property(
                "max_concurrent_requests",
                th.IntegerType(minimum=1),
                default=1,
                title="Max concurrent requests",
                description=(
                    "Requests in flight at once. Above 1, the messages of several changed "
                    "conversations are fetched at the same time (records still come out in "
                    "the same order); a rate-limit answer holds all of them back."
                ),
            ),
            th.Property(
                "request_timeout",
                th.NumberType(minimum=1),
                default=60,
                title="Request timeout",
                description="Seconds to wait for one response before retrying it.",
            ),
            th.Property(
                "max_retries",
                th.IntegerType(minimum=0),
                default=5,
                title="Max retries",
                description=(
                    "Retries of a request that failed for a transient reason (rate limit, "
                    "server error, timeout, cut-off response) before the run stops."
                ),
            ),
            th.Property(
                "backoff_base_seconds",
                th.NumberType(minimum=0),
                default=2,
                title="Backoff base",
                description=(
                    "Seconds before the first retry, doubling with each further retry; a "
                    "`Retry-After` header from the provider takes precedence."
                ),
            ),
        ).to_dict(),
        # Which credentials are required, and which categories exist, depend on the provider
        # (with `accounts`, credentials may come from each account instead).
        "allOf": [
            rule
            for name, provider in PROVIDERS.items()
            for rule in (
                {
                    "if": _provider_is(name),
                    "then": {
                        "properties": {
                            "inbox_categories": {
                                "items": {"enum": list(provider.supported_categories)}
                            }
                        }
                    },
                },
                {
                    "if": {**_provider_is(name), "not": {"required": ["accounts"]}},
                    "then": {"required": list(provider.required_settings)},
                },
            )
        ]
        + [
            {"properties": {"start_date": {"pattern": _ISO_DATE_TIME}}},
            # No category: nothing would be read, and the run would pass for one that was.
            {"properties": {"inbox_categories": {"minItems": 1}}},
        ],
    }

    def discover_streams(self) -> list[Stream]:
        """The parent `conversations` and its child `messages`, reading through the
        strategy for the provider's kind of source, sharing one credit ledger."""
        adapter = PROVIDERS[self.config.get("provider", DEFAULT_PROVIDER)]
        workers = int(self.config.get("max_concurrent_requests") or 1)
        shared: dict[str, Any] = {
            "strategy": strategy_for(adapter, workers),
            "accounts": Accounts(adapter, self.config),
            "ledger": CreditLedger(adapter.name, self.config.get("max_credits")),
            "gate": RequestGate(workers),
            "sessions": Sessions(),
        }
        return [ConversationsStream(self, **shared), MessagesStream(self, **shared)]

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        """Run; a provider answer that retrying cannot fix ends the run with one line.

        The config's secrets are masked in every log line from the start: the SDK's
        validation errors quote the values they reject (`['sk-…'] is not of type
        'string'`)."""
        config = kwargs.get("config")
        mask_secrets_in_logs(secrets_in(getattr(config, "config", None)))
        try:
            super().invoke(*args, **kwargs)
        except ProviderError as error:
            cls.logger.error("%s", error)
            sys.exit(1)

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """`--test`: each account answers (the first page its read asks for; no record is
        emitted), and every one that does not is named. A bad setting, or an account that
        does not answer, ends as a run does: one line each and exit 1 (the SDK's own test
        reads a record from the first account only, and its errors end in a traceback)."""
        if value != CliTestOptionValue.All.value:  # not asked for, or the schemas only
            super().cb_test(ctx, param, value)
            return
        config = ctx.params.get("config")
        mask_secrets_in_logs(secrets_in(config.config if config else None))
        try:
            tap = cls(
                config=config.config if config else None,
                parse_env_config=bool(config and config.parse_env),
                validate_config=True,
            )
            cast("ConversationsStream", tap.streams["conversations"]).check_accounts()
        except ConfigValidationError as error:
            for line in error.errors:
                cls.logger.error("%s", line)
            cls.logger.error("Config validation failed")
            ctx.exit(1)
        except ProviderError as error:
            cls.logger.error("%s", error)
            ctx.exit(1)
        ctx.exit()


if __name__ == "__main__":
    TapLinkedInMessages.cli()
