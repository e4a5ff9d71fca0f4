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

type CounterMap = RwLock<HashMap<(&'static str, &'static str), Arc<AtomicU64>>>;

fn bump(map: &CounterMap, key: (&'static str, &'static str), by: u64) {
    let found = map
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .cloned();
    let counter = match found {
        Some(c) => c,
        None => map
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone(),
    };
    counter.fetch_add(by, Ordering::Relaxed);
}

fn sorted(map: &CounterMap) -> Vec<((&'static str, &'static str), u64)> {
    let mut rows: Vec<_> = map
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(k, v)| (*k, v.load(Ordering::Relaxed)))
        .collect();
    rows.sort();
    rows
}

/// The server's request and job metrics. Lookups take a shared lock; only the first request of
/// a new (operation, outcome) pair takes the exclusive one.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: CounterMap,
    latency: RwLock<HashMap<&'static str, Arc<Histogram>>>,
    jobs: CounterMap,
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one answered request: `outcome` is `success` or the AWS error code.
    pub fn record_request(&self, operation: &'static str, outcome: &'static str, took: Duration) {
        bump(&self.requests, (operation, outcome), 1);
        let found = self
            .latency
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(operation)
            .cloned();
        let histogram = match found {
            Some(h) => h,
            None => self
                .latency
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(operation)
                .or_default()
                .clone(),
        };
        histogram.observe(took);
    }

    /// Records one run of a background job (`purge`, `audit_digest`, `audit_prune`) with its
    /// outcome (`success` or `error`).
    pub fn record_job(&self, job: &'static str, outcome: &'static str) {
        bump(&self.jobs, (job, outcome), 1);
    }

    /// How many requests of `operation` ended with `outcome` (for tests).
    pub fn request_count(&self, operation: &str, outcome: &str) -> u64 {
        sorted(&self.requests)
            .into_iter()
            .find(|((o, r), _)| *o == operation && *r == outcome)
            .map_or(0, |(_, n)| n)
    }

    /// Appends these metrics in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        write_header(
            out,
            "strongbox_requests_total",
            "counter",
            "Requests answered, by operation and outcome (success or the AWS error code).",
        );
        for ((op, outcome), n) in sorted(&self.requests) {
            let _ = writeln!(
                out,
                "strongbox_requests_total{{operation=\"{op}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        write_header(
            out,
            "strongbox_request_duration_seconds",
            "histogram",
            "Time from receiving a request to having its response (audit included), by operation.",
        );
        let mut latency: Vec<(&'static str, Arc<Histogram>)> = self
            .latency
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        latency.sort_by_key(|(k, _)| *k);
        for (op, h) in latency {
            h.render(
                out,
                "strongbox_request_duration_seconds",
                &format!("operation=\"{op}\""),
            );
        }
        write_header(
            out,
            "strongbox_background_job_runs_total",
            "counter",
            "Background job runs, by job and outcome.",
        );
        for ((job, outcome), n) in sorted(&self.jobs) {
            let _ = writeln!(
                out,
                "strongbox_background_job_runs_total{{job=\"{job}\",outcome=\"{outcome}\"}} {n}"
            );
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
}
