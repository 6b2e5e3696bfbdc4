{#- A model's key (one or more columns) names one row: the unique-combination test,
    without a package to download (dbt deps needs the dbt Hub). -#}
{% test unique_key(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
