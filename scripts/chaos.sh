#!/usr/bin/env bash
# Chaos under load, loopback only, bounded in time. Everything runs against a
# Redis and a Postgres cluster of its own (started here, removed at the end), so
# the machine's shared servers are never disturbed.
#
#   scripts/chaos.sh            full run: 256 clients, 30 s per phase
#   scripts/chaos.sh short      the suite's run: 32 clients, 6 s per phase
#   scripts/chaos.sh hang       the breaker measurement: the `ocr` binary, the same
#                               small cached PNG posted 20 times with Redis SIGSTOPped,
#                               with the breaker off (REDIS_BREAKER_FAILURES=0) and on
#
# Phases (each drives `folio-chaos load` against `folio-local`):
#   baseline  the mix alone: 0 unintended answers (429 from the rate limits is intended)
#   redis     the mix while Redis gets FLUSHALL, is killed and restarted, then paused
#             (SIGSTOP, 1.5 s): 0 5xx, recovery (readiness sees Redis again) within 5 s
#   postgres  the mix while Postgres stops and starts (pg_ctl -m fast): only 503 with
#             Retry-After while it is down, no answer slower than 5 s, recovery within 5 s
# After every phase each accepted OCR job must end `succeeded`. Reports are JSON
# files in $CHAOS_OUT (default: a temporary folder, printed); exit status 1 on any
# violation. Knobs: CHAOS_CLIENTS, CHAOS_SECONDS, CHAOS_PROFILE (debug|release),
# CHAOS_MAX_RSS_MB (default 1024), CHAOS_DB_POOL (DATABASE_MAX_CONNECTIONS, default 40),
# CHAOS_OUT.
# Needs: cargo, redis-server, redis-cli, initdb/pg_ctl (postgres), python3.
set -euo pipefail

mode=${1:-full}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case $mode in
  full) clients=${CHAOS_CLIENTS:-256} seconds=${CHAOS_SECONDS:-30} ;;
  short) clients=${CHAOS_CLIENTS:-32} seconds=${CHAOS_SECONDS:-6} ;;
  hang) ;;
  *) echo "usage: scripts/chaos.sh [full|short|hang]" >&2; exit 2 ;;
esac
profile=${CHAOS_PROFILE:-debug}
max_rss_mb=${CHAOS_MAX_RSS_MB:-1024}
# One process serves every client here, not one small instance per few requests as on
# Lambda or Cloud Run: give it the pool such a process would have (the default is 5).
db_pool=${CHAOS_DB_POOL:-40}

die() { printf 'chaos: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'chaos: %s\n' "$*" >&2; }
now_ms() { date +%s%3N; }
for tool in cargo redis-server redis-cli python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing"
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg_bin=
for d in "$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/x)")" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
  if [[ -x $d/initdb && -x $d/pg_ctl ]]; then pg_bin=$d; break; fi
done
[[ -n $pg_bin ]] || die "initdb/pg_ctl not found (apt-get install -y postgresql)"

work=$(mktemp -d /tmp/folio-chaos.XXXXXX)
out=${CHAOS_OUT:-$work/reports}
mkdir -p "$out"
redis_pid= server_pid= pg_user=
cleanup() {
  set +e
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [[ -n $redis_pid ]]; then kill -CONT "$redis_pid" 2>/dev/null; kill -9 "$redis_pid" 2>/dev/null; fi
  [[ -f $work/pg/PG_VERSION ]] && as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m immediate -w stop >/dev/null 2>&1
  [[ -z ${CHAOS_OUT:-} ]] && cp -r "$out" "/tmp/folio-chaos-last-reports" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

as_pg() { # postgres refuses to run as root
  if [[ -n $pg_user ]]; then (cd / && runuser -u "$pg_user" -- "$@"); else "$@"; fi
}

log "building ($profile)"
build_flags=()
[[ $profile == release ]] && build_flags+=(--release)
bins=(--bin folio-chaos)
if [[ $mode == hang ]]; then bins+=(--bin ocr); else bins+=(--bin folio-local); fi
(cd "$root" && cargo build --quiet "${build_flags[@]}" "${bins[@]}")
bin=${CARGO_TARGET_DIR:-$root/target}/$profile
chaos=$bin/folio-chaos

# --- Redis of our own -------------------------------------------------------
redis_port=$(free_port)
mkdir -p "$work/redis"
start_redis() {
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --dir "$work/redis" >"$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  die "redis-server did not start"
}
start_redis

# --- Postgres of our own ----------------------------------------------------
pg_port=$(free_port)
if [[ $(id -u) == 0 ]]; then
  pg_user=${FOLIO_PG_OS_USER:-postgres}
  id -u "$pg_user" >/dev/null 2>&1 || die "user $pg_user does not exist (set FOLIO_PG_OS_USER)"
  chmod 755 "$work"
fi
mkdir -p "$work/pg" "$work/pgsock"
[[ -n $pg_user ]] && chown "$pg_user:" "$work/pg" "$work/pgsock"
as_pg "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$work/initdb.log" 2>&1 ||
  die "initdb failed: $(tail -3 "$work/initdb.log")"
printf '%s\n' "port = $pg_port" "listen_addresses = '127.0.0.1'" "unix_socket_directories = '$work/pgsock'" \
  'fsync = off' 'synchronous_commit = off' 'full_page_writes = off' 'max_connections = 200' |
  as_pg tee -a "$work/pg/postgresql.conf" >/dev/null
pg_start() { as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pgsock/pg.log" -w -t 60 start >/dev/null; }
pg_stop() { as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m fast -w -t 60 stop >/dev/null; }
pg_start || die "postgres did not start: $(tail -5 "$work/pgsock/pg.log")"
database_url=postgres://postgres@127.0.0.1:$pg_port/postgres

# --- folio ------------------------------------------------------------------
port=$(free_port)
secret=chaos-secret-chaos-secret-chaos-secret-0
start_server() { # NAME [VAR=VALUE…]
  local name=$1; shift
  env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$database_url" \
    REDIS_URL="redis://127.0.0.1:$redis_port" JWT_SECRET_KEY="$secret" AUTO_MIGRATE=true \
    PORT="$port" RUST_LOG=warn LOG_FORMAT=json OMP_THREAD_LIMIT=1 FOLIO_LOCAL_TICK_EVERY=0.5s \
    WORKER_TICK_TOKEN=chaos-worker-token-chaos-worker-token DATABASE_MAX_CONNECTIONS="$db_pool" \
    ${PDFIUM_LIB_PATH:+PDFIUM_LIB_PATH="$PDFIUM_LIB_PATH"} "$@" \
    "$bin/$name" >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -20 "$work/server.log" >&2
  die "$name did not start"
}
stop_server() { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; server_pid=; }

if [[ $mode == hang ]]; then
  for breaker in off on; do
    vars=()
    [[ $breaker == off ]] && vars+=(REDIS_BREAKER_FAILURES=0)
    start_server ocr "${vars[@]}"
    log "breaker $breaker: 20 posts of one cached PNG with Redis stopped"
    "$chaos" hang --url "http://127.0.0.1:$port" --secret "$secret" --redis-pid "$redis_pid" --count 20 \
      >"$out/hang-breaker-$breaker.json"
    stop_server
    # The next server starts on a fresh Redis: nothing carried over.
    redis-cli -p "$redis_port" flushall >/dev/null
  done
  python3 - "$out" <<'EOF'
import json, sys
for b in ("off", "on"):
    r = json.load(open(f"{sys.argv[1]}/hang-breaker-{b}.json"))
    print(f"breaker {b:3}: median {r['median_ms']/1000:.2f} s, after the tenth {r['median_after_tenth_ms']/1000:.2f} s, "
          f"max {r['max_ms']/1000:.2f} s, statuses {r['statuses']}, latencies ms {r['latencies_ms']}")
EOF
  exit 0
fi

start_server folio-local
log "folio-local on port $port (pid $server_pid), redis $redis_port, postgres $pg_port; reports in $out"

run_load() { # PHASE: runs the load in the background, sets $load_pid
  "$chaos" load --url "http://127.0.0.1:$port" --secret "$secret" --clients "$clients" \
    --seconds "$seconds" --pid "$server_pid" --out "$out/$1.json" >/dev/null 2>"$out/$1.log" &
  load_pid=$!
}
at() { # sleep until FRACTION of the phase has passed since $phase_start
  local target
  target=$(python3 -c "print($phase_start + int($1 * $seconds * 1000))")
  local left=$(( target - $(now_ms) ))
  (( left > 0 )) && sleep "$(python3 -c "print($left / 1000)")"
  return 0
}

log "phase baseline: $clients clients for $seconds s"
phase_start=$(now_ms); run_load baseline; wait "$load_pid" || die "load failed: $(tail -5 "$out/baseline.log")"

log "phase redis: FLUSHALL, kill + restart, SIGSTOP 1.5 s"
: >"$out/redis.events"
phase_start=$(now_ms); run_load redis
at 0.2; redis-cli -p "$redis_port" flushall >/dev/null; echo "flushall $(now_ms)" >>"$out/redis.events"
at 0.35; kill -9 "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; echo "killed $(now_ms)" >>"$out/redis.events"
at 0.45; start_redis; echo "restarted $(now_ms)" >>"$out/redis.events"
at 0.6; kill -STOP "$redis_pid"; echo "stopped $(now_ms)" >>"$out/redis.events"
sleep 1.5; kill -CONT "$redis_pid"; echo "back $(now_ms)" >>"$out/redis.events"
wait "$load_pid" || die "load failed: $(tail -5 "$out/redis.log")"

log "phase postgres: stop, down a while, start"
: >"$out/postgres.events"
phase_start=$(now_ms); run_load postgres
at 0.25; pg_stop; echo "stopped $(now_ms)" >>"$out/postgres.events"
at 0.55; pg_start; echo "back $(now_ms)" >>"$out/postgres.events"
wait "$load_pid" || die "load failed: $(tail -5 "$out/postgres.log")"

stop_server
python3 - "$out" "$max_rss_mb" <<'EOF'
import json, sys
out, max_rss_mb = sys.argv[1], int(sys.argv[2])
failures = []
def events(name):
    ev = {}
    for line in open(f"{out}/{name}.events"):
        k, v = line.split()
        ev[k] = int(v)
    return ev
for phase in ("baseline", "redis", "postgres"):
    r = json.load(open(f"{out}/{phase}.json"))
    print(f"\n== {phase}: {r['clients']} clients, {r['seconds']} s, {r['requests']} requests "
          f"({r['throughput_rps']}/s), peak RSS {r['peak_rss_kb']//1024} MiB, jobs {r['jobs']['accepted']} "
          f"accepted -> {r['jobs']['fates']}")
    print(f"{'route':12} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  outcomes")
    for name, s in r["routes"].items():
        print(f"{name:12} {s['requests']:>8} {s['p50_ms']:>8} {s['p99_ms']:>8} {s['max_ms']:>8}  {s['outcomes']}")
        if phase != "postgres" and s["outcomes"].get("503"):
            failures.append(f"{phase}: {name} answered 503 {s['outcomes']['503']} times")
        for sample in s["unintended_samples"]:
            print(f"   unintended: {sample[:300]}")
    if r["unintended"]:
        failures.append(f"{phase}: {r['unintended']} unintended answers")
    if r["jobs"]["not_succeeded"]:
        failures.append(f"{phase}: jobs not succeeded: {r['jobs']['not_succeeded'][:5]}")
    if r["peak_rss_kb"] > max_rss_mb * 1024:
        failures.append(f"{phase}: peak RSS {r['peak_rss_kb']//1024} MiB over {max_rss_mb} MiB")
    if phase == "redis":
        back = events("redis")["back"]
        bad = r["last_redis_bad_at_ms"]
        rec = 0 if bad is None else max(0, r["started_ms"] + bad - back)
        print(f"recovery after Redis answered again: {rec} ms")
        if rec > 5000:
            failures.append(f"redis: recovery took {rec} ms")
    if phase == "postgres":
        back = events("postgres")["back"]
        last = r["last_503_at_ms"]
        rec = 0 if last is None else max(0, r["started_ms"] + last - back)
        print(f"recovery after Postgres started again: {rec} ms (last 503 relative to it)")
        if rec > 5000:
            failures.append(f"postgres: recovery took {rec} ms")
        print(f"slowest 503: {r['max_503_ms']} ms")
        if r["max_503_ms"] > 5000:
            failures.append(f"postgres: a 503 took {r['max_503_ms']} ms (over 5 s)")
print()
if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("chaos: all phases passed")
EOF
