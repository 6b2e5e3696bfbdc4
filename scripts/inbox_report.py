"""The answers of `make demo` and `make analyze`: what the dbt models found in a DuckDB file.

Prints the conversations awaiting the member's reply (most recent first) and the median
reply time, and draws `<file stem>.png` beside the file: messages sent and received per
week, and how long replies took. Reads the models of schema `linkedin_messages`
(transform/), built by `dbt-duckdb:build`; nothing is computed here that the models do
not hold, so what is printed is what a user's own SQL on those tables gives.

    python scripts/inbox_report.py inbox.duckdb [--top 5]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

SCHEMA = "linkedin_messages"
TOP = 5


@dataclass(frozen=True)
class Awaiting:
    """A conversation whose last message is someone else's."""

    conversation_id: str
    participant_names: str | None
    last_message_at: datetime
    messages_received: int


@dataclass(frozen=True)
class Answers:
    """What the report prints."""

    conversations: int
    messages_sent: int
    messages_received: int
    awaiting: int
    most_recent_awaiting: list[Awaiting]
    replies: int
    median_reply_minutes: float | None


def read_answers(connection: duckdb.DuckDBPyConnection, top: int = TOP) -> Answers:
    """The figures, from the models (all accounts of the file together)."""

    def one(sql: str) -> tuple[Any, ...]:
        row = connection.execute(sql).fetchone()
        assert row is not None  # aggregates always give a row
        return tuple(row)

    conversations, sent, received, awaiting = one(
        f"""select count(*), coalesce(sum(messages_sent), 0), coalesce(sum(messages_received), 0),
                   count(*) filter (where awaiting_my_reply)
            from {SCHEMA}.linkedin_messages__conversations"""
    )
    most_recent = connection.execute(
        f"""select conversation_id, participant_names, last_message_at, messages_received
            from {SCHEMA}.linkedin_messages__conversations
            where awaiting_my_reply
            order by last_message_at desc, conversation_id
            limit ?""",
        [top],
    ).fetchall()
    replies, median = one(
        f"select count(*), median(reply_minutes) from {SCHEMA}.int_linkedin_messages__replies"
    )
    return Answers(
        conversations=int(conversations),
        messages_sent=int(sent),
        messages_received=int(received),
        awaiting=int(awaiting),
        most_recent_awaiting=[Awaiting(*row) for row in most_recent],
        replies=int(replies),
        median_reply_minutes=float(median) if median is not None else None,
    )


def report_lines(answers: Answers, database: Path, picture: Path) -> list[str]:
    """The printed report."""
    lines = [
        f"    {database} (models in schema {SCHEMA}):",
        f"    {answers.conversations} conversations, {answers.messages_sent} messages sent, "
        f"{answers.messages_received} received",
        f"    awaiting your reply: {answers.awaiting} conversations; most recent:",
    ]
    lines += [
        f"      {item.last_message_at:%Y-%m-%d %H:%M} UTC  "
        f"{item.participant_names or '(nobody named)'}  ({item.messages_received} received)  "
        f"{item.conversation_id}"
        for item in answers.most_recent_awaiting
    ]
    if answers.median_reply_minutes is None:
        lines.append("    median reply time: no replies yet")
    else:
        lines.append(
            f"    median reply time: {answers.median_reply_minutes:.1f} minutes "
            f"over {answers.replies} replies"
        )
    lines.append(f"    picture: {picture}")
    return lines


def weekly_counts(connection: duckdb.DuckDBPyConnection) -> list[tuple[date, int, int]]:
    """(Monday of the week, messages sent, messages received), every week in the range."""
    rows = connection.execute(
        f"""select date_trunc('week', activity_date)::date as week,
                   sum(messages_sent), sum(messages_received)
            from {SCHEMA}.linkedin_messages__daily_activity
            group by 1 order by 1"""
    ).fetchall()
    by_week = {week: (int(sent), int(received)) for week, sent, received in rows}
    if not by_week:
        return []
    weeks, week = [], min(by_week)
    while week <= max(by_week):
        weeks.append((week, *by_week.get(week, (0, 0))))
        week += timedelta(days=7)
    return weeks


def draw(connection: duckdb.DuckDBPyConnection, picture: Path) -> None:
    """Messages per week, and the distribution of reply times, side by side."""
    import matplotlib

    matplotlib.use("Agg")  # a file, no screen
    import matplotlib.pyplot as plt

    weeks = weekly_counts(connection)
    minutes = [
        float(value)
        for (value,) in connection.execute(
            f"select reply_minutes from {SCHEMA}.int_linkedin_messages__replies"
        ).fetchall()
    ]
    figure, (activity, replies) = plt.subplots(1, 2, figsize=(12, 4.5))
    labels = [f"{week:%Y-%m-%d}" for week, _, _ in weeks]
    positions = range(len(weeks))
    activity.bar([p - 0.2 for p in positions], [w[1] for w in weeks], 0.4, label="sent")
    activity.bar([p + 0.2 for p in positions], [w[2] for w in weeks], 0.4, label="received")
    activity.set_xticks(list(positions), labels, rotation=45, ha="right")
    activity.set_title("Messages per week (weeks start Monday, UTC)")
    activity.set_ylabel("messages")
    activity.legend()
    if minutes:
        replies.hist([m / 60 for m in minutes], bins=min(30, max(5, len(minutes) // 3)))
    replies.set_title(f"Reply times ({len(minutes)} replies)")
    replies.set_xlabel("hours from the earliest unanswered message")
    replies.set_ylabel("replies")
    figure.tight_layout()
    figure.savefig(picture, dpi=100)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, help="the DuckDB file the models were built in")
    parser.add_argument("--top", type=int, default=TOP, help="conversations awaiting a reply shown")
    args = parser.parse_args(argv)
    if not args.database.exists():
        print(f"inbox_report: no DuckDB file at {args.database}", file=sys.stderr)
        return 1
    picture = args.database.with_suffix(".png")
    with duckdb.connect(str(args.database), read_only=True) as connection:
        try:
            answers = read_answers(connection, args.top)
        except duckdb.CatalogException as missing:
            first_line = str(missing).splitlines()[0]
            print(
                f"inbox_report: {args.database} has no built models ({first_line}); "
                "run `meltano run dbt-duckdb:build` with its `path` set to this file",
                file=sys.stderr,
            )
            return 1
        draw(connection, picture)
    print("\n".join(report_lines(answers, args.database, picture)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
