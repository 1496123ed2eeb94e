#!/usr/bin/env bash
# The web app's end-to-end test (scripts/test.sh runs it): a throwaway PostgreSQL with the
# demo schema (and the 2,000-table benchmark catalog when ../shared has it), the local
# server serving web/dist in front of it, and web/e2e/e2e.mjs driving Debian's Chromium
# with playwright-core. Installs Chromium and the npm package when missing. Screenshots and
# figures go to target/e2e/.
#   CATSNAP_E2E_BIN   the service binary (default: target/debug/catalog-snapshot, built
#                     when missing); give a release build for representative timings.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

command -v chromium >/dev/null || apt_install chromium
command -v node >/dev/null || apt_install nodejs
command -v npm >/dev/null || apt_install npm
if [ ! -d web/e2e/node_modules/playwright-core ] || [ ! -d web/e2e/node_modules/axe-core ]; then
  (cd web/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
[ -f web/dist/index.html ] || scripts/build-web.sh
bin=${CATSNAP_E2E_BIN:-target/debug/catalog-snapshot}
[ -x "$bin" ] || cargo build --bin catalog-snapshot

ensure_postgres
start_throwaway_cluster
out=target/e2e
mkdir -p "$out"
cluster_psql -d postgres -c "CREATE DATABASE demo" -c "CREATE DATABASE catsnap_app" >/dev/null
cluster_psql -d demo -f demo/schema.sql >/dev/null
connections="{\"demo\": \"$PGURL_BASE/demo\""
gen2000=0
shared=${CATSNAP_SHARED_DIR:-../shared}
if [ -f "$shared/bench/gen2000.sql" ]; then
  cluster_psql -d postgres -c "CREATE DATABASE gen2000" >/dev/null
  cluster_psql -d gen2000 -f "$shared/bench/gen2000.sql" >/dev/null
  connections="$connections, \"gen2000\": \"$PGURL_BASE/gen2000\""
  gen2000=1
else
  echo "e2e: $shared/bench/gen2000.sql not found; the 2,000-table timing is skipped"
fi
connections="$connections}"

port=$(free_port)
APP_DATABASE_URL="$PGURL_BASE/catsnap_app" TARGET_CONNECTIONS="$connections" \
  WEB_DIST_DIR="$PWD/web/dist" PORT=$port RUST_LOG=info "$bin" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; stop_throwaway_cluster' EXIT
wait_healthy "$port"

status=0
BASE_URL="http://127.0.0.1:$port" DEMO_DB_URL="$PGURL_BASE/demo" PSQL="$PGBIN/psql" \
  OUT_DIR="$PWD/$out" GEN2000=$gen2000 node web/e2e/e2e.mjs || status=$?
if grep -qF "$PGPASSWORD" "$out/server.log"; then
  echo "FAIL the database password appears in the server's log"
  status=1
fi
exit $status
