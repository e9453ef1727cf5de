#!/usr/bin/env bash
# A second local PostgreSQL 15 cluster with wal_level=logical, for the Debezium relay mode.
# Logical decoding needs a server restart to switch on; the shared cluster on 5432 must never be
# restarted for it, so this mode gets a cluster of its own, created and removed by this script.
#
#   scripts/pg-logical.sh start    create the cluster once (Debian's pg_createcluster) and start it
#   scripts/pg-logical.sh stop     stop it (data kept)
#   scripts/pg-logical.sh drop     stop and remove it with its data
#   scripts/pg-logical.sh status   exit 0 when it runs with wal_level=logical
#
# PG_LOGICAL_PORT (default 5442) and PG_LOGICAL_CLUSTER (default order_saga_cdc) choose port and
# name. Local connections are trusted (like the shared development server): it is a development
# cluster; with your own server, set wal_level=logical there instead (README "Scaling out").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_VERSION="${PG_LOGICAL_VERSION:-15}"
PORT="${PG_LOGICAL_PORT:-5442}"
CLUSTER="${PG_LOGICAL_CLUSTER:-order_saga_cdc}"
CONF="/etc/postgresql/$PG_VERSION/$CLUSTER/postgresql.conf"

# shellcheck source=lib/toolchain.sh
source "$ROOT/scripts/lib/toolchain.sh"
# shellcheck source=lib/ports.sh
source "$ROOT/scripts/lib/ports.sh"

exists() { pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}' | grep -qx "$PG_VERSION/$CLUSTER"; }
running() { pg_lsclusters -h 2>/dev/null | awk -v c="$CLUSTER" -v v="$PG_VERSION" '$1==v && $2==c {print $4}' | grep -q online; }

start() {
  command -v pg_createcluster >/dev/null \
    || die "no pg_createcluster: this mode needs Debian's postgresql-common and PostgreSQL $PG_VERSION (apt-get install -y postgresql-$PG_VERSION)"
  if ! exists; then
    local holder
    holder="$(port_holder "$PORT")"
    [ -z "$holder" ] || die "port $PORT is taken by $holder: pick another with PG_LOGICAL_PORT=<port>"
    info "creating PostgreSQL $PG_VERSION cluster '$CLUSTER' on port $PORT (wal_level=logical)"
    pg_createcluster "$PG_VERSION" "$CLUSTER" -p "$PORT" -- --auth=trust >/dev/null
    cat >>"$CONF" <<CONF
# Added by order-saga's scripts/pg-logical.sh: Debezium reads the outbox through logical decoding.
wal_level = logical
max_replication_slots = 40
max_wal_senders = 40
listen_addresses = '127.0.0.1'
CONF
  fi
  if ! running; then
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$CLUSTER" start
  fi
  local level
  level="$(psql -h 127.0.0.1 -p "$PORT" -U postgres -Atc 'show wal_level' 2>/dev/null || true)"
  [ "$level" = logical ] || die "cluster '$CLUSTER' on port $PORT answers wal_level='$level', not 'logical'"
  info "PostgreSQL with logical decoding ready at 127.0.0.1:$PORT (cluster $PG_VERSION/$CLUSTER)"
}

stop() {
  if exists && running; then
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$CLUSTER" stop
  fi
}

drop() {
  exists || return 0
  stop
  pg_dropcluster "$PG_VERSION" "$CLUSTER"
  info "removed cluster $PG_VERSION/$CLUSTER"
}

status() {
  if exists && running; then
    echo "PostgreSQL $PG_VERSION/$CLUSTER running at 127.0.0.1:$PORT"
    return 0
  fi
  echo "PostgreSQL $PG_VERSION/$CLUSTER not running"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  drop) drop ;;
  status) status ;;
  *) die "usage: $0 {start|stop|drop|status}" ;;
esac
