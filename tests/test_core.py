"""The SDK's standard tap tests, against the LinkupAPI v2 emulator."""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_linkedin_messages.tap import TapLinkedInMessages
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator

# The test class is built at import time from a config, so the emulator starts here.
_emulator = LinkupEmulator(SyntheticInbox.generate(seed=3, conversations=6, messages=9)).start()
atexit.register(_emulator.stop)

TestTapLinkedInMessages = get_tap_test_class(
    tap_class=TapLinkedInMessages,
    config=_emulator.config(page_size=4),
    parse_env_config=False,
    suite_config=SuiteConfig(max_records_limit=500),
)
