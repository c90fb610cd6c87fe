//! Log lines in the platforms' own JSON shapes, so their consoles show
//! severity, group lines by request and trace, and index HTTP requests:
//!
//! - `Style::Gcp` (Cloud Logging): `severity`, `message`, `time`,
//!   `logging.googleapis.com/trace` (`projects/P/traces/T`, from the
//!   `X-Cloud-Trace-Context` the request span carries), `…/spanId`,
//!   `…/trace_sampled`, and `httpRequest` on the request's closing line.
//! - `Style::Lambda` (Lambda's JSON log format): `timestamp`, `level`,
//!   `message`, `requestId` (the invocation's AWS request id).
//!
//! Every other field of the event and its spans follows at the top level.

use std::io::Write;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// Which platform's shape to write.
#[derive(Debug, Clone)]
pub enum Style {
    Gcp { project: Option<String> },
    Lambda,
}

/// A layer that writes one JSON line per event to `W`.
pub struct PlatformLayer<W = fn() -> std::io::Stdout> {
    style: Style,
    make_writer: W,
}

impl PlatformLayer {
    pub fn stdout(style: Style) -> Self {
        PlatformLayer {
            style,
            make_writer: std::io::stdout,
        }
    }
}

impl<W> PlatformLayer<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    /// Writes to `make_writer` instead (tests).
    pub fn with_writer(style: Style, make_writer: W) -> Self {
        PlatformLayer { style, make_writer }
    }
}

/// The fields a span was opened (or later recorded) with.
#[derive(Default)]
struct SpanFields(Map<String, Value>);

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}

impl<S, W> Layer<S> for PlatformLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = SpanFields::default();
        attrs.record(&mut JsonVisitor(&mut fields.0));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<SpanFields>()
        {
            values.record(&mut JsonVisitor(&mut fields.0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // Span fields first, outermost to innermost; the event's own win.
        let mut fields = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    fields.extend(f.0.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        event.record(&mut JsonVisitor(&mut fields));
        let level = *event.metadata().level();
        let target = event.metadata().target();
        let line = match &self.style {
            Style::Gcp { project } => gcp_line(level, target, fields, project.as_deref()),
            Style::Lambda => lambda_line(level, target, fields),
        };
        let mut text = line.to_string();
        text.push('\n');
        let mut writer = self.make_writer.make_writer();
        let _ = writer.write_all(text.as_bytes());
    }
}

fn take_str(fields: &mut Map<String, Value>, name: &str) -> Option<String> {
    match fields.remove(name)? {
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

fn gcp_severity(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

/// A Cloud Logging line. `trace_id`, `span_id` and `trace_sampled` (from the
/// request span) become the special trace fields; `http.*` fields of the
/// request's closing line become `httpRequest`.
pub(crate) fn gcp_line(
    level: Level,
    target: &str,
    mut fields: Map<String, Value>,
    project: Option<&str>,
) -> Value {
    let mut out = Map::new();
    out.insert("severity".into(), gcp_severity(level).into());
    let message = take_str(&mut fields, "message").unwrap_or_default();
    out.insert("message".into(), message.into());
    out.insert("time".into(), now(chrono::SecondsFormat::Nanos).into());
    if let Some(trace) = take_str(&mut fields, "trace_id") {
        let trace = match project {
            Some(p) => format!("projects/{p}/traces/{trace}"),
            None => trace,
        };
        out.insert("logging.googleapis.com/trace".into(), trace.into());
    }
    if let Some(span) = take_str(&mut fields, "span_id") {
        out.insert("logging.googleapis.com/spanId".into(), span.into());
    }
    if let Some(Value::Bool(sampled)) = fields.remove("trace_sampled") {
        out.insert(
            "logging.googleapis.com/trace_sampled".into(),
            sampled.into(),
        );
    }
    if let Some(status) = fields.remove("http.status") {
        let mut http = Map::new();
        if let Some(m) = fields.get("method") {
            http.insert("requestMethod".into(), m.clone());
        }
        let url = take_str(&mut fields, "http.url").or_else(|| {
            fields
                .get("path")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        if let Some(url) = url {
            http.insert("requestUrl".into(), url.into());
        }
        http.insert("status".into(), status);
        if let Some(latency) = fields.remove("http.latency_s").and_then(|v| v.as_f64()) {
            http.insert("latency".into(), format!("{latency:.6}s").into());
        }
        for (from, to) in [
            ("http.user_agent", "userAgent"),
            ("http.remote_ip", "remoteIp"),
            ("http.protocol", "protocol"),
            ("http.referer", "referer"),
        ] {
            if let Some(v) = take_str(&mut fields, from) {
                http.insert(to.into(), v.into());
            }
        }
        // int64 fields are strings in the API's JSON mapping.
        for (from, to) in [
            ("http.request_size", "requestSize"),
            ("http.response_size", "responseSize"),
        ] {
            if let Some(v) = fields.remove(from) {
                let v = v
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string());
                http.insert(to.into(), v.into());
            }
        }
        out.insert("httpRequest".into(), Value::Object(http));
    }
    out.insert("target".into(), target.into());
    for (k, v) in fields {
        out.entry(k).or_insert(v);
    }
    Value::Object(out)
}

/// A line of Lambda's JSON log format. The request id is the one Lambda gave
/// the invocation: `aws_request_id` on the request span, or the `requestId`
/// of `lambda_runtime`'s invocation span.
pub(crate) fn lambda_line(level: Level, target: &str, mut fields: Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert(
        "timestamp".into(),
        now(chrono::SecondsFormat::Millis).into(),
    );
    let level = match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    };
    out.insert("level".into(), level.into());
    let message = take_str(&mut fields, "message").unwrap_or_default();
    out.insert("message".into(), message.into());
    let id = take_str(&mut fields, "aws_request_id");
    let runtime_id = take_str(&mut fields, "requestId");
    if let Some(id) = id.or(runtime_id) {
        out.insert("requestId".into(), id.into());
    }
    out.insert("logger".into(), target.into());
    for (k, v) in fields {
        out.entry(k).or_insert(v);
    }
    Value::Object(out)
}

fn now(precision: chrono::SecondsFormat) -> String {
    chrono::Utc::now().to_rfc3339_opts(precision, true)
}

/// Splits `X-Cloud-Trace-Context` (`TRACE_ID/SPAN_ID;o=OPTIONS`) into the trace
/// id, the span id as the 16 hex digits Cloud Logging wants (the header has
/// it in decimal), and whether the trace is sampled.
pub fn cloud_trace_context(header: &str) -> Option<(String, Option<String>, Option<bool>)> {
    let (ids, options) = match header.split_once(';') {
        Some((ids, options)) => (ids, Some(options)),
        None => (header, None),
    };
    let (trace, span) = match ids.split_once('/') {
        Some((t, s)) => (t, Some(s)),
        None => (ids, None),
    };
    let trace = trace.trim();
    if trace.len() != 32 || !trace.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let span = span
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|s| *s != 0)
        .map(|s| format!("{s:016x}"));
    let sampled = options
        .and_then(|o| o.trim().strip_prefix("o="))
        .and_then(|o| o.parse::<u8>().ok())
        .map(|o| o & 1 == 1);
    Some((trace.to_ascii_lowercase(), span, sampled))
}
