"""The SDK's standard tap tests, for every source against its emulator.

Among them: every emitted record is valid against `schemas/*.json`, whose objects forbid
extra properties, so a misnamed field in any adapter fails here.
"""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_linkedin_messages.tap import TapLinkedInMessages
from tests.emulators import SOURCES, emulator_class
from tests.emulators.inbox import SyntheticInbox


def _standard_tests(provider: str) -> type:
    # The test class is built at import time from a config, so the emulator starts here.
    inbox = SyntheticInbox.generate(seed=3, conversations=6, messages=9)
    emulator = emulator_class(provider)(inbox).start()
    atexit.register(emulator.stop)
    return get_tap_test_class(
        tap_class=TapLinkedInMessages,
        config=emulator.config(page_size=4),
        parse_env_config=False,
        suite_config=SuiteConfig(max_records_limit=500),
    )


TestLinkup = _standard_tests("linkup")
TestLinkupV1 = _standard_tests("linkup_v1")
TestConnectSafely = _standard_tests("connectsafely")
TestUnipile = _standard_tests("unipile")
TestLinkedInExport = _standard_tests("linkedin_export")
TestLinkedInDma = _standard_tests("linkedin_dma")


def test_every_source_runs_the_standard_tests() -> None:
    covered = {"linkup", "linkup_v1", "connectsafely", "unipile", "linkedin_export", "linkedin_dma"}
    assert covered == set(SOURCES)
