//! Log lines in the platforms' shapes (through the real request middleware)
//! and EMF documents, field by field against the published formats.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use serde_json::Value;
use shared::config::{Config, Function};
use shared::metrics::Emf;
use shared::telemetry::{PlatformLayer, Style, cloud_trace_context};
use tower::ServiceExt;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().expect("lock").clone()).expect("utf-8");
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
}

fn app() -> Router {
    let config = Config::from_vars(
        Function::Health,
        [(
            "DATABASE_URL".to_owned(),
            "postgres://u:p@127.0.0.1/db".to_owned(),
        )],
    )
    .expect("config");
    let routes = Router::new().route(
        "/items/{id}",
        get(|| async {
            tracing::warn!(item.kind = "book", "an item was asked for");
            "a body of 23 characters"
        }),
    );
    shared::serve::app(&config, routes)
}

fn rfc3339(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a string time")).expect("RFC 3339")
}

#[tokio::test]
async fn gcp_lines_carry_severity_the_trace_and_http_request_from_the_real_middleware() {
    let captured = Captured::default();
    let sink = captured.clone();
    let layer = PlatformLayer::with_writer(
        Style::Gcp {
            project: Some("folio-test".into()),
        },
        move || sink.clone(),
    );
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));

    let started = chrono::Utc::now();
    let response = app()
        .oneshot(
            Request::get("/items/7?full=1")
                .header(
                    "x-cloud-trace-context",
                    "105445AA7843BC8BF206B120001000AB/123;o=1",
                )
                .header("user-agent", "folio-test/1.0")
                .header("x-forwarded-for", "203.0.113.7, 10.1.2.3")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);

    let lines = captured.lines();
    let warning = lines
        .iter()
        .find(|l| l["message"] == "an item was asked for")
        .expect("the handler's line");
    assert_eq!(warning["severity"], "WARNING");
    assert_eq!(warning["item.kind"], "book");
    let trace = "projects/folio-test/traces/105445aa7843bc8bf206b120001000ab";
    assert_eq!(warning["logging.googleapis.com/trace"], trace, "{warning}");
    assert_eq!(warning["logging.googleapis.com/spanId"], "000000000000007b");
    assert_eq!(warning["logging.googleapis.com/trace_sampled"], true);
    assert!(
        warning.get("httpRequest").is_none(),
        "only the closing line: {warning}"
    );

    let done = lines
        .iter()
        .find(|l| l["message"] == "request finished")
        .expect("the request line");
    assert_eq!(done["severity"], "INFO");
    assert!(rfc3339(&done["time"]) >= started - chrono::Duration::seconds(1));
    assert_eq!(done["logging.googleapis.com/trace"], trace);
    let http = &done["httpRequest"];
    assert_eq!(http["requestMethod"], "GET");
    assert_eq!(http["requestUrl"], "/items/7?full=1");
    assert_eq!(http["status"], 200);
    assert_eq!(http["userAgent"], "folio-test/1.0");
    assert_eq!(http["remoteIp"], "203.0.113.7");
    assert_eq!(http["protocol"], "HTTP/1.1");
    assert_eq!(http["responseSize"], "23");
    let latency = http["latency"].as_str().expect("latency string");
    let seconds: f64 = latency
        .strip_suffix('s')
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("latency {latency:?} is not a Duration string"));
    assert!((0.0..5.0).contains(&seconds), "{latency}");
    for line in &lines {
        assert!(
            line["severity"].is_string() && line["message"].is_string(),
            "{line}"
        );
    }
}

#[tokio::test]
async fn lambda_lines_have_timestamp_level_message_and_no_invented_request_id() {
    let captured = Captured::default();
    let sink = captured.clone();
    let layer = PlatformLayer::with_writer(Style::Lambda, move || sink.clone());
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let response = app()
        .oneshot(
            Request::get("/items/1")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    tracing::error!("outside any request");
    let lines = captured.lines();
    let warning = lines
        .iter()
        .find(|l| l["message"] == "an item was asked for")
        .expect("the handler's line");
    assert_eq!(warning["level"], "WARN");
    let ts = warning["timestamp"].as_str().expect("timestamp");
    assert!(
        ts.ends_with('Z') && ts.len() == "2026-12-03T04:05:06.789Z".len(),
        "{ts}"
    );
    rfc3339(&warning["timestamp"]);
    // Outside the Lambda runtime there is no invocation, so no requestId.
    assert!(warning.get("requestId").is_none(), "{warning}");
    let last = lines.last().expect("a line");
    assert_eq!(last["level"], "ERROR");
    assert_eq!(last["message"], "outside any request");
}

#[test]
fn the_cloud_trace_header_is_read_leniently_and_span_ids_become_hex() {
    assert_eq!(
        cloud_trace_context("105445aa7843bc8bf206b120001000ab/18446744073709551615;o=0"),
        Some((
            "105445aa7843bc8bf206b120001000ab".into(),
            Some("ffffffffffffffff".into()),
            Some(false)
        ))
    );
    assert_eq!(
        cloud_trace_context("105445aa7843bc8bf206b120001000ab"),
        Some(("105445aa7843bc8bf206b120001000ab".into(), None, None))
    );
    assert_eq!(cloud_trace_context("not-a-trace/1;o=1"), None);
    assert_eq!(cloud_trace_context(""), None);
}

/// The rules of the Embedded Metric Format specification, checked on one document.
fn check_emf_document(doc: &Value) {
    let aws = &doc["_aws"];
    let ts = aws["Timestamp"]
        .as_i64()
        .expect("_aws.Timestamp: integer ms");
    assert!(ts > 1_600_000_000_000, "Timestamp in milliseconds: {ts}");
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics array");
    assert!(!directives.is_empty());
    for d in directives {
        let ns = d["Namespace"].as_str().expect("Namespace");
        assert!((1..=255).contains(&ns.len()));
        for set in d["Dimensions"].as_array().expect("Dimensions") {
            let set = set.as_array().expect("a DimensionSet is an array");
            assert!(set.len() <= 30, "at most 30 dimensions");
            for name in set {
                let name = name.as_str().expect("dimension names are strings");
                assert!(
                    doc[name].is_string(),
                    "dimension {name} has no string value: {doc}"
                );
            }
        }
        let metrics = d["Metrics"].as_array().expect("Metrics");
        assert!(!metrics.is_empty() && metrics.len() <= 100);
        for m in metrics {
            let name = m["Name"].as_str().expect("Name");
            assert!((1..=255).contains(&name.len()));
            let unit = m["Unit"].as_str().unwrap_or("None");
            assert!(
                ["Seconds", "Bytes", "Count", "None"].contains(&unit),
                "{unit}"
            );
            match &doc[name] {
                Value::Number(_) => {}
                Value::Array(values) => {
                    assert!(
                        !values.is_empty() && values.len() <= 100,
                        "{name}: {} values",
                        values.len()
                    );
                    assert!(values.iter().all(Value::is_number));
                }
                other => panic!("metric {name} has no numeric value: {other}"),
            }
        }
    }
}

#[test]
fn emf_documents_follow_the_specification_and_reset_after_each_flush() {
    let emf = Arc::new(Emf::new("folio-test", "ocr"));
    let recorder = emf.recorder();
    metrics::with_local_recorder(&recorder, || {
        shared::metrics::http_request("/v1/ocr", "POST", 200, 0.25);
        shared::metrics::http_request("/v1/ocr", "POST", 200, 0.5);
        shared::metrics::http_request("/v1/ocr", "POST", 413, 0.01);
        for i in 0..150 {
            shared::metrics::ocr_page("text_layer", f64::from(i) / 1000.0);
        }
        metrics::gauge!("folio_queue_jobs", "status" => "queued").set(3.0);
    });
    let stamp = 1_764_000_000_000;
    let docs = emf.flush(stamp);
    for doc in &docs {
        check_emf_document(doc);
        assert_eq!(doc["_aws"]["Timestamp"], stamp);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "folio-test"
        );
        assert_eq!(doc["function"], "ocr");
    }
    let ok = docs
        .iter()
        .find(|d| d["route"] == "/v1/ocr" && d["status"] == "200")
        .expect("the 200s");
    assert_eq!(ok["method"], "POST");
    assert_eq!(ok["folio_http_requests_total"], 2.0);
    assert_eq!(
        ok["folio_http_request_duration_seconds"],
        serde_json::json!([0.25, 0.5])
    );
    let directive = &ok["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(
        directive["Dimensions"],
        serde_json::json!([["function", "method", "route", "status"]])
    );
    let units: Vec<(&str, &str)> = directive["Metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().expect("name"),
                m["Unit"].as_str().expect("unit"),
            )
        })
        .collect();
    assert_eq!(
        units,
        [
            ("folio_http_request_duration_seconds", "Seconds"),
            ("folio_http_requests_total", "Count")
        ]
    );
    // 150 samples: two documents of at most 100, the count in the first only.
    let pages: Vec<&Value> = docs
        .iter()
        .filter(|d| d["source"] == "text_layer")
        .collect();
    assert_eq!(pages.len(), 2);
    let sizes: Vec<usize> = pages
        .iter()
        .map(|d| d["folio_ocr_page_seconds"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, [100, 50]);
    assert_eq!(pages[0]["folio_ocr_pages_total"], 150.0);
    assert!(pages[1].get("folio_ocr_pages_total").is_none());
    let queue = docs
        .iter()
        .find(|d| d["status"] == "queued")
        .expect("gauge");
    assert_eq!(queue["folio_queue_jobs"], 3.0);

    // The next invocation starts from nothing; a gauge keeps its last value.
    let again = emf.flush(stamp + 1000);
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["folio_queue_jobs"], 3.0);
    let text = shared::metrics::document_lines(&docs);
    assert_eq!(text.lines().count(), docs.len());
}
