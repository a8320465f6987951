"""Raw tables are partitioned by delivery: the month a file was delivered (its name, e.g. 2025-03.csv).

Dynamic, because the months come from the files: the landing sensor and `orchestration.run` register one
partition per delivery they find. A file whose name carries no month is its own delivery, keyed by its stem.
"""

import dagster as dg

delivery_partitions = dg.DynamicPartitionsDefinition(name="delivery")
