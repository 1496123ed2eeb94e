#!/usr/bin/env bash
# Benchmark figures on the 2,000-table catalog (../shared/bench/gen2000.sql): starts a
# throwaway PostgreSQL cluster, loads the catalog, builds release binaries and runs
# examples/bench.rs, which prints each figure as a ratio to a baseline from the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
gen="${CATSNAP_SHARED_DIR:-../shared}/bench/gen2000.sql"
[ -f "$gen" ] || { echo "bench: $gen not found (it lives in ../shared)"; exit 1; }
ensure_postgres
start_throwaway_cluster            # sets PGPORT, PGBIN, PGURL_BASE; stops on exit
"$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "CREATE DATABASE gen2000"
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres -d gen2000 -f "$gen"
"$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d gen2000 -c "VACUUM ANALYZE"
cargo build --release --bin catalog-snapshot --example bench
./target/release/examples/bench "${PGURL_BASE}/gen2000" "$PGBIN/pg_dump" ./target/release/catalog-snapshot
