//! `POST /events`: an EventBridge (CloudWatch Events) scheduled event on
//! Lambda. `lambda_http`'s `pass_through` turns any invocation that is not
//! HTTP into this request and marks it with `RequestContext::PassThrough`;
//! only such a request, carrying a scheduled event, runs a tick. The same
//! path reached over HTTP (a function URL, API Gateway) is 404, so nobody
//! can forge a schedule with a hand-made body.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use serde::Deserialize;
use shared::Error;
use shared::jobs::TickSummary;

use super::TickState;
use crate::deadline::Limits;
use crate::tick::run_tick;

#[derive(Deserialize)]
struct ScheduledEvent {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
}

/// An EventBridge scheduled event, on Lambda only (any other caller: 404).
#[utoipa::path(
    post,
    path = "/events",
    tag = "worker",
    request_body(content = Object, description = "the EventBridge event (`source: aws.events`, `detail-type: Scheduled Event`)"),
    responses(
        (status = 200, description = "what the tick did", body = TickSummary),
        (status = 404, description = "`not-found`: not a Lambda pass-through invocation", body = shared::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`unsupported-event`: not a scheduled event", body = shared::error::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn post_event(
    State(state): State<TickState>,
    parts: axum::http::request::Parts,
    body: Bytes,
) -> Result<Json<TickSummary>, Error> {
    if !matches!(
        parts.request_context_ref(),
        Some(RequestContext::PassThrough)
    ) {
        return Err(Error::NotFound);
    }
    if !is_scheduled_event(&body) {
        tracing::warn!("a Lambda event that is not a scheduled event was ignored");
        return Err(Error::unprocessable(
            "unsupported-event",
            "only EventBridge scheduled events (source aws.events, detail-type \"Scheduled Event\") run a tick",
        ));
    }
    let limits = Limits {
        lambda_deadline_ms: parts.lambda_context_ref().map(|c| c.deadline),
        ..Limits::default()
    };
    run_tick(&state, limits).await
}

fn is_scheduled_event(body: &[u8]) -> bool {
    serde_json::from_slice::<ScheduledEvent>(body)
        .is_ok_and(|e| e.source == "aws.events" && e.detail_type == "Scheduled Event")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_scheduled_events_from_aws_events_qualify() {
        let scheduled = br#"{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-01T12:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:123456789012:rule/folio-tick"],"detail":{}}"#;
        assert!(is_scheduled_event(scheduled));
        assert!(!is_scheduled_event(
            br#"{"detail-type":"Scheduled Event","source":"my.app"}"#
        ));
        assert!(!is_scheduled_event(
            br#"{"detail-type":"EC2 Instance State-change Notification","source":"aws.events"}"#
        ));
        assert!(!is_scheduled_event(b"{\"Records\":[]}"));
        assert!(!is_scheduled_event(b"not json"));
    }
}
