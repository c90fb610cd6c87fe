# shellcheck shell=bash
# The smoke test of scripts/test-image.sh: the built image, once per function, on the host
# network against the host's Postgres (a throwaway database) and Redis (a key prefix of its
# own). Needs ENGINE, E, ULIMITS, IMAGE, LANGS and ROOT from the caller.

SMOKE_CONTAINERS=()
SMOKE_DIR=
SMOKE_DB=
SMOKE_ADMIN_URL=

smoke_cleanup() {
  local c
  for c in "${SMOKE_CONTAINERS[@]}"; do
    "${E[@]}" rm -f -t 0 "$c" >/dev/null 2>&1 || true
  done
  if [[ -n $SMOKE_DB ]]; then
    psql "$SMOKE_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$SMOKE_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  [[ -n $SMOKE_DIR ]] && rm -rf "$SMOKE_DIR"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# smoke_fail NAME MESSAGE: print the container's log, then stop.
smoke_fail() {
  log "FAIL $1: $2"
  "${E[@]}" logs "$1" 2>&1 | tail -30 >&2 || true
  exit 1
}

# http NAME OUTFILE CURL-ARGS...: the status code; the body goes to OUTFILE.
http() {
  local name=$1 out=$2
  shift 2
  curl -sS --max-time 60 -o "$out" -w '%{http_code}' "$@" || smoke_fail "$name" "curl $*"
}

smoke_test() {
  local tool
  for tool in curl psql python3 pdftoppm; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is needed for the smoke test (scripts/install-deps.sh installs it)"
  done
  if [[ -z ${DATABASE_URL:-} || -z ${REDIS_URL:-} ]]; then
    eval "$(bash "$ROOT/scripts/services.sh")"
  fi
  trap smoke_cleanup EXIT
  SMOKE_DIR=$(mktemp -d)
  SMOKE_ADMIN_URL=$DATABASE_URL
  SMOKE_DB=folio_image_$$_$RANDOM
  psql "$SMOKE_ADMIN_URL" -qc "CREATE DATABASE \"$SMOKE_DB\"" >/dev/null
  local db_url
  db_url=$(python3 - "$DATABASE_URL" "$SMOKE_DB" <<'PY'
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))
PY
)
  python3 "$ROOT/scripts/image/samples.py" make "$SMOKE_DIR"
  local secret tick token
  secret=jwt-$(head -c 36 /dev/urandom | od -An -tx1 | tr -d ' \n')
  tick=tick-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  token=$(python3 "$ROOT/scripts/image/samples.py" token "$secret")
  SMOKE_ENV=(-e "DATABASE_URL=$db_url" -e "REDIS_URL=$REDIS_URL" -e "REDIS_KEY_PREFIX=folio-image-$$:"
    -e "JWT_SECRET_KEY=$secret" -e JWT_ALGORITHM=HS256 -e "WORKER_TICK_TOKEN=$tick")

  # Migrations through the image's own `worker-tick migrate`, as compose's migrate job runs.
  local name=folio-smoke-migrate-$$
  SMOKE_CONTAINERS+=("$name")
  "${E[@]}" run --name "$name" --network=host "${ULIMITS[@]}" "${SMOKE_ENV[@]}" \
    -e FOLIO_FUNCTION=worker-tick "$IMAGE" migrate >"$SMOKE_DIR/migrate.log" 2>&1 \
    || { cat "$SMOKE_DIR/migrate.log" >&2; die "worker-tick migrate failed"; }
  log "ok   migrate: worker-tick migrate exited 0"

  local f summary=()
  for f in health ocr quiz worker-tick; do
    smoke_function "$f"
    summary+=("$f ${SMOKE_FIRST_200_MS} ms")
  done
  log "run -> first 200: ${summary[*]}"
  trap - EXIT
  smoke_cleanup
}

# smoke_function FUNCTION: run it, wait for GET /health, check what that function serves,
# then the user, the HEALTHCHECK and a SIGTERM stop. Sets SMOKE_FIRST_200_MS.
smoke_function() {
  local f=$1 port name t0 code i out
  port=$(free_port)
  name=folio-smoke-$f-$$
  out=$SMOKE_DIR/$f
  SMOKE_CONTAINERS+=("$name")
  t0=$(now_ms)
  "${E[@]}" run -d --name "$name" --network=host "${ULIMITS[@]}" "${SMOKE_ENV[@]}" \
    -e "FOLIO_FUNCTION=$f" -e "PORT=$port" "$IMAGE" >/dev/null
  code=000
  for ((i = 0; i < 3000; i++)); do
    code=$(curl -s -o "$out.health" -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/health" || true)
    [[ $code == 200 ]] && break
    [[ $("${E[@]}" inspect --format '{{.State.Running}}' "$name") == true ]] || smoke_fail "$name" "exited before answering"
    sleep 0.01
  done
  [[ $code == 200 ]] || smoke_fail "$name" "GET /health never answered 200"
  SMOKE_FIRST_200_MS=$(($(now_ms) - t0))
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="ok" and d["function"]==sys.argv[2], d' \
    "$out.health" "$f" || smoke_fail "$name" "GET /health: $(cat "$out.health")"
  log "ok   $f: GET /health 200 after ${SMOKE_FIRST_200_MS} ms"

  case $f in
    health) smoke_ready "$name" "$port" "$out" ;;
    ocr) smoke_ocr "$name" "$port" "$out" ;;
    worker-tick)
      code=$(http "$name" "$out.tick" -X POST -H "Authorization: Bearer $tick" "http://127.0.0.1:$port/v1/worker/tick")
      [[ $code == 200 ]] || smoke_fail "$name" "POST /v1/worker/tick: $code $(cat "$out.tick")"
      log "ok   worker-tick: POST /v1/worker/tick 200 $(cat "$out.tick")"
      ;;
  esac

  local uid
  uid=$("${E[@]}" exec "$name" id -u)
  [[ $uid != 0 ]] || smoke_fail "$name" "runs as root"
  smoke_healthcheck "$name"
  "${E[@]}" kill --signal TERM "$name" >/dev/null
  local status
  status=$("${E[@]}" wait "$name")
  [[ $status == 0 ]] || smoke_fail "$name" "SIGTERM: exit status $status, expected 0"
  log "ok   $f: runs as uid $uid, HEALTHCHECK passes, SIGTERM -> exit 0"
}

smoke_ready() {
  local name=$1 port=$2 out=$3 code
  code=$(http "$name" "$out.ready" "http://127.0.0.1:$port/health/ready")
  [[ $code == 200 ]] || smoke_fail "$name" "GET /health/ready: $code $(cat "$out.ready")"
  python3 - "$out.ready" "$LANGS" <<'PY' || smoke_fail "$name" "readiness: $(cat "$out.ready")"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["checks"]
assert d["status"] == "ok", f"status {d['status']}"
assert c["postgres"]["ok"] and c["redis"]["ok"], "postgres or redis not ok"
ocr = c["ocr"]
assert ocr["ok"] and ocr["pdfium"], "ocr or pdfium not ok"
missing = set(sys.argv[2].split()) - set(ocr["languages"])
assert not missing, f"languages missing: {missing}"
print(f"test-image: ok   health: /health/ready ok: tesseract {ocr['tesseract']}, "
      f"languages {' '.join(ocr['languages'])}, pdfium, postgres, redis", file=sys.stderr)
PY
}

smoke_ocr() {
  local name=$1 port=$2 out=$3 code kind file query
  local auth=(-H "Authorization: Bearer $token")
  for kind in png scan ind; do
    case $kind in
      png) file=$SMOKE_DIR/page.png query="mode=sync" ;;
      scan) file=$SMOKE_DIR/scan.pdf query="mode=sync" ;;
      ind) file=$SMOKE_DIR/page.png query="mode=sync&lang=ind" ;;
    esac
    [[ $kind == ind && " $LANGS " != *" ind "* ]] && continue
    code=$(http "$name" "$out.$kind" "${auth[@]}" --data-binary "@$file" "http://127.0.0.1:$port/v1/ocr?$query")
    [[ $code == 200 ]] || smoke_fail "$name" "POST /v1/ocr ($kind): $code $(cat "$out.$kind")"
    python3 "$ROOT/scripts/image/samples.py" check "$kind" "$out.$kind" >"$out.$kind.txt" \
      || smoke_fail "$name" "OCR of $kind"
    log "ok   ocr: $(cat "$out.$kind.txt")"
  done
}

# The image's own HEALTHCHECK command, as the engine runs it.
smoke_healthcheck() {
  local name=$1
  if [[ $ENGINE == podman ]]; then
    "${E[@]}" healthcheck run "$name" >/dev/null || smoke_fail "$name" "podman healthcheck run failed"
    return
  fi
  local test_cmd
  test_cmd=$("${E[@]}" inspect --format '{{json .Config.Healthcheck.Test}}' "$name")
  python3 - "$test_cmd" "${E[@]}" "$name" <<'PY' || smoke_fail "$name" "HEALTHCHECK $test_cmd failed"
import json, subprocess, sys
test, engine, name = json.loads(sys.argv[1]), sys.argv[2:-1], sys.argv[-1]
cmd = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
sys.exit(subprocess.run(engine + ["exec", name] + cmd).returncode)
PY
}
