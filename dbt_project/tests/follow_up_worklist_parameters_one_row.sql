{#- The worklist cross-joins its parameters: more than one row would repeat every case, none would empty it. -#}
select count(*) as parameter_rows
from {{ ref('follow_up_worklist_parameters') }}
having count(*) <> 1
