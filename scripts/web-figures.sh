#!/usr/bin/env bash
# The web app's figures (issue 15), not part of the test run: time to first diagram for
# the demo, netbox (189 tables), musicbrainz (531 tables, 10 schemas) and the 2,000-table
# catalog, as ratios to the demo, and pan frame times (median, p95) at reading zoom for
# musicbrainz and the 2,000-table catalog. Headless Chromium; a throwaway PostgreSQL;
# figures in target/e2e/web-figures.json.
#   CATSNAP_E2E_BIN   the service binary (default target/debug/catalog-snapshot); give a
#                     release build for representative request times.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
shared=${CATSNAP_SHARED_DIR:-../shared}
[ -f "$shared/schemas/musicbrainz.sql" ] || { echo "web-figures: $shared/schemas not found"; exit 1; }
[ -d web/e2e/node_modules/playwright-core ] || (cd web/e2e && npm ci --no-audit --no-fund --loglevel=error)
[ -f web/dist/index.html ] || scripts/build-web.sh
bin=${CATSNAP_E2E_BIN:-target/debug/catalog-snapshot}
[ -x "$bin" ] || cargo build --bin catalog-snapshot

ensure_postgres
start_throwaway_cluster
out=target/e2e
mkdir -p "$out"
cluster_psql -d postgres -c "CREATE DATABASE demo" -c "CREATE DATABASE netbox" \
  -c "CREATE DATABASE musicbrainz" -c "CREATE DATABASE gen2000" >/dev/null
cluster_psql -d demo -f demo/schema.sql >/dev/null
cluster_psql -d netbox -f "$shared/schemas/netbox.sql" >/dev/null 2>&1
cluster_psql -d musicbrainz -f "$shared/schemas/musicbrainz.sql" >/dev/null 2>&1
cluster_psql -d gen2000 -f "$shared/bench/gen2000.sql" >/dev/null
connections="{\"demo\": \"$PGURL_BASE/demo\", \"netbox\": \"$PGURL_BASE/netbox\","
connections="$connections \"musicbrainz\": \"$PGURL_BASE/musicbrainz\", \"gen2000\": \"$PGURL_BASE/gen2000\"}"

port=$(free_port)
TARGET_CONNECTIONS="$connections" WEB_DIST_DIR="$PWD/web/dist" PORT=$port RUST_LOG=warn \
  "$bin" >"$out/figures-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; stop_throwaway_cluster' EXIT
wait_healthy "$port"
BASE_URL="http://127.0.0.1:$port" OUT_DIR="$PWD/$out" node web/e2e/figures.mjs
