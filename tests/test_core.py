"""The SDK's standard tap tests, for every source against its emulator.

Among them: every emitted record is valid against `schemas/*.json`, whose objects forbid
extra properties, so a misnamed field in any adapter fails here.
"""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_linkedin_messages.providers import PROVIDERS
from tap_linkedin_messages.tap import TapLinkedInMessages
from tests.emulators import SOURCES, emulator_class
from tests.emulators.inbox import SyntheticInbox


def _standard_tests(provider: str) -> type:
    # The test class is built at import time from a config, so the emulator starts here.
    inbox = SyntheticInbox.generate(seed=3, conversations=6, messages=9)
    # Every optional field some provider fills, so the schema check sees them filled.
    first, second = list(inbox.conversations.values())[:2]
    inbox.attach(first.messages[0], "deck.pdf", "application/pdf", 48_213)
    inbox.react(first.messages[1], "👍", first.participants[0])
    inbox.edit(second.messages[0], "Meet at 3?")
    inbox.delete(second.messages[1])
    emulator = emulator_class(provider)(inbox).start()
    atexit.register(emulator.stop)
    return get_tap_test_class(
        tap_class=TapLinkedInMessages,
        config=emulator.config(page_size=4),
        parse_env_config=False,
        suite_config=SuiteConfig(max_records_limit=500),
    )


#: One class of the SDK's standard tests per source, each against its emulator.
STANDARD_TESTS = {provider: _standard_tests(provider) for provider in SOURCES}
globals().update({f"TestStandard_{provider}": tests for provider, tests in STANDARD_TESTS.items()})


def test_every_provider_runs_the_standard_tests() -> None:
    """A provider added to the tap without an emulator has no standard tests: this fails."""
    assert set(PROVIDERS) == set(STANDARD_TESTS)
