#!/usr/bin/env bash
# Deploy folio to Cloud Run: build and push the image, migrate with a Cloud Run job, deploy
# the four services from service.yaml, and schedule a worker tick every minute.
#
#   PROJECT_ID=my-project JWT_ISSUER=https://auth.example.com/ infra/gcp/deploy.sh
#
# Needs gcloud (logged in) and docker with buildx. Safe to re-run: every step creates or
# updates. Secrets must exist in Secret Manager beforehand (one value each):
#   folio-database-url         Neon pooled URL (…-pooler…, sslmode=verify-full)
#   folio-database-direct-url  Neon direct URL, for migrations (they need a session lock)
#   folio-upstash-rest-url, folio-upstash-rest-token, folio-jwt-secret, folio-worker-tick-token
# e.g. printf %s "$VALUE" | gcloud secrets create folio-jwt-secret --data-file=-
set -euo pipefail

: "${PROJECT_ID:?set PROJECT_ID}"
: "${JWT_ISSUER:?set JWT_ISSUER}"
REGION=${REGION:-europe-west1}
JWT_AUDIENCE=${JWT_AUDIENCE:-folio}
AR_REPO=${AR_REPO:-folio}
RUN_SA_NAME=${RUN_SA_NAME:-folio-run}
RUN_SA=$RUN_SA_NAME@$PROJECT_ID.iam.gserviceaccount.com
# Cloud Scheduler signs each tick with a Google ID token for this account (oidcToken).
SCHED_SA_NAME=${SCHED_SA_NAME:-folio-scheduler}
SCHED_SA=$SCHED_SA_NAME@$PROJECT_ID.iam.gserviceaccount.com
SECRETS=(folio-database-url folio-database-direct-url folio-upstash-rest-url
  folio-upstash-rest-token folio-jwt-secret folio-worker-tick-token)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TAG=${TAG:-$(git -C "$ROOT" rev-parse --short=12 HEAD)}
IMAGE=$REGION-docker.pkg.dev/$PROJECT_ID/$AR_REPO/folio:$TAG
gc() { gcloud --project "$PROJECT_ID" --quiet "$@"; }
step() { printf '\n== %s\n' "$*" >&2; }

step "APIs, registry, service account"
gc services enable run.googleapis.com artifactregistry.googleapis.com \
  cloudscheduler.googleapis.com secretmanager.googleapis.com
gc artifacts repositories describe "$AR_REPO" --location "$REGION" >/dev/null 2>&1 ||
  gc artifacts repositories create "$AR_REPO" --location "$REGION" --repository-format docker
gc iam service-accounts describe "$RUN_SA" >/dev/null 2>&1 ||
  gc iam service-accounts create "$RUN_SA_NAME" --display-name "folio functions"
gc iam service-accounts describe "$SCHED_SA" >/dev/null 2>&1 ||
  gc iam service-accounts create "$SCHED_SA_NAME" --display-name "folio tick scheduler"
# The tick's audience: worker-tick's deterministic Cloud Run URL plus the path. The
# scheduler puts it in the ID token's `aud`; worker-tick accepts no other.
PROJECT_NUMBER=$(gc projects describe "$PROJECT_ID" --format 'value(projectNumber)')
TICK_URL=https://folio-worker-tick-$PROJECT_NUMBER.$REGION.run.app/v1/worker/tick
missing=()
for s in "${SECRETS[@]}"; do
  gc secrets describe "$s" >/dev/null 2>&1 || missing+=("$s")
done
[[ ${#missing[@]} -eq 0 ]] || { echo "missing secrets in Secret Manager: ${missing[*]}" >&2; exit 1; }
for s in "${SECRETS[@]}"; do
  gc secrets add-iam-policy-binding "$s" --member "serviceAccount:$RUN_SA" \
    --role roles/secretmanager.secretAccessor >/dev/null
done

step "image $IMAGE"
gcloud auth configure-docker "$REGION-docker.pkg.dev" --quiet
# Cloud Run runs linux/amd64; say so, or an arm64 laptop pushes an image that cannot start.
docker buildx build --platform linux/amd64 -f "$ROOT/Dockerfile.cloudrun" -t "$IMAGE" --push "$ROOT"

step "migrations (Cloud Run job: worker-tick migrate)"
gc run jobs deploy folio-migrate --region "$REGION" --image "$IMAGE" \
  --service-account "$RUN_SA" --args migrate --tasks 1 --max-retries 1 --task-timeout 300s \
  --set-env-vars FOLIO_FUNCTION=worker-tick,OMP_THREAD_LIMIT=1,LOG_FORMAT=json \
  --set-secrets DATABASE_URL=folio-database-direct-url:latest,DATABASE_DIRECT_URL=folio-database-direct-url:latest
gc run jobs execute folio-migrate --region "$REGION" --wait

# render FUNCTION CPU MEMORY CONCURRENCY TIMEOUT REQUEST_TIMEOUT MAX_INSTANCES:
# service.yaml with its fields filled
render() {
  local text
  text=$(<"$HERE/service.yaml")
  set -- SERVICE "folio-$1" FUNCTION "$1" CPU "$2" MEMORY "$3" CONCURRENCY "$4" TIMEOUT "$5" \
    REQUEST_TIMEOUT "$6" MAX_INSTANCES "$7" IMAGE "$IMAGE" SERVICE_ACCOUNT "$RUN_SA" \
    JWT_ISSUER "$JWT_ISSUER" JWT_AUDIENCE "$JWT_AUDIENCE" \
    TICK_OIDC_AUDIENCE "$TICK_URL" TICK_OIDC_EMAILS "$SCHED_SA"
  while [[ $# -gt 0 ]]; do
    text=${text//"\${$1}"/"$2"}
    shift 2
  done
  if [[ $text =~ \$\{[A-Z_]+\} ]]; then
    echo "service.yaml: unfilled field ${BASH_REMATCH[0]}" >&2
    return 1
  fi
  printf '%s\n' "$text"
}

step "services"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# timeout: Cloud Run's request limit; app: the app's own deadline (REQUEST_TIMEOUT_SECS),
# a little shorter; for worker-tick also below the scheduler's 90 s attempt deadline.
#            function     cpu memory concurrency timeout app max-instances
while read -r fn cpu mem conc timeout app max; do
  render "$fn" "$cpu" "$mem" "$conc" "$timeout" "$app" "$max" >"$tmp/$fn.yaml"
  gc run services replace "$tmp/$fn.yaml" --region "$REGION"
  if [[ $fn == worker-tick ]]; then
    # Only the scheduler's account may invoke it; Cloud Run checks the Google ID token,
    # and worker-tick checks it again (audience, issuer, WORKER_TICK_OIDC_EMAILS).
    gc run services add-iam-policy-binding "folio-$fn" --region "$REGION" \
      --member "serviceAccount:$SCHED_SA" --role roles/run.invoker >/dev/null
    gc run services remove-iam-policy-binding "folio-$fn" --region "$REGION" \
      --member allUsers --role roles/run.invoker >/dev/null 2>&1 || true
  else
    # Public at the IAM layer: the functions check users' JWTs themselves.
    gc run services add-iam-policy-binding "folio-$fn" --region "$REGION" \
      --member allUsers --role roles/run.invoker >/dev/null
  fi
done <<'EOF'
health       1   512Mi  80  10   8   5
ocr          2   2Gi    2   60   55  10
quiz         1   512Mi  40  60   55  10
worker-tick  2   2Gi    1   120  80  3
EOF

step "Cloud Scheduler: POST /v1/worker/tick every minute, signed with an OIDC token"
# The attempt deadline (90 s) is below the service timeout (120 s), above the tick budget (50 s).
# No shared secret travels: Cloud Scheduler mints a Google ID token for $SCHED_SA with
# audience $TICK_URL on every call. Recreated on each run so no old Authorization header stays.
gc scheduler jobs delete folio-worker-tick --location "$REGION" >/dev/null 2>&1 || true
gc scheduler jobs create http folio-worker-tick --location "$REGION" --schedule "* * * * *" \
  --uri "$TICK_URL" --http-method POST --attempt-deadline 90s --max-retry-attempts 0 \
  --message-body '{}' --headers "Content-Type=application/json" \
  --oidc-service-account-email "$SCHED_SA" --oidc-token-audience "$TICK_URL"

step "done"
for fn in health ocr quiz worker-tick; do
  printf '%-12s %s\n' "$fn" "$(gc run services describe "folio-$fn" --region "$REGION" --format 'value(status.url)')"
done
