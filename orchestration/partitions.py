"""Raw tables are partitioned by delivery: the month a file was delivered (its name, e.g. 2025-03.csv).

Dynamic, because the months come from the files: the landing sensor and `orchestration.run` register one
partition per delivery they find. A file whose name carries no date is the undated delivery `0000-<name>`, which
sorts before every month (orchestration/ingest/discovery.py).
"""

import dagster as dg

delivery_partitions = dg.DynamicPartitionsDefinition(name="delivery")
