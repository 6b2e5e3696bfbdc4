-- One row per conversation and account: who started it, how many messages each side
-- sent, whether it awaits the member's reply, and how long the first answer took.
-- Deleted messages are left out; messages whose sender is unknown (`is_me` null) count
-- as neither sent nor received.
with messages as (
    select *
    from {{ ref('stg_linkedin_messages__messages') }}
    where not is_deleted
),

conversations as (
    select * from {{ ref('stg_linkedin_messages__conversations') }}
),

-- A conversation whose messages were loaded without it (only `messages` selected) is
-- one too.
keys as (
    select account_id, conversation_id from conversations
    union
    select account_id, conversation_id from messages
),

ordered as (
    select
        account_id,
        conversation_id,
        sent_at,
        is_me,
        row_number() over (
            partition by account_id, conversation_id order by sent_at, message_id
        ) as from_first,
        row_number() over (
            partition by account_id, conversation_id order by sent_at desc, message_id desc
        ) as from_last
    from messages
),

starts as (
    select account_id, conversation_id, sent_at as started_at, is_me as started_by_me
    from ordered
    where from_first = 1
),

ends as (
    select account_id, conversation_id, sent_at as last_message_at, is_me as last_message_from_me
    from ordered
    where from_last = 1
),

counts as (
    select
        account_id,
        conversation_id,
        sum(case when is_me then 1 else 0 end) as messages_sent,
        sum(case when not is_me then 1 else 0 end) as messages_received
    from messages
    group by 1, 2
),

-- The other side's first message, where the side that started is known.
first_responses as (
    select starts.account_id, starts.conversation_id, min(messages.sent_at) as first_response_at
    from starts
    inner join messages
        on starts.account_id = messages.account_id
        and starts.conversation_id = messages.conversation_id
        and messages.is_me = not starts.started_by_me
    group by 1, 2
),

others as (
    select
        account_id,
        conversation_id,
        string_agg(participant_name, ', ' order by participant_name) as participant_names
    from {{ ref('stg_linkedin_messages__participants') }}
    group by 1, 2
)

select
    keys.account_id,
    keys.conversation_id,
    conversations.provider,
    conversations.folder,
    others.participant_names,
    starts.started_at,
    starts.started_by_me,
    coalesce(counts.messages_sent, 0) as messages_sent,
    coalesce(counts.messages_received, 0) as messages_received,
    ends.last_message_at,
    ends.last_message_from_me,
    not ends.last_message_from_me as awaiting_my_reply,
    {{ linkedin_messages.minutes_between('starts.started_at', 'first_responses.first_response_at') }}
        as first_response_minutes
from keys
left join conversations
    on keys.account_id = conversations.account_id
    and keys.conversation_id = conversations.conversation_id
left join starts
    on keys.account_id = starts.account_id and keys.conversation_id = starts.conversation_id
left join ends
    on keys.account_id = ends.account_id and keys.conversation_id = ends.conversation_id
left join counts
    on keys.account_id = counts.account_id and keys.conversation_id = counts.conversation_id
left join first_responses
    on keys.account_id = first_responses.account_id
    and keys.conversation_id = first_responses.conversation_id
left join others
    on keys.account_id = others.account_id and keys.conversation_id = others.conversation_id
