select start_date, end_date, end_reason, intake_fs, intake_date, discharge_fs, discharge_date
from marts.rehab_episodes
