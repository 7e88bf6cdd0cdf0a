{#- A ratio's numerator never exceeds its denominator (e.g. dossiers processed online
    cannot outnumber dossiers received). Fails on every offending row. -#}
{% test numerator_not_above_denominator(model, numerator, denominator) %}
    select *
    from {{ model }}
    where {{ numerator }} > {{ denominator }}
{% endtest %}
