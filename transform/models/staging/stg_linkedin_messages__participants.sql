-- One row per conversation participant (the conversation's `participants`: the other
-- side; where a source cannot tell who the member is, the member too).
with elements as (
    {{ linkedin_messages.unnest_json_array(
        ref('stg_linkedin_messages__conversations'),
        'participants',
        ['account_id', 'conversation_id']
    ) }}
),

people as (
    select
        account_id,
        conversation_id,
        element ->> 'name' as participant_name,
        element ->> 'profile_url' as profile_url
    from elements
)

select
    account_id,
    conversation_id,
    {{ linkedin_messages.contact_key('profile_url', 'participant_name') }} as contact,
    max(participant_name) as participant_name,
    max(profile_url) as profile_url
from people
where {{ linkedin_messages.contact_key('profile_url', 'participant_name') }} is not null
group by 1, 2, 3
