//! Prometheus metrics, hand-rolled on atomics: request counters by operation and outcome,
//! latency histograms, background-job outcomes, and the text exposition format.
//!
//! Label values come only from fixed sets (operation names, AWS error codes, job names), never
//! from request input, so a client cannot grow the series or smuggle data into `/metrics`.

pub mod process;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A latency histogram with fixed buckets ([`LATENCY_BUCKETS`]).
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines; `labels` is `k="v",...` or empty.
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0u64;
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            cumulative += self.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count();
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

/// Writes `# HELP` and `# TYPE` lines.
pub fn write_header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes one unlabelled gauge or counter with its header.
pub fn write_single(out: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    write_header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// Most distinct operations, and outcomes per operation, before further ones are counted as
/// `other`: a bound on memory and scrape size whatever clients send.
const MAX_SERIES: usize = 256;

/// Escapes a label value for the text format.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Counters keyed by a label value; a shared lock finds an existing one.
#[derive(Debug, Default)]
struct Counters(RwLock<HashMap<String, Arc<AtomicU64>>>);

impl Counters {
    fn bump(&self, key: &str) {
        let found = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned();
        let counter = match found {
            Some(c) => c,
            None => {
                let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
                let key = if map.len() >= MAX_SERIES && !map.contains_key(key) {
                    "other"
                } else {
                    key
                };
                map.entry(key.to_string()).or_default().clone()
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn sorted(&self) -> Vec<(String, u64)> {
        let mut rows: Vec<_> = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), v.load(Ordering::Relaxed)))
            .collect();
        rows.sort();
        rows
    }
}

/// One operation's outcomes and latency.
#[derive(Debug, Default)]
struct OperationStats {
    outcomes: Counters,
    latency: Histogram,
}

/// The server's request and job metrics. Lookups take shared locks; only the first request of
/// a new operation or outcome takes an exclusive one.
#[derive(Debug, Default)]
pub struct Metrics {
    operations: RwLock<HashMap<String, Arc<OperationStats>>>,
    jobs: RwLock<HashMap<String, Arc<Counters>>>,
}

fn entry<T: Default>(map: &RwLock<HashMap<String, Arc<T>>>, key: &str) -> Arc<T> {
    let found = map
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
        .cloned();
    if let Some(v) = found {
        return v;
    }
    let mut map = map.write().unwrap_or_else(PoisonError::into_inner);
    let key = if map.len() >= MAX_SERIES && !map.contains_key(key) {
        "other"
    } else {
        key
    };
    map.entry(key.to_string()).or_default().clone()
}

fn sorted_entries<T>(map: &RwLock<HashMap<String, Arc<T>>>) -> Vec<(String, Arc<T>)> {
    let mut rows: Vec<_> = map
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one answered request: `outcome` is `success` or the AWS error code. The
    /// operation must be a known name (callers map unknown ones to `unknown`).
    pub fn record_request(&self, operation: &str, outcome: &str, took: Duration) {
        let stats = entry(&self.operations, operation);
        stats.outcomes.bump(outcome);
        stats.latency.observe(took);
    }

    /// Records one run of a background job (`purge`, `audit_digest`, `audit_prune`) with its
    /// outcome (`success` or `error`).
    pub fn record_job(&self, job: &str, outcome: &str) {
        entry(&self.jobs, job).bump(outcome);
    }

    /// How many requests of `operation` ended with `outcome` (for tests).
    pub fn request_count(&self, operation: &str, outcome: &str) -> u64 {
        let stats = self
            .operations
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(operation)
            .cloned();
        stats.map_or(0, |s| {
            s.outcomes
                .sorted()
                .into_iter()
                .find(|(o, _)| o == outcome)
                .map_or(0, |(_, n)| n)
        })
    }

    /// Appends these metrics in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let operations = sorted_entries(&self.operations);
        write_header(
            out,
            "strongbox_requests_total",
            "counter",
            "Requests answered, by operation and outcome (success or the AWS error code).",
        );
        for (op, stats) in &operations {
            for (outcome, n) in stats.outcomes.sorted() {
                let _ = writeln!(
                    out,
                    "strongbox_requests_total{{operation=\"{}\",outcome=\"{}\"}} {n}",
                    escape(op),
                    escape(&outcome)
                );
            }
        }
        write_header(
            out,
            "strongbox_request_duration_seconds",
            "histogram",
            "Time from receiving a request to having its response (audit included), by operation.",
        );
        for (op, stats) in &operations {
            stats.latency.render(
                out,
                "strongbox_request_duration_seconds",
                &format!("operation=\"{}\"", escape(op)),
            );
        }
        write_header(
            out,
            "strongbox_background_job_runs_total",
            "counter",
            "Background job runs, by job and outcome.",
        );
        for (job, counters) in sorted_entries(&self.jobs) {
            for (outcome, n) in counters.sorted() {
                let _ = writeln!(
                    out,
                    "strongbox_background_job_runs_total{{job=\"{}\",outcome=\"{}\"}} {n}",
                    escape(&job),
                    escape(&outcome)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(50));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(10));
        let mut out = String::new();
        h.render(&mut out, "x", "op=\"a\"");
        assert!(out.contains("x_bucket{op=\"a\",le=\"0.0001\"} 1\n"));
        assert!(out.contains("x_bucket{op=\"a\",le=\"0.005\"} 2\n"));
        assert!(out.contains("x_bucket{op=\"a\",le=\"2.5\"} 2\n"));
        assert!(out.contains("x_bucket{op=\"a\",le=\"+Inf\"} 3\n"));
        assert!(out.contains("x_count{op=\"a\"} 3\n"));
        let mut bare = String::new();
        h.render(&mut bare, "y", "");
        assert!(bare.contains("y_bucket{le=\"+Inf\"} 3\n"));
        assert!(bare.contains("y_count 3\n"));
    }

    #[test]
    fn requests_and_jobs_render() {
        let m = Metrics::new();
        m.record_request("GetSecretValue", "success", Duration::from_millis(1));
        m.record_request("GetSecretValue", "success", Duration::from_millis(1));
        m.record_request(
            "GetSecretValue",
            "ResourceNotFoundException",
            Duration::from_millis(1),
        );
        m.record_job("purge", "success");
        assert_eq!(m.request_count("GetSecretValue", "success"), 2);
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains(
            "strongbox_requests_total{operation=\"GetSecretValue\",outcome=\"success\"} 2\n"
        ));
        assert!(out.contains(
            "strongbox_request_duration_seconds_count{operation=\"GetSecretValue\"} 3\n"
        ));
        assert!(
            out.contains(
                "strongbox_background_job_runs_total{job=\"purge\",outcome=\"success\"} 1"
            )
        );
    }

    #[test]
    fn series_are_bounded_and_escaped() {
        let m = Metrics::new();
        for i in 0..(MAX_SERIES + 10) {
            m.record_request(&format!("op{i}"), "success", Duration::ZERO);
        }
        assert_eq!(m.request_count("other", "success"), 10);
        let m = Metrics::new();
        m.record_request("a\"b\nc", "x\\y", Duration::ZERO);
        let mut out = String::new();
        m.render(&mut out);
        assert!(
            out.contains("operation=\"a\\\"b\\nc\",outcome=\"x\\\\y\""),
            "{out}"
        );
    }
}
