-- improvement_error: the stored improvement minus pre - post in exact DECIMAL (0 when consistent).
select
    measure_id,
    stratum,
    instrument,
    score_min,
    score_max,
    index_date,
    pre_window_start,
    pre_window_end,
    window_start,
    window_end,
    pre_score,
    pre_score_date,
    post_score,
    post_score_date,
    improvement,
    improvement - (pre_score - post_score) as improvement_error
from marts.score_pairs
