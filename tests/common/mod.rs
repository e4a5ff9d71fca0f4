//! Shared integration-test harness: a real Strongbox server on an ephemeral port, with a manual
//! clock, driven by the official AWS SDK for Rust or by raw signed HTTP.
#![allow(dead_code)]

pub mod sdk;

use std::net::SocketAddr;
use std::sync::Arc;

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use http::HeaderMap;
use strongbox::auth::SecretAccessKey;
use strongbox::auth::sigv4::{SigningParams, sign_headers};
use strongbox::clock::{Clock, ManualClock};
use strongbox::server::{Server, ServerConfig};
use strongbox::wire::Frontend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The bootstrap credential every test server accepts.
pub const ACCESS_KEY: &str = "test";
/// Its secret.
pub const SECRET_KEY: &str = "test";
/// The account every test server is created with.
pub const ACCOUNT: &str = "123456789012";

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
    /// The running server's front end (its IAM service, for in-process administration).
    pub frontend: Arc<Frontend>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// The server's task, awaited by [`TestServer::stop`] so that a restart finds the data
    /// directory released (its audit writer lock above all).
    running: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TestServer {
    /// Starts a server on a fresh data directory.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir).await
    }

    /// Starts a server on `dir` (which may hold data from an earlier server).
    pub async fn start_in(dir: tempfile::TempDir) -> Self {
        Self::start_with(dir, |_| {}).await
    }

    /// Starts a server on `dir` with the test defaults, changed by `configure`.
    pub async fn start_with(
        dir: tempfile::TempDir,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> Self {
        let clock = ManualClock::starting_now();
        let mut config = ServerConfig::new(dir.path());
        config.account_id = Some(ACCOUNT.into());
        config.bootstrap_key = Some((ACCESS_KEY.into(), SecretAccessKey::new(SECRET_KEY)));
        // Tests refresh the identity table themselves (`IamService::refresh_if_changed`).
        config.iam_refresh_interval = std::time::Duration::from_secs(24 * 3600);
        configure(&mut config);
        let server = Server::open(config, Arc::new(clock.clone()))
            .await
            .expect("server opens");
        let listener = server.bind().await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let frontend = server.frontend().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(async move {
            server
                .run(listener, async {
                    let _ = rx.await;
                })
                .await;
        });
        Self {
            addr,
            clock,
            dir,
            frontend,
            shutdown: Some(tx),
            running: Some(running),
        }
    }

    /// Stops the server, waits until it has let go of its data directory, and returns the
    /// directory, for a restart.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(running) = self.running.take() {
            let _ = running.await;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, dir)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An SDK client for `region`, signing with the bootstrap credential. Its clock is the
    /// server's manual clock, so signatures stay valid when a test moves time.
    pub fn client_in(&self, region: &str) -> aws_sdk_secretsmanager::Client {
        self.client_with(region, ACCESS_KEY, SECRET_KEY)
    }

    /// An SDK client for us-east-1.
    pub fn client(&self) -> aws_sdk_secretsmanager::Client {
        self.client_in("us-east-1")
    }

    /// An SDK client with any credential.
    pub fn client_with(
        &self,
        region: &str,
        access_key: &str,
        secret_key: &str,
    ) -> aws_sdk_secretsmanager::Client {
        self.client_with_credentials(
            region,
            Credentials::new(access_key, secret_key, None, None, "test"),
        )
    }

    /// An SDK client for us-east-1 signing with `credentials` (which may carry a session token).
    pub fn client_with_credentials(
        &self,
        region: &str,
        credentials: Credentials,
    ) -> aws_sdk_secretsmanager::Client {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(self.endpoint())
            .credentials_provider(credentials)
            .time_source(self.time_source())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_secretsmanager::Client::from_conf(config)
    }

    /// The server's manual clock as an SDK time source, so clients of any AWS SDK crate sign
    /// with the time the server reads.
    pub fn time_source(&self) -> aws_smithy_async::time::SharedTimeSource {
        aws_smithy_async::time::SharedTimeSource::new(ManualTimeSource(self.clock.clone()))
    }

    /// Adds `account_id` as another account of this deployment, through the server's own IAM
    /// service (what `strongbox account create` does), and returns a new access key pair for
    /// its root. The server's credential table is reloaded, so the key works at once.
    pub async fn create_account(&self, account_id: &str) -> (String, String) {
        let iam = &self.frontend.iam;
        iam.ensure_account(account_id)
            .await
            .expect("ensure_account");
        let (id, secret, _) = iam
            .create_access_key_for(account_id, &format!("arn:aws:iam::{account_id}:root"))
            .await
            .expect("create_access_key_for");
        iam.reload().await.expect("reload");
        (id, secret.expose().to_string())
    }

    /// Sends a raw request signed with the bootstrap credential for us-east-1.
    pub async fn raw(&self, target: &str, body: &str) -> RawResponse {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            "application/x-amz-json-1.1".parse().unwrap(),
        );
        headers.insert("x-amz-target", target.parse().unwrap());
        let host = self.addr.to_string();
        sign_headers(
            &SigningParams {
                access_key_id: ACCESS_KEY,
                secret_access_key: SECRET_KEY,
                session_token: None,
                region: "us-east-1",
                service: "secretsmanager",
                time: self.clock.now_millis(),
            },
            "POST",
            &host,
            "/",
            "",
            &mut headers,
            body.as_bytes(),
        )
        .expect("sign");
        self.send("POST", "/", &headers, body.as_bytes()).await
    }

    /// Sends an arbitrary HTTP/1.1 request and reads the whole response.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> RawResponse {
        let mut stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let mut head = format!("{method} {path} HTTP/1.1\r\n");
        if !headers.contains_key("host") {
            head.push_str(&format!("host: {}\r\n", self.addr));
        }
        for (name, value) in headers {
            head.push_str(&format!("{}: {}\r\n", name, value.to_str().unwrap_or("")));
        }
        head.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        ));
        stream.write_all(head.as_bytes()).await.expect("write");
        stream.write_all(body).await.expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        RawResponse::parse(&raw)
    }
}

/// How [`TestServer::raw_with`] signs a request. Every field can be bent to provoke one
/// authentication error; `Signing::default()` is what [`TestServer::raw`] does.
#[derive(Debug, Clone, Copy)]
pub struct Signing<'a> {
    /// The access key id.
    pub access_key: &'a str,
    /// The secret used to sign (need not be the access key's real secret).
    pub secret_key: &'a str,
    /// The credential scope's region.
    pub region: &'a str,
    /// The credential scope's service.
    pub service: &'a str,
    /// Milliseconds added to the server clock's time to get the signing time.
    pub skew_ms: i64,
    /// A fixed `Host` header to sign and send (for byte-stable canonical requests); `None`
    /// uses the server's address.
    pub host: Option<&'a str>,
}

impl Default for Signing<'_> {
    fn default() -> Self {
        Self {
            access_key: ACCESS_KEY,
            secret_key: SECRET_KEY,
            region: "us-east-1",
            service: "secretsmanager",
            skew_ms: 0,
            host: None,
        }
    }
}

impl TestServer {
    /// The headers of a `POST /` signed as `signing` says; `target` `None` sends no
    /// `X-Amz-Target`.
    pub fn signed_headers(
        &self,
        target: Option<&str>,
        body: &[u8],
        signing: &Signing<'_>,
    ) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            "application/x-amz-json-1.1".parse().unwrap(),
        );
        if let Some(target) = target {
            headers.insert("x-amz-target", target.parse().unwrap());
        }
        let host = signing
            .host
            .map_or_else(|| self.addr.to_string(), str::to_string);
        headers.insert("host", host.parse().unwrap());
        sign_headers(
            &SigningParams {
                access_key_id: signing.access_key,
                secret_access_key: signing.secret_key,
                session_token: None,
                region: signing.region,
                service: signing.service,
                time: self.clock.now_millis() + signing.skew_ms,
            },
            "POST",
            &host,
            "/",
            "",
            &mut headers,
            body,
        )
        .expect("sign");
        headers
    }

    /// Sends a `POST /` signed as `signing` says.
    pub async fn raw_with(
        &self,
        target: Option<&str>,
        body: &[u8],
        signing: &Signing<'_>,
    ) -> RawResponse {
        let headers = self.signed_headers(target, body, signing);
        self.send("POST", "/", &headers, body).await
    }

    /// Writes `request` (a complete HTTP/1.1 request, head and body, as bytes) and reads the
    /// response. Unlike [`send`](Self::send) it tolerates the server answering and closing
    /// before the whole request is written (an oversized body), so the response is still read.
    pub async fn send_bytes(&self, request: Vec<u8>) -> RawResponse {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let (mut reader, mut writer) = stream.into_split();
        let write = tokio::spawn(async move {
            // The server may stop reading once it has decided; a broken pipe is expected then.
            let _ = writer.write_all(&request).await;
            let _ = writer.flush().await;
            writer
        });
        let mut raw = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
        }
        drop(write.await);
        assert!(
            !raw.is_empty(),
            "the server closed the connection without answering"
        );
        RawResponse::parse(&raw)
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    fn parse(raw: &[u8]) -> Self {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("header end");
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
        {
            body = dechunk(&body);
        }
        Self {
            status,
            headers,
            body,
        }
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = body.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..pos]).unwrap_or("0").trim(), 16)
                .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&body[pos + 2..pos + 2 + size]);
        body = &body[pos + 2 + size + 2..];
    }
    out
}

/// The manual clock as the SDK's time source.
#[derive(Debug, Clone)]
struct ManualTimeSource(ManualClock);

impl aws_smithy_async::time::TimeSource for ManualTimeSource {
    fn now(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(self.0.now_millis() as u64)
    }
}

/// A unique secret name for a test.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
