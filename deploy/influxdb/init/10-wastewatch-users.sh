#!/bin/sh
# One InfluxDB 1.x user per wastewatch service, each with only the privilege it needs on the database
# INFLUXDB_DB. The influxdb image runs this once, on the first start, after it has made the admin user
# (INFLUXDB_ADMIN_USER) and the database; on an existing volume run it by hand to add the users or to
# apply new passwords from .env:
#   docker compose exec influxdb sh /docker-entrypoint-initdb.d/10-wastewatch-users.sh
#
#   wastewatch-ingest      WRITE  readings, batches, its health points
#   wastewatch-alerts      WRITE  alert annotations
#   wastewatch-compliance  ALL    reads the readings, writes averages, findings and roll-ups (ALL on one
#                                 database is read and write there: no admin, no other database)
#   wastewatch-reports     READ   monthly reports
#   wastewatch-api         READ
#   wastewatch-grafana     READ
#
# Writers cannot read, drop a measurement or the database, or manage users; readers cannot write,
# delete or drop. What InfluxDB 1.x grants cannot take away: WRITE also allows DELETE, DROP SERIES and
# DROP RETENTION POLICY on the database, which is why the ingest and the alert worker reach InfluxDB
# only through the proxy's write-only gateway (deploy/proxy/influx-write.conf; compliance keeps it),
# and READ allows CREATE CONTINUOUS QUERY, which is why docker-compose.yml turns that service off.
# Tested on the real InfluxDB: tests/test_stack_influx_users.py, tests/test_stack_influx_gateway.py.
#
# Each password comes from INFLUXDB_<SERVICE>_PASSWORD (.env). The image sources this file (hence a
# function in a subshell: its `set -eu` and variables stay here); the admin logs in through the influx
# CLI's INFLUX_USERNAME / INFLUX_PASSWORD, so no password is on a command line.
wastewatch_influx_users() (
  set -eu
  db=${INFLUXDB_DB:?INFLUXDB_DB is not set}
  INFLUX_USERNAME=${INFLUXDB_ADMIN_USER:?INFLUXDB_ADMIN_USER is not set}
  INFLUX_PASSWORD=${INFLUXDB_ADMIN_PASSWORD:?INFLUXDB_ADMIN_PASSWORD is not set}
  export INFLUX_USERNAME INFLUX_PASSWORD
  influxql() {
    influx -host "${WASTEWATCH_INFLUX_INIT_HOST:-127.0.0.1}" -port "${INFLUXDB_INIT_PORT:-8086}" -execute "$1"
  }
  existing=$(influxql "SHOW USERS" | awk 'NR > 2 {print $1}')
  for spec in ingest:WRITE alerts:WRITE compliance:ALL reports:READ api:READ grafana:READ; do
    service=${spec%%:*}
    privilege=${spec#*:}
    user=wastewatch-$service
    var=INFLUXDB_$(echo "$service" | tr '[:lower:]' '[:upper:]')_PASSWORD
    eval "password=\${$var:-}"
    if [ -z "$password" ]; then
      echo "wastewatch users: $var is empty or not set (see .env.example)" >&2
      return 1
    fi
    # InfluxQL string literal: backslashes and single quotes escaped
    quoted=$(printf '%s' "$password" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")
    if ! printf '%s\n' "$existing" | grep -qx "$user"; then
      influxql "CREATE USER \"$user\" WITH PASSWORD '$quoted'"
    fi
    influxql "SET PASSWORD FOR \"$user\" = '$quoted'"
    influxql "REVOKE ALL PRIVILEGES ON \"$db\" FROM \"$user\""
    influxql "GRANT $privilege ON \"$db\" TO \"$user\""
    echo "wastewatch users: $user has $privilege on $db"
  done
)
wastewatch_influx_users
