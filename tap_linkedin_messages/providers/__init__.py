"""The provider registry: the `provider` setting's values and their adapters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_linkedin_messages.providers.base import (
    ApiRequest,
    ConversationGoneError,
    FileSource,
    Page,
    Provider,
    ProviderError,
    Source,
)
from tap_linkedin_messages.providers.connectsafely import ConnectSafelyProvider
from tap_linkedin_messages.providers.linkedin_dma import LinkedInDmaProvider
from tap_linkedin_messages.providers.linkedin_export import LinkedInExportSource
from tap_linkedin_messages.providers.linkup import LinkupProvider
from tap_linkedin_messages.providers.linkup_v1 import LinkupV1Provider
from tap_linkedin_messages.providers.unipile import UnipileProvider

if TYPE_CHECKING:
    from collections.abc import Mapping

PROVIDERS: dict[str, type[Source]] = {
    provider.name: provider
    for provider in (
        LinkupProvider,
        LinkupV1Provider,
        ConnectSafelyProvider,
        UnipileProvider,
        LinkedInExportSource,
        LinkedInDmaProvider,
    )
}


def build_provider(config: Mapping[str, Any]) -> Source:
    """The adapter the `provider` setting names."""
    name = config.get("provider", "linkup")
    if name not in PROVIDERS:
        msg = f"unknown `provider` setting {name!r}; expected one of {sorted(PROVIDERS)}"
        raise ProviderError(msg)
    return PROVIDERS[name](config)


__all__ = [
    "PROVIDERS",
    "ApiRequest",
    "ConversationGoneError",
    "FileSource",
    "Page",
    "Provider",
    "ProviderError",
    "Source",
    "build_provider",
]
