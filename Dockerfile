# The Dagster code location (orchestration.definitions) as an image, for dagster-k8s (docs/deploy.md).
# Installs exactly requirements.lock, like `make setup`; a Java runtime for WAREHOUSE=spark (pyspark's driver).
# Not built on the development machine (no docker there): build and scan it in your registry's pipeline.
#
#   docker build -t registry.example.org/spine-outcomes:$(git rev-parse --short HEAD) .
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    DAGSTER_DISABLE_TELEMETRY=true \
    DATA_DIR=/data

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/spine-outcomes
COPY requirements.lock pyproject.toml README.md workspace.yaml ./
RUN python -m pip install --upgrade pip && python -m pip install -r requirements.lock

COPY orchestration/ orchestration/
COPY dbt_project/ dbt_project/
COPY expectations/ expectations/
RUN python -m pip install --no-deps -e . \
    # the dbt manifest the @dbt_assets definitions load, parsed at build time so pods start without dbt parse
    && cd dbt_project && dbt parse --profiles-dir . --target-path target \
    && useradd --system --uid 10001 --home-dir /opt/spine-outcomes pipeline \
    && mkdir -p /data && chown -R pipeline /data /opt/spine-outcomes/dbt_project

USER pipeline
EXPOSE 4000
# dagster-k8s (user-deployments) overrides the command with `dagster api grpc ...`; this is the same by default.
CMD ["dagster", "api", "grpc", "--module-name", "orchestration.definitions", "--host", "0.0.0.0", "--port", "4000"]
