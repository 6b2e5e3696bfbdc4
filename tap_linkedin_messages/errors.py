"""The error a run ends on in one line: here, apart, so that modules below the providers
(the forked child's pipe) raise it too."""

from __future__ import annotations

from singer_sdk.exceptions import FatalAPIError


class ProviderError(FatalAPIError):
    """A provider answer that retrying cannot fix; its text is the one line users see."""
