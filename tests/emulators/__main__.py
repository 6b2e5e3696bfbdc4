"""Run an emulator in the foreground: `python -m tests.emulators linkup --url-file F`.

Used by `make demo`; it writes its base URL to `--url-file` once it listens, and serves
until it is stopped.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from tests.emulators import EMULATORS, emulator_class
from tests.emulators.inbox import SyntheticInbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("provider", choices=sorted(EMULATORS))
    parser.add_argument("--conversations", type=int, default=25)
    parser.add_argument("--messages", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--url-file", type=Path, required=True)
    args = parser.parse_args()

    inbox = SyntheticInbox.generate(
        seed=args.seed, conversations=args.conversations, messages=args.messages
    )
    emulator = emulator_class(args.provider)(inbox).start()
    args.url_file.write_text(emulator.config()["api_url"])
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    emulator.stop()


if __name__ == "__main__":
    main()
