//! The audit trail end to end: calls made with the AWS SDK show up in CloudTrail's
//! LookupEvents and in `strongbox audit lookup/export`; `strongbox audit verify` passes on an
//! untouched log and names the event that was altered, removed, inserted or reordered; a failed
//! append fails the request; `/metrics` and `/ready` report; and no secret value, password or
//! key reaches the logs, the audit log or the metrics.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aws_sdk_secretsmanager::primitives::Blob;
use common::{ACCOUNT, RawResponse, Signing, TestServer, unique};
use http::HeaderMap;
use rusqlite::Connection;
use serde_json::{Value, json};
use strongbox::auth::sigv4::{SigningParams, sign_headers};
use strongbox::clock::Clock;

const LOOKUP: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";

/// Everything every test in this binary logs, at TRACE, so the leak test sees it all.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .try_init();
        buffer
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn start() -> TestServer {
    captured_logs();
    TestServer::start().await
}

async fn lookup(server: &TestServer, body: Value) -> RawResponse {
    let signing = Signing {
        service: "cloudtrail",
        ..Signing::default()
    };
    server
        .raw_with(Some(LOOKUP), body.to_string().as_bytes(), &signing)
        .await
}

/// All events LookupEvents returns for `attributes`, following NextToken with small pages.
async fn events(server: &TestServer, attributes: Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"LookupAttributes": attributes, "MaxResults": 3});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let r = lookup(server, body).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let page = r.json();
        out.extend(page["Events"].as_array().unwrap().iter().cloned());
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => return out,
        }
    }
}

fn record(event: &Value) -> Value {
    serde_json::from_str(event["CloudTrailEvent"].as_str().unwrap()).unwrap()
}

fn by_name(name: &str) -> Value {
    json!([{"AttributeKey": "EventName", "AttributeValue": name}])
}

#[tokio::test]
async fn lookup_events_returns_cloudtrail_records() {
    let server = start().await;
    let client = server.client();
    let name = unique("audited");
    let created = client
        .create_secret()
        .name(&name)
        .secret_string("s3cr3t-value")
        .send()
        .await
        .unwrap();
    client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let missing = client
        .get_secret_value()
        .secret_id("no-such-secret")
        .send()
        .await;
    assert!(missing.is_err());

    let all = events(&server, json!([])).await;
    let names: Vec<&str> = all
        .iter()
        .map(|e| e["EventName"].as_str().unwrap())
        .collect();
    // Newest first.
    assert_eq!(names, ["GetSecretValue", "GetSecretValue", "CreateSecret"]);

    let create = &all[2];
    assert_eq!(create["ReadOnly"], "false");
    assert_eq!(create["EventSource"], "secretsmanager.amazonaws.com");
    assert_eq!(create["Username"], "root");
    assert_eq!(create["AccessKeyId"], common::ACCESS_KEY);
    assert!(create["EventTime"].as_f64().unwrap() > 1.6e9);
    assert_eq!(
        create["Resources"],
        json!([{"ResourceType": "AWS::SecretsManager::Secret",
                "ResourceName": created.arn().unwrap()}])
    );
    let r = record(create);
    assert_eq!(r["eventVersion"], "1.11");
    assert_eq!(r["userIdentity"]["type"], "Root");
    assert_eq!(
        r["userIdentity"]["arn"],
        format!("arn:aws:iam::{ACCOUNT}:root")
    );
    assert_eq!(r["requestParameters"]["name"], name.as_str());
    assert!(r["requestParameters"].get("secretString").is_none());
    assert_eq!(
        r["responseElements"],
        json!({"arn": created.arn().unwrap(), "name": name,
               "versionId": created.version_id().unwrap()})
    );
    assert_eq!(r["recipientAccountId"], ACCOUNT);
    assert_eq!(r["eventType"], "AwsApiCall");
    assert_eq!(r["managementEvent"], true);
    assert_eq!(r["eventCategory"], "Management");
    assert!(r["userAgent"].as_str().unwrap().contains("aws-sdk-rust"));
    assert_eq!(r["sourceIPAddress"], "127.0.0.1");
    assert_eq!(r["awsRegion"], "us-east-1");

    let get = record(&all[1]);
    assert_eq!(get["readOnly"], true);
    assert_eq!(get["requestParameters"], json!({"secretId": name}));
    assert_eq!(get["responseElements"], Value::Null);
    let failed = record(&all[0]);
    assert_eq!(failed["errorCode"], "ResourceNotFoundException");
    assert_eq!(
        failed["errorMessage"],
        "Secrets Manager can't find the specified secret."
    );

    // Each lookup attribute filters.
    assert_eq!(events(&server, by_name("CreateSecret")).await.len(), 1);
    // LookupEvents calls are read-only too, so count the writes.
    let writes = json!([{"AttributeKey": "ReadOnly", "AttributeValue": "false"}]);
    assert_eq!(events(&server, writes).await.len(), 1);
    let source = json!([{"AttributeKey": "EventSource",
                         "AttributeValue": "secretsmanager.amazonaws.com"}]);
    assert_eq!(events(&server, source).await.len(), 3);
    let resource = json!([{"AttributeKey": "ResourceName", "AttributeValue": name}]);
    assert_eq!(events(&server, resource).await.len(), 2);
    let user = json!([{"AttributeKey": "Username", "AttributeValue": "root"}]);
    let by_root = events(&server, user).await;
    assert!(by_root.len() > 3 && by_root.iter().all(|e| e["Username"] == "root"));
    let nobody = json!([{"AttributeKey": "Username", "AttributeValue": "nobody"}]);
    assert!(events(&server, nobody).await.is_empty());
    let id = all[1]["EventId"].as_str().unwrap();
    let by_id = json!([{"AttributeKey": "EventId", "AttributeValue": id}]);
    assert_eq!(events(&server, by_id).await.len(), 1);
    // LookupEvents calls are themselves recorded.
    assert!(events(&server, by_name("LookupEvents")).await.len() >= 8);

    // A time range that ends before the calls finds nothing.
    let early = (server.clock.now_millis() / 1000 - 3600) as f64;
    let r = lookup(&server, json!({"EndTime": early})).await;
    assert_eq!(r.json()["Events"], json!([]));

    // A failed call is found by the secret id it asked for, though it names no resource.
    let missing = unique("never-created");
    let _ = client.get_secret_value().secret_id(&missing).send().await;
    let found = events(
        &server,
        json!([{"AttributeKey": "ResourceName", "AttributeValue": missing}]),
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["EventName"], "GetSecretValue");
    assert_eq!(record(&found[0])["errorCode"], "ResourceNotFoundException");

    // CloudTrail's event history covers 90 days: older events are not looked up, with or
    // without a StartTime.
    let before = events(&server, by_name("CreateSecret")).await.len();
    assert!(before > 0);
    server.clock.advance(91 * 86_400_000);
    assert_eq!(events(&server, by_name("CreateSecret")).await.len(), 0);
    let r = lookup(
        &server,
        json!({"StartTime": 0, "LookupAttributes": by_name("CreateSecret")}),
    )
    .await;
    assert_eq!(r.json()["Events"], json!([]));
}

#[tokio::test]
async fn lookup_events_errors() {
    let server = start().await;
    for (body, code) in [
        (
            json!({"LookupAttributes": [
                {"AttributeKey": "EventName", "AttributeValue": "a"},
                {"AttributeKey": "Username", "AttributeValue": "b"}]}),
            "InvalidLookupAttributesException",
        ),
        (
            json!({"StartTime": 200, "EndTime": 100}),
            "InvalidTimeRangeException",
        ),
        (json!({"MaxResults": 51}), "InvalidMaxResultsException"),
        (json!({"NextToken": "bm9wZQ"}), "InvalidNextTokenException"),
        (json!({"StartTime": "soon"}), "SerializationException"),
    ] {
        let r = lookup(&server, body.clone()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json()["__type"], code, "{body}");
    }
    // A token only works with the parameters it was issued for.
    let client = server.client();
    for _ in 0..3 {
        let _ = client.list_secrets().send().await.unwrap();
    }
    let r = lookup(&server, json!({"MaxResults": 1})).await;
    let token = r.json()["NextToken"].as_str().unwrap().to_string();
    let r = lookup(&server, json!({"MaxResults": 1, "NextToken": token})).await;
    assert_eq!(r.status, 200);
    let r = lookup(&server, json!({"StartTime": 1, "NextToken": token})).await;
    assert_eq!(r.json()["__type"], "InvalidNextTokenException");
    // Signed for secretsmanager instead of cloudtrail: refused, and recorded.
    let r = server
        .raw_with(Some(LOOKUP), b"{}", &Signing::default())
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "InvalidSignatureException");
}

#[tokio::test]
async fn batch_get_logs_one_get_secret_value_per_secret() {
    let server = start().await;
    let client = server.client();
    let a = unique("batch-a");
    let b = unique("batch-b");
    for n in [&a, &b] {
        client
            .create_secret()
            .name(n)
            .secret_string("v")
            .send()
            .await
            .unwrap();
    }
    client
        .batch_get_secret_value()
        .secret_id_list(&a)
        .secret_id_list(&b)
        .send()
        .await
        .unwrap();
    let batch = events(&server, by_name("BatchGetSecretValue")).await;
    assert_eq!(batch.len(), 1);
    let gets = events(&server, by_name("GetSecretValue")).await;
    assert_eq!(gets.len(), 2);
    let request_id = record(&batch[0])["requestID"].clone();
    for g in &gets {
        let r = record(g);
        assert_eq!(r["requestID"], request_id);
        assert_eq!(r["responseElements"], Value::Null);
        assert!(
            r["requestParameters"]["secretId"]
                .as_str()
                .unwrap()
                .starts_with("arn:aws:secretsmanager:")
        );
    }
}

#[tokio::test]
async fn authentication_failures_are_recorded() {
    let server = start().await;
    let signing = Signing {
        access_key: "AKIAFORGEDFORGED0000",
        secret_key: "wrong",
        ..Signing::default()
    };
    let r = server
        .raw_with(
            Some("secretsmanager.GetSecretValue"),
            br#"{"SecretId":"x"}"#,
            &signing,
        )
        .await;
    assert_eq!(r.status, 400);
    let key = json!([{"AttributeKey": "AccessKeyId", "AttributeValue": "AKIAFORGEDFORGED0000"}]);
    let found = events(&server, key).await;
    assert_eq!(found.len(), 1);
    let r = record(&found[0]);
    assert_eq!(
        r["userIdentity"],
        json!({"type": "Unknown", "accessKeyId": "AKIAFORGEDFORGED0000"})
    );
    assert_eq!(r["errorCode"], "UnrecognizedClientException");
    assert_eq!(r["requestParameters"], Value::Null);
    assert_eq!(r["recipientAccountId"], ACCOUNT);

    // An unsigned STS call is STS's event, though its scope never verified.
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    headers.insert("host", server.addr.to_string().parse().unwrap());
    let form = b"Action=GetCallerIdentity&Version=2011-06-15";
    let r = server.send("POST", "/", &headers, form).await;
    assert_eq!(r.status, 403);
    let found = events(&server, by_name("GetCallerIdentity")).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["EventSource"], "sts.amazonaws.com");
}

fn strongbox(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strongbox"))
        .args(args)
        .output()
        .expect("run strongbox");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn verify(dir: &Path) -> (i32, String) {
    let (code, stdout, stderr) =
        strongbox(&["audit", "verify", "--data-dir", dir.to_str().unwrap()]);
    (code, format!("{stdout}{stderr}"))
}

/// A server with six events: CreateSecret then five GetSecretValue.
async fn server_with_events() -> TestServer {
    let server = start().await;
    let client = server.client();
    let name = unique("chain");
    client
        .create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    for _ in 0..5 {
        client
            .get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .unwrap();
    }
    server
}

/// The first segment of the durable log: every test server's events are in it.
fn segment_path(server: &TestServer) -> PathBuf {
    server.dir.path().join("audit").join("log-000001.jsonl")
}

/// The lookup index, derived from the segments by the server's indexer.
fn index_db(server: &TestServer) -> Connection {
    Connection::open(server.dir.path().join("audit").join("index.db")).unwrap()
}

/// Waits until the indexer has caught up with `events` events, so that what `strongbox audit
/// verify` compares the records with does not change under the test.
async fn wait_indexed(server: &TestServer, events: i64) {
    let db = index_db(server);
    for _ in 0..500 {
        let indexed: i64 = db
            .query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))
            .unwrap();
        if indexed >= events {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the audit index never reached seq {events}");
}

/// The complete lines of a segment, without their newlines: the current segment is zero-filled
/// ahead of its data, and what follows the last newline is that fill, not a line.
fn segment_lines(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    assert!(
        bytes[end..].iter().all(|&b| b == 0),
        "only zero fill follows the last line"
    );
    String::from_utf8(bytes[..end].to_vec())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Writes `lines` back as the whole segment (without the zero fill, which readers ignore).
fn write_segment(path: &Path, lines: &[String]) {
    let mut out = String::new();
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

/// One event line, taken apart by hand (the test does not trust the server's parser).
struct EventLine {
    seq: i64,
    prev_hash: String,
    hash: String,
    /// The record exactly as hashed: the bytes after `"record":` up to the line's closing `}`.
    record: String,
}

impl EventLine {
    /// `None` for a digest line.
    fn parse(line: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(line).expect("every line is JSON");
        if value.get("digest").is_some() {
            return None;
        }
        // The writer puts seq, prevHash and hash (hex, no quotes or commas) before the record.
        const KEY: &str = ",\"record\":";
        let start = line.find(KEY).expect("an event line has a record") + KEY.len();
        let record = line[start..line.len() - 1].to_string();
        assert_eq!(
            serde_json::from_str::<Value>(&record).unwrap(),
            value["record"]
        );
        Some(Self {
            seq: value["seq"].as_i64().unwrap(),
            prev_hash: value["prevHash"].as_str().unwrap().to_string(),
            hash: value["hash"].as_str().unwrap().to_string(),
            record,
        })
    }

    fn event_id(&self) -> String {
        let record: Value = serde_json::from_str(&self.record).unwrap();
        record["eventID"].as_str().unwrap().to_string()
    }

    /// The line, as the server writes it.
    fn line(&self) -> String {
        format!(
            "{{\"seq\":{},\"prevHash\":\"{}\",\"hash\":\"{}\",\"record\":{}}}",
            self.seq, self.prev_hash, self.hash, self.record
        )
    }
}

/// The index in `lines` of the line of event `seq` (digest lines are skipped).
fn line_of(lines: &[String], seq: i64) -> usize {
    lines
        .iter()
        .position(|l| EventLine::parse(l).is_some_and(|e| e.seq == seq))
        .unwrap_or_else(|| panic!("no line for seq {seq}"))
}

fn event_at(lines: &[String], seq: i64) -> EventLine {
    EventLine::parse(&lines[line_of(lines, seq)]).unwrap()
}

/// A server with the six events of [`server_with_events`], indexed, and its segment's lines.
async fn tamperable() -> (TestServer, PathBuf, Vec<String>) {
    let server = server_with_events().await;
    wait_indexed(&server, 6).await;
    let path = segment_path(&server);
    let lines = segment_lines(&path);
    let mut events = Vec::new();
    for line in &lines {
        if let Some(e) = EventLine::parse(line) {
            // Taken apart and put back together, a line is unchanged.
            assert_eq!(&e.line(), line);
            events.push(e.seq);
        }
    }
    assert_eq!(events, [1, 2, 3, 4, 5, 6]);
    // With the test defaults (a digest every 1000 events or 60 s) no digest is among these
    // lines; the tampering below goes by sequence number, so one would be left in place.
    (server, path, lines)
}

#[tokio::test]
async fn verify_passes_then_names_each_kind_of_tampering() {
    // Untouched.
    let (server, path, lines) = tamperable().await;
    let (code, out) = verify(server.dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("audit log OK: 6 events (seq 1..=6)"),
        "{out}"
    );

    // Altered: the record changed, its hash not.
    let mut tampered = lines.clone();
    let at = line_of(&tampered, 3);
    let id = event_at(&tampered, 3).event_id();
    assert!(tampered[at].contains("\"readOnly\":true"));
    tampered[at] = tampered[at].replace("\"readOnly\":true", "\"readOnly\":false");
    write_segment(&path, &tampered);
    let (code, out) = verify(server.dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("was altered") && out.contains(&id), "{out}");

    // Removed.
    let (server, path, mut lines) = tamperable().await;
    let next = event_at(&lines, 5).event_id();
    lines.remove(line_of(&lines, 4));
    write_segment(&path, &lines);
    let (code, out) = verify(server.dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("events seq 4..=4 were removed") && out.contains(&next),
        "{out}"
    );

    // Inserted after seq 3, with a correctly chained hash, the rest renumbered.
    let (server, path, mut lines) = tamperable().await;
    let third = event_at(&lines, 3);
    let record = third.record.replace(&third.event_id(), "forged-event-id");
    let mut h = ring::digest::Context::new(&ring::digest::SHA256);
    h.update(&hex::decode(&third.hash).unwrap());
    h.update(record.as_bytes());
    let forged = EventLine {
        seq: 4,
        prev_hash: third.hash.clone(),
        hash: hex::encode(h.finish().as_ref()),
        record,
    };
    for line in lines.iter_mut() {
        if let Some(mut e) = EventLine::parse(line)
            && e.seq > 3
        {
            e.seq += 1;
            *line = e.line();
        }
    }
    let at = line_of(&lines, 3) + 1;
    lines.insert(at, forged.line());
    write_segment(&path, &lines);
    // The index still describes the real seq 4: the forged event does not match it.
    let (code, out) = verify(server.dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("forged-event-id"), "{out}");
    // Forged in the index too (renumbered, and a row for the forged event), the chain
    // still gives it away.
    let db = index_db(&server);
    for table in ["events", "event_resources"] {
        db.execute(&format!("UPDATE {table} SET seq = -seq WHERE seq > 3"), [])
            .unwrap();
        db.execute(
            &format!("UPDATE {table} SET seq = 1 - seq WHERE seq < 0"),
            [],
        )
        .unwrap();
    }
    db.execute(
        "INSERT INTO events(seq, segment, offset, length, event_id, time_ms, account_id,
            event_source, event_name, username, principal_arn, access_key_id, read_only,
            error_code)
         SELECT 4, segment, offset, length, 'forged-event-id', time_ms, account_id,
            event_source, event_name, username, principal_arn, access_key_id, read_only,
            error_code
         FROM events WHERE seq = 3",
        [],
    )
    .unwrap();
    db.execute(
        "INSERT INTO event_resources(name, seq, type)
         SELECT name, 4, type FROM event_resources WHERE seq = 3",
        [],
    )
    .unwrap();
    let (code, out) = verify(server.dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("was inserted") && out.contains("forged-event-id"),
        "{out}"
    );

    // Reordered.
    let (server, path, mut lines) = tamperable().await;
    let moved = event_at(&lines, 5).event_id();
    let (four, five) = (line_of(&lines, 4), line_of(&lines, 5));
    lines.swap(four, five);
    write_segment(&path, &lines);
    let (code, out) = verify(server.dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("was reordered") && out.contains(&moved),
        "{out}"
    );
}
#[tokio::test]
async fn lookup_and_export_commands() {
    let server = server_with_events().await;
    let client = server.client();
    let _ = client.describe_secret().secret_id("missing").send().await;
    let dir = server.dir.path().to_str().unwrap().to_string();
    let lines = |s: &str| -> Vec<Value> {
        s.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (code, out, err) = strongbox(&[
        "audit",
        "lookup",
        "--data-dir",
        &dir,
        "--event-name",
        "GetSecretValue",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines(&out).len(), 5);
    let (_, out, _) = strongbox(&["audit", "lookup", "--data-dir", &dir, "--errors-only"]);
    let errors = lines(&out);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["eventName"], "DescribeSecret");
    let (_, out, _) = strongbox(&[
        "audit",
        "lookup",
        "--data-dir",
        &dir,
        "--user",
        &format!("arn:aws:iam::{ACCOUNT}:root"),
        "--limit",
        "2",
    ]);
    assert_eq!(lines(&out).len(), 2);
    let (_, out, _) = strongbox(&[
        "audit",
        "lookup",
        "--data-dir",
        &dir,
        "--start",
        "2000-01-01T00:00:00Z",
        "--end",
        "2001-01-01T00:00:00Z",
    ]);
    assert!(out.is_empty());

    let file = server.dir.path().join("export.jsonl");
    let (code, _, err) = strongbox(&[
        "audit",
        "export",
        "--data-dir",
        &dir,
        "--output",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let exported = lines(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(exported.len(), 7);
    assert_eq!(exported[0]["eventName"], "CreateSecret");
    let (_, out, _) = strongbox(&["audit", "export", "--data-dir", &dir, "--after-seq", "5"]);
    assert_eq!(lines(&out).len(), 2);
}

#[tokio::test]
async fn a_failed_audit_append_fails_the_request_without_the_secret() {
    captured_logs();
    let fail_writes = Arc::new(AtomicBool::new(false));
    let switch = fail_writes.clone();
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |config| {
        config.audit.fail_writes = switch;
    })
    .await;
    let name = unique("blocked");
    server
        .client()
        .create_secret()
        .name(&name)
        .secret_string("do-not-send-me")
        .send()
        .await
        .unwrap();
    // Every write to the log fails from here on, as on a full or failing disk.
    fail_writes.store(true, Ordering::SeqCst);
    let body = json!({"SecretId": name}).to_string();
    let r = server.raw("secretsmanager.GetSecretValue", &body).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.json(),
        json!({"__type": "InternalServiceError",
               "Message": "An error occurred on the server side."})
    );
    assert!(!String::from_utf8_lossy(&r.body).contains("do-not-send-me"));
    let ready = server.send("GET", "/ready", &HeaderMap::new(), b"").await;
    assert_eq!(ready.status, 503);
    fail_writes.store(false, Ordering::SeqCst);
    let r = server.raw("secretsmanager.GetSecretValue", &body).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["SecretString"], "do-not-send-me");
    let ready = server.send("GET", "/ready", &HeaderMap::new(), b"").await;
    assert_eq!(
        (ready.status, ready.body.as_slice()),
        (200, b"ready\n".as_slice())
    );
    let metrics = server.send("GET", "/metrics", &HeaderMap::new(), b"").await;
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(
        text.contains("strongbox_audit_failures_total 1\n"),
        "{text}"
    );
    assert!(text.contains(
        "strongbox_requests_total{operation=\"GetSecretValue\",outcome=\"InternalServiceError\"} 1\n"
    ));
    let (code, out) = verify(server.dir.path());
    assert_eq!(code, 0, "{out}");
}

#[tokio::test]
async fn metrics_and_readiness() {
    let server = start().await;
    let client = server.client();
    let name = unique("metered");
    client
        .create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let _ = client.get_secret_value().secret_id("nope").send().await;
    // Another account's root, without a resource policy: AccessDeniedException on the wire
    // (CloudTrail's errorCode is AccessDenied), and the metrics count the wire's code.
    let arn = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let (id, secret) = server.create_account("222222222222").await;
    let stranger = server.client_with("us-east-1", &id, &secret);
    let _ = stranger.describe_secret().secret_id(&arn).send().await;
    let r = server.send("GET", "/metrics", &HeaderMap::new(), b"").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = String::from_utf8(r.body).unwrap();
    for line in [
        "strongbox_requests_total{operation=\"GetSecretValue\",outcome=\"success\"} 1\n",
        "strongbox_requests_total{operation=\"GetSecretValue\",outcome=\"ResourceNotFoundException\"} 1\n",
        "strongbox_requests_total{operation=\"DescribeSecret\",outcome=\"AccessDeniedException\"} 1\n",
        "strongbox_request_duration_seconds_count{operation=\"GetSecretValue\"} 2\n",
        "strongbox_secrets 1\n",
        "strongbox_secret_versions 1\n",
        "strongbox_audit_events_total 5\n",
        "strongbox_audit_queue_depth 0\n",
        "strongbox_store_up 1\n",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    for name in [
        "strongbox_audit_commit_duration_seconds_bucket",
        "strongbox_background_job_runs_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_cpu_seconds_total",
        "process_start_time_seconds",
    ] {
        assert!(text.contains(name), "{name}");
    }
    let r = server.send("GET", "/ready", &HeaderMap::new(), b"").await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"ready\n".as_slice()));
    let r = server.send("GET", "/health", &HeaderMap::new(), b"").await;
    assert_eq!(r.status, 200);
}

/// Signs and sends an IAM Query-protocol call as the bootstrap admin.
async fn iam(server: &TestServer, form: &str) -> RawResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8"
            .parse()
            .unwrap(),
    );
    let host = server.addr.to_string();
    headers.insert("host", host.parse().unwrap());
    sign_headers(
        &SigningParams {
            access_key_id: common::ACCESS_KEY,
            secret_access_key: common::SECRET_KEY,
            session_token: None,
            region: "us-east-1",
            service: "iam",
            time: server.clock.now_millis(),
        },
        "POST",
        &host,
        "/",
        "",
        &mut headers,
        form.as_bytes(),
    )
    .unwrap();
    server.send("POST", "/", &headers, form.as_bytes()).await
}

fn xml_text(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap() + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>")).unwrap();
    xml[start..end].to_string()
}

/// Every byte of every file the audit log keeps in the data directory `dir`: `audit.db` (the
/// wrapped signing key) with its WAL and shared-memory files, and everything under `audit/`
/// (the segments, any torn tail set aside, and the index with its WAL and shared memory).
fn audit_files_bytes(dir: &Path) -> Vec<u8> {
    fn all_under(dir: &Path, out: &mut Vec<u8>, files: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                all_under(&path, out, files);
            } else {
                out.extend(std::fs::read(&path).unwrap());
                files.push(path.display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with("audit.db") {
            out.extend(std::fs::read(entry.path()).unwrap());
            files.push(entry.path().display().to_string());
        }
    }
    all_under(&dir.join("audit"), &mut out, &mut files);
    for expected in ["audit.db", "audit/log-000001.jsonl", "audit/index.db"] {
        assert!(
            files.iter().any(|f| f.ends_with(expected)),
            "{expected} is among the audit files scanned: {files:?}"
        );
    }
    out
}

#[tokio::test]
async fn secrets_never_reach_logs_audit_or_metrics() {
    let logs = captured_logs();
    let server = start().await;
    // The generated admin key: its secret is the one every other test never sees.
    let credentials = std::fs::read_to_string(server.dir.path().join("credentials")).unwrap();
    let field = |key: &str| -> String {
        credentials
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim_start_matches([' ', '=']).trim().to_string())
            .unwrap()
    };
    let admin_id = field("aws_access_key_id");
    let admin_secret = field("aws_secret_access_key");
    let client = server.client_with("us-east-1", &admin_id, &admin_secret);

    let tag = uuid::Uuid::new_v4().simple().to_string();
    let value = format!("value-{tag}");
    let updated = format!("updated-{tag}");
    let rejected = format!("rejected-{tag}");
    let unsigned = format!("unsigned-{tag}");
    let binary: Vec<u8> = format!("binary-{tag}").into_bytes();
    let name = unique("leak");

    let created = client
        .create_secret()
        .name(&name)
        .secret_string(&value)
        .send()
        .await
        .unwrap();
    client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    client
        .put_secret_value()
        .secret_id(&name)
        .secret_binary(Blob::new(binary.clone()))
        .send()
        .await
        .unwrap();
    client
        .get_secret_value()
        .secret_id(&name)
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    client
        .batch_get_secret_value()
        .secret_id_list(&name)
        .send()
        .await
        .unwrap();
    client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    client.list_secrets().send().await.unwrap();
    client
        .list_secret_version_ids()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    client
        .update_secret()
        .secret_id(&name)
        .secret_string(&updated)
        .send()
        .await
        .unwrap();
    client
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("custom")
        .move_to_version_id(created.version_id().unwrap())
        .send()
        .await
        .unwrap();
    client
        .tag_resource()
        .secret_id(&name)
        .tags(
            aws_sdk_secretsmanager::types::Tag::builder()
                .key("k")
                .value("v")
                .build(),
        )
        .send()
        .await
        .unwrap();
    client
        .untag_resource()
        .secret_id(&name)
        .tag_keys("k")
        .send()
        .await
        .unwrap();
    let password = client
        .get_random_password()
        .password_length(40)
        .send()
        .await
        .unwrap()
        .random_password()
        .unwrap()
        .to_string();
    // A rejected write (the name is taken) and a request with a bad signature both carry a
    // secret value in their bodies.
    let dup = client
        .create_secret()
        .name(&name)
        .secret_string(&rejected)
        .send()
        .await;
    assert!(dup.is_err());
    let bad = Signing {
        secret_key: "wrong",
        ..Signing::default()
    };
    let body = json!({"Name": unique("x"), "SecretString": unsigned}).to_string();
    let r = server
        .raw_with(Some("secretsmanager.CreateSecret"), body.as_bytes(), &bad)
        .await;
    assert_eq!(r.status, 400);
    client
        .delete_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    client
        .restore_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    // IAM hands out a secret access key: it must not be logged or audited either.
    let user = format!("leak{}", &tag[..8]);
    let r = iam(
        &server,
        &format!("Action=CreateUser&Version=2010-05-08&UserName={user}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = iam(
        &server,
        &format!("Action=CreateAccessKey&Version=2010-05-08&UserName={user}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let iam_secret = xml_text(&String::from_utf8_lossy(&r.body), "SecretAccessKey");
    assert_eq!(iam_secret.len(), 40);

    // Every call was audited.
    let r = lookup(&server, json!({"MaxResults": 50})).await;
    let recorded: Vec<String> = r.json()["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventName"].as_str().unwrap().to_string())
        .collect();
    for op in [
        "CreateSecret",
        "GetSecretValue",
        "PutSecretValue",
        "BatchGetSecretValue",
        "DescribeSecret",
        "ListSecrets",
        "ListSecretVersionIds",
        "UpdateSecret",
        "UpdateSecretVersionStage",
        "TagResource",
        "UntagResource",
        "GetRandomPassword",
        "DeleteSecret",
        "RestoreSecret",
        "CreateUser",
        "CreateAccessKey",
    ] {
        assert!(recorded.iter().any(|r| r == op), "{op} not audited");
    }

    let metrics = server.send("GET", "/metrics", &HeaderMap::new(), b"").await;
    let audit = audit_files_bytes(server.dir.path());
    let logs = logs.lock().unwrap().clone();
    assert!(
        String::from_utf8_lossy(&logs).contains(&admin_id),
        "the capture works: the access key id is logged"
    );
    for audited in [admin_id.as_bytes(), name.as_bytes(), user.as_bytes()] {
        assert!(
            audit.windows(audited.len()).any(|w| w == audited),
            "the scan works: {} is in the audit files",
            String::from_utf8_lossy(audited)
        );
    }
    use base64::Engine;
    let binary_b64 = base64::engine::general_purpose::STANDARD.encode(&binary);
    for (what, secret) in [
        ("secret string", value.as_bytes()),
        ("updated secret string", updated.as_bytes()),
        ("rejected secret string", rejected.as_bytes()),
        ("unauthenticated secret string", unsigned.as_bytes()),
        ("secret binary", binary.as_slice()),
        ("secret binary (base64)", binary_b64.as_bytes()),
        ("random password", password.as_bytes()),
        ("admin secret access key", admin_secret.as_bytes()),
        ("IAM secret access key", iam_secret.as_bytes()),
    ] {
        for (place, haystack) in [
            ("logs", logs.as_slice()),
            ("audit log", audit.as_slice()),
            ("metrics", metrics.body.as_slice()),
        ] {
            assert!(
                !haystack.windows(secret.len()).any(|w| w == secret),
                "the {what} is in the {place}"
            );
        }
    }
}

#[tokio::test]
async fn json_logs_from_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strongbox"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("STRONGBOX_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("Listening on http://")
        .unwrap()
        .to_string();
    // An unsigned call: answered, audited and logged.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(
            b"POST / HTTP/1.1\r\nhost: x\r\nx-amz-target: secretsmanager.ListSecrets\r\n\
              content-length: 2\r\nconnection: close\r\n\r\n{}",
        )
        .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(response.contains("MissingAuthenticationTokenException"));
    // Stopped as an operator stops it (SIGTERM): log lines are written in batches, and a
    // graceful stop writes out the last of them.
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("every log line is JSON"))
        .find(|v| v["fields"]["message"] == "request")
        .expect("a request line");
    assert_eq!(line["fields"]["operation"], "ListSecrets");
    assert_eq!(line["fields"]["status"], 400);
    assert!(line["fields"]["request_id"].as_str().unwrap().len() == 36);
    assert!(line["fields"]["latency_us"].is_u64());
    let (code, out) = verify(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 events"), "{out}");
}

#[tokio::test]
async fn a_second_server_on_the_same_data_directory_refuses_to_start() {
    let server = start().await;
    let client = server.client();
    client
        .create_secret()
        .name(unique("one-writer"))
        .secret_string("v")
        .send()
        .await
        .unwrap();
    let mut config = strongbox::server::ServerConfig::new(server.dir.path());
    config.account_id = Some(ACCOUNT.into());
    let second = strongbox::server::Server::open(config, Arc::new(server.clock.clone())).await;
    let Err(err) = second else {
        panic!("a second server opened the data directory");
    };
    assert!(
        err.to_string()
            .contains("is in use by another Strongbox process"),
        "{err}"
    );
    // The first one is unharmed, and once it stops the directory opens again.
    client.list_secrets().send().await.unwrap();
    let restarted = TestServer::start_in(server.stop().await).await;
    assert_eq!(
        restarted
            .client()
            .list_secrets()
            .send()
            .await
            .unwrap()
            .secret_list()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_server_that_cannot_listen_leaves_no_data_directory() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let (code, _, stderr) = strongbox(&[
        "serve",
        "--listen",
        &addr,
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&addr), "{stderr}");
    assert!(!dir.exists(), "a data directory was created");
}

/// Four openers racing on a new data directory (as four `serve` processes started at once
/// would) initialise it once: one root key, one account. Each opener has its own runtime and
/// its own file handles, so the init lock (a file lock) is contended as between processes.
#[test]
fn openers_racing_on_a_new_data_directory_initialise_it_once() {
    for _ in 0..3 {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(async {
                        let source = strongbox::server::RootKeySource::InDataDir;
                        let (data, _) = strongbox::server::DataDir::open(
                            &dir,
                            None,
                            &source,
                            &strongbox::clock::SystemClock,
                        )
                        .await
                        .expect("open the data directory");
                        data.account_id
                    })
                })
            })
            .collect();
        let accounts: Vec<String> = openers.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(accounts.iter().all(|a| a == &accounts[0]), "{accounts:?}");
        // And the directory they made is one that offline administration then opens.
        let (code, stdout, stderr) =
            strongbox(&["account", "list", "--data-dir", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout.trim(), accounts[0]);
    }
}
