-- One row per account and UTC day with activity: messages each way, and conversations
-- started by each side (the day of their first message).
with messages as (
    select account_id, cast(sent_at as date) as activity_date, is_me
    from {{ ref('stg_linkedin_messages__messages') }}
    where not is_deleted
),

starts as (
    select account_id, cast(started_at as date) as activity_date, started_by_me
    from {{ ref('linkedin_messages__conversations') }}
    where started_at is not null
),

message_counts as (
    select
        account_id,
        activity_date,
        sum(case when is_me then 1 else 0 end) as messages_sent,
        sum(case when not is_me then 1 else 0 end) as messages_received
    from messages
    group by 1, 2
),

start_counts as (
    select
        account_id,
        activity_date,
        sum(case when started_by_me then 1 else 0 end) as conversations_started_by_me,
        sum(case when not started_by_me then 1 else 0 end) as conversations_started_by_them
    from starts
    group by 1, 2
),

days as (
    select account_id, activity_date from message_counts
    union
    select account_id, activity_date from start_counts
)

select
    days.account_id,
    days.activity_date,
    coalesce(message_counts.messages_sent, 0) as messages_sent,
    coalesce(message_counts.messages_received, 0) as messages_received,
    coalesce(start_counts.conversations_started_by_me, 0) as conversations_started_by_me,
    coalesce(start_counts.conversations_started_by_them, 0) as conversations_started_by_them
from days
left join message_counts
    on days.account_id = message_counts.account_id
    and days.activity_date = message_counts.activity_date
left join start_counts
    on days.account_id = start_counts.account_id
    and days.activity_date = start_counts.activity_date
