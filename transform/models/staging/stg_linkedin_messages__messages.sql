-- One row per message and account, at its newest state: an append-only load can hold a
-- message several times (sent, then edited or deleted); an upserting one holds it once.
with loaded as (
    select
        account_id,
        conversation_id,
        message_id,
        provider,
        {{ linkedin_messages.utc_timestamp('sent_at') }} as sent_at,
        {{ linkedin_messages.utc_timestamp('edited_at') }} as edited_at,
        text,
        message_type,
        reply_to_message_id,
        sender ->> 'name' as sender_name,
        sender ->> 'profile_url' as sender_profile_url,
        -- null where the source cannot tell who sent it: counted neither as sent nor
        -- as received by the models.
        cast(sender ->> 'is_me' as boolean) as is_me,
        coalesce(is_deleted, false) as is_deleted
    from {{ source('linkedin', 'messages') }}
),

versions as (
    select
        *,
        row_number() over (
            partition by account_id, message_id
            order by coalesce(edited_at, sent_at) desc, is_deleted desc
        ) as version_from_newest
    from loaded
)

select
    account_id,
    conversation_id,
    message_id,
    provider,
    sent_at,
    edited_at,
    text,
    message_type,
    reply_to_message_id,
    sender_name,
    sender_profile_url,
    {{ linkedin_messages.contact_key('sender_profile_url', 'sender_name') }} as sender_contact,
    is_me,
    is_deleted
from versions
where version_from_newest = 1
