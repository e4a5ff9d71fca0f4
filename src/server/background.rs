//! Background jobs: the purger that makes scheduled deletions permanent, and the audit
//! maintenance that signs time-based digests and applies retention. Each run's outcome is
//! counted in `strongbox_background_job_runs_total`.

use std::sync::Arc;
use std::time::Duration;

use crate::wire::Frontend;

fn outcome<T, E>(r: &Result<T, E>) -> &'static str {
    if r.is_ok() { "success" } else { "error" }
}

/// Purges secrets whose recovery window has passed, now and then every `interval`. Lookups
/// already treat such secrets as gone, so the purger only reclaims space and names.
pub async fn purge_loop(frontend: Arc<Frontend>, interval: Duration) {
    loop {
        let result = frontend.service.purge_expired().await;
        frontend.metrics.record_job("purge", outcome(&result));
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "purged secrets past their recovery window"),
            Err(e) => tracing::warn!(error = %e, "purge failed"),
        }
        tokio::time::sleep(interval).await;
    }
}

/// Signs a digest of new audit events every digest interval (the writer also signs one every
/// N events), and applies retention every prune interval when one is configured.
pub async fn audit_loop(frontend: Arc<Frontend>) {
    let config = frontend.audit.config().clone();
    let mut digests = tokio::time::interval(config.digest_interval);
    let mut prunes = tokio::time::interval(config.prune_interval);
    digests.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    prunes.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick of an interval is immediate; a digest at start signs what the previous
    // run left unsigned.
    loop {
        tokio::select! {
            _ = digests.tick() => {
                let result = frontend.audit.digest_now().await;
                frontend.metrics.record_job("audit_digest", outcome(&result));
                if let Err(e) = result {
                    tracing::warn!(error = %e, "audit digest failed");
                }
            }
            _ = prunes.tick(), if config.retention.is_some() => {
                let Some(retention) = config.retention else { continue };
                let now = frontend.service.clock().now_millis();
                let keep_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
                let result = frontend.audit.prune_before(now.saturating_sub(keep_ms)).await;
                frontend.metrics.record_job("audit_prune", outcome(&result));
                match result {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(pruned = n, "pruned audit events past retention"),
                    Err(e) => tracing::warn!(error = %e, "audit prune failed"),
                }
            }
        }
    }
}
