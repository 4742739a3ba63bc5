#!/usr/bin/env bash
# Start the PostgreSQL server the workshop store's tests run against (Debian's postgresql):
# a cluster of its own, "workbench", on port 54329 (so it never touches another cluster on
# the machine), with a role and a database for the tests:
#   postgresql://workbench:workbench@127.0.0.1:54329/workbench_test
# (the tests' default; set WORKBENCH_TEST_PG to use another server). Idempotent: installs,
# creates and starts only what is missing. make test runs it; CI runs make test.
set -euo pipefail
port=${WORKBENCH_PG_PORT:-54329}
cluster=workbench
role=workbench
password=workbench
database=workbench_test

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
  as_postgres=(runuser -u postgres --)
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
  as_postgres=(sudo -u postgres)
else
  echo "PostgreSQL for the tests needs root (or sudo) to install and start it." >&2
  exit 1
fi

if ! command -v pg_createcluster >/dev/null 2>&1 || \
   ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "Installing Debian's postgresql (for the workshop store's tests)"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {f=1} END {exit !f}'
then
  "${sudo[@]}" pg_createcluster "$version" "$cluster" --port "$port" >/dev/null
fi
status=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $4}')
if [ "$status" != "online" ]; then
  "${sudo[@]}" pg_ctlcluster "$version" "$cluster" start
fi
port=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $3}')

psql_() { "${sudo[@]}" "${as_postgres[@]}" psql -X -q -A -t -p "$port" -d postgres "$@"; }
for _ in $(seq 1 30); do
  psql_ -c "SELECT 1" >/dev/null 2>&1 && break
  sleep 1
done
if [ "$(psql_ -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != "1" ]; then
  psql_ -c "CREATE ROLE $role LOGIN PASSWORD '$password'"
fi
if [ "$(psql_ -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" != "1" ]; then
  psql_ -c "CREATE DATABASE $database OWNER $role"
fi
