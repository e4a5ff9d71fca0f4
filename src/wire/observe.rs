//! `/ready` and `/metrics`. `/health` (in `handle`) only says the process answers; `/ready`
//! says it can serve: the store answers a query and the audit log can take its write lock.
//! Keys need no check here: the server does not start unless the root key, the credentials
//! and the audit signing key load.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

use super::Frontend;
use crate::metrics::{process, write_single};

fn text(status: StatusCode, body: String, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

impl Frontend {
    /// 200 `ready` when the store and the audit log work, otherwise 503 naming what does not.
    pub(super) async fn ready(&self) -> Response<Full<Bytes>> {
        let mut problems = Vec::new();
        if self.service.store().counts().await.is_err() {
            problems.push("store unreachable");
        }
        if !self.audit.writable().await {
            problems.push("audit log not writable");
        }
        if problems.is_empty() {
            text(StatusCode::OK, "ready\n".into(), "text/plain")
        } else {
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {}\n", problems.join(", ")),
                "text/plain",
            )
        }
    }

    /// The Prometheus text exposition: requests, latency, audit, store sizes (counted now),
    /// background jobs and the process.
    pub(super) async fn metrics_response(&self) -> Response<Full<Bytes>> {
        let mut out = String::with_capacity(16 * 1024);
        self.metrics.render(&mut out);
        self.audit.stats().render(&mut out);
        match self.service.store().counts().await {
            Ok(counts) => {
                write_single(
                    &mut out,
                    "strongbox_secrets",
                    "gauge",
                    "Secrets stored, including those scheduled for deletion.",
                    counts.secrets as f64,
                );
                write_single(
                    &mut out,
                    "strongbox_secret_versions",
                    "gauge",
                    "Secret versions stored.",
                    counts.versions as f64,
                );
                write_single(
                    &mut out,
                    "strongbox_store_up",
                    "gauge",
                    "1 if the store answered.",
                    1.0,
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "store count failed during a metrics scrape");
                write_single(
                    &mut out,
                    "strongbox_store_up",
                    "gauge",
                    "1 if the store answered.",
                    0.0,
                );
            }
        }
        process::render(&mut out);
        text(
            StatusCode::OK,
            out,
            "text/plain; version=0.0.4; charset=utf-8",
        )
    }
}
