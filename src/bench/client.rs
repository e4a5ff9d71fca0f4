//! A minimal SigV4-signing AWS JSON client: one keep-alive HTTP/1.1 connection per worker, so
//! `--concurrency` is exactly the number of connections the target sees.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::auth::sigv4::{self, SigningKey};
use crate::clock::{Clock as _, EpochMillis};

/// Where requests go: `http://host:port` only (the tool measures servers, not TLS stacks).
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `host:port`, as connected to and sent in `Host`.
    pub authority: String,
}

impl Endpoint {
    /// Parses `http://host:port[/]`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("endpoint must be http://host:port, not {url}"))?;
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(format!("endpoint must be http://host:port, not {url}"));
        }
        Ok(Self {
            authority: authority.to_string(),
        })
    }
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
        let stream = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect(&self.endpoint.authority),
        )
        .await
        .map_err(|_| "connect-timeout".to_string())?
        .map_err(|_| "connect-error".to_string())?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| "handshake-error".to_string())?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
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
            Endpoint::parse("http://127.0.0.1:8383/").unwrap().authority,
            "127.0.0.1:8383"
        );
        assert!(Endpoint::parse("https://x:1").is_err());
        assert!(Endpoint::parse("http://x:1/path").is_err());
    }
}
