//! `GET /v1/ocr/jobs/{id}`: an OCR job's state for its owner (anyone else,
//! and any other kind of job, is 404), and `GET /v1/ocr/jobs/{id}/events`,
//! the same as Server-Sent Events until it finishes. A fanned-out job (see
//! `shared::ocr::fanout`) is shown as one job: `running` while its parts
//! work, its progress counted across them.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{Stream, StreamExt};
use serde_json::{Value, json};
use shared::auth::AuthUser;
use shared::kv::Subscription;
use shared::ocr::job::KIND;
use shared::{AppState, Error};
use tokio::time::Instant;
use uuid::Uuid;

/// How often the stream reads Postgres when Redis notices arrive (a missed
/// notice costs at most this), and when they cannot (Redis down or REST).
const POLL_WITH_NOTICES: Duration = Duration::from_secs(5);
const POLL_WITHOUT: Duration = Duration::from_secs(1);
/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// An OCR job as its owner sees it (the same document its webhook sends).
pub use shared::webhooks::JobStatus as OcrJob;

/// An OCR job's state; its `result` once it succeeded.
#[utoipa::path(
    get,
    path = "/v1/ocr/jobs/{id}",
    tag = "ocr",
    params(("id" = String, Path, description = "the `job_id`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the job", body = OcrJob),
        (status = 404, description = "`not-found`: unknown, malformed, someone else's or not an OCR job", body = shared::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_job(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<OcrJob>, Error> {
    let id = Uuid::parse_str(&id).map_err(|_| Error::NotFound)?;
    Ok(Json(status(&state, id, &user.user_id).await?))
}

/// The job's status document. A job waiting for its next attempt is still
/// "queued"; its last error says why the previous attempt failed. A
/// fanned-out job shows `running` while its parts work, its pages counted
/// across them.
async fn status(state: &AppState, id: Uuid, owner: &str) -> Result<OcrJob, Error> {
    let job = shared::jobs::job_status(&state.db, id)
        .await?
        .filter(|job| job.kind == KIND && job.owner_id.as_deref() == Some(owner))
        .ok_or(Error::NotFound)?;
    let mut doc = shared::webhooks::status_document(&job);
    if let Some(mut fanout) = shared::ocr::fanout::progress(&state.db, id).await? {
        match job.status.as_str() {
            "queued" | "running" => doc.status = "running".into(),
            // Its parts may be purged before it: the count stands as it ended.
            "succeeded" => fanout.pages_done = i64::from(fanout.pages_total),
            _ => {}
        }
        doc.progress = serde_json::to_value(fanout).ok();
    }
    Ok(doc)
}

/// The status document as JSON, for the event stream.
async fn view(state: &AppState, id: Uuid, owner: &str) -> Result<Value, Error> {
    let doc = status(state, id, owner).await?;
    serde_json::to_value(doc).map_err(|e| Error::Internal(e.into()))
}

/// Where the stream stands between events.
struct Watch {
    state: AppState,
    id: Uuid,
    owner: String,
    notices: Option<Subscription>,
    /// What the client last saw: (status, pages done).
    seen: Option<(String, i64)>,
    /// The stream ends at this instant (`OCR_EVENTS_MAX_SECS`).
    until: Instant,
    ended: bool,
}

/// The job's progress as Server-Sent Events: `progress` whenever the status or
/// the pages done change, then `done` or `failed`, and the stream ends (also
/// after `OCR_EVENTS_MAX_SECS`; reconnect with `Last-Event-ID`).
#[utoipa::path(
    get,
    path = "/v1/ocr/jobs/{id}/events",
    tag = "ocr",
    params(("id" = String, Path, description = "the `job_id`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the event stream", content_type = "text/event-stream", body = String),
        (status = 404, description = "`not-found`: unknown, malformed, someone else's or not an OCR job", body = shared::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn job_events(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Error> {
    let id = Uuid::parse_str(&id).map_err(|_| Error::NotFound)?;
    // Listen before the first read, so no change falls between the two.
    let notices = match state
        .kv
        .subscribe(&shared::kv::notify::job_channel(id))
        .await
    {
        Ok(notices) => Some(notices),
        Err(e) => {
            tracing::debug!(error = %e, "job events: no notices; polling Postgres");
            None
        }
    };
    let first = view(&state, id, &user.user_id).await?;
    // A reconnecting client names the pages it had seen: no repeat of them.
    let seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .map(|pages| {
            (
                first["status"].as_str().unwrap_or_default().to_owned(),
                pages,
            )
        });
    let until = Instant::now() + state.config.ocr.events_max;
    let watch = Watch {
        owner: user.user_id,
        state,
        id,
        notices,
        seen,
        until,
        ended: false,
    };
    let stream = futures::stream::unfold(watch, next_event).map(Ok::<_, Infallible>);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The next event: `progress` when the status or the pages done changed,
/// `done` or `failed` (then the end) once the job finished; `None` at the
/// stream's time limit.
async fn next_event(mut watch: Watch) -> Option<(Event, Watch)> {
    if watch.ended {
        return None;
    }
    loop {
        if let Ok(doc) = view(&watch.state, watch.id, &watch.owner).await {
            let status = doc["status"].as_str().unwrap_or_default().to_owned();
            let pages = doc["progress"]["pages_done"].as_i64().unwrap_or(0);
            let terminal = match status.as_str() {
                "succeeded" => Some("done"),
                "failed" => Some("failed"),
                _ => None,
            };
            if let Some(name) = terminal {
                watch.ended = true;
                let event = Event::default().event(name).id(name).data(doc.to_string());
                return Some((event, watch));
            }
            let now = (status.clone(), pages);
            if watch.seen.as_ref() != Some(&now) {
                watch.seen = Some(now);
                let data =
                    json!({"job_id": doc["job_id"], "status": status, "progress": doc["progress"]});
                let event = Event::default()
                    .event("progress")
                    .id(pages.to_string())
                    .data(data.to_string());
                return Some((event, watch));
            }
        }
        let poll = if watch.notices.is_some() {
            POLL_WITH_NOTICES
        } else {
            POLL_WITHOUT
        };
        let wake = (Instant::now() + poll).min(watch.until);
        match watch.notices.as_mut() {
            Some(notices) => {
                tokio::select! {
                    notice = notices.next() => {
                        if notice.is_none() {
                            // Redis went away: poll from here on.
                            watch.notices = None;
                        }
                    }
                    () = tokio::time::sleep_until(wake) => {}
                }
            }
            None => tokio::time::sleep_until(wake).await,
        }
        if Instant::now() >= watch.until {
            return None;
        }
    }
}
