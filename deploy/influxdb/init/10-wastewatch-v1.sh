#!/bin/bash
# Runs once, right after InfluxDB 2.x's initial setup (org, bucket, retention, admin token from .env):
# the DBRP mapping that lets the 1.x API (/write, /query with db=<bucket>) find the bucket, and a
# read-only v1 user for InfluxQL tools that speak 1.x basic auth.
set -euo pipefail
bucket_id=${DOCKER_INFLUXDB_INIT_BUCKET_ID:-$(influx bucket list --name "$DOCKER_INFLUXDB_INIT_BUCKET" --hide-headers | awk '{print $1}')}
influx v1 dbrp create --bucket-id "$bucket_id" --db "$DOCKER_INFLUXDB_INIT_BUCKET" --rp autogen --default
influx v1 auth create --username "${INFLUXDB_V1_READER_USER:-wastewatch-reader}" \
  --password "$INFLUXDB_V1_READER_PASSWORD" --read-bucket "$bucket_id" \
  --description "wastewatch InfluxQL read-only (1.x basic auth)"
