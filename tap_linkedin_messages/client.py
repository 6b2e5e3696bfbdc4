"""The shared base of both streams: a partition's read, from its cutoff to its records.

A stream reads one partition (an account's inbox, or one of its conversations) through
its strategy, with the `Read` made for it passed along explicitly; a listing the strategy
walks over HTTP is walked by a `ListingWalker` of its own (walker.py). What both streams
add to the SDK: the incremental cutoff, and what every record carries or must have.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import Stream, StreamSchema
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_linkedin_messages.providers import ProviderError
from tap_linkedin_messages.reads import Cutoff, Read, bookmark_cutoff, start_date_floor
from tap_linkedin_messages.records import SCHEMAS
from tap_linkedin_messages.walker import ListingWalker, Sessions

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_linkedin_messages.accounts import Accounts
    from tap_linkedin_messages.concurrency import RequestGate
    from tap_linkedin_messages.ledger import CreditLedger
    from tap_linkedin_messages.providers import Listing
    from tap_linkedin_messages.records import Record
    from tap_linkedin_messages.strategies import Strategy


class InboxStream(Stream):
    """Base of `conversations` and `messages`: a strategy reads, walkers request."""

    schema: ClassVar[StreamSchema] = StreamSchema(SCHEMAS)
    # Providers list newest first: the SDK keeps the running maximum in progress markers
    # and promotes it to the bookmark (capped at the sync's start) only when the sync ends,
    # so a run that dies half-way leaves the previous bookmark in place.
    is_sorted = False
    # One bookmark per stream and account, however many conversations there are.
    state_partitioning_keys: ClassVar[tuple[str, ...]] = ("account_id",)
    # Records are built by `records.py`'s constructors, already in their schema's shape
    # and JSON types (tests/test_records.py; tests/test_core.py validates every source's
    # records against the schemas): the SDK's conformance pass, a third of a record's
    # cost, would change nothing.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(
        self,
        tap: Tap,
        *,
        strategy: Strategy,
        accounts: Accounts,
        ledger: CreditLedger,
        gate: RequestGate,
        sessions: Sessions,
    ) -> None:
        super().__init__(tap)
        self.strategy = strategy
        self.accounts = accounts
        self.ledger = ledger
        self.gate = gate
        self.sessions = sessions
        self._owner = tap

    # --- reads ---------------------------------------------------------------------------

    def partition_read(self, context: Context) -> Read:
        """A new read of one partition: its account's adapter and its cutoff."""
        return Read(
            context=context,
            source=self.accounts.source(str(context["account_id"])),
            cutoff=self.incremental_cutoff(context),
        )

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Read one partition (an account's inbox, or one of its conversations): what
        the strategy reads, each record completed and kept if new (`kept`)."""
        read = self.partition_read(context or {})
        for row in self.read_partition(read):
            record = self.kept(row, read)
            if record is not None:
                yield record

    @abstractmethod
    def read_partition(self, read: Read) -> Iterable[Record]:
        """The partition's records, from the strategy."""

    def walk(
        self,
        read: Read,
        listing: Listing,
        *,
        context: Context | None = None,
        on_page: Callable[[list[Record]], None] | None = None,
    ) -> Iterable[Record]:
        """The SDK's paging loop over one listing of a read, by a walker of its own."""
        walker = ListingWalker(
            self._owner,
            name=self.name,
            read=read.walking(listing, context, on_page),
            ledger=self.ledger,
            gate=self.gate,
            sessions=self.sessions,
        )
        return walker.records()

    def log_sync_costs(self) -> None:
        """The SDK's "Total Sync costs for stream ..." line, from the run's ledger: walkers
        make the requests, one walker per walk, so the stream's own tally stays empty."""
        costs = self.ledger.costs_of(self.name)
        if costs["requests"]:
            self.logger.info("Total Sync costs for stream %s: %s", self.name, costs)

    # --- incremental reads ---------------------------------------------------------------

    def incremental_cutoff(self, context: Context | None) -> Cutoff | None:
        """Records at or before this were emitted by an earlier run (or precede `start_date`).

        Where the source tells what is new itself (a message can become visible after
        newer ones were read), only `start_date`: the bookmark is no cutoff there.
        """
        if not self.strategy.follows_bookmarks:
            return self.floor()
        return self.cutoff_from(self.get_starting_timestamp(context))

    def floor(self) -> Cutoff | None:
        """`start_date`, inclusive: nothing older is emitted."""
        return start_date_floor(self.config.get("start_date"))

    def cutoff_from(self, bookmark: datetime | None) -> Cutoff | None:
        """The cutoff a bookmark sets, `lookback_minutes` before it (`bookmark_cutoff`)."""
        return bookmark_cutoff(
            bookmark,
            start_date=self.config.get("start_date"),
            lookback_minutes=float(self.config.get("lookback_minutes") or 0),
        )

    def kept(self, row: Record, read: Read) -> Record | None:
        """Add what every record carries, reject unkeyable records, drop what is not new."""
        row["account_id"] = read.context.get("account_id")
        row["provider"] = read.source.name
        read.position += 1
        # The keys, and the replication key where the schema requires it (a conversation's
        # activity may be unknown: it is then read every run, `child_context_if_new`).
        keys = [*self.primary_keys, *self.required_bookmark]
        missing = [key for key in keys if not row.get(key)]
        if missing:
            msg = (
                f"{read.source.name}: {self.name} item #{read.position} of "
                f"{read.label} has no {', '.join(missing)}; a target could not "
                "key it, so the run stops"
            )
            raise ProviderError(msg)
        changed_at = self.changed_at(row)
        if changed_at and read.cutoff is not None and not read.cutoff.admits(changed_at):
            return None
        return row

    @property
    def required_bookmark(self) -> tuple[str, ...]:
        """The replication key, where every record must carry it (the schema says)."""
        key = str(self.replication_key)
        return (key,) if key in self.schema.get("required", ()) else ()

    def changed_at(self, record: Record) -> str:
        """When a record last changed, for the cutoff: its replication key."""
        return str(record[str(self.replication_key)] or "")
