//! Background jobs: the purger that makes scheduled deletions permanent.

use std::sync::Arc;
use std::time::Duration;

use crate::wire::Frontend;

/// Purges secrets whose recovery window has passed, now and then every `interval`. Lookups
/// already treat such secrets as gone, so the purger only reclaims space and names.
pub async fn purge_loop(frontend: Arc<Frontend>, interval: Duration) {
    loop {
        match frontend.service.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "purged secrets past their recovery window"),
            Err(e) => tracing::warn!(error = %e, "purge failed"),
        }
        tokio::time::sleep(interval).await;
    }
}
