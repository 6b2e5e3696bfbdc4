"""Reading a page as its `PageShape` says: what an answer off its documented shape gives."""

from __future__ import annotations

import pytest

from tap_linkedin_messages.providers.linkup import LinkupProvider
from tap_linkedin_messages.providers.pages import UnreadablePageError

LINKUP = LinkupProvider({"api_key": "k", "account_id": "a"})


def page_of(data: object) -> object:
    return LINKUP.conversation_page({"success": True, "data": data})


def test_an_empty_list_is_an_empty_page() -> None:
    assert page_of({"messages": []}).records == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("data", [{}, {"messages": None}, {"messages": {"0": {}}}, None])
def test_an_answer_without_its_list_is_unreadable_not_empty(data: object) -> None:
    with pytest.raises(UnreadablePageError, match=r"^the answer holds no `data.messages` list$"):
        page_of(data)


@pytest.mark.parametrize(
    ("item", "said"),
    [
        ("a message", "item 2 is str, not an object"),
        (
            {"timestamp": "2024-01-01T00:00:00Z"},
            "item 2 holds a value that cannot be read "
            "('2024-01-01T00:00:00Z' is no time in epoch milliseconds)",
        ),
        ({"timestamp": 10**20}, "'100000000000000000000' is no time in epoch milliseconds"),
        ({"timestamp": True}, "'True' is no time in epoch milliseconds"),
        ({"timestamp": 1, "sender_info": "Jane"}, "item 2 holds a value that cannot be read ("),
    ],
)
def test_an_item_off_its_shape_is_named_by_its_place(item: object, said: str) -> None:
    with pytest.raises(UnreadablePageError) as raised:
        page_of({"messages": [{"timestamp": 1}, item]})
    assert said in str(raised.value)


@pytest.mark.parametrize("billed", [-5, True, "7", 2.5])
def test_a_bill_that_is_no_count_gives_way_to_the_per_item_rule(billed: object) -> None:
    """A negative count would let a run pass `max_credits`; a flag or a string is no bill."""
    payload = {"success": True, "data": {"messages": [{}] * 3}, "metadata": {}}
    payload["metadata"]["credits_consumed"] = billed  # type: ignore[index]
    assert LINKUP.conversation_page(payload).credits == 1  # 3 items: 1 per 10, rounded up
