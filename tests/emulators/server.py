"""A real HTTP server on 127.0.0.1 that provider emulators build on.

It counts requests and credits, can add latency, and can answer the next requests with
injected faults (a status and body, a delay longer than the client's timeout, a body cut
off half-way), so retries and timeouts are exercised over a real socket.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from typing_extensions import Self

from tap_linkedin_messages.normalize import ms_to_rfc3339
from tests.emulators.paging import BadRequestError

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.emulators.inbox import Message, SyntheticInbox


@dataclass
class Reply:
    """What the emulator answers: status, JSON body (or raw bytes) and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    credits: int = 0

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body).encode()


@dataclass(frozen=True)
class ErrorReply:
    """A provider's documented answer to one kind of failure, laid out by its emulator's
    `error_body` in the provider's error envelope."""

    status: int
    text: str
    code: str = ""
    #: A second label where the provider has one (Unipile's `title`, LinkedIn's
    #: `serviceErrorCode`).
    label: str | int = ""


@dataclass
class Fault:
    """An injected answer for one upcoming request (optionally only for one route)."""

    reply: Reply | None = None
    delay: float = 0.0
    truncate: bool = False
    route: str | None = None
    #: Answer with the route's previous reply again (a provider stuck on one page).
    replay: bool = False
    #: Let this many requests of the route pass first.
    after: int = 0
    #: Answer with the emulator's own reply, changed (a provider off its documented shape).
    rewrite: Callable[[Reply], Reply] | None = None


@dataclass
class Call:
    """One request the emulator saw."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]
    route: str = ""
    status: int = 0
    credits: int = 0
    #: For a request of one conversation's messages: the thread it asked for.
    thread_id: str | None = None
    #: When the request arrived (time.monotonic()).
    at: float = 0.0


class EmulatorServer:
    """Base class: subclasses implement `route(call)` and `answer(call)`."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.calls: list[Call] = []
        self.faults: deque[Fault] = deque()
        self.credits = 0
        self._last_reply: dict[str, Reply] = {}
        self._lock = threading.Lock()
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without this, Nagle's algorithm
                # and delayed ACKs add ~40 ms to every keep-alive request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                emulator._serve(self)

            do_GET = _handle  # noqa: N815
            do_POST = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests read ------------------------------------------------------------------

    def count(self, route: str | None = None) -> int:
        return sum(1 for call in self.calls if route is None or call.route == route)

    def credits_of(self, route: str) -> int:
        return sum(call.credits for call in self.calls if call.route == route)

    def routes(self) -> Counter[str]:
        return Counter(call.route for call in self.calls)

    def threads_read(self) -> Counter[str]:
        """How many message requests each conversation (thread id) received."""
        return Counter(call.thread_id for call in self.calls if call.thread_id)

    def reset_counters(self) -> None:
        with self._lock:
            self.calls.clear()
            self.credits = 0

    def inject(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    # --- subclass hooks -------------------------------------------------------------------

    def route(self, call: Call) -> str:
        raise NotImplementedError

    def answer(self, call: Call) -> Reply:
        raise NotImplementedError

    def refused(self, call: Call) -> Reply | None:
        """An answer that comes before `answer` looks at the request (None: none)."""
        return None

    def bad_request(self, refusal: BadRequestError) -> Reply:
        """The answer to a parameter `answer` refused."""
        raise NotImplementedError

    # --- serving --------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw_body = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = None
        call = Call(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query),
            body=body,
            headers={k.lower(): v for k, v in handler.headers.items()},
        )
        call.route = self.route(call)
        call.at = time.monotonic()
        fault = self._next_fault(call.route)
        if self.latency:
            time.sleep(self.latency)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.replay and call.route in self._last_reply:
            reply = self._last_reply[call.route]
        elif fault is not None and fault.reply is not None:
            reply = fault.reply
        else:
            try:
                reply = self.refused(call) or self.answer(call)
            except BadRequestError as refusal:
                reply = self.bad_request(refusal)
            if fault is not None and fault.rewrite is not None:
                reply = fault.rewrite(reply)
        self._last_reply[call.route] = reply
        call.status = reply.status
        call.credits = reply.credits
        with self._lock:
            self.calls.append(call)
            self.credits += reply.credits
        payload = reply.encoded()
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json")
            for key, value in reply.headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if fault is not None and fault.truncate:
                handler.wfile.write(payload[: len(payload) // 2])
                handler.wfile.flush()
                handler.close_connection = True
                return
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def _next_fault(self, route: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self.faults):
                if fault.route is None or fault.route == route:
                    if fault.after:
                        fault.after -= 1
                        continue
                    del self.faults[index]
                    return fault
        return None


class ProviderEmulator(EmulatorServer):
    """What the provider contract suite needs from every provider's emulator.

    Subclasses serve a `SyntheticInbox` in their provider's wire format, set
    `Call.thread_id` in `route()` for message requests, and bill `Reply.credits`.
    """

    #: The `provider` setting value this emulator stands in for.
    provider: str
    #: `Call.route` of an inbox page request and of a messages page request.
    inbox_route: str
    messages_route: str
    #: Whether the provider tells, for every message, if the account owner sent it.
    tells_is_me: bool = False
    #: Whether a conversation nobody wrote in is listed with an activity time (Unipile's
    #: chat `timestamp` is null there).
    dates_empty_conversations: bool = True
    #: False where the source lists messages (the export, the DMA API): no request per
    #: conversation, so the suite's per-conversation request counts do not apply.
    reads_conversations_one_by_one: bool = True
    #: Whether an inbox with no message at all stops the run (a file source: far likelier
    #: the wrong file than a member who never wrote a message).
    empty_inbox_is_an_error: bool = False

    #: The setting the tap's error names when the provider no longer serves the account,
    #: and the row of `errors` it answers with.
    disconnected_setting: str = "account_id"
    disconnected_kind = "disconnected"
    #: The settings that read this emulator's account, with their defaults (each is also
    #: an attribute, which tests read and set), and the one `bad_credentials` gets wrong.
    credentials: ClassVar[dict[str, str]] = {}
    checked_credential = "api_key"
    #: What `api_url` adds to the server's address.
    api_path = ""
    #: The provider's documented answer to each kind of failure `error_reply` is asked
    #: for, and `bad_request` (a parameter refused: its text is then the refusal's) and
    #: `disconnected` where it has them.
    errors: ClassVar[dict[str, ErrorReply]] = {}

    def __init__(self, inbox: SyntheticInbox, *, latency: float = 0.0, **credentials: str) -> None:
        super().__init__(latency=latency)
        self.inbox = inbox
        self.disconnected = False
        for name, default in self.credentials.items():
            setattr(self, name, credentials.pop(name, default))
        if credentials:
            raise TypeError(f"{type(self).__name__} has no credential {sorted(credentials)}")

    def disconnect(self) -> str:
        """From now on, answer every request as the provider answers for an account it no
        longer serves (logged out of LinkedIn, its token revoked, its file gone); the
        setting the tap's error must name."""
        self.disconnected = True
        return self.disconnected_setting

    def reconnect(self) -> None:
        """Serve the account again."""
        self.disconnected = False

    def refused(self, call: Call) -> Reply | None:
        return self.disconnected_reply(call) if self.disconnected else None

    def disconnected_reply(self, call: Call) -> Reply | None:
        """The provider's answer to `call` for a disconnected account (None: as usual)."""
        return self.error_reply(self.disconnected_kind)

    def config(self, **overrides: Any) -> dict[str, Any]:
        """Tap settings that read this emulator's inbox (credentials included)."""
        return {
            "provider": self.provider,
            **{name: getattr(self, name) for name in self.credentials},
            "api_url": self.url + self.api_path,
            "backoff_base_seconds": 0,
            **overrides,
        }

    def bad_credentials(self) -> tuple[dict[str, Any], str]:
        """Settings with a wrong credential, and the setting the error must name."""
        wrong = {self.checked_credential: "wrong-credential-0000"}
        return self.config(**wrong), self.checked_credential

    def conversation_id(self, thread_id: str) -> str:
        """The `conversation_id` the tap should emit for a thread."""
        return self.inbox.conversation_urn(thread_id)

    def message_id(self, message: Message) -> str:
        """The `message_id` the tap should emit for a message."""
        return self.inbox.message_urn(message)

    def sent_at(self, sent_at_ms: int) -> str:
        """The `sent_at` the tap should emit for a message sent at `sent_at_ms`."""
        return str(ms_to_rfc3339(sent_at_ms))

    def error_reply(
        self, kind: str, *, retry_after: str | None = None, message: str | None = None
    ) -> Reply:
        """The provider's own answer for a kind of failure (with `message` as its error
        text where given), as its docs show it:

        `rate_limited` (429, with `Retry-After` when given), `server_error` (5xx),
        `unauthorized` (a rejected credential), `conversation_gone` (a conversation's
        messages asked for after it was deleted) and `fatal` (any other error that
        retrying cannot fix, e.g. `success: false` with a non-transient code).
        """
        documented = self.errors[kind]
        reply = self.error_body(replace(documented, text=message) if message else documented)
        if retry_after is not None:
            reply.headers["Retry-After"] = retry_after
        return reply

    def error_body(self, error: ErrorReply) -> Reply:
        """`error` in the provider's error envelope."""
        raise NotImplementedError

    def bad_request(self, refusal: BadRequestError) -> Reply:
        return self.error_reply("bad_request", message=str(refusal))
