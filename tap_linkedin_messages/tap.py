"""`tap-linkedin-messages`: its settings and its streams."""

from __future__ import annotations

import sys
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk import typing as th

from tap_linkedin_messages.concurrency import RequestGate
from tap_linkedin_messages.ledger import CreditLedger
from tap_linkedin_messages.providers import PROVIDERS, ProviderError
from tap_linkedin_messages.streams import ConversationsStream, MessagesStream

INBOX_CATEGORIES = ["INBOX", "UNREAD", "MY_CONNECTIONS", "INMAIL", "STARRED"]
LINKUP_V1_COUNTRIES = ["US", "UK", "FR", "DE", "NL", "IT", "IL", "CA", "BR", "ES", "IN"]

# A start_date the SDK could not parse fails here, at start, naming the setting.
_ISO_DATE_TIME = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"


def _provider_is(name: str) -> dict:
    """JSON schema: the `provider` setting is `name` (left out, it is linkup)."""
    chosen = {"properties": {"provider": {"const": name}}, "required": ["provider"]}
    return {"anyOf": [chosen, {"not": {"required": ["provider"]}}]} if name == "linkup" else chosen


class TapLinkedInMessages(Tap):
    """LinkedIn inbox conversations and messages, through the provider a user picks."""

    name = "tap-linkedin-messages"

    config_jsonschema = {
        **th.PropertiesList(
            th.Property(
                "provider",
                th.StringType(allowed_values=sorted(PROVIDERS)),
                default="linkup",
                title="Provider",
                description=(
                    "Which API reads the inbox: `linkup` (LinkupAPI v2), `linkup_v1` "
                    "(LinkupAPI v1, cookie-based), `connectsafely` (ConnectSafely), "
                    "`unipile` (Unipile), `linkedin_export` (LinkedIn's own data-export "
                    "archive, read offline) or `linkedin_dma` (LinkedIn's Member Data "
                    "Portability API)."
                ),
            ),
            th.Property(
                "api_key",
                th.StringType(min_length=1),
                secret=True,
                title="API key",
                description=(
                    "The provider's API key (LinkupAPI and Unipile: sent as the `x-api-key` "
                    "header; ConnectSafely: as a bearer token)."
                ),
            ),
            th.Property(
                "account_id",
                th.StringType(min_length=1),
                title="Account ID",
                description=(
                    "The provider's id of the LinkedIn account whose inbox is read "
                    "(required for `linkup` and `unipile`; ConnectSafely uses the default "
                    "account when it is left out)."
                ),
            ),
            th.Property(
                "login_token",
                th.StringType(min_length=1),
                secret=True,
                title="Login token",
                description=(
                    "LinkupAPI v1 only: the LinkedIn session token from LinkupAPI's "
                    "login/verify flow."
                ),
            ),
            th.Property(
                "country",
                th.StringType(allowed_values=LINKUP_V1_COUNTRIES),
                default="FR",
                title="Country",
                description=(
                    "LinkupAPI v1 only: country of the proxy LinkupAPI uses "
                    "(US, UK, FR, DE, NL, IT, IL, CA, BR, ES, IN)."
                ),
            ),
            th.Property(
                "export_path",
                th.StringType(min_length=1),
                title="Export path",
                description=(
                    "`linkedin_export` only: LinkedIn's data-export ZIP, its `messages.csv`, or "
                    "a folder of successive archives (a newer archive adds only what is new)."
                ),
            ),
            th.Property(
                "access_token",
                th.StringType(min_length=1),
                secret=True,
                title="Access token",
                description=(
                    "`linkedin_dma` only: a LinkedIn OAuth token with a DMA portability scope "
                    "(`r_dma_portability_3rd_party` or `r_dma_portability_member`) of a member "
                    "in the EEA or Switzerland."
                ),
            ),
            th.Property(
                "linkedin_version",
                th.StringType(min_length=1),
                default="202312",
                title="LinkedIn-Version",
                description=(
                    "`linkedin_dma` only: the `LinkedIn-Version` header (YYYYMM) sent with "
                    "every request; LinkedIn retires a version about a year after release."
                ),
            ),
            th.Property(
                "accounts",
                th.ArrayType(
                    th.ObjectType(
                        th.Property("account_id", th.StringType(min_length=1), required=True),
                        th.Property("api_key", th.StringType(min_length=1), secret=True),
                        th.Property("login_token", th.StringType(min_length=1), secret=True),
                        th.Property("access_token", th.StringType(min_length=1), secret=True),
                        th.Property("api_url", th.StringType(pattern=r"^https?://\S+$")),
                        th.Property("country", th.StringType(allowed_values=LINKUP_V1_COUNTRIES)),
                        th.Property("export_path", th.StringType(min_length=1)),
                    )
                ),
                title="Accounts",
                description=(
                    "Several LinkedIn accounts in one run, instead of `account_id`: a list of "
                    "`{account_id, ...}` objects, each with its own credentials (`api_key`, "
                    "`login_token`, `access_token`, `api_url`, `country`, `export_path`) or "
                    "the tap's. Each account keeps its own bookmarks."
                ),
            ),
            th.Property(
                "api_url",
                th.StringType(pattern=r"^https?://\S+$"),
                title="API URL",
                description=(
                    "Base URL of the provider's API. Defaults to the provider's public host "
                    "(LinkupAPI: https://api.linkupapi.com, ConnectSafely: "
                    "https://api.connectsafely.ai/linkedin); required for Unipile, whose "
                    "base URL is your account's DSN (https://apiN.unipile.com:PORT)."
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
                th.ArrayType(th.StringType(allowed_values=INBOX_CATEGORIES)),
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
        + [{"properties": {"start_date": {"pattern": _ISO_DATE_TIME}}}],
    }

    def discover_streams(self) -> list[Stream]:
        """The parent `conversations` and its child `messages`, sharing one credit ledger."""
        ledger = CreditLedger(self.config.get("provider", "linkup"), self.config.get("max_credits"))
        gate = RequestGate(int(self.config.get("max_concurrent_requests") or 1))
        return [
            ConversationsStream(self, ledger=ledger, gate=gate),
            MessagesStream(self, ledger=ledger, gate=gate),
        ]

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        """Run; a provider answer that retrying cannot fix ends the run with one line."""
        try:
            super().invoke(*args, **kwargs)
        except ProviderError as error:
            cls.logger.error("%s", error)
            sys.exit(1)


if __name__ == "__main__":
    TapLinkedInMessages.cli()
