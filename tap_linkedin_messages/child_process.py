"""Items made by a forked child process, on the machine's other core, while this process
goes on with what it does with them.

A source that lists messages spends its time in two places, one after the other on one
core: its own work on each message (the export's rows parsed and made into records; the
index's rows read back, decoded and settled) and the SDK's (each record made into Singer
messages). The API providers already have their own half elsewhere: the API builds its
JSON on its server. Here that half runs in a child forked from this process, which sends
its items down a pipe in batches (msgpack); this process decodes them and goes on with
the rest. Two reads use it: the export's rows made into records (`row_records`), while
this process learns who is who and fills the index; and the index read back
(`MessageIndex.conversations`, the export's and the DMA snapshot's), while this process
writes the records out. The pipe holds a bounded amount (the child waits when it is
full), so memory stays flat.

Why fork, and what the child may touch:
- The child inherits everything (the open indexes, the settings, the read's cutoff):
  nothing is pickled to start it and it is ready at once.
- It reads the SQLite connections it inherited as the parent left them, and writes
  nothing; the parent does not touch them until the child is gone. SQLite's warning about
  carrying a connection across `fork()` (https://www.sqlite.org/howtocorrupt.html, 2.6)
  is about two processes using one connection, or a child writing through it.
- It never writes to stdout (it is pointed at /dev/null: the Singer stream is the
  parent's alone) and leaves with `os._exit`, so no exit handler of the parent's (the
  writer's flush, the scratch files' removal) runs twice.
- A process with other threads does not fork (one of them may hold a lock the child
  would wait on forever), nor does a platform without `fork()`, nor a process the system
  refuses a child (no memory left for one): there, the items are made in this process,
  one after the other, the same items in the same order.

An error in the child is raised here as it was raised there (its class and text: a
`ProviderError` is still the one line users see). A child that ends any other way (a
signal, a crash, an exit of its own) is a `ProviderError` here saying how, never a
success: the child puts back the default handlers of the signals it inherited (the
SDK's SIGTERM handler exits with status 0, which the child would have sent up as a
clean end), and an exit it sends up is not one. If this process stops reading (an
error, Ctrl-C, a closed generator), the child is killed and reaped at once. Whether the
items were made in a child or here is logged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import struct
import sys
import threading
from typing import TYPE_CHECKING, Any, NoReturn

import msgspec

from tap_linkedin_messages.errors import ProviderError

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable

#: Items sent in one message down the pipe.
BATCH_ITEMS = 256
#: The pipe's size, where the platform lets it be set (Linux): the child runs this far ahead.
PIPE_BYTES = 1 << 20
# A message: its kind and its length, then its payload.
_HEADER = struct.Struct("<BI")
_ITEMS, _END, _ERROR = 0, 1, 2
#: Signals whose inherited handlers the child puts back to the default.
_RESET_SIGNALS = (signal.SIGTERM, signal.SIGINT)
LOGGER = logging.getLogger(__name__)


def can_fork() -> bool:
    """Whether items can be made in a child: `fork()` exists and no other thread runs."""
    return hasattr(os, "fork") and threading.active_count() == 1


def produced_in_child(
    produce: Callable[[], Iterable[Any]], what: str
) -> Generator[Any, None, None]:
    """The items `produce()` yields (msgpack-encodable), made in a forked child where
    `can_fork()`, else here. `what` names the work in an error."""
    if not can_fork():
        LOGGER.info("%s: made in this process (other threads run: no child)", what)
        yield from produce()
        return
    read_end, write_end = os.pipe()
    with contextlib.suppress(AttributeError, OSError):
        import fcntl

        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    # What this process has buffered for stderr is its own to write, not the child's too.
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:  # no memory or process left for a child: the same items, here
        os.close(read_end)
        os.close(write_end)
        LOGGER.info("%s: made in this process (the system gave no child)", what)
        yield from produce()
        return
    if pid == 0:
        _serve(produce, read_end, write_end)
    os.close(write_end)
    LOGGER.info("%s: made in a child process (pid %d)", what, pid)
    finished = reaped = False
    try:
        decode = msgspec.msgpack.Decoder().decode
        with os.fdopen(read_end, "rb", buffering=PIPE_BYTES) as pipe:
            while True:
                header = pipe.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    reaped = True
                    raise _ended(what, pid)
                kind, size = _HEADER.unpack(header)
                payload = pipe.read(size)
                if len(payload) < size:
                    reaped = True
                    raise _ended(what, pid)
                if kind == _ITEMS:
                    yield from decode(payload)
                    continue
                finished = True
                if kind == _END:
                    return
                error = pickle.loads(payload)  # our own child's exception
                if not isinstance(error, Exception):  # an exit, an interrupt: no success
                    msg = f"{what}: the process reading it ended ({type(error).__name__})"
                    raise ProviderError(msg)
                raise error
    finally:
        if not finished and not reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if not reaped:
            os.waitpid(pid, 0)


def _ended(what: str, pid: int) -> ProviderError:
    """The one line for a child gone before its last item, reaped here: how it ended."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        how = f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    else:
        how = f"exit status {os.waitstatus_to_exitcode(status)}"
    msg = f"{what}: the process reading it ended before its last item ({how}); run again"
    return ProviderError(msg)


def _serve(produce: Callable[[], Iterable[Any]], read_end: int, write_end: int) -> NoReturn:
    """The child: every item down the pipe, then the end (or the error), then gone."""
    status = 0
    try:
        for number in _RESET_SIGNALS:
            signal.signal(number, signal.SIG_DFL)
        os.close(read_end)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the child's until os._exit
        encode = msgspec.msgpack.Encoder().encode
        with os.fdopen(write_end, "wb", buffering=PIPE_BYTES) as pipe:

            def send(kind: int, payload: bytes) -> None:
                pipe.write(_HEADER.pack(kind, len(payload)))
                pipe.write(payload)

            try:
                batch: list[Any] = []
                for item in produce():
                    batch.append(item)
                    if len(batch) == BATCH_ITEMS:
                        send(_ITEMS, encode(batch))
                        batch.clear()
                send(_ITEMS, encode(batch))
                send(_END, b"")
            except BrokenPipeError:
                raise
            except BaseException as exc:  # every error is the parent's to raise
                status = 1
                # What was made before it, as here (unless the error is that it does not
                # encode: then the error is what the parent needs).
                with contextlib.suppress(Exception):
                    made = encode(batch)
                    send(_ITEMS, made)
                try:
                    payload = pickle.dumps(exc)
                except Exception:  # an exception that does not pickle
                    payload = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
                send(_ERROR, payload)
    except BaseException:  # the parent stopped reading: nobody to tell
        status = 1
    finally:
        os._exit(status)
