{#- What DuckDB and PostgreSQL spell differently, one macro each; the models are
    otherwise the same SQL on both. -#}

{#- A loaded date-time as a UTC timestamp without time zone: target-postgres loads
    `timestamptz`, target-duckdb a TIMESTAMP that already holds UTC. -#}
{% macro utc_timestamp(column) -%}
  {{ return(adapter.dispatch('utc_timestamp', 'linkedin_messages')(column)) }}
{%- endmacro %}

{% macro default__utc_timestamp(column) -%}
  cast({{ column }} as timestamp)
{%- endmacro %}

{% macro postgres__utc_timestamp(column) -%}
  ({{ column }} at time zone 'UTC')
{%- endmacro %}

{#- A loaded JSON array as one JSON value: target-duckdb loads an array as JSON already,
    target-postgres as `jsonb[]`, an array type dbt's unit tests cannot cast to. -#}
{% macro json_array(column) -%}
  {{ return(adapter.dispatch('json_array', 'linkedin_messages')(column)) }}
{%- endmacro %}

{% macro default__json_array(column) -%}
  cast({{ column }} as json)
{%- endmacro %}

{% macro postgres__json_array(column) -%}
  to_jsonb({{ column }})
{%- endmacro %}

{#- One row per element of a JSON array (a `json_array`) column, as `element`, beside `keys`. -#}
{% macro unnest_json_array(relation, column, keys) -%}
  {{ return(adapter.dispatch('unnest_json_array', 'linkedin_messages')(relation, column, keys)) }}
{%- endmacro %}

{% macro default__unnest_json_array(relation, column, keys) -%}
  select {{ keys | join(', ') }}, unnest(cast({{ column }} as json[])) as element
  from {{ relation }}
  where {{ column }} is not null
{%- endmacro %}

{% macro postgres__unnest_json_array(relation, column, keys) -%}
  select {{ keys | join(', ') }}, element
  from {{ relation }}
  cross join lateral jsonb_array_elements({{ column }}) as elements(element)
  where {{ column }} is not null
{%- endmacro %}

{#- Minutes from one timestamp to a later one (fractional), the same on both: a float,
    as PostgreSQL's `extract` gives an exact numeric that prints as `60.000…`. -#}
{% macro minutes_between(earlier, later) -%}
  cast(extract(epoch from ({{ later }} - {{ earlier }})) / 60.0 as {{ dbt.type_float() }})
{%- endmacro %}

{#- Who a person is across conversations: their profile URL, or their name where the
    source gives no URL (LinkedIn's 2018-2021 exports). -#}
{% macro contact_key(profile_url, name) -%}
  coalesce(nullif(rtrim(trim({{ profile_url }}), '/'), ''), nullif(trim({{ name }}), ''))
{%- endmacro %}
