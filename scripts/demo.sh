#!/usr/bin/env bash
# The run command (README): a throwaway PostgreSQL with the demo schema and an app
# database, the service in front of them, and a real snapshot request and its response.
# Stays up serving http://127.0.0.1:PORT/ until Ctrl-C (or exits after the requests with
# --once); the cluster is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
once=""
[ "${1:-}" = "--once" ] && once=1

ensure_postgres
start_throwaway_cluster
cluster_psql -d postgres -c "CREATE DATABASE demo" -c "CREATE DATABASE catsnap_app"
cluster_psql -d demo -f demo/schema.sql >/dev/null
echo "== demo database loaded (demo/schema.sql) on port $PGPORT"

echo "== building the service"
cargo build --release --bin catalog-snapshot
scripts/build-web.sh || echo "(the web app did not build; the API still works)"

PORT=${PORT:-3000}
if ! python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $PORT)) == 0)"; then
  PORT=$(free_port)
fi
# The web app reaches the demo database by connection id: no password in the browser.
APP_DATABASE_URL="${PGURL_BASE}/catsnap_app" TARGET_CONNECTIONS="{\"demo\": \"${PGURL_BASE}/demo\"}" \
  PORT=$PORT RUST_LOG=${RUST_LOG:-info} ./target/release/catalog-snapshot &
SERVICE_PID=$!
trap 'kill $SERVICE_PID 2>/dev/null || true; stop_throwaway_cluster' EXIT
wait_healthy "$PORT"

BODY=$(printf '{"targetDatabaseUrl": "%s/demo", "schemas": ["public", "inventory"], "refresh": "cache"}' "$PGURL_BASE")
show() {
  python3 -c '
import json, sys
r = json.load(sys.stdin)
s = r["snapshot"]
print("snapshot.meta:", json.dumps(s["meta"], indent=2))
print("tables:", ", ".join(s["tables"]))
k = "public.\"Order Items\""
print("columns of", k + ":", json.dumps({c: v for c, v in s["columns"].items() if v["table"] == k}, indent=2)[:1500])
print("relationships:", json.dumps(list(s["relationships"])[:6], indent=2), "...")
for f in ("cache", "lastRefreshedAt", "drift", "persistence", "refresh"):
    print(f + ":", json.dumps(r[f], indent=2))
'
}
echo
echo "== request (the password is the throwaway cluster's):"
echo "curl -s -X POST http://127.0.0.1:$PORT/api/v1/introspect/postgres/snapshot \\"
echo "     -H 'content-type: application/json' -d '$BODY'"
echo
echo "== response:"
curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/introspect/postgres/snapshot" \
  -H 'content-type: application/json' -d "$BODY" | show
echo
echo "== the same request again (a memory-tier hit):"
curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/introspect/postgres/snapshot" \
  -H 'content-type: application/json' -d "$BODY" | python3 -c '
import json, sys; r = json.load(sys.stdin); print("cache:", json.dumps(r["cache"]), "lastRefreshedAt:", r["lastRefreshedAt"])'

if [ -n "$once" ]; then
  exit 0
fi
echo
echo "== the schema diagram: open http://127.0.0.1:$PORT/?connectionId=demo&schemas=public,inventory"
echo "   (or type the database URL $PGURL_BASE/demo into the form); Ctrl-C stops and removes everything"
wait $SERVICE_PID
