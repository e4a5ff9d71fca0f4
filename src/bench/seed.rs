//! `bench seed-store`: fills a data directory with many secrets quickly and faithfully. Each
//! secret goes through the API layer in-process (`Service::dispatch`, CreateSecret), so names,
//! ARNs, validation and envelope encryption are exactly those of a real request; only HTTP and
//! SigV4 are skipped. Many creates in flight let the store's group commit put hundreds of them in
//! one transaction and one fsync.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::api::{ApiError, Operation, RequestContext};
use crate::auth::Caller;
use crate::clock::{Clock, SystemClock};
use crate::server::{Server, ServerConfig};

use super::workload::{Rng, create_body, secret_name};

/// Creates secrets `0..n` named `<prefix>/<index>` in `region` of the data directory's
/// account; secrets that already exist are kept.
pub async fn seed_store(
    data_dir: &Path,
    account_id: Option<&str>,
    region: &str,
    prefix: &str,
    n: u64,
    concurrency: usize,
) -> Result<(), String> {
    let mut config = ServerConfig::new(data_dir);
    config.account_id = account_id.map(str::to_string);
    let server = Server::open(config, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    let account = server.data_dir().account_id.clone();
    let frontend = server.frontend().clone();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency.max(1) {
        let (frontend, next) = (frontend.clone(), next.clone());
        let (prefix, region, account) = (prefix.to_string(), region.to_string(), account.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(super::now_nanos() ^ (w as u64) << 48);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok(());
                }
                let ctx = RequestContext {
                    caller: Caller::root(&account, "bench-seed"),
                    region: region.clone(),
                    request_id: String::new(),
                    now: SystemClock.now_millis(),
                    source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
                    secure_transport: false,
                    user_agent: Some("strongbox-bench-seed".into()),
                };
                let body = create_body(&prefix, i, &mut rng);
                match frontend
                    .service
                    .dispatch(&ctx, Operation::CreateSecret, &body)
                    .await
                {
                    Ok(_) | Err(ApiError::ResourceExists(_)) => {}
                    Err(e) => {
                        return Err(format!(
                            "creating {}: {}",
                            secret_name(&prefix, i),
                            e.code()
                        ));
                    }
                }
                if (i + 1) % 50_000 == 0 {
                    eprintln!(
                        "seeded {} of {n} ({:.0}s)",
                        i + 1,
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    eprintln!(
        "seeded {n} secrets into {} (account {account}, {region}) in {:.1}s",
        data_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
