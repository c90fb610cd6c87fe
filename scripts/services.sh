#!/usr/bin/env bash
# Make sure a Postgres and a Redis are reachable for folio's dev and test scripts.
#
#   eval "$(scripts/services.sh)"   print `export DATABASE_URL=...` and `export REDIS_URL=...`
#   source scripts/services.sh      the same, exported into the calling shell (takes no arguments)
#   scripts/services.sh status      report what is reachable, start nothing
#   scripts/services.sh stop        stop the throwaway instances this script started (and only those)
#
# Postgres, first that works:
#   1. $DATABASE_URL, if set and it answers (pg_isready + `select 1` through psql);
#   2. postgres://postgres@127.0.0.1:5432/postgres (trust auth for user postgres over TCP);
#   3. as root on Debian/Ubuntu: start the installed cluster "<ver> main" on that port if it
#      is down, then try 2 again;
#   4. a throwaway cluster in .local/pg (port 55432, trust auth, bound to 127.0.0.1),
#      owned by a non-root user because initdb refuses to run as root.
# Redis, first that works: $REDIS_URL; redis://127.0.0.1:6379; a throwaway redis-server in
# .local/redis (port 56379, no persistence).
# Missing server binaries are installed with apt-get when running as root on Debian/Ubuntu.
#
# With FOLIO_POOLER=1 (scripts/test.sh sets it) also:
#   - PgBouncer (Debian's package) in front of that Postgres, in transaction mode with a small
#     pool, from its own ini in .local/pgbouncer (auth_type trust, a wildcard database so every
#     per-test database works, extra_float_digits NOT ignored), on a free port; printed as
#     `export POOLER_URL=...`. Run as user postgres when started as root.
#   - as root: a hosts-file name (folio-pg.test) for 127.0.0.1, so a test can reach the plaintext
#     Postgres by a non-loopback name the way compose does (`postgres:5432`); printed as
#     `export FOLIO_LAN_PG_HOST=folio-pg.test` once it resolves.
#
# Environment overrides:
#   FOLIO_SERVICES=throwaway       skip 1-3 and the system Redis: always use the throwaway pair
#   FOLIO_LOCAL_DIR=DIR            where throwaway data lives (default: <repo>/.local, git-ignored;
#                                  as root in a checkout closed to other users: /var/tmp/folio-local-*)
#   FOLIO_PG_PORT / FOLIO_REDIS_PORT                 throwaway ports (55432 / 56379)
#   FOLIO_SYSTEM_PG_PORT / FOLIO_SYSTEM_REDIS_PORT   already-running servers (5432 / 6379)
#   FOLIO_PG_OS_USER=NAME          OS user owning the throwaway cluster when run as root (postgres)
#   FOLIO_NO_INSTALL=1             never run apt-get
#   FOLIO_POOLER=1                 also start PgBouncer (see above); FOLIO_PGBOUNCER_POOL_SIZE (4)
# Throwaway data survives `stop`; delete the folder to start from scratch.

if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
  # Sourced: do the work in a child bash so that our `set -e`, traps and helpers never
  # leak into the caller's shell, then export what it printed.
  if __folio_services_env=$(bash "${BASH_SOURCE[0]}" up); then
    eval "$__folio_services_env"
    unset __folio_services_env
    return 0
  fi
  unset __folio_services_env
  echo "services.sh: Postgres/Redis not available (see the messages above)" >&2
  return 1
fi

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL_DIR=${FOLIO_LOCAL_DIR:-$ROOT/.local}
# As root, the servers run as another user (postgres), which must reach their folder: a
# checkout inside a folder closed to other users (mktemp -d, a 0700 home) cannot hold it,
# so the data goes to a folder of its own under /var/tmp, one per checkout.
if [[ -z ${FOLIO_LOCAL_DIR:-} && $(id -u) == 0 ]] && id -u nobody >/dev/null 2>&1 &&
  command -v runuser >/dev/null && ! (cd / && runuser -u nobody -- test -x "$ROOT"); then
  LOCAL_DIR=/var/tmp/folio-local-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)
  mkdir -p "$LOCAL_DIR" && chmod 755 "$LOCAL_DIR"
fi
[[ $LOCAL_DIR == /* ]] || LOCAL_DIR=$PWD/$LOCAL_DIR
MODE=${FOLIO_SERVICES:-auto}
PG_PORT=${FOLIO_PG_PORT:-55432}
REDIS_PORT=${FOLIO_REDIS_PORT:-56379}
SYSTEM_PG_PORT=${FOLIO_SYSTEM_PG_PORT:-5432}
SYSTEM_REDIS_PORT=${FOLIO_SYSTEM_REDIS_PORT:-6379}
PG_DIR=$LOCAL_DIR/pg
PG_DATA=$PG_DIR/data
PG_LOG=$PG_DIR/postgres.log
REDIS_DIR=$LOCAL_DIR/redis
REDIS_PIDFILE=$REDIS_DIR/redis.pid
BOUNCER_DIR=$LOCAL_DIR/pgbouncer
BOUNCER_INI=$BOUNCER_DIR/pgbouncer.ini
BOUNCER_PIDFILE=$BOUNCER_DIR/pgbouncer.pid
LAN_PG_HOST=folio-pg.test
SYSTEM_PG_URL=postgres://postgres@127.0.0.1:$SYSTEM_PG_PORT/postgres
LOCAL_PG_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
SYSTEM_REDIS_URL=redis://127.0.0.1:$SYSTEM_REDIS_PORT
LOCAL_REDIS_URL=redis://127.0.0.1:$REDIS_PORT

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }
is_root() { [[ $(id -u) -eq 0 ]]; }
have() { command -v "$1" >/dev/null 2>&1; }
shquote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
with_timeout() { if have timeout; then timeout "$@"; else shift; "$@"; fi; }

APT_UPDATED=0
# apt_install PACKAGE...: only as root on Debian/Ubuntu, unless FOLIO_NO_INSTALL is set.
apt_install() {
  if [[ -n ${FOLIO_NO_INSTALL:-} ]] || ! is_root || ! have apt-get; then
    return 1
  fi
  log "installing $* with apt-get"
  if [[ $APT_UPDATED -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# ---------------------------------------------------------------- Postgres

pg_works() { # URL: accepting connections and letting us in without a password prompt
  PGCONNECT_TIMEOUT=3 pg_isready -q -d "$1" >/dev/null 2>&1 &&
    PGCONNECT_TIMEOUT=5 psql -X -w -q -At -d "$1" -c 'select 1' >/dev/null 2>&1
}

need_pg_client() {
  have psql && have pg_isready && return 0
  apt_install postgresql && have psql && have pg_isready && return 0
  die "psql and pg_isready are needed (Debian/Ubuntu, as root: apt-get install -y postgresql)"
}

pg_bin_dir() { # the directory holding initdb and pg_ctl, newest version first
  local d candidates=()
  if have pg_ctl; then candidates+=("$(dirname "$(command -v pg_ctl)")"); fi
  # Debian/Ubuntu keep the server tools out of PATH, one folder per major version.
  while IFS= read -r d; do
    candidates+=("$d")
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin /usr/pgsql-*/bin | sort -V -r)
  for d in "${candidates[@]}"; do
    if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

# Debian/Ubuntu: start the packaged cluster listening on the system port if it is down.
start_debian_cluster() {
  is_root && have pg_lsclusters && have pg_ctlcluster || return 1
  local ver name port status _rest
  while read -r ver name port status _rest; do
    [[ $name == main && $port == "$SYSTEM_PG_PORT" && $status == down* ]] || continue
    log "postgres: starting the installed cluster $ver/main on port $port"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 9>&- >&2 && return 0
    log "postgres: could not start cluster $ver/main"
    return 1
  done < <(pg_lsclusters --no-header 2>/dev/null)
  return 1
}

PG_OS_USER=
as_pg_user() { # run a postgres server tool as the cluster's owner (from /: our cwd may be closed to it)
  if [[ -z $PG_OS_USER ]]; then
    "$@"
  elif have runuser; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    (cd / && su -s /bin/sh "$PG_OS_USER" -c "$(printf '%q ' "$@")")
  fi
}

pick_pg_os_user() {
  is_root || return 0
  PG_OS_USER=${FOLIO_PG_OS_USER:-postgres}
  if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
    [[ -z ${FOLIO_PG_OS_USER:-} ]] || die "user $PG_OS_USER (FOLIO_PG_OS_USER) does not exist"
    # No packaged postgres user: make a dedicated system account, without a home or shell.
    PG_OS_USER=folio-pg
    if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
      log "postgres: creating system user $PG_OS_USER to own the throwaway cluster"
      useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER" ||
        die "could not create user $PG_OS_USER; set FOLIO_PG_OS_USER to an existing non-root user"
    fi
  fi
}

pg_pid_port() { # port of the running throwaway postmaster (4th line of postmaster.pid)
  sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true
}

start_throwaway_pg() {
  local bin
  bin=$(pg_bin_dir) || { apt_install postgresql && bin=$(pg_bin_dir); } ||
    die "initdb/pg_ctl not found (Debian/Ubuntu, as root: apt-get install -y postgresql)"
  pick_pg_os_user
  mkdir -p "$PG_DIR"
  if [[ -n $PG_OS_USER ]]; then
    chown -R "$PG_OS_USER:" "$PG_DIR"
    as_pg_user test -w "$PG_DIR" ||
      die "user $PG_OS_USER cannot write $PG_DIR (is a parent folder closed to it?); set FOLIO_LOCAL_DIR, e.g. FOLIO_LOCAL_DIR=/tmp/folio-local"
  fi

  if [[ ! -s $PG_DATA/PG_VERSION ]]; then
    rm -rf "$PG_DATA" # a half-made cluster from an interrupted run
    log "postgres: creating a throwaway cluster in $PG_DATA"
    as_pg_user "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale \
      >"$PG_DIR/initdb.log" 2>&1 || die "initdb failed, see $PG_DIR/initdb.log"
    # Throwaway data only: trade durability for speed.
    printf '%s\n' "include_if_exists = 'folio.conf'" 'fsync = off' 'synchronous_commit = off' \
      'full_page_writes = off' | as_pg_user tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi

  # Rewritten at every start so FOLIO_PG_PORT can change between runs. A unix socket path
  # is limited to ~107 bytes: with a deep checkout, listen on TCP only.
  local sock_dir=$PG_DIR/run sockets
  if [[ $((${#sock_dir} + 20)) -lt 100 ]]; then
    as_pg_user mkdir -p "$sock_dir"
    sockets=$sock_dir
  fi
  printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n" \
    "$PG_PORT" "${sockets:-}" | as_pg_user tee "$PG_DATA/folio.conf" >/dev/null

  if as_pg_user "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    if [[ $(pg_pid_port) == "$PG_PORT" ]]; then
      log "postgres: throwaway cluster already running on port $PG_PORT"
      return 0
    fi
    log "postgres: throwaway cluster runs on port $(pg_pid_port), restarting it on $PG_PORT"
    as_pg_user "$bin/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
  fi
  log "postgres: starting the throwaway cluster on 127.0.0.1:$PG_PORT (log: $PG_LOG)"
  # 9>&-: the server must not inherit our lock file descriptor.
  as_pg_user "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start 9>&- >/dev/null ||
    die "postgres did not start (port $PG_PORT taken?), see $PG_LOG"
}

ensure_pg() {
  need_pg_client
  if [[ $MODE != throwaway ]]; then
    if [[ -n ${DATABASE_URL:-} ]]; then
      if pg_works "$DATABASE_URL"; then
        log "postgres: using \$DATABASE_URL"
        PG_URL=$DATABASE_URL
        return 0
      fi
      log "postgres: \$DATABASE_URL is set but does not answer; looking for another server"
    fi
    if pg_works "$SYSTEM_PG_URL"; then
      log "postgres: using the server on 127.0.0.1:$SYSTEM_PG_PORT"
      PG_URL=$SYSTEM_PG_URL
      return 0
    fi
    if start_debian_cluster && pg_works "$SYSTEM_PG_URL"; then
      log "postgres: using the installed cluster on 127.0.0.1:$SYSTEM_PG_PORT"
      PG_URL=$SYSTEM_PG_URL
      return 0
    fi
  fi
  start_throwaway_pg
  pg_works "$LOCAL_PG_URL" || die "the throwaway postgres does not answer on port $PG_PORT, see $PG_LOG"
  PG_URL=$LOCAL_PG_URL
}

# ---------------------------------------------------------------- Redis

redis_works() { # URL
  with_timeout 5 redis-cli -u "$1" ping 2>/dev/null | grep -qx PONG
}

need_redis_cli() {
  have redis-cli && return 0
  apt_install redis-server && have redis-cli && return 0
  die "redis-cli is needed (Debian/Ubuntu, as root: apt-get install -y redis-server)"
}

redis_pid() { # pid of our throwaway redis-server, if it is alive
  local pid
  pid=$(cat "$REDIS_PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    ps -p "$pid" -o comm= 2>/dev/null | grep -q redis || return 1
  echo "$pid"
}

stop_throwaway_redis() {
  local pid
  pid=$(redis_pid) || { rm -f "$REDIS_PIDFILE"; return 1; }
  kill -TERM "$pid"
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  rm -f "$REDIS_PIDFILE"
}

start_throwaway_redis() {
  have redis-server || apt_install redis-server ||
    die "redis-server not found (Debian/Ubuntu, as root: apt-get install -y redis-server)"
  mkdir -p "$REDIS_DIR"
  if redis_pid >/dev/null; then
    if redis_works "$LOCAL_REDIS_URL"; then
      log "redis: throwaway server already running on port $REDIS_PORT"
      return 0
    fi
    log "redis: throwaway server runs on another port, restarting it on $REDIS_PORT"
    stop_throwaway_redis
  fi
  rm -f "$REDIS_PIDFILE"
  log "redis: starting a throwaway server on 127.0.0.1:$REDIS_PORT (log: $REDIS_DIR/redis.log)"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$REDIS_DIR" \
    --save '' --appendonly no --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_DIR/redis.log" \
    9>&- >/dev/null || die "redis-server did not start, see $REDIS_DIR/redis.log"
  # Only trust PING once our own process is alive (it writes its pid file after binding):
  # a server already on that port would answer too.
  for _ in $(seq 50); do
    if redis_pid >/dev/null; then
      redis_works "$LOCAL_REDIS_URL" && return 0
    elif [[ -s $REDIS_PIDFILE ]]; then
      break
    fi
    sleep 0.2
  done
  die "the throwaway redis does not answer on port $REDIS_PORT (taken?), see $REDIS_DIR/redis.log"
}

ensure_redis() {
  need_redis_cli
  if [[ $MODE != throwaway ]]; then
    if [[ -n ${REDIS_URL:-} ]]; then
      if redis_works "$REDIS_URL"; then
        log "redis: using \$REDIS_URL"
        RD_URL=$REDIS_URL
        return 0
      fi
      log "redis: \$REDIS_URL is set but does not answer PING; looking for another server"
    fi
    if redis_works "$SYSTEM_REDIS_URL"; then
      log "redis: using the server on 127.0.0.1:$SYSTEM_REDIS_PORT"
      RD_URL=$SYSTEM_REDIS_URL
      return 0
    fi
  fi
  start_throwaway_redis
  RD_URL=$LOCAL_REDIS_URL
}

# ---------------------------------------------------------------- PgBouncer

free_port() { # a port nobody listens on right now (the kernel's pick)
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bouncer_pid() { # pid of our PgBouncer, if it is alive
  local pid
  pid=$(cat "$BOUNCER_PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    ps -p "$pid" -o comm= 2>/dev/null | grep -q pgbouncer || return 1
  echo "$pid"
}

bouncer_port() { sed -n 's/^listen_port = //p' "$BOUNCER_INI" 2>/dev/null; }

bouncer_url() { printf 'postgres://postgres@127.0.0.1:%s/postgres' "$1"; }

stop_bouncer() {
  local pid
  pid=$(bouncer_pid) || { rm -f "$BOUNCER_PIDFILE"; return 1; }
  kill -TERM "$pid"
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  rm -f "$BOUNCER_PIDFILE"
}

# PgBouncer in transaction mode in front of $PG_URL's server. Debian's 1.18 has no
# prepared-statement support, and extra_float_digits is deliberately not in
# ignore_startup_parameters: folio must connect without it.
ensure_bouncer() {
  have pgbouncer || apt_install pgbouncer ||
    die "pgbouncer not found (Debian/Ubuntu, as root: apt-get install -y pgbouncer)"
  local upstream host port pool=${FOLIO_PGBOUNCER_POOL_SIZE:-4}
  upstream=$(PGCONNECT_TIMEOUT=5 psql -X -w -At -d "$PG_URL" \
    -c "select coalesce(host(inet_server_addr()), '127.0.0.1') || ' ' || current_setting('port')") ||
    die "cannot ask postgres for its address"
  read -r host port <<<"$upstream"
  if bouncer_pid >/dev/null && pg_works "$(bouncer_url "$(bouncer_port)")" &&
    grep -qx "\* = host=$host port=$port" "$BOUNCER_INI" &&
    grep -qx "default_pool_size = $pool" "$BOUNCER_INI"; then
    log "pgbouncer: already running on port $(bouncer_port)"
    BOUNCER_URL=$(bouncer_url "$(bouncer_port)")
    return 0
  fi
  stop_bouncer || true
  pick_pg_os_user
  mkdir -p "$BOUNCER_DIR"
  local listen
  listen=$(free_port) || die "cannot pick a free port for pgbouncer"
  printf '"postgres" ""\n' >"$BOUNCER_DIR/userlist.txt"
  {
    echo ';; written by scripts/services.sh at every start'
    echo '[databases]'
    echo "* = host=$host port=$port"
    echo
    echo '[pgbouncer]'
    echo 'listen_addr = 127.0.0.1'
    echo "listen_port = $listen"
    echo 'unix_socket_dir ='
    echo 'auth_type = trust'
    echo "auth_file = $BOUNCER_DIR/userlist.txt"
    echo 'admin_users = postgres'
    echo 'pool_mode = transaction'
    echo "default_pool_size = $pool"
    echo 'max_client_conn = 1000'
    echo "logfile = $BOUNCER_DIR/pgbouncer.log"
    echo "pidfile = $BOUNCER_PIDFILE"
  } >"$BOUNCER_INI"
  if [[ -n $PG_OS_USER ]]; then
    chown -R "$PG_OS_USER:" "$BOUNCER_DIR"
    as_pg_user test -r "$BOUNCER_INI" ||
      die "user $PG_OS_USER cannot read $BOUNCER_DIR (is a parent folder closed to it?); set FOLIO_LOCAL_DIR, e.g. FOLIO_LOCAL_DIR=/tmp/folio-local"
  fi
  log "pgbouncer: starting on 127.0.0.1:$listen, transaction mode, pool $pool (log: $BOUNCER_DIR/pgbouncer.log)"
  as_pg_user pgbouncer -q -d "$BOUNCER_INI" 9>&- >&2 ||
    die "pgbouncer did not start, see $BOUNCER_DIR/pgbouncer.log"
  for _ in $(seq 50); do
    if bouncer_pid >/dev/null && pg_works "$(bouncer_url "$listen")"; then
      BOUNCER_URL=$(bouncer_url "$listen")
      return 0
    fi
    sleep 0.2
  done
  die "pgbouncer does not answer on port $listen, see $BOUNCER_DIR/pgbouncer.log"
}

# A hosts-file name for this machine's loopback address (root only), so a test can reach
# the plaintext Postgres by a name that is not `localhost`, as compose's `postgres` is.
ensure_lan_name() {
  if ! getent hosts "$LAN_PG_HOST" 2>/dev/null | grep -q '^127\.'; then
    is_root && [[ -w /etc/hosts ]] || return 1
    log "hosts: adding $LAN_PG_HOST -> 127.0.0.1 to /etc/hosts (for the compose-style test)"
    printf '127.0.0.1 %s # folio tests: a non-loopback name for the local Postgres\n' \
      "$LAN_PG_HOST" >>/etc/hosts
  fi
  getent hosts "$LAN_PG_HOST" 2>/dev/null | grep -q '^127\.'
}

# ---------------------------------------------------------------- commands

take_lock() { # two scripts starting the same throwaway cluster at once would trip on each other
  mkdir -p "$LOCAL_DIR"
  if have flock; then
    exec 9>"$LOCAL_DIR/.services.lock"
    flock -w 120 9 || die "another services.sh has held $LOCAL_DIR/.services.lock for 2 minutes"
  fi
}

cmd_up() {
  take_lock
  ensure_pg
  ensure_redis
  printf 'export DATABASE_URL=%s\n' "$(shquote "$PG_URL")"
  printf 'export REDIS_URL=%s\n' "$(shquote "$RD_URL")"
  if [[ ${FOLIO_POOLER:-} == 1 ]]; then
    ensure_bouncer
    printf 'export POOLER_URL=%s\n' "$(shquote "$BOUNCER_URL")"
    if ensure_lan_name; then
      printf 'export FOLIO_LAN_PG_HOST=%s\n' "$LAN_PG_HOST"
    else
      log "hosts: $LAN_PG_HOST does not resolve to 127.0.0.1 (not root?); the compose-style test will skip"
    fi
  fi
}

cmd_stop() {
  take_lock
  local bin owner stopped=0
  if [[ -f $PG_DATA/postmaster.pid ]] && bin=$(pg_bin_dir); then
    if is_root; then
      owner=$(stat -c %U "$PG_DATA" 2>/dev/null || stat -f %Su "$PG_DATA")
      [[ $owner == root ]] || PG_OS_USER=$owner
    fi
    if as_pg_user "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
      as_pg_user "$bin/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null && stopped=1 &&
        log "postgres: stopped the throwaway cluster ($PG_DATA)"
    fi
  fi
  if stop_throwaway_redis; then
    stopped=1
    log "redis: stopped the throwaway server ($REDIS_DIR)"
  fi
  if stop_bouncer; then
    stopped=1
    log "pgbouncer: stopped ($BOUNCER_DIR)"
  fi
  [[ $stopped -eq 1 ]] || log "no throwaway instance was running"
}

cmd_status() { # labels only: a URL may hold a password
  local label url
  if have psql && have pg_isready; then
    while read -r label url; do
      [[ -n $url ]] || continue
      if pg_works "$url"; then log "postgres: $label answers"; else log "postgres: $label does not answer"; fi
    done <<EOF
\$DATABASE_URL ${DATABASE_URL:-}
127.0.0.1:$SYSTEM_PG_PORT $SYSTEM_PG_URL
throwaway(127.0.0.1:$PG_PORT) $LOCAL_PG_URL
pgbouncer(127.0.0.1:$(bouncer_port)) $(if bouncer_pid >/dev/null; then bouncer_url "$(bouncer_port)"; fi)
EOF
  else
    log "postgres: psql/pg_isready not installed"
  fi
  if have redis-cli; then
    while read -r label url; do
      [[ -n $url ]] || continue
      if redis_works "$url"; then log "redis: $label answers"; else log "redis: $label does not answer"; fi
    done <<EOF
\$REDIS_URL ${REDIS_URL:-}
127.0.0.1:$SYSTEM_REDIS_PORT $SYSTEM_REDIS_URL
throwaway(127.0.0.1:$REDIS_PORT) $LOCAL_REDIS_URL
EOF
  else
    log "redis: redis-cli not installed"
  fi
}

case ${1:-up} in
  up) cmd_up ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  -h | --help | help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" ;;
  *) die "unknown command '$1' (expected: up, stop, status)" ;;
esac
