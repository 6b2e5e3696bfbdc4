-- One row per conversation and account, at its latest activity.
with versions as (
    select
        account_id,
        conversation_id,
        provider,
        folder,
        {{ linkedin_messages.json_array('participants') }} as participants,
        {{ linkedin_messages.utc_timestamp('last_activity_at') }} as last_activity_at,
        row_number() over (
            partition by account_id, conversation_id
            order by last_activity_at desc nulls last
        ) as version_from_newest
    from {{ source('linkedin', 'conversations') }}
)

select account_id, conversation_id, provider, folder, participants, last_activity_at
from versions
where version_from_newest = 1
