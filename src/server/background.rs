//! Background jobs: the purger that makes scheduled deletions permanent, the audit
//! maintenance that signs time-based digests and applies retention, and the refresh of the
//! credential table when identities change in the store behind the server's back. Each run's outcome is
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

/// Reloads the credential table every `interval` when identities changed in the store behind
/// this server's back (offline administration, another node).
pub async fn iam_refresh_loop(frontend: Arc<Frontend>, interval: Duration) {
    // The table was just built at start: the first look is one interval later.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let result = frontend.iam.refresh_if_changed().await;
        frontend.metrics.record_job("iam_refresh", outcome(&result));
        match result {
            Ok(false) => {}
            Ok(true) => tracing::info!("identities changed in the store; credentials reloaded"),
            Err(e) => tracing::warn!(error = %e, "identity refresh failed"),
        }
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
