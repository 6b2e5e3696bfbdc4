-- One row per reply of the member. A reply is the member's first message after one or
-- more messages from others; it is timed from the earliest of those unanswered messages.
-- Deleted messages, and messages whose sender the source could not tell (`is_me` null),
-- take no part: they neither wait for a reply nor answer one.
with messages as (
    select account_id, conversation_id, message_id, sent_at, is_me, sender_contact
    from {{ ref('stg_linkedin_messages__messages') }}
    where not is_deleted and is_me is not null
),

-- The member's messages split each conversation into turns: a message's turn is how
-- many of the member's messages came before it. A turn's messages from others are
-- answered by the member's message that opens the next turn, in the same `turn` value.
turns as (
    select
        *,
        coalesce(
            sum(case when is_me then 1 else 0 end) over (
                partition by account_id, conversation_id
                order by sent_at, message_id
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as turn
    from messages
),

placed as (
    select
        *,
        row_number() over (
            partition by account_id, conversation_id, is_me, turn
            order by sent_at, message_id
        ) as place_in_turn
    from turns
),

unanswered as (
    select
        account_id,
        conversation_id,
        turn,
        min(sent_at) as waiting_since,
        count(*) as messages_answered
    from turns
    where not is_me
    group by 1, 2, 3
),

first_unanswered as (
    select account_id, conversation_id, turn, sender_contact as answered_contact
    from placed
    where not is_me and place_in_turn = 1
)

select
    reply.account_id,
    reply.conversation_id,
    reply.message_id,
    reply.sent_at as replied_at,
    unanswered.waiting_since,
    {{ linkedin_messages.minutes_between('unanswered.waiting_since', 'reply.sent_at') }}
        as reply_minutes,
    unanswered.messages_answered,
    first_unanswered.answered_contact
from turns as reply
inner join unanswered
    on reply.account_id = unanswered.account_id
    and reply.conversation_id = unanswered.conversation_id
    and reply.turn = unanswered.turn
inner join first_unanswered
    on reply.account_id = first_unanswered.account_id
    and reply.conversation_id = first_unanswered.conversation_id
    and reply.turn = first_unanswered.turn
where reply.is_me
