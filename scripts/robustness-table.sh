#!/usr/bin/env bash
# Writes docs/corpora.md from a run of the third-party corpus test
# (tests/e2e/corpora.rs): every file of the OCRmyPDF, pikepdf and pypdf test
# resources posted to the real `ocr` binary, with its outcome and time.
#   scripts/robustness-table.sh            run the test, then write the table
#   scripts/robustness-table.sh RUN.tsv    write the table from a saved run
# The test needs the services: run it from a shell set up as in docs (or let
# this script start them through scripts/services.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
tsv=${1:-}
if [[ -z $tsv ]]; then
  [[ -d $HOME/.cargo/bin ]] && export PATH=$HOME/.cargo/bin:$PATH
  eval "$(bash scripts/services.sh)"
  export TEST_DATABASE_URL=${TEST_DATABASE_URL:-$DATABASE_URL} TEST_REDIS_URL=${TEST_REDIS_URL:-$REDIS_URL}
  export OMP_THREAD_LIMIT=1
  tsv=$(mktemp)
  cargo build -p folio-ocr --bin ocr >&2
  FOLIO_ROBUSTNESS_OUT=$tsv cargo nextest run -p folio-e2e -E 'test(every_corpus_file)' >&2 || true
fi
[[ -s $tsv ]] || { echo "robustness-table: no outcomes in $tsv" >&2; exit 1; }
python3 - "$tsv" > docs/corpora.md <<'PY'
import sys, collections
lines = open(sys.argv[1]).read().splitlines()
meta = dict(kv.split("=") for kv in lines[0].lstrip("# ").split())
rows = [l.split("\t") for l in lines[1:] if l.strip()]
outcome = lambda r: f"{r[2]} {r[3]}" if r[2] not in ("200", "202") else {"200": "200", "202": "202 job"}[r[2]]
counts = collections.Counter(outcome(r) for r in rows)
by_corpus = collections.Counter(r[0].split("/")[0] for r in rows)
checked = [r for r in rows if r[5]]
print("# Third-party corpora: every file's outcome\n")
print("Every PDF and image in the test resources of the OCRmyPDF, pikepdf and pypdf source")
print("distributions (pinned in `scripts/fetch-corpora.sh`, fetched and cached, never committed),")
print("posted to the real `ocr` binary's `POST /v1/ocr` with default settings by")
print("`tests/e2e/corpora.rs`: every answer must be a 200, a 202 or a 4xx problem within the request")
print("deadline, `/health` must answer after every file, and the process (with its PDF workers)")
print("must stay under the test's memory bound. Where a corpus's own tests name a text a file holds,")
print("the answer must contain it. Regenerate with `scripts/robustness-table.sh`.\n")
print("Times depend on the machine: a `too-slow` answer is a page that passed `OCR_PAGE_TIMEOUT`")
print("(60 s) on the machine of the run, refused rather than left to hang; on a quiet machine those")
print("pages are read. The run below was on a shared 2-core machine under heavy load.\n")
print(f"Run: {meta['files']} files ({', '.join(f'{k} {v}' for k, v in sorted(by_corpus.items()))}), "
      f"{meta['concurrent']} at a time, request deadline {meta['timeout_s']} s, wall time {meta['wall_s']} s, "
      f"peak RSS {meta['peak_rss_mb']} MB (ocr process and its PDF workers).\n")
print("| outcome | files |\n|---|---|")
for k, v in sorted(counts.items()):
    print(f"| {k} | {v} |")
print(f"\nExpected texts checked: {len(checked)} ({sum(1 for r in checked if r[5] == 'found')} found).\n")
print("| file | bytes | outcome | time ms | expected text |\n|---|---|---|---|---|")
for r in rows:
    print(f"| `{r[0]}` | {r[1]} | {outcome(r)} | {r[4]} | {r[5]} |")
PY
echo "wrote docs/corpora.md from $tsv" >&2
