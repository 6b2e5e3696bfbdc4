"""Several conversations' messages fetched at once, still emitted in the SDK's order.

`max_concurrent_requests` > 1 turns this on. The conversation-API strategy announces,
page by page, the conversations whose messages will be read; when the SDK asks for one,
it starts fetching it and the next few in worker threads (each job is prepared in the
main thread and run by a worker on its own copy of the stream) and hands the records
over in order. Memory stays flat: only the conversations being fetched are buffered, a couple
of pages each.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from queue import Full, Queue
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from singer_sdk.helpers.types import Context

    #: Prepares, in the main thread, the job a worker runs for one conversation.
    Prepare = Callable[[Context], Callable[[], Iterator[dict[str, Any]]]]

_DONE = object()


class RequestGate:
    """At most `max_in_flight` requests at once, and a pause that every request honours."""

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._lock = threading.Lock()
        self._resume_at = 0.0
        self._in_flight = 0
        #: The most requests seen in flight at once (for tests and the benchmark).
        self.peak = 0

    def pause(self, seconds: float) -> None:
        """Hold every new request back for `seconds` (a rate limit slows all workers)."""
        with self._lock:
            self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait out any pause, then hold one of the slots while a request is in flight."""
        while (delay := self._resume_at - time.monotonic()) > 0:
            time.sleep(delay)
        with self._slots:
            with self._lock:
                self._in_flight += 1
                self.peak = max(self.peak, self._in_flight)
            try:
                yield
            finally:
                with self._lock:
                    self._in_flight -= 1


class Prefetcher:
    """Fetches announced conversations ahead, `workers` at a time, handed over in order."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._upcoming: deque[Context] = deque()
        self._queues: dict[str, Queue[Any]] = {}
        self._stop = threading.Event()

    def announce(self, contexts: list[Context | None]) -> None:
        """Conversations whose messages the SDK will ask for next, in its order (None:
        a conversation it will not sync)."""
        self._upcoming.extend(context for context in contexts if context is not None)

    def take(self, context: Context, prepare: Prepare) -> Iterator[dict[str, Any]]:
        """The records of one conversation, while the next ones are fetched."""
        conversation_id = context["conversation_id"]
        while self._upcoming and self._upcoming[0]["conversation_id"] != conversation_id:
            self._upcoming.popleft()
        if self._upcoming:
            self._upcoming.popleft()
        self._submit(context, prepare)
        for upcoming in list(self._upcoming)[: self.workers - 1]:
            self._submit(upcoming, prepare)
        queue = self._queues.pop(conversation_id)
        while (item := queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop the workers and forget what was announced (end of a partition, or an error)."""
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None
        self._queues.clear()
        self._upcoming.clear()
        self._stop = threading.Event()

    def _submit(self, context: Context, prepare: Prepare) -> None:
        if context["conversation_id"] in self._queues:
            return
        job = prepare(context)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="messages")
        # Two pages or so of records per conversation, at most.
        queue: Queue[Any] = Queue(maxsize=500)
        self._queues[context["conversation_id"]] = queue
        self._pool.submit(self._run, job, queue)

    def _run(self, job: Callable[[], Iterator[dict[str, Any]]], queue: Queue[Any]) -> None:
        try:
            for record in job():
                self._put(queue, record)
            self._put(queue, _DONE)
        except BaseException as error:  # handed to the main thread, which raises it
            self._put(queue, error)

    def _put(self, queue: Queue[Any], item: object) -> None:
        while not self._stop.is_set():
            try:
                queue.put(item, timeout=0.1)
            except Full:
                continue
            return
