//! A minimal SigV4-signing AWS JSON client: one keep-alive HTTP/1.1 connection per worker, so
//! `--concurrency` is exactly the number of connections the target sees.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::auth::sigv4::{self, SigningKey};
use crate::clock::{Clock as _, EpochMillis};

/// Where requests go: `http://host:port` (Strongbox, moto, LocalStack) or `https://host[:port]`
/// (Strongbox with `--tls-cert`, or AWS itself).
#[derive(Clone)]
pub struct Endpoint {
    /// `host[:port]` as written in the URL: sent in `Host` and signed.
    pub authority: String,
    /// `host:port` to connect to (the scheme's port when the URL names none).
    address: String,
    /// For `https://`: the TLS client and the name the certificate must carry.
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("authority", &self.authority)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// CA bundles tried, in order, for `https://` without `--ca-bundle` or `SSL_CERT_FILE`
/// (Debian and Ubuntu, Fedora and RHEL, Alpine and macOS).
const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

impl Endpoint {
    /// Parses `http://host:port[/]` or `https://host[:port][/]`. An `https://` endpoint trusts
    /// the CAs in `ca_bundle`, else in `$SSL_CERT_FILE`, else the system's bundle.
    pub fn parse(url: &str, ca_bundle: Option<&Path>) -> Result<Self, String> {
        let shape =
            || format!("endpoint must be http://host:port or https://host[:port], not {url}");
        let (secure, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
            (Some(rest), _) => (false, rest),
            (_, Some(rest)) => (true, rest),
            _ => return Err(shape()),
        };
        let authority = rest.trim_end_matches('/');
        let parsed: http::uri::Authority = authority.parse().map_err(|_| shape())?;
        if authority.is_empty() || authority.contains(['/', '@']) {
            return Err(shape());
        }
        let host = parsed.host();
        let port = parsed.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let tls = if secure {
            let name = host.trim_start_matches('[').trim_end_matches(']');
            let name = ServerName::try_from(name.to_string()).map_err(|_| shape())?;
            Some((tls_connector(ca_bundle)?, name))
        } else {
            None
        };
        Ok(Self {
            authority: authority.to_string(),
            address: format!("{host}:{port}"),
            tls,
        })
    }

    /// True for an `https://` endpoint.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// `host:port` to connect to.
    pub fn address(&self) -> &str {
        &self.address
    }
}

/// A TLS client (rustls, the versions and suites it considers safe) trusting the CAs of one
/// PEM bundle.
fn tls_connector(ca_bundle: Option<&Path>) -> Result<TlsConnector, String> {
    let from_env = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
    let path = match ca_bundle.map(Path::to_path_buf).or(from_env) {
        Some(path) => path,
        None => SYSTEM_CA_BUNDLES
            .iter()
            .map(std::path::PathBuf::from)
            .find(|p| p.is_file())
            .ok_or("no CA bundle found for https: give --ca-bundle (or AWS_CA_BUNDLE)")?,
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(crate::server::tls::read_certificates(&path, "CA bundle")?);
    if roots.is_empty() {
        return Err(format!("no CA certificate in {}", path.display()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Credentials and scope to sign with. The secret never reaches `Debug` output.
#[derive(Clone)]
pub struct Credentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: crate::auth::SecretAccessKey,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
    /// Region of the credential scope.
    pub region: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Signs requests exactly as `sigv4::sign_headers` does, but derives the signing key once per
/// day: the load generator must not spend its CPU (shared with the server) on four HMACs per
/// request.
pub struct Signer {
    credentials: Credentials,
    cached: Option<(String, SigningKey)>,
}

impl Signer {
    /// A signer for `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            cached: None,
        }
    }

    /// Adds `host`, `x-amz-date`, the session token and `authorization` to `headers`.
    pub fn sign(
        &mut self,
        host: &str,
        headers: &mut HeaderMap,
        body: &[u8],
        now: EpochMillis,
    ) -> Result<(), String> {
        let amz_date = sigv4::format_amz_date(now);
        let date = amz_date.get(..8).unwrap_or("").to_string();
        headers.insert(
            header::HOST,
            HeaderValue::from_str(host).map_err(|e| e.to_string())?,
        );
        headers.insert(
            "x-amz-date",
            HeaderValue::from_str(&amz_date).map_err(|e| e.to_string())?,
        );
        let mut names = vec!["content-type", "host", "x-amz-date", "x-amz-target"];
        if let Some(token) = &self.credentials.session_token {
            headers.insert(
                "x-amz-security-token",
                HeaderValue::from_str(token).map_err(|e| e.to_string())?,
            );
            names.push("x-amz-security-token");
        }
        let creds = &self.credentials;
        let key = match &self.cached {
            Some((d, key)) if *d == date => key,
            _ => {
                let key = sigv4::signing_key(
                    creds.secret_access_key.expose(),
                    &date,
                    &creds.region,
                    "secretsmanager",
                );
                &self.cached.insert((date.clone(), key)).1
            }
        };
        let scope = format!(
            "{date}/{}/secretsmanager/{}",
            creds.region,
            sigv4::SCOPE_TERMINATOR
        );
        let creq =
            sigv4::canonical_request("POST", "/", "", headers, &names, &sigv4::sha256_hex(body));
        let sts = sigv4::string_to_sign(&amz_date, &scope, &creq);
        let signature = hex::encode(sigv4::signature(key, &sts));
        let authorization = format!(
            "{} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            sigv4::ALGORITHM,
            creds.access_key_id,
            names.join(";")
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&authorization).map_err(|e| e.to_string())?,
        );
        Ok(())
    }
}

/// What came back from one call.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The response body.
    pub body: Bytes,
}

impl Reply {
    /// The AWS error code of a failed call (`__type` without its namespace), or `http-NNN`.
    pub fn error_code(&self) -> String {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(&self.body).ok();
        parsed
            .as_ref()
            .and_then(|v| v.get("__type"))
            .and_then(|t| t.as_str())
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
            .unwrap_or_else(|| format!("http-{}", self.status))
    }
}

/// One keep-alive connection that reconnects after a failure.
pub struct Connection {
    endpoint: Endpoint,
    signer: Signer,
    sender: Option<http1::SendRequest<Full<Bytes>>>,
}

/// Starts HTTP/1.1 on a connected stream (plain or TLS); the connection runs in its own task.
async fn http_handshake<S>(stream: S) -> Result<http1::SendRequest<Full<Bytes>>, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| "handshake-error".to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// How long a connect may take before the call counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Connection {
    /// A connection to `endpoint`; it connects on first use.
    pub fn new(endpoint: Endpoint, credentials: Credentials) -> Self {
        Self {
            endpoint,
            signer: Signer::new(credentials),
            sender: None,
        }
    }

    async fn connect(&self) -> Result<http1::SendRequest<Full<Bytes>>, String> {
        let stream =
            tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.endpoint.address))
                .await
                .map_err(|_| "connect-timeout".to_string())?
                .map_err(|_| "connect-error".to_string())?;
        let _ = stream.set_nodelay(true);
        match &self.endpoint.tls {
            None => http_handshake(stream).await,
            Some((connector, name)) => {
                let stream =
                    tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name.clone(), stream))
                        .await
                        .map_err(|_| "connect-timeout".to_string())?
                        .map_err(|_| "tls-error".to_string())?;
                http_handshake(stream).await
            }
        }
    }

    /// Sends one signed `POST /` with `X-Amz-Target: secretsmanager.<operation>`. `Err` holds
    /// a transport error code (the request may or may not have reached the server).
    pub async fn call(&mut self, operation: &str, body: Vec<u8>) -> Result<Reply, String> {
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => self.connect().await?,
        };
        sender.ready().await.map_err(|_| "io-error".to_string())?;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        headers.insert(
            "x-amz-target",
            HeaderValue::from_str(&format!("secretsmanager.{operation}"))
                .map_err(|e| e.to_string())?,
        );
        let now = crate::clock::SystemClock.now_millis();
        self.signer
            .sign(&self.endpoint.authority, &mut headers, &body, now)?;
        let mut request = Request::post("/")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        *request.headers_mut() = headers;
        let response = sender
            .send_request(request)
            .await
            .map_err(|_| "io-error".to_string())?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|_| "io-error".to_string())?
            .to_bytes();
        self.sender = Some(sender);
        Ok(Reply { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{
        Authenticator, Caller, MemoryCredentialStore, SecretAccessKey, SignedRequest,
        StoredCredential,
    };
    use std::sync::Arc;

    /// The bench signer's output verifies with the server's own authenticator.
    #[test]
    fn signer_output_verifies() {
        let store = Arc::new(MemoryCredentialStore::new());
        store.insert(
            "AKIDBENCH",
            StoredCredential {
                secret: SecretAccessKey::new("s3cret"),
                caller: Caller::root("123456789012", "AKIDBENCH"),
                session_token: None,
                expires_at: None,
                active: true,
            },
        );
        let auth = Authenticator::new(store);
        let mut signer = Signer::new(Credentials {
            access_key_id: "AKIDBENCH".into(),
            secret_access_key: SecretAccessKey::new("s3cret"),
            session_token: None,
            region: "eu-west-1".into(),
        });
        let now = 1_700_000_000_000;
        for body in [&b"{}"[..], br#"{"SecretId":"x"}"#] {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.1"),
            );
            headers.insert(
                "x-amz-target",
                HeaderValue::from_static("secretsmanager.GetSecretValue"),
            );
            signer.sign("127.0.0.1:1", &mut headers, body, now).unwrap();
            let req = SignedRequest {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                body,
            };
            let ok = auth.authenticate(&req, &["secretsmanager"], now).unwrap();
            assert_eq!(ok.region, "eu-west-1");
        }
    }

    #[test]
    fn endpoint_parsing() {
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:8383/", None)
                .unwrap()
                .authority,
            "127.0.0.1:8383"
        );
        assert!(Endpoint::parse("ftp://x:1", None).is_err());
        assert!(Endpoint::parse("http://x:1/path", None).is_err());
        assert!(Endpoint::parse("http://user@x:1", None).is_err());
        let v6 = Endpoint::parse("http://[::1]:8383", None).unwrap();
        assert_eq!(v6.address(), "[::1]:8383");
        assert!(!v6.is_tls());
        assert!(Endpoint::parse("https://x:1", Some(Path::new("/nonexistent/ca.pem"))).is_err());
    }

    /// `https://` without a port connects to 443 and signs the host as written (AWS itself).
    #[test]
    fn https_endpoint_defaults_to_port_443() {
        let Some(bundle) = SYSTEM_CA_BUNDLES
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())
        else {
            return; // no system CA bundle on this machine; the TLS compat test covers the rest
        };
        let aws = Endpoint::parse(
            "https://secretsmanager.us-east-1.amazonaws.com/",
            Some(bundle),
        )
        .unwrap();
        assert!(aws.is_tls());
        assert_eq!(aws.authority, "secretsmanager.us-east-1.amazonaws.com");
        assert_eq!(aws.address(), "secretsmanager.us-east-1.amazonaws.com:443");
    }
}
