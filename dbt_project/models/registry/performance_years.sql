{#- Calendar years 1900-2199: the spine on which year-keyed rows are looked up (a case of a year outside it is
    not_eligible: no registry row). -#}
select cast(generated_number + 1899 as integer) as performance_year
from ({{ dbt.generate_series(300) }}) as series
