"""LinkupAPI v1 (cookie-based): POST /v1/messages/inbox and /v1/messages/conversation; seed 001."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_linkedin_messages.providers.base import ApiRequest, Page, Provider

if TYPE_CHECKING:
    from datetime import datetime

    import requests


class LinkupV1Provider(Provider):
    """TODO(helper): implement; see the module docstring."""

    name = "linkup_v1"
    default_api_url = "https://api.linkupapi.com"
    required_settings = ("api_key", "login_token")

    def auth_headers(self) -> dict[str, str]:
        raise NotImplementedError

    def conversations_request(
        self,
        *,
        account_id: str,
        category: str,
        cursor: str | None,
        page_size: int,
        newer_than: datetime | None,
    ) -> ApiRequest:
        raise NotImplementedError

    def conversations_page(self, payload: Any, *, category: str) -> Page:
        raise NotImplementedError

    def messages_request(
        self,
        *,
        account_id: str,
        conversation_id: str,
        cursor: str | None,
        page_size: int,
        newer_than: datetime | None,
    ) -> ApiRequest:
        raise NotImplementedError

    def messages_page(self, payload: Any) -> Page:
        raise NotImplementedError

    def check_response(self, response: requests.Response) -> Any:
        raise NotImplementedError
