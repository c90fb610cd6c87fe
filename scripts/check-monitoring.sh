#!/usr/bin/env bash
# Validate the monitoring profile's files offline (infra/monitoring/):
#   - promtool check config prometheus.yml, check rules alerts.yml, test rules alerts.test.yml;
#   - every Grafana dashboard against the schema it targets (grafana/dashboard.schema.json,
#     Python jsonschema), panels inside the 24-column grid without overlaps, every query on
#     the provisioned datasource's uid;
#   - every folio_* series the rules and dashboards name is one the code exports
#     (shared/src/metrics.rs `names`), so a renamed metric cannot silently blank a panel.
# Needs promtool (Debian: prometheus) and python3 with jsonschema (pulled in by cfn-lint).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MON=$ROOT/infra/monitoring
die() { printf 'check-monitoring: error: %s\n' "$*" >&2; exit 1; }

command -v promtool >/dev/null 2>&1 || die "promtool is not installed (Debian: apt-get install prometheus)"
python3 -c 'import jsonschema' 2>/dev/null || die "python3 jsonschema is not installed (pip install jsonschema)"

cd "$MON/prometheus"
promtool check config prometheus.yml
promtool check rules alerts.yml
promtool test rules alerts.test.yml

python3 - "$MON" "$ROOT/shared/src/metrics.rs" <<'PY'
import glob, json, os, re, sys
import jsonschema

mon, names_file = sys.argv[1], sys.argv[2]
problems = []
exported = set(re.findall(r'pub const [A-Z_]+: &str = "(folio_[a-z_]+)";', open(names_file).read()))
if not exported:
    problems.append(f"no metric names found in {names_file}")

def known(series):
    for suffix in ("", "_bucket", "_sum", "_count"):
        if suffix and series.endswith(suffix) and series[: -len(suffix)] in exported:
            return True
    return series in exported

def check_names(where, text):
    for series in set(re.findall(r"\b(folio_[a-z_]+)", text)):
        if not known(series):
            problems.append(f"{where}: {series} is not a metric folio exports")

check_names("alerts.yml", open(os.path.join(mon, "prometheus/alerts.yml")).read())

ds_text = open(os.path.join(mon, "grafana/provisioning/datasources/prometheus.yml")).read()
uids = set(re.findall(r"^\s*uid:\s*(\S+)", ds_text, re.M))
schema = json.load(open(os.path.join(mon, "grafana/dashboard.schema.json")))
dashboards = sorted(glob.glob(os.path.join(mon, "grafana/dashboards/*.json")))
if not dashboards:
    problems.append("no dashboards")
for path in dashboards:
    name = os.path.basename(path)
    dash = json.load(open(path))
    for err in jsonschema.Draft202012Validator(schema).iter_errors(dash):
        problems.append(f"{name}: {'/'.join(map(str, err.absolute_path)) or '(root)'}: {err.message}")
    cells, ids = {}, set()
    for p in dash.get("panels", []):
        pid = p.get("id")
        if pid in ids:
            problems.append(f"{name}: panel id {pid} is used twice")
        ids.add(pid)
        g = p.get("gridPos", {})
        if g.get("x", 0) + g.get("w", 0) > 24:
            problems.append(f"{name}: panel {pid} runs past the 24-column grid")
        for x in range(g.get("x", 0), g.get("x", 0) + g.get("w", 0)):
            for y in range(g.get("y", 0), g.get("y", 0) + g.get("h", 0)):
                if (x, y) in cells:
                    problems.append(f"{name}: panels {cells[(x, y)]} and {pid} overlap")
                    break
                cells[(x, y)] = pid
        for t in p.get("targets", []):
            uid = (t.get("datasource") or p.get("datasource") or {}).get("uid")
            if uid not in uids:
                problems.append(f"{name}: panel {pid} queries datasource {uid!r}, provisioned: {sorted(uids)}")
            check_names(f"{name} panel {pid}", t.get("expr", ""))

for p in sorted(set(problems)):
    print(f"check-monitoring: FAIL {p}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"check-monitoring: ok   {len(dashboards)} dashboard(s), {len(exported)} exported metrics")
PY
