#!/usr/bin/env bash
# A Java 17+ runtime for WAREHOUSE=spark (pyspark's driver) and the Spark tests, from Debian's packages, when `java`
# is missing. Used by `make run` / `make demo` with WAREHOUSE=spark, `make test` and .ci/run.
set -euo pipefail
command -v java >/dev/null 2>&1 && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing openjdk-17-jre-headless (Java runtime for Spark) with apt ..." >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openjdk-17-jre-headless >/dev/null
