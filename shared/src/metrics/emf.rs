//! A `metrics` recorder that keeps one invocation's figures in memory and
//! writes them as CloudWatch Embedded Metric Format documents: one JSON line
//! per label set, `_aws.CloudWatchMetrics` naming the namespace, the
//! dimension set (the function and the metric's labels) and each metric with
//! its unit; the values sit at the top level beside the dimension values.
//! Counters give what was added since the last flush, gauges their last
//! value, histograms every sample (at most 100 per document, the format's
//! limit, so a busy histogram spans several documents).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use serde_json::{Map, Value, json};

/// A metric's labels, sorted: one document per distinct set.
type Labels = Vec<(String, String)>;

/// The format's limit on values in one metric's array.
const MAX_VALUES: usize = 100;

#[derive(Default)]
struct Samples(Mutex<Vec<f64>>);

impl HistogramFn for Samples {
    fn record(&self, value: f64) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(value);
    }
}

enum Slot {
    Counter(Arc<AtomicU64>),
    Gauge(Arc<AtomicU64>),
    Histogram(Arc<Samples>),
}

/// The recorder's state; `flush` drains it into documents.
pub struct Emf {
    namespace: String,
    function: String,
    slots: Mutex<HashMap<Key, Slot>>,
}

/// The handle installed as the global recorder.
pub(super) struct Shared(pub(super) Arc<Emf>);

impl Emf {
    pub fn new(namespace: &str, function: &str) -> Emf {
        Emf {
            namespace: namespace.to_owned(),
            function: function.to_owned(),
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot<T>(
        &self,
        key: &Key,
        make: impl FnOnce() -> (Slot, T),
        get: impl Fn(&Slot) -> Option<T>,
    ) -> Option<T> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = slots.get(key) {
            return get(found);
        }
        let (slot, handle) = make();
        slots.insert(key.clone(), slot);
        Some(handle)
    }

    /// Every figure recorded since the last flush, as EMF documents stamped
    /// `timestamp_ms`; counters and histograms start again from nothing.
    pub fn flush(&self, timestamp_ms: i64) -> Vec<Value> {
        // label set -> (metric name -> value(s))
        let mut groups: BTreeMap<Labels, Vec<(String, Vec<f64>)>> = BTreeMap::new();
        {
            let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            for (key, slot) in slots.iter() {
                let values = match slot {
                    Slot::Counter(c) => match c.swap(0, Ordering::Relaxed) {
                        0 => continue,
                        n => vec![n as f64],
                    },
                    Slot::Gauge(g) => match f64::from_bits(g.load(Ordering::Relaxed)) {
                        v if v.is_nan() => continue,
                        v => vec![v],
                    },
                    Slot::Histogram(h) => {
                        let taken =
                            std::mem::take(&mut *h.0.lock().unwrap_or_else(|p| p.into_inner()));
                        if taken.is_empty() {
                            continue;
                        }
                        taken
                    }
                };
                let mut labels: Vec<(String, String)> = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                labels.sort();
                groups
                    .entry(labels)
                    .or_default()
                    .push((key.name().to_owned(), values));
            }
        }
        let mut documents = Vec::new();
        for (labels, mut metrics) in groups {
            metrics.sort_by(|a, b| a.0.cmp(&b.0));
            let chunks = metrics
                .iter()
                .map(|(_, v)| v.len().div_ceil(MAX_VALUES))
                .max()
                .unwrap_or(1);
            for chunk in 0..chunks {
                let mut doc = Map::new();
                let mut dimensions = vec!["function".to_owned()];
                doc.insert("function".into(), self.function.clone().into());
                for (k, v) in &labels {
                    dimensions.push(k.clone());
                    doc.insert(k.clone(), v.clone().into());
                }
                let mut definitions = Vec::new();
                for (name, values) in &metrics {
                    let part: Vec<f64> = values
                        .iter()
                        .skip(chunk * MAX_VALUES)
                        .take(MAX_VALUES)
                        .copied()
                        .collect();
                    let value = match part.as_slice() {
                        [] => continue,
                        [one] if values.len() == 1 => json!(one),
                        many => json!(many),
                    };
                    definitions.push(json!({"Name": name, "Unit": unit_of(name)}));
                    doc.insert(name.clone(), value);
                }
                doc.insert(
                    "_aws".into(),
                    json!({
                        "Timestamp": timestamp_ms,
                        "CloudWatchMetrics": [{
                            "Namespace": self.namespace,
                            "Dimensions": [dimensions],
                            "Metrics": definitions,
                        }]
                    }),
                );
                documents.push(Value::Object(doc));
            }
        }
        documents
    }
}

/// The CloudWatch unit a name's suffix implies.
fn unit_of(name: &str) -> &'static str {
    if name.ends_with("_seconds") {
        "Seconds"
    } else if name.ends_with("_bytes") {
        "Bytes"
    } else if name.ends_with("_total") {
        "Count"
    } else {
        "None"
    }
}

/// The documents as lines ready for stdout.
pub fn document_lines(documents: &[Value]) -> String {
    let mut out = String::new();
    for d in documents {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    out
}

impl Recorder for Shared {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.0
            .slot(
                key,
                || {
                    let c = Arc::new(AtomicU64::new(0));
                    (Slot::Counter(c.clone()), c)
                },
                |s| match s {
                    Slot::Counter(c) => Some(c.clone()),
                    _ => None,
                },
            )
            .map(Counter::from_arc)
            .unwrap_or_else(Counter::noop)
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.0
            .slot(
                key,
                || {
                    let g = Arc::new(AtomicU64::new(f64::NAN.to_bits()));
                    (Slot::Gauge(g.clone()), g)
                },
                |s| match s {
                    Slot::Gauge(g) => Some(g.clone()),
                    _ => None,
                },
            )
            .map(Gauge::from_arc)
            .unwrap_or_else(Gauge::noop)
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.0
            .slot(
                key,
                || {
                    let h = Arc::new(Samples::default());
                    (Slot::Histogram(h.clone()), h)
                },
                |s| match s {
                    Slot::Histogram(h) => Some(h.clone()),
                    _ => None,
                },
            )
            .map(Histogram::from_arc)
            .unwrap_or_else(Histogram::noop)
    }
}

impl Emf {
    /// A recorder over this state, for `metrics::with_local_recorder` (tests).
    pub fn recorder(self: &Arc<Self>) -> impl Recorder + use<> {
        Shared(self.clone())
    }
}
