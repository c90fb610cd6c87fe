//! A small stand-in for the AWS Lambda Runtime API (2018-06-01): it hands out
//! queued events to `GET /runtime/invocation/next` and records what the
//! function posts back, so a real binary can be driven down its Lambda path.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::Notify;

#[derive(Default)]
struct Inner {
    queue: Mutex<VecDeque<(String, Value)>>,
    answers: Mutex<Vec<(String, Value)>>,
    errors: Mutex<Vec<(String, String)>>,
    arrived: Notify,
    answered: Notify,
}

/// The running fake. `addr()` is what `AWS_LAMBDA_RUNTIME_API` should hold.
#[derive(Clone)]
pub struct LambdaFake {
    inner: Arc<Inner>,
    port: u16,
}

impl LambdaFake {
    pub async fn start() -> LambdaFake {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        LambdaFake { inner, port }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The variables the Lambda runtime needs beside `AWS_LAMBDA_RUNTIME_API`.
    pub fn vars(&self) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.addr()),
            ("AWS_LAMBDA_FUNCTION_NAME", "folio-test".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_REGION", "eu-west-1".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Queues an event; returns its request id.
    pub fn push(&self, event: Value) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.inner
            .queue
            .lock()
            .expect("lock")
            .push_back((id.clone(), event));
        self.inner.arrived.notify_one();
        id
    }

    /// Waits for the function's answer to `id`.
    pub async fn answer(&self, id: &str, limit: Duration) -> Value {
        let wait = async {
            loop {
                let notified = self.inner.answered.notified();
                if let Some((_, v)) = self
                    .inner
                    .answers
                    .lock()
                    .expect("lock")
                    .iter()
                    .find(|(i, _)| i == id)
                {
                    return v.clone();
                }
                if let Some((_, e)) = self
                    .inner
                    .errors
                    .lock()
                    .expect("lock")
                    .iter()
                    .find(|(i, _)| i == id)
                {
                    panic!("the function reported an error for {id}: {e}");
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait)
            .await
            .expect("the function answered in time")
    }

    /// Errors the function reported (invocation and init errors).
    pub fn errors(&self) -> Vec<(String, String)> {
        self.inner.errors.lock().expect("lock").clone()
    }
}

async fn next(State(inner): State<Arc<Inner>>) -> impl IntoResponse {
    loop {
        let notified = inner.arrived.notified();
        let item = inner.queue.lock().expect("lock").pop_front();
        if let Some((id, event)) = item {
            let deadline_ms = chrono::Utc::now().timestamp_millis() + 30_000;
            let mut headers = HeaderMap::new();
            let pairs = [
                ("lambda-runtime-aws-request-id", id.clone()),
                ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:eu-west-1:123456789012:function:folio-test".to_owned(),
                ),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-67891233-abcdef012345678912345678;Sampled=0".to_owned(),
                ),
            ];
            for (name, value) in pairs {
                if let Ok(v) = value.parse() {
                    headers.insert(name, v);
                }
            }
            return (StatusCode::OK, headers, axum::Json(event));
        }
        notified.await;
    }
}

async fn response(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into_owned()));
    inner.answers.lock().expect("lock").push((id, value));
    inner.answered.notify_waiters();
    StatusCode::ACCEPTED
}

async fn error(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    inner
        .errors
        .lock()
        .expect("lock")
        .push((id, String::from_utf8_lossy(&body).into_owned()));
    inner.answered.notify_waiters();
    StatusCode::ACCEPTED
}

async fn init_error(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    inner.errors.lock().expect("lock").push((
        "init".to_owned(),
        String::from_utf8_lossy(&body).into_owned(),
    ));
    StatusCode::ACCEPTED
}

/// An API Gateway HTTP API (payload 2.0) event for `method path`.
pub fn http_api_event(method: &str, path: &str, headers: Value, body: Option<&str>) -> Value {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "folio-e2e"
            },
            "requestId": "apigw-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "22/Nov/2026:00:00:00 +0000",
            "timeEpoch": 1_795_000_000_000_i64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// An API Gateway REST API (payload 1.0) event for `method path` (`path`
/// may carry a `?query`), proxied at `/{proxy+}` of the stage `stage`, the
/// way a REST API forwards it: the stage is not in `path`.
pub fn rest_api_event(
    method: &str,
    stage: &str,
    path: &str,
    headers: Value,
    body: Option<&str>,
) -> Value {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let single: serde_json::Map<String, Value> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    let multi: serde_json::Map<String, Value> = single
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::json!([v])))
        .collect();
    let multi_headers: serde_json::Map<String, Value> = headers
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), serde_json::json!([v])))
        .collect();
    serde_json::json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": if single.is_empty() { Value::Null } else { Value::Object(single) },
        "multiValueQueryStringParameters": if multi.is_empty() { Value::Null } else { Value::Object(multi) },
        "pathParameters": {"proxy": path.trim_start_matches('/')},
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "restapi",
            "resourceId": "res1",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": format!("/{stage}{path}"),
            "protocol": "HTTP/1.1",
            "stage": stage,
            "requestId": "rest-request",
            "requestTime": "22/Nov/2026:00:00:00 +0000",
            "requestTimeEpoch": 1_795_000_000_000_i64,
            "identity": {"sourceIp": "203.0.113.8", "userAgent": "folio-e2e"}
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// An Application Load Balancer event (single-value headers) for `method path`.
pub fn alb_event(method: &str, path: &str, headers: Value, body: Option<&str>) -> Value {
    serde_json::json!({
        "requestContext": {
            "elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/folio/0123456789abcdef"}
        },
        "httpMethod": method,
        "path": path,
        "queryStringParameters": {},
        "headers": headers,
        "body": body.unwrap_or_default(),
        "isBase64Encoded": false
    })
}
