//! Results of one run: counts, errors by code and an HDR latency histogram, printed for people
//! or as JSON for scripts.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded in microseconds, up to a minute, to 3 significant digits.
#[allow(clippy::expect_used)] // Constant bounds that hdrhistogram documents as valid.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid constant histogram bounds")
}

/// What one worker (or the whole run) observed.
#[derive(Debug)]
pub struct Tally {
    /// Latency of every completed call (success or AWS error), microseconds.
    pub latency: Histogram<u64>,
    /// Successful calls.
    pub ok: u64,
    /// Failed calls by AWS error code or transport error.
    pub errors: BTreeMap<String, u64>,
}

impl Tally {
    /// An empty tally.
    pub fn new() -> Self {
        Self {
            latency: new_histogram(),
            ok: 0,
            errors: BTreeMap::new(),
        }
    }

    /// Adds another worker's tally.
    pub fn merge(&mut self, other: Tally) {
        let _ = self.latency.add(&other.latency);
        self.ok += other.ok;
        for (code, n) in other.errors {
            *self.errors.entry(code).or_default() += n;
        }
    }
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest observed.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

/// The published result of one workload against one target.
#[derive(Debug, Serialize)]
pub struct Report {
    /// A label for the target (e.g. `strongbox`, `moto`, `limit`).
    pub target: String,
    /// The endpoint measured.
    pub endpoint: String,
    /// The workload name.
    pub workload: &'static str,
    /// Connections (one request in flight on each).
    pub concurrency: usize,
    /// Seeded secrets the workload picks from.
    pub secrets: u64,
    /// Measured seconds (after warm-up).
    pub duration_s: f64,
    /// Completed calls, successful or not.
    pub requests: u64,
    /// Successful calls.
    pub ok: u64,
    /// Successful calls per second.
    pub throughput_rps: f64,
    /// Latency of all completed calls.
    pub latency_ms: Latency,
    /// Failures by code.
    pub errors: BTreeMap<String, u64>,
}

impl Report {
    /// Builds the report from a merged tally.
    pub fn new(
        target: String,
        endpoint: String,
        workload: &'static str,
        concurrency: usize,
        secrets: u64,
        duration_s: f64,
        tally: &Tally,
    ) -> Self {
        let h = &tally.latency;
        let ms = |us: u64| us as f64 / 1000.0;
        let failed: u64 = tally.errors.values().sum();
        Self {
            target,
            endpoint,
            workload,
            concurrency,
            secrets,
            duration_s,
            requests: tally.ok + failed,
            ok: tally.ok,
            throughput_rps: if duration_s > 0.0 {
                tally.ok as f64 / duration_s
            } else {
                0.0
            },
            latency_ms: Latency {
                p50: ms(h.value_at_quantile(0.50)),
                p90: ms(h.value_at_quantile(0.90)),
                p99: ms(h.value_at_quantile(0.99)),
                p999: ms(h.value_at_quantile(0.999)),
                max: ms(h.max()),
                mean: h.mean() / 1000.0,
            },
            errors: tally.errors.clone(),
        }
    }

    /// The human-readable form.
    pub fn human(&self) -> String {
        let l = &self.latency_ms;
        let mut out = format!(
            "{} {} (c={}, {} secrets, {:.1}s)\n  throughput  {:.0} req/s ({} ok of {})\n  latency ms  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  mean {:.3}\n",
            self.target,
            self.workload,
            self.concurrency,
            self.secrets,
            self.duration_s,
            self.throughput_rps,
            self.ok,
            self.requests,
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max,
            l.mean
        );
        if self.errors.is_empty() {
            out.push_str("  errors      none\n");
        } else {
            for (code, n) in &self.errors {
                out.push_str(&format!("  errors      {code}: {n}\n"));
            }
        }
        out
    }
}
