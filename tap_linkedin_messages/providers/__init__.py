"""The provider registry: the `provider` setting's values and their adapters."""

from __future__ import annotations

from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.providers.base import ConversationApi, HttpSource, MessageListing, Source
from tap_linkedin_messages.providers.connectsafely import ConnectSafelyProvider
from tap_linkedin_messages.providers.error_rules import ConversationGoneError
from tap_linkedin_messages.providers.linkedin_dma import LinkedInDmaProvider
from tap_linkedin_messages.providers.linkedin_export import LinkedInExportSource
from tap_linkedin_messages.providers.linkup import LinkupProvider
from tap_linkedin_messages.providers.linkup_v1 import LinkupV1Provider
from tap_linkedin_messages.providers.pages import ApiRequest, Listing, Page, PageAsk
from tap_linkedin_messages.providers.unipile import UnipileProvider

#: The `provider` setting's values, in the order `--about` lists them.
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
DEFAULT_PROVIDER = "linkup"

__all__ = [
    "DEFAULT_PROVIDER",
    "PROVIDERS",
    "ApiRequest",
    "ConversationApi",
    "ConversationGoneError",
    "HttpSource",
    "Listing",
    "MessageListing",
    "Page",
    "PageAsk",
    "ProviderError",
    "Source",
]
