//! The emulator's side of the REST protocol: routes, the checks
//! serverless-redis-http makes (exact content type, bearer token), batches
//! run against Redis, and answers encoded as Upstash encodes them.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use super::{Emulator, scripts};
use shared::kv::{Cmd, KvError, Reply};

/// The emulator's routes over `state`.
pub(super) fn router(state: Arc<Emulator>) -> Router {
    Router::new()
        .route(
            "/",
            post(single).get(|| async { "Welcome to the folio Upstash emulator" }),
        )
        .route("/pipeline", post(pipeline))
        .route("/multi-exec", post(multi_exec))
        .with_state(state)
}

async fn single(State(s): State<Arc<Emulator>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&s, &headers, &body, Shape::Single).await
}

async fn pipeline(State(s): State<Arc<Emulator>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&s, &headers, &body, Shape::Pipeline).await
}

async fn multi_exec(State(s): State<Arc<Emulator>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&s, &headers, &body, Shape::MultiExec).await
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Single,
    Pipeline,
    MultiExec,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

async fn handle(s: &Emulator, headers: &HeaderMap, body: &[u8], shape: Shape) -> Response {
    if headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()) != Some(b"application/json") {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid content type. Expected application/json.",
        );
    }
    let expected = format!("Bearer {}", s.token);
    if headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()) != Some(expected.as_bytes()) {
        return (StatusCode::UNAUTHORIZED, "Invalid token").into_response();
    }
    if let Some(seen) = headers
        .get("upstash-sync-token")
        .and_then(|v| v.to_str().ok())
        && let Ok(mut list) = s.seen_sync.lock()
    {
        list.push(seen.to_owned());
    }
    let base64 = headers.get("upstash-encoding").map(|v| v.as_bytes()) == Some(b"base64");
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not JSON");
    };
    let cmds = match shape {
        Shape::Single => command(&json).map(|c| vec![c]),
        Shape::Pipeline | Shape::MultiExec => json
            .as_array()
            .filter(|a| !a.is_empty())
            .and_then(|a| a.iter().map(command).collect()),
    };
    let Some(cmds) = cmds else {
        return error(StatusCode::BAD_REQUEST, "the body is not a command array");
    };
    let outcome = run(s, &cmds, shape).await;
    let sync = format!("emu-{}", s.next_sync.fetch_add(1, Ordering::Relaxed));
    let mut response = match outcome {
        Err(KvError::Server(m)) => error(StatusCode::BAD_REQUEST, &m),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "An error occurred internally",
        )
            .into_response(),
        Ok(mut replies) if shape == Shape::Single => match replies.pop() {
            Some(Ok(reply)) => {
                axum::Json(json!({ "result": encode(reply, base64) })).into_response()
            }
            Some(Err(e)) => error(StatusCode::BAD_REQUEST, &message(e)),
            None => error(StatusCode::INTERNAL_SERVER_ERROR, "no reply"),
        },
        Ok(replies) => {
            let entries: Vec<Value> = replies
                .into_iter()
                .map(|r| match r {
                    Ok(reply) => json!({ "result": encode(reply, base64) }),
                    Err(e) => json!({ "error": message(e) }),
                })
                .collect();
            axum::Json(Value::Array(entries)).into_response()
        }
    };
    if let Ok(value) = http::HeaderValue::from_str(&sync) {
        response.headers_mut().insert("upstash-sync-token", value);
    }
    response
}

/// Runs a batch: scripts through the key-checking gate, one by one (a
/// pipeline is not atomic, so that is what Upstash does too); a `MULTI` batch
/// as one transaction, its scripts unchecked (a documented gap).
async fn run(
    s: &Emulator,
    cmds: &[Cmd],
    shape: Shape,
) -> Result<Vec<Result<Reply, KvError>>, KvError> {
    if shape == Shape::MultiExec || !cmds.iter().any(scripts::is_script) {
        return s.kv.pipeline(cmds, shape == Shape::MultiExec).await;
    }
    let mut replies = Vec::with_capacity(cmds.len());
    for cmd in cmds {
        let reply = if scripts::is_script(cmd) {
            match s.scripts.run(cmd).await {
                Err(e) if e.is_unavailable() => return Err(e),
                other => other,
            }
        } else {
            s.kv.query(cmd.clone()).await
        };
        replies.push(reply);
    }
    Ok(replies)
}

fn message(e: KvError) -> String {
    match e {
        KvError::Server(m) | KvError::Protocol(m) => m,
        other => other.to_string(),
    }
}

fn command(value: &Value) -> Option<Cmd> {
    let words = value.as_array().filter(|a| !a.is_empty())?;
    let mut args = Vec::with_capacity(words.len());
    for word in words {
        args.push(match word {
            Value::String(s) => s.clone().into_bytes(),
            Value::Number(n) => n.to_string().into_bytes(),
            Value::Bool(b) => b.to_string().into_bytes(),
            _ => return None,
        });
    }
    Some(Cmd { args })
}

fn encode(reply: Reply, base64: bool) -> Value {
    let text = |bytes: Vec<u8>| {
        if base64 {
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
        } else {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    match reply {
        Reply::Nil => Value::Null,
        Reply::Int(i) => Value::from(i),
        Reply::Bytes(b) => text(b),
        Reply::Status(s) => text(s.into_bytes()),
        Reply::Array(items) => Value::Array(items.into_iter().map(|r| encode(r, base64)).collect()),
    }
}
