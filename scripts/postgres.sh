#!/usr/bin/env bash
# PostgreSQL for the test suite.
#   scripts/postgres.sh ensure            start the local server, installing it when absent
#   scripts/postgres.sh create-database N (re)create database N and print its SQLAlchemy URL
set -euo pipefail
export PGOPTIONS="--client-min-messages=warning"
HOST=${PGHOST_CI:-127.0.0.1}
PORT=${PGPORT_CI:-5432}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

can_connect() {  # user
  psql -h "$HOST" -p "$PORT" -U "$1" -d postgres -Atqc "select 1" >/dev/null 2>&1
}

ensure() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "PostgreSQL is not installed: installing it from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq postgresql >/dev/null
  fi
  if ! pg_isready -h "$HOST" -p "$PORT" -q; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "Starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_isready -h "$HOST" -p "$PORT" -q && break; sleep 1; done
  fi
  pg_isready -h "$HOST" -p "$PORT"
  if ! can_connect postgres; then
    # A fresh Debian install asks for passwords over TCP: trust local TCP connections (CI only).
    hba=$(as_root su postgres -c "psql -Atqc 'show hba_file'")
    if ! as_root grep -q "coordinator-ci" "$hba"; then
      as_root sed -i "1i host all all 127.0.0.1/32 trust # coordinator-ci" "$hba"
      as_root su postgres -c "psql -Atqc 'select pg_reload_conf()'" >/dev/null
    fi
  fi
}

create_database() {
  local name=$1
  psql -h "$HOST" -p "$PORT" -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
  psql -h "$HOST" -p "$PORT" -U postgres -d postgres -qc "CREATE DATABASE \"$name\"" >/dev/null
  echo "postgresql+psycopg://postgres@$HOST:$PORT/$name"
}

case "${1:-}" in
  ensure) ensure ;;
  create-database) create_database "${2:?database name}" ;;
  *) echo "usage: $0 ensure | create-database NAME" >&2; exit 2 ;;
esac
