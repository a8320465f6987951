"""Jobs: ingest one delivery (what the landing sensor launches) and refresh everything downstream of raw."""

import dagster as dg

from orchestration.partitions import delivery_partitions

RAW_GROUP = "raw"

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups(RAW_GROUP),
    partitions_def=delivery_partitions,
    description="Load one delivery (partition) of every raw table into the warehouse.",
)

refresh_job = dg.define_asset_job(
    "refresh_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(RAW_GROUP),
    description="dbt models, risk model, data-quality checks and the published tables.",
)

JOBS = [ingest_job, refresh_job]
