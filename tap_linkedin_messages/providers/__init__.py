"""The provider registry: the `provider` setting's values and their adapters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_linkedin_messages.providers.base import (
    ApiRequest,
    ConversationGoneError,
    Page,
    Provider,
    ProviderError,
)
from tap_linkedin_messages.providers.connectsafely import ConnectSafelyProvider
from tap_linkedin_messages.providers.linkup import LinkupProvider
from tap_linkedin_messages.providers.linkup_v1 import LinkupV1Provider
from tap_linkedin_messages.providers.unipile import UnipileProvider

if TYPE_CHECKING:
    from collections.abc import Mapping

PROVIDERS: dict[str, type[Provider]] = {
    provider.name: provider
    for provider in (LinkupProvider, LinkupV1Provider, ConnectSafelyProvider, UnipileProvider)
}


def build_provider(config: Mapping[str, Any]) -> Provider:
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
    "Page",
    "Provider",
    "ProviderError",
    "build_provider",
]
