# shellcheck shell=bash
# ./scripts/start --observe: Prometheus from Debian's package, scraping the local services with
# the project's alert rules (observability/prometheus/prometheus.local.yml), data under .run/.
# Needs ROOT, info and die (toolchain.sh) and port_holder/http_ok (ports.sh).

PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
PROMETHEUS_PID=

# Installs Debian's prometheus package when the binary is missing (as scripts/test does for promtool).
ensure_prometheus() {
  command -v prometheus >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    info "installing Prometheus (Debian: prometheus)"
    apt-get install -y -q prometheus >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q prometheus >/dev/null 2>&1; } \
      || die "apt-get could not install prometheus: install it, or run ./scripts/start without --observe"
  else
    die "prometheus is not installed: apt-get install -y prometheus (or run ./scripts/start without --observe)"
  fi
}

prometheus_up() {
  ensure_prometheus
  local holder
  holder="$(port_holder "$PROMETHEUS_PORT")"
  [ -z "$holder" ] || die "port $PROMETHEUS_PORT (Prometheus) is taken by $holder: stop it, or set PROMETHEUS_PORT"
  mkdir -p "$ROOT/.run/prometheus"
  # Its own log file: Prometheus' lines are not the saga's, and would bury them.
  prometheus \
    --config.file="$ROOT/observability/prometheus/prometheus.local.yml" \
    --storage.tsdb.path="$ROOT/.run/prometheus" \
    --storage.tsdb.retention.time=2d \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    >"$ROOT/.run/prometheus.log" 2>&1 &
  PROMETHEUS_PID=$!
  local waited=0
  until http_ok "$PROMETHEUS_PORT" /-/ready; do
    kill -0 "$PROMETHEUS_PID" 2>/dev/null || die "Prometheus exited during start-up: see .run/prometheus.log"
    [ "$waited" -lt 60 ] || die "Prometheus did not get ready within 30 s: see .run/prometheus.log"
    sleep 0.5
    waited=$((waited + 1))
  done
}

prometheus_down() {
  [ -n "$PROMETHEUS_PID" ] || return 0
  kill -TERM "$PROMETHEUS_PID" 2>/dev/null || true
  wait "$PROMETHEUS_PID" 2>/dev/null || true
  PROMETHEUS_PID=
}

# Banner lines: each service's /metrics, and Prometheus when it runs.
observe_banner() {
  local app
  for app in "$@"; do
    printf '  %-8s http://127.0.0.1:%s/metrics\n' "$app" "${SERVICE_PORTS[$app]}"
  done
  if [ -n "$PROMETHEUS_PID" ]; then
    printf '  Prometheus http://127.0.0.1:%s (alerts: /alerts, graphs: /graph; log .run/prometheus.log)\n' "$PROMETHEUS_PORT"
  else
    printf '  (./scripts/start --observe also runs Prometheus with the alert rules)\n'
  fi
}
