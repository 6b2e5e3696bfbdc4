-- One row per contact and account: a contact is a person by profile URL, or by name
-- where the source gives no URL. Messages sent are the member's messages in
-- conversations with them (in a group chat, each member's count); messages received
-- are their own. A reply counts toward the contact whose message waited longest.
with messages as (
    select *
    from {{ ref('stg_linkedin_messages__messages') }}
    where not is_deleted
),

-- The member, as their own messages name them: never their own contact.
me as (
    select distinct account_id, sender_contact as contact
    from messages
    where is_me and sender_contact is not null
),

named as (
    select account_id, conversation_id, contact, participant_name as name
    from {{ ref('stg_linkedin_messages__participants') }}
    union all
    select account_id, conversation_id, sender_contact, sender_name
    from messages
    where is_me = false and sender_contact is not null
),

contact_conversations as (
    select distinct named.account_id, named.conversation_id, named.contact
    from named
    left join me on named.account_id = me.account_id and named.contact = me.contact
    where me.contact is null
),

names as (
    select account_id, contact, max(name) as contact_name
    from named
    group by 1, 2
),

exchanged as (
    select contact_conversations.account_id, contact_conversations.contact, messages.sent_at, messages.is_me
    from contact_conversations
    inner join messages
        on contact_conversations.account_id = messages.account_id
        and contact_conversations.conversation_id = messages.conversation_id
    where messages.is_me
        or (messages.is_me = false and messages.sender_contact = contact_conversations.contact)
),

conversation_counts as (
    select account_id, contact, count(*) as conversations
    from contact_conversations
    group by 1, 2
),

message_counts as (
    select
        account_id,
        contact,
        sum(case when is_me then 1 else 0 end) as messages_sent,
        sum(case when not is_me then 1 else 0 end) as messages_received,
        min(sent_at) as first_contact_at,
        max(sent_at) as last_contact_at
    from exchanged
    group by 1, 2
),

reply_times as (
    select
        account_id,
        answered_contact as contact,
        percentile_cont(0.5) within group (order by reply_minutes) as median_my_reply_minutes
    from {{ ref('int_linkedin_messages__replies') }}
    where answered_contact is not null
    group by 1, 2
)

select
    conversation_counts.account_id,
    conversation_counts.contact,
    names.contact_name,
    conversation_counts.conversations,
    coalesce(message_counts.messages_sent, 0) as messages_sent,
    coalesce(message_counts.messages_received, 0) as messages_received,
    message_counts.first_contact_at,
    message_counts.last_contact_at,
    reply_times.median_my_reply_minutes
from conversation_counts
left join names
    on conversation_counts.account_id = names.account_id
    and conversation_counts.contact = names.contact
left join message_counts
    on conversation_counts.account_id = message_counts.account_id
    and conversation_counts.contact = message_counts.contact
left join reply_times
    on conversation_counts.account_id = reply_times.account_id
    and conversation_counts.contact = reply_times.contact
