"""LinkupAPI v1 (cookie-based): `POST /v1/messages/inbox` and `POST /v1/messages/conversation`.

References: https://docs.linkupapi.com/api-reference/linkup/Messages/conversation ("Get
Conversation Messages"), https://docs.linkupapi.com/api-reference/linkup/Messages/inbox-conversations
("Get Message Inbox"), https://docs.linkupapi.com/api-reference/introduction (credits and
limits) and https://docs.linkupapi.com/api-reference/v2/migration (how v1 answers errors).
v1 differs from v2 (`linkup.py`) in ways that shape this adapter:

- every request carries the LinkedIn session cookie (`login_token`) and the proxy
  `country` in its JSON body; there is no `account_id`;
- the inbox takes its cursor as `next_cursor`, the conversation as `cursor`;
- most errors come back as HTTP 200 with `"status": "error"`, so the body decides, and
  v1 documents no error codes: the error text is all there is to classify;
- no `is_me` and no `is_organization` anywhere, and no `profile_url` on messages.

Every timestamp inside `data` is epoch milliseconds.
"""

from __future__ import annotations

from typing import Any, ClassVar

from singer_sdk import typing as th

from tap_linkedin_messages.providers.base import ConversationApi
from tap_linkedin_messages.providers.error_rules import ErrorRule, Failure, Outcome, rule
from tap_linkedin_messages.providers.linkup import RETRY_LATER, message_record
from tap_linkedin_messages.providers.linkup import conversation_record as v2_conversation_record
from tap_linkedin_messages.providers.pages import ApiRequest, AskParams, PageAsk, PageShape, Route
from tap_linkedin_messages.records import Record

INBOX_PATH = "/v1/messages/inbox"
CONVERSATION_PATH = "/v1/messages/conversation"
# The doc's default proxy country (tap.py validates the setting against the doc's list).
DEFAULT_COUNTRY = "FR"
COUNTRIES = ["US", "UK", "FR", "DE", "NL", "IT", "IL", "CA", "BR", "ES", "IN"]

CHECK_API_KEY = "check the `api_key` setting"
CHECK_LOGIN_TOKEN = (
    "check the `login_token` setting (renew it with LinkupAPI's v1 login/verify flow)"
)


def conversation_record(item: dict[str, Any], *, category: str | None) -> Record:
    """One v1 inbox conversation: v2's shape, where v1 has no `is_organization` flag.

    v1 sends no `is_me` either: `last_message.is_from_me` stays null unless it comes.
    """
    return v2_conversation_record(item, category=category, organization_flag=False)


# v1 messages are v2's without `sender_info.profile_url` (null unless it comes), and
# neither says who "me" is: the record builder is v2's `message_record` (imported above).


def next_cursor_of(payload: dict[str, Any]) -> str | None:
    """The cursor of the next page, or None at the end.

    The doc names `has_next_page` and `next_cursor` but its example does not show where
    they sit [inferred: in `data` first, then at the top level]. The listing ends when
    `has_next_page` is false, or when there is no cursor to follow.
    """
    data = payload.get("data")
    data = data if isinstance(data, dict) else {}
    has_next_page = first_present("has_next_page", data, payload)
    cursor = first_present("next_cursor", data, payload)
    if has_next_page is False or cursor is None or cursor == "":
        return None
    return str(cursor)


def first_present(key: str, *sources: dict[str, Any]) -> Any:
    """`key`'s value in the first source that has it set (not null)."""
    return next((source[key] for source in sources if source.get(key) is not None), None)


def error_details(payload: Any) -> tuple[str | None, str]:
    """The code (if any) and the text of a v1 error body.

    The doc shows only `"status": "error"` [inferred: the rest], so take whichever of
    `code`, `message` and `error` (a string, or an object with `code`/`message`) it has.
    """
    if not isinstance(payload, dict):
        return None, ""
    error = payload.get("error")
    code = payload.get("code")
    texts = [payload.get("message")]
    if isinstance(error, dict):
        code = code or error.get("code")
        texts.append(error.get("message"))
    elif isinstance(error, str):
        texts.append(error)
    unique = dict.fromkeys(str(text) for text in texts if text not in (None, ""))
    return (str(code) if code not in (None, "") else None), "; ".join(unique)


def is_success(status: int, payload: Any) -> bool:
    """v1's success envelope, `{"status": "success", "data": {...}}`.

    A 2xx body with `data`, no `error` and no `status` at all is taken as success too:
    the doc's examples all carry `status`, but nothing in such a body says it failed.
    """
    if not isinstance(payload, dict) or status >= 400:
        return False
    outcome = payload.get("status")
    if outcome is None:
        return isinstance(payload.get("data"), dict) and "error" not in payload
    return str(outcome).lower() == "success"


class LinkupV1Provider(ConversationApi):
    """LinkupAPI v1 (`provider: linkup_v1`), authenticated by API key and session cookie."""

    name = "linkup_v1"
    title = "`linkup_v1` (LinkupAPI v1, cookie-based)"
    default_api_url = "https://api.linkupapi.com"
    required_settings = ("api_key", "login_token")
    settings = th.PropertiesList(
        th.Property(
            "login_token",
            th.StringType(min_length=1),
            secret=True,
            title="Login token",
            description=(
                "LinkupAPI v1 only: the LinkedIn session token from LinkupAPI's login/verify flow."
            ),
        ),
        th.Property(
            "country",
            th.StringType(allowed_values=COUNTRIES),
            default=DEFAULT_COUNTRY,
            title="Country",
            description=(
                "LinkupAPI v1 only: country of the proxy LinkupAPI uses "
                "(US, UK, FR, DE, NL, IT, IL, CA, BR, ES, IN)."
            ),
        ),
    )

    inbox_shape = PageShape(
        items="$.data.conversations[*]",
        record=conversation_record,
        cursor=next_cursor_of,
        requires="last_activity_at",
    )
    # `account_id` is no v1 concept: the cookie selects the account. The inbox's cursor
    # field is `next_cursor`, unlike the conversation's `cursor`.
    inbox_params = AskParams(cursor="next_cursor", page_size="total_results", category="category")
    # The end is `has_next_page: false`, no cursor, or no messages.
    conversation_shape = PageShape(
        items="$.data.messages[*]", record=message_record, cursor=next_cursor_of
    )
    conversation_params = AskParams(
        cursor="cursor", page_size="total_results", conversation_id="conversation_id"
    )
    # v1 documents no error codes, so failures are told apart by their text (a 429 or a
    # 5xx is retried before this table is read). Rate limits come first (their text may
    # name the key or session they apply to), then the credentials and the credit
    # balance, and only then the vaguer "try again" phrases.
    errors: ClassVar[tuple[ErrorRule, ...]] = (
        rule(Outcome.RETRY, RETRY_LATER, text=r"rate.?limit|too many requests"),
        rule(Outcome.FAIL, CHECK_API_KEY, text=r"api.?(key|token)"),
        rule(
            Outcome.FAIL,
            CHECK_LOGIN_TOKEN,
            text=r"login.?token|cookie|session|li_at|\btoken\b|logged (in|out)|re-?log|checkpoint",
        ),
        # Not a word about the cookie: the API key is what the HTTP layer checks.
        rule(Outcome.FAIL, CHECK_API_KEY, status={401, 403}),
        # An authentication failure that names neither credential.
        rule(
            Outcome.FAIL,
            "check the `api_key` and `login_token` settings",
            text=r"unauthori[sz]ed|forbidden|authenticat|credential",
        ),
        # Out of credits is no passing fault, however politely it says "try again".
        rule(
            Outcome.FAIL,
            "top up LinkupAPI credits; the next run resumes from the bookmark",
            text=r"credit",
        ),
        rule(
            Outcome.RETRY,
            RETRY_LATER,
            text=r"try again|temporar|timed? ?out|unavailable|overloaded",
        ),
        rule(
            Outcome.GONE,
            route=Route.CONVERSATION,
            text=r"conversation\b.*\b(not found|does ?n[o']t exist|no longer exists|deleted)"
            r"|no conversation|conversation_not_found",
        ),
        # v1 errors are HTTP 200 with a JSON body (one that is not JSON is asked again,
        # as for every provider).
        rule(Outcome.FAIL, "check the tap settings", status=range(200, 300), decoded=True),
    )

    def auth_headers(self) -> dict[str, str]:
        """The API key goes in `x-api-key`; the LinkedIn cookie goes in each body."""
        return {"x-api-key": str(self.config["api_key"])}

    def succeeded(self, status: int, payload: Any) -> bool:
        """v1's errors are mostly HTTP 200 with `status: error`: the body decides."""
        return is_success(status, payload)

    def error_of(self, payload: Any) -> tuple[Any, Any]:
        return error_details(payload)

    def credits_for_failure(self, failure: Failure) -> int:
        """v1 "charges credits on every status except 500"
        (https://docs.linkupapi.com/api-reference/introduction): a failed call costs the
        smallest bill, one credit [inferred: the doc gives no count for a failure]."""
        return 0 if failure.status == 500 else self.credits_for(1)

    def _body(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A request body with the session fields every v1 call carries."""
        return {
            **fields,
            "country": str(self.config.get("country") or DEFAULT_COUNTRY),
            "login_token": str(self.config.get("login_token") or ""),
        }

    def inbox_request(self, ask: PageAsk) -> ApiRequest:
        """The inbox, newest activity first (no time filter: the stream stops paging)."""
        return ApiRequest("POST", INBOX_PATH, json=self._body(self.inbox_params.of(ask)))

    def conversation_request(self, ask: PageAsk) -> ApiRequest:
        """One conversation, newest message first; the cursor (a time) walks back."""
        fields = self.conversation_params.of(ask)
        return ApiRequest("POST", CONVERSATION_PATH, json=self._body(fields))
