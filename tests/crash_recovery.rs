//! Crash safety: the real binary under CreateSecret and PutSecretValue load from several
//! clients is killed with SIGKILL at random moments and restarted; every acknowledged write
//! must then be readable with its value and the right staging labels, no secret may have
//! zero or two AWSCURRENT versions, and the audit log's hash chain and digests must verify.
//!
//! The short form (20 kills) runs with `cargo test`. The long form:
//! `STRONGBOX_CRASH_ITERATIONS=200 cargo test --release --test crash_recovery`.
//! `STRONGBOX_CRASH_SEED=<n>` replays the kill timing and the request mix of a run (the seed is
//! printed at the start).
//!
//! Each client writes only its own secrets, one request at a time, so for every secret the
//! acknowledged versions are totally ordered, and at most one write (the one in flight when the
//! server died) is uncertain: it may or may not have committed, and either is correct.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use strongbox::bench::{Connection, Credentials, Endpoint, Rng};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CLIENTS: usize = 4;
/// How long a start may take before the test fails (a bound, not an expectation).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What the clients know about one secret: its acknowledged versions in write order, and the
/// version whose write was in flight when the server died, if any.
#[derive(Debug, Default, Clone)]
struct Known {
    acked: Vec<(String, String)>,
    uncertain: Option<(String, String)>,
    /// The last round that wrote (or tried to write) it.
    round: usize,
}

type Model = Arc<Mutex<BTreeMap<String, Known>>>;

fn credentials() -> Credentials {
    Credentials {
        access_key_id: "test".into(),
        secret_access_key: strongbox::auth::SecretAccessKey::new("test"),
        session_token: None,
        region: "us-east-1".into(),
    }
}

/// Starts the server on an ephemeral port and waits (bounded) until `/health` answers.
async fn start(dir: &std::path::Path) -> (Child, Endpoint) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strongbox"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--account-id",
            "123456789012",
        ])
        .arg("--data-dir")
        .arg(dir)
        .env("STRONGBOX_BOOTSTRAP_ACCESS_KEY_ID", "test")
        .env("STRONGBOX_BOOTSTRAP_SECRET_ACCESS_KEY", "test")
        .env("STRONGBOX_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn strongbox");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(START_TIMEOUT, lines.next_line())
        .await
        .expect("the server printed nothing in time")
        .expect("read stdout")
        .expect("the server exited before listening");
    let url = first
        .strip_prefix("Listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"));
    let endpoint = Endpoint::parse(url, None).expect("endpoint");
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let mut ready = false;
    for _ in 0..600 {
        if health(&endpoint).await {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the server did not become healthy");
    (child, endpoint)
}

async fn health(endpoint: &Endpoint) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(&endpoint.authority).await else {
        return false;
    };
    let req = format!(
        "GET /health HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
        endpoint.authority
    );
    if s.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).await.is_ok() && head.ends_with(b"200")
}

async fn call(conn: &mut Connection, op: &str, body: Value) -> (u16, Value) {
    let reply = conn
        .call(op, body.to_string().into_bytes())
        .await
        .unwrap_or_else(|e| panic!("{op}: transport error {e} against a healthy server"));
    let value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    (reply.status, value)
}

/// One client's load until the server dies: creates secrets and puts new versions into them,
/// recording every acknowledged write, and the one in flight when the connection broke.
async fn client(
    endpoint: Endpoint,
    model: Model,
    mut rng: Rng,
    round: usize,
    tag: String,
    mine: Vec<String>,
) {
    let mut conn = Connection::new(endpoint, credentials());
    let mut mine = mine;
    let mut n = 0u64;
    loop {
        let value = format!("value-{:016x}", rng.next_u64());
        let token = rng.uuid();
        let create = mine.is_empty() || rng.below(4) == 0;
        let (op, name, body) = if create {
            n += 1;
            let name = format!("crash/{tag}-{n}");
            let body = json!({"Name": name, "SecretString": value, "ClientRequestToken": token});
            ("CreateSecret", name, body)
        } else {
            let name = mine[rng.below(mine.len() as u64) as usize].clone();
            let body =
                json!({"SecretId": name, "SecretString": value, "ClientRequestToken": token});
            ("PutSecretValue", name, body)
        };
        match conn.call(op, body.to_string().into_bytes()).await {
            Ok(reply) if reply.status == 200 => {
                let mut m = model.lock().unwrap();
                let entry = m.entry(name.clone()).or_default();
                entry.acked.push((token, value));
                entry.round = round;
                if create {
                    mine.push(name);
                }
            }
            Ok(reply) => panic!(
                "{op} {name} failed: {} {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ),
            Err(_) => {
                // The server died with this write in flight: it may or may not have committed.
                if !create {
                    let mut m = model.lock().unwrap();
                    let entry = m.entry(name).or_default();
                    entry.uncertain = Some((token, value));
                    entry.round = round;
                }
                return;
            }
        }
    }
}

/// Checks every secret in `names` against the model; resolves each uncertain write into an
/// acknowledged one (it committed) or drops it (it did not).
async fn verify(endpoint: &Endpoint, model: &Model, names: &[String]) {
    let mut conn = Connection::new(endpoint.clone(), credentials());
    for name in names {
        let known = model.lock().unwrap().get(name).cloned().expect("known");
        let (status, listed) = call(
            &mut conn,
            "ListSecretVersionIds",
            json!({"SecretId": name, "IncludeDeprecated": true, "MaxResults": 100}),
        )
        .await;
        assert_eq!(status, 200, "{name}: {listed}");
        let versions = listed["Versions"].as_array().expect("Versions");
        let stages_of = |id: &str| -> Vec<String> {
            versions
                .iter()
                .find(|v| v["VersionId"] == id)
                .and_then(|v| v["VersionStages"].as_array())
                .map(|s| {
                    s.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let current: Vec<&Value> = versions
            .iter()
            .filter(|v| {
                v["VersionStages"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|x| x == "AWSCURRENT"))
            })
            .collect();
        assert_eq!(current.len(), 1, "{name}: exactly one AWSCURRENT: {listed}");

        let mut acked = known.acked.clone();
        if let Some((token, value)) = &known.uncertain
            && versions.iter().any(|v| v["VersionId"] == token.as_str())
        {
            acked.push((token.clone(), value.clone()));
        }
        let n = acked.len();
        for (i, (token, value)) in acked.iter().enumerate() {
            assert!(
                versions.iter().any(|v| v["VersionId"] == token.as_str()),
                "{name}: acknowledged version {token} is missing: {listed}"
            );
            let expected: Vec<&str> = if i + 1 == n {
                vec!["AWSCURRENT"]
            } else if i + 2 == n {
                vec!["AWSPREVIOUS"]
            } else {
                vec![]
            };
            assert_eq!(stages_of(token), expected, "{name} {token}: {listed}");
            let (status, got) = call(
                &mut conn,
                "GetSecretValue",
                json!({"SecretId": name, "VersionId": token}),
            )
            .await;
            assert_eq!(status, 200, "{name} {token}: {got}");
            assert_eq!(got["SecretString"], value.as_str(), "{name} {token}");
        }
        let mut m = model.lock().unwrap();
        let entry = m.get_mut(name).expect("known");
        entry.acked = acked;
        entry.uncertain = None;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill() {
    let iterations: usize = std::env::var("STRONGBOX_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("STRONGBOX_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("crash_recovery: {iterations} iterations, STRONGBOX_CRASH_SEED={seed}");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let model: Model = Arc::default();
    let mut touched: Vec<String> = Vec::new();
    for iteration in 0..iterations {
        let (mut child, endpoint) = start(dir.path()).await;
        verify(&endpoint, &model, &touched).await;

        let mut clients = Vec::new();
        for c in 0..CLIENTS {
            let tag = format!("{iteration}-{c}");
            // Each client owns the secrets it created in earlier rounds (names carry its slot).
            let mine: Vec<String> = model
                .lock()
                .unwrap()
                .keys()
                .filter(|k| k.rsplit('-').nth(1) == Some(&c.to_string()))
                .cloned()
                .collect();
            clients.push(tokio::spawn(client(
                endpoint.clone(),
                model.clone(),
                Rng::new(rng.next_u64()),
                iteration,
                tag,
                mine,
            )));
        }
        // A random moment between 20 and 200 ms into the load.
        tokio::time::sleep(Duration::from_millis(20 + rng.below(180))).await;
        child.start_kill().expect("SIGKILL");
        let _ = child.wait().await;
        for c in clients {
            tokio::time::timeout(Duration::from_secs(30), c)
                .await
                .expect("a client did not notice the kill")
                .expect("client task");
        }
        // Only secrets written this round can have changed; check them at the next start.
        touched = model
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, k)| k.round == iteration)
            .map(|(name, _)| name.clone())
            .collect();
    }
    // Final start: every secret ever acknowledged, not just the last round's.
    let (mut child, endpoint) = start(dir.path()).await;
    let all: Vec<String> = model.lock().unwrap().keys().cloned().collect();
    verify(&endpoint, &model, &all).await;
    // Every secret, including any whose CreateSecret was in flight at a kill (not in the
    // model), has exactly one AWSCURRENT.
    let mut conn = Connection::new(endpoint.clone(), credentials());
    let mut next: Option<String> = None;
    let mut listed = 0;
    loop {
        let mut body = json!({"MaxResults": 100});
        if let Some(token) = &next {
            body["NextToken"] = json!(token);
        }
        let (status, page) = call(&mut conn, "ListSecrets", body).await;
        assert_eq!(status, 200, "{page}");
        for secret in page["SecretList"].as_array().expect("SecretList") {
            listed += 1;
            let stages = secret["SecretVersionsToStages"]
                .as_object()
                .expect("SecretVersionsToStages");
            let current = stages
                .values()
                .filter(|s| {
                    s.as_array()
                        .is_some_and(|s| s.iter().any(|x| x == "AWSCURRENT"))
                })
                .count();
            assert_eq!(current, 1, "{}: {stages:?}", secret["Name"]);
        }
        next = page["NextToken"].as_str().map(String::from);
        if next.is_none() {
            break;
        }
    }
    assert!(
        listed >= all.len(),
        "ListSecrets saw {listed} of {} secrets",
        all.len()
    );
    let writes: usize = model.lock().unwrap().values().map(|k| k.acked.len()).sum();
    eprintln!(
        "crash_recovery: {} secrets, {writes} acknowledged writes verified after {iterations} kills",
        all.len()
    );
    assert!(writes > 0, "no write was acknowledged");
    child.start_kill().expect("kill");
    let _ = child.wait().await;

    // The audit log survived every kill with its hash chain and signed digests intact.
    let verify = Command::new(env!("CARGO_BIN_EXE_strongbox"))
        .args(["audit", "verify", "--data-dir"])
        .arg(dir.path())
        .output()
        .await
        .expect("run strongbox audit verify");
    assert!(
        verify.status.success(),
        "audit verify after {iterations} kills: {}\n{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
