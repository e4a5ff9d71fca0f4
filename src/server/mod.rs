//! The running server: opens the data directory, binds, accepts HTTP or HTTPS connections,
//! and runs background jobs. `run(listener, shutdown)` lets tests bind `127.0.0.1:0`.

mod background;
mod datadir;
pub(crate) mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub use datadir::{
    CREDENTIALS_FILE, DATABASE_FILE, DataDir, ROOT_KDF_FILE, ROOT_KEY_FILE, RootKeySource,
};

use crate::api::Service;
use crate::audit::{AuditConfig, AuditLog};
use crate::auth::{Authenticator, Caller, SecretAccessKey, StoredCredential};
use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::iam::IamService;
use crate::metrics::Metrics;
use crate::wire::{DEFAULT_MAX_BODY_BYTES, Frontend};

/// How the server is configured; `strongbox serve` fills it from flags and environment.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The account id to create on first start (random if `None`).
    pub account_id: Option<String>,
    /// Where the root key comes from.
    pub root_key: RootKeySource,
    /// PEM certificate chain and private key, to serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Allow plain HTTP on a non-loopback address.
    pub insecure_listen: bool,
    /// An extra admin credential (`STRONGBOX_BOOTSTRAP_ACCESS_KEY_ID` / `..._SECRET_ACCESS_KEY`).
    pub bootstrap_key: Option<(String, SecretAccessKey)>,
    /// How often the purger looks for secrets past their recovery window.
    pub purge_interval: Duration,
    /// How often the server checks the store for identities changed behind its back.
    pub iam_refresh_interval: Duration,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Audit log settings.
    pub audit: AuditConfig,
}

impl ServerConfig {
    /// Defaults for `data_dir`: loopback on an ephemeral port, no TLS.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            account_id: None,
            root_key: RootKeySource::InDataDir,
            tls: None,
            insecure_listen: false,
            bootstrap_key: None,
            purge_interval: Duration::from_secs(60),
            iam_refresh_interval: Duration::from_secs(2),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            audit: AuditConfig::default(),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Plain HTTP on a non-loopback address without `--insecure-listen`.
    #[error(
        "refusing to listen on non-loopback address {0} without TLS: give --tls-cert and \
         --tls-key, or --insecure-listen to accept plaintext"
    )]
    InsecureListen(SocketAddr),
    /// The data directory could not be opened or initialised.
    #[error("data directory: {0}")]
    DataDir(String),
    /// The TLS certificate or key could not be loaded.
    #[error("TLS: {0}")]
    Tls(String),
    /// Binding the listen address failed.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}

/// A server ready to accept connections.
pub struct Server {
    config: ServerConfig,
    frontend: Arc<Frontend>,
    tls: Option<TlsAcceptor>,
    data_dir: DataDir,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .finish()
    }
}

/// Binds `addr` for [`Server::run`].
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| StartError::Bind(addr, e))
}

impl Server {
    /// Opens (initialising on first start) the data directory and prepares the service.
    pub async fn open(mut config: ServerConfig, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        if config.tls.is_none() && !config.listen.ip().is_loopback() && !config.insecure_listen {
            return Err(StartError::InsecureListen(config.listen));
        }
        let tls = match &config.tls {
            Some((cert, key)) => Some(tls::acceptor(cert, key).map_err(StartError::Tls)?),
            None => None,
        };
        let (data_dir, root_key) = DataDir::open(
            &config.data_dir,
            config.account_id.as_deref(),
            &config.root_key,
            clock.as_ref(),
        )
        .await
        .map_err(|e| StartError::DataDir(e.to_string()))?;
        // The key is derived: a passphrase (often used elsewhere too) or a key given in hex is
        // wiped now rather than kept for the life of the server.
        config.root_key = RootKeySource::InDataDir;
        let mut extra = Vec::new();
        if let Some((id, secret)) = &config.bootstrap_key {
            extra.push((
                id.clone(),
                StoredCredential {
                    secret: secret.clone(),
                    caller: Caller::root(&data_dir.account_id, id),
                    session_token: None,
                    expires_at: None,
                    active: true,
                },
            ));
        }
        // The audit log opens before the keyring takes the root key: the digest signing key is
        // stored wrapped under it.
        let audit = AuditLog::open(
            &data_dir.path,
            &root_key,
            clock.clone(),
            config.audit.clone(),
        )
        .map_err(|e| StartError::DataDir(e.to_string()))?;
        let keyring = Arc::new(Keyring::new(root_key, data_dir.store.clone()));
        let iam = Arc::new(
            IamService::open(
                data_dir.store.clone(),
                keyring.clone(),
                clock.clone(),
                &data_dir.account_id,
                extra,
            )
            .await
            .map_err(|e| StartError::DataDir(e.to_string()))?,
        );
        let service = Service::new(data_dir.store.clone(), keyring, clock);
        let frontend = Arc::new(Frontend {
            service,
            authenticator: Authenticator::new(iam.credentials()),
            iam,
            max_body_bytes: config.max_body_bytes,
            audit,
            metrics: Arc::new(Metrics::new()),
            account_id: data_dir.account_id.clone(),
        });
        Ok(Self {
            config,
            frontend,
            tls,
            data_dir,
        })
    }

    /// The data directory in use.
    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    /// The Secrets Manager service, for tests and background jobs.
    pub fn frontend(&self) -> &Arc<Frontend> {
        &self.frontend
    }

    /// Binds the configured address.
    pub async fn bind(&self) -> Result<TcpListener, StartError> {
        bind(self.config.listen).await
    }

    /// The URL scheme this server answers on.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Serves connections from `listener` until `shutdown` completes.
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let purger = tokio::spawn(background::purge_loop(
            self.frontend.clone(),
            self.config.purge_interval,
        ));
        let auditor = tokio::spawn(background::audit_loop(self.frontend.clone()));
        let refresher = tokio::spawn(background::iam_refresh_loop(
            self.frontend.clone(),
            self.config.iam_refresh_interval,
        ));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => {
                    let (stream, remote) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            continue;
                        }
                    };
                    // An IPv4 client of a dual-stack listener arrives as `::ffff:a.b.c.d`;
                    // policies (`aws:SourceIp`) and the audit log want `a.b.c.d`, as AWS shows.
                    let remote = std::net::SocketAddr::new(remote.ip().to_canonical(), remote.port());
                    let _ = stream.set_nodelay(true);
                    let frontend = self.frontend.clone();
                    let tls = self.tls.clone();
                    let secure = tls.is_some();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| {
                            let frontend = frontend.clone();
                            async move {
                                Ok::<_, std::convert::Infallible>(frontend.handle(req, remote, secure).await)
                            }
                        });
                        let result = match tls {
                            Some(acceptor) => match acceptor.accept(stream).await {
                                Ok(tls_stream) => {
                                    http1::Builder::new()
                                        .serve_connection(TokioIo::new(tls_stream), service)
                                        .await
                                }
                                Err(e) => {
                                    tracing::debug!(error = %e, "TLS handshake failed");
                                    return;
                                }
                            },
                            None => {
                                http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await
                            }
                        };
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
            }
        }
        purger.abort();
        auditor.abort();
        refresher.abort();
        if let Err(e) = self.frontend.audit.close().await {
            tracing::warn!(error = %e, "audit log did not close cleanly");
        }
    }
}
