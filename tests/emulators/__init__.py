"""Local emulators of the provider APIs, served over real HTTP on 127.0.0.1.

`EMULATORS` maps each API provider's `provider` setting value to its emulator class (a
`tests.emulators.server.ProviderEmulator`), for the fault suites, `make bench` and
`make demo`; `SOURCES` adds the file sources (written, not served) for the contract suite.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.emulators.server import ProviderEmulator

EMULATORS: dict[str, str] = {
    "linkup": "tests.emulators.linkup:LinkupEmulator",
    "linkup_v1": "tests.emulators.linkup_v1:LinkupV1Emulator",
    "connectsafely": "tests.emulators.connectsafely:ConnectSafelyEmulator",
    "unipile": "tests.emulators.unipile:UnipileEmulator",
}
SOURCES: dict[str, str] = {
    **EMULATORS,
    "linkedin_export": "tests.emulators.export:ExportArchive",
    "linkedin_dma": "tests.emulators.linkedin_dma:DmaEmulator",
}


def emulator_class(provider: str) -> type[ProviderEmulator]:
    """The emulator class for a `provider` value."""
    module, _, name = SOURCES[provider].partition(":")
    cls: type[ProviderEmulator] = getattr(importlib.import_module(module), name)
    return cls
