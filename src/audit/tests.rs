//! The audit log end to end below the front end: appends, digests, tamper detection, pruning,
//! lookups and failure handling.

use std::sync::Arc;

use rusqlite::{Connection, params};

use super::chain::event_hash;
use super::record::tests::entry;
use super::segment::Entry;
use super::verify::Finding;
use super::*;
use crate::clock::ManualClock;

const T0: i64 = 1_700_000_000_000;

struct Fixture {
    dir: tempfile::TempDir,
    root: RootKey,
    clock: ManualClock,
    log: AuditLog,
}

fn root_key() -> RootKey {
    RootKey::from_hex(&"ab".repeat(32)).unwrap()
}

fn open(config: AuditConfig) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let root = root_key();
    let log = AuditLog::open(dir.path(), &root, Arc::new(clock.clone()), config).unwrap();
    Fixture {
        dir,
        root,
        clock,
        log,
    }
}

fn config(digest_every: u64) -> AuditConfig {
    AuditConfig {
        digest_every_events: digest_every,
        ..AuditConfig::default()
    }
}

impl Fixture {
    /// Appends `n` events, one second apart, named `Op1`, `Op2`, ...
    async fn append(&self, n: usize) {
        for i in 0..n {
            let mut e = entry(&format!("Op{i}"), self.clock.now_millis());
            e.request_id = format!("req-{i}");
            self.log.append(&e).await.unwrap();
            self.clock.advance(1000);
        }
    }

    fn verify(&self) -> Result<verify::Summary, Finding> {
        verify_log(self.dir.path(), &self.root)
    }

    fn segment_path(&self, n: u32) -> std::path::PathBuf {
        self.dir.path().join(LOG_DIR).join(segment::segment_name(n))
    }

    /// The lines of the first segment, without newlines or the zero fill.
    fn lines(&self) -> Vec<String> {
        let bytes = std::fs::read(self.segment_path(1)).unwrap();
        segment::lines(&bytes, 0)
            .map(|(_, l)| String::from_utf8(l.to_vec()).unwrap())
            .collect()
    }

    /// Replaces the first segment's contents with `lines`.
    fn write_lines(&self, lines: &[String]) {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(self.segment_path(1), text).unwrap();
    }

    /// The index of event `seq`'s line in [`Self::lines`].
    fn line_of(&self, seq: i64) -> usize {
        self.lines()
            .iter()
            .position(|l| l.starts_with(&format!("{{\"seq\":{seq},")))
            .unwrap()
    }

    fn event_id(&self, seq: i64) -> String {
        let lines = self.lines();
        let (_, _, _, record) = parsed(&lines[self.line_of(seq)]);
        let v: serde_json::Value = serde_json::from_str(&record).unwrap();
        v["eventID"].as_str().unwrap().to_string()
    }

    /// Waits until the index holds every event appended so far.
    async fn indexed(&self) {
        self.log.query(EventQuery::default()).await.unwrap();
    }

    fn index_db(&self) -> Connection {
        Connection::open(self.dir.path().join(LOG_DIR).join(index::INDEX_FILE)).unwrap()
    }
}

/// An event line's seq, previous hash, hash and record.
fn parsed(line: &str) -> (i64, [u8; 32], [u8; 32], String) {
    let Some(Entry::Event(e)) = segment::parse_line(line.as_bytes()) else {
        panic!("not an event: {line}");
    };
    (e.seq, e.prev_hash, e.hash, e.record.to_string())
}

/// The line with its seq moved by `by` if it is at least `from`.
fn renumber(line: &str, by: i64, from: i64) -> String {
    let Some(Entry::Event(e)) = segment::parse_line(line.as_bytes()) else {
        return line.to_string();
    };
    if e.seq < from {
        return line.to_string();
    }
    line.replacen(
        &format!("{{\"seq\":{},", e.seq),
        &format!("{{\"seq\":{},", e.seq + by),
        1,
    )
}

fn named(f: &Finding) -> i64 {
    match f {
        Finding::Altered(e)
        | Finding::AlteredColumn(e, _)
        | Finding::Inserted(e)
        | Finding::Reordered(e)
        | Finding::Unanchored(e)
        | Finding::Removed { before: e, .. } => e.seq,
        Finding::Rewritten { event, .. } => event.seq,
        other => panic!("no event named in {other:?}"),
    }
}

use crate::clock::Clock;

#[tokio::test]
async fn appends_chain_and_digest() {
    let f = open(config(3));
    f.append(10).await;
    let summary = f.verify().unwrap();
    assert_eq!(summary.events, 10);
    assert_eq!(summary.range, Some((1, 10)));
    assert_eq!(summary.digests, 3);
    assert_eq!(summary.signed_through, 9);
    assert!(
        summary
            .to_string()
            .contains("1 newest events not yet in a digest")
    );
    assert!(f.log.digest_now().await.unwrap());
    assert!(!f.log.digest_now().await.unwrap());
    assert_eq!(f.verify().unwrap().signed_through, 10);
    assert_eq!(
        f.log
            .stats()
            .events
            .load(std::sync::atomic::Ordering::Relaxed),
        10
    );
    assert_eq!(
        f.log
            .stats()
            .queue_depth
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    // The signing key is stored wrapped: its PKCS#8 bytes never appear in the file.
    let keys = Connection::open(f.dir.path().join(AUDIT_FILE)).unwrap();
    let pkcs8 = storage::load_signing_key(&keys, &f.root).unwrap().unwrap();
    let bytes = std::fs::read(f.dir.path().join(AUDIT_FILE)).unwrap();
    assert!(!bytes.windows(pkcs8.len()).any(|w| w == pkcs8.as_slice()));
}

#[tokio::test]
async fn chain_survives_reopen() {
    let f = open(config(4));
    f.append(5).await;
    drop(f.log);
    let log = AuditLog::open(f.dir.path(), &f.root, Arc::new(f.clock.clone()), config(4)).unwrap();
    log.append(&entry("After", T0)).await.unwrap();
    let f = Fixture { log, ..f };
    assert_eq!(f.verify().unwrap().events, 6);
}

#[tokio::test]
async fn a_second_writer_is_refused_until_the_first_closes() {
    let f = open(config(4));
    f.append(2).await;
    let second = AuditLog::open(f.dir.path(), &f.root, Arc::new(f.clock.clone()), config(4));
    let Err(AuditError::Storage(message)) = second else {
        panic!("a second writer opened the log");
    };
    assert!(
        message.contains("in use by another Strongbox process"),
        "{message}"
    );
    f.log.close().await.unwrap();
    let log = AuditLog::open(f.dir.path(), &f.root, Arc::new(f.clock.clone()), config(4)).unwrap();
    log.append(&entry("After", T0)).await.unwrap();
    let f = Fixture { log, ..f };
    assert_eq!(f.verify().unwrap().events, 3);
}

#[tokio::test]
async fn a_clean_close_signs_the_tail() {
    let f = open(config(100));
    f.append(3).await;
    assert_eq!(f.verify().unwrap().signed_through, 0);
    f.log.close().await.unwrap();
    let summary = f.verify().unwrap();
    assert_eq!((summary.events, summary.signed_through), (3, 3));
    assert!(matches!(
        f.log.append(&entry("Late", T0)).await,
        Err(AuditError::Closed)
    ));
}

#[tokio::test]
async fn concurrent_appends_all_land_in_one_chain() {
    let f = open(config(1000));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let log = f.log.clone();
        tasks.spawn(async move { log.append(&entry(&format!("Op{i}"), T0)).await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    assert_eq!(f.verify().unwrap().events, 200);
    let batches = f
        .log
        .stats()
        .batches
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!((1..=200).contains(&batches));
}

#[tokio::test]
async fn wrong_root_key_cannot_verify_or_open() {
    let f = open(config(2));
    f.append(2).await;
    let other = RootKey::from_hex(&"cd".repeat(32)).unwrap();
    let err = verify_log(f.dir.path(), &other).unwrap_err();
    assert!(matches!(err, Finding::Unreadable(_)), "{err}");
    f.log.close().await.unwrap();
    let reopened = AuditLog::open(f.dir.path(), &other, Arc::new(f.clock.clone()), config(2));
    assert!(matches!(reopened, Err(AuditError::Crypto(_))));
}

#[tokio::test]
async fn detects_an_altered_record() {
    let f = open(config(100));
    f.append(8).await;
    let mut lines = f.lines();
    let i = f.line_of(4);
    lines[i] = lines[i].replace("req-3", "req-X");
    f.write_lines(&lines);
    let finding = f.verify().unwrap_err();
    assert!(matches!(finding, Finding::Altered(_)), "{finding}");
    assert_eq!(named(&finding), 4);
    assert!(finding.to_string().contains(&f.event_id(4)));
}

#[tokio::test]
async fn detects_a_malformed_line() {
    let f = open(config(100));
    f.append(3).await;
    let mut lines = f.lines();
    let i = f.line_of(2);
    lines[i].truncate(40);
    f.write_lines(&lines);
    let finding = f.verify().unwrap_err();
    assert_eq!(
        finding,
        Finding::Malformed {
            file: "log-000001.jsonl".into(),
            line: 2,
            seq: Some(2)
        }
    );
    assert!(
        finding
            .to_string()
            .contains("line 2 of log-000001.jsonl (seq 2)")
    );
}

#[tokio::test]
async fn detects_an_altered_lookup_column() {
    let f = open(config(100));
    f.append(5).await;
    f.indexed().await;
    let db = f.index_db();
    db.execute("UPDATE events SET event_name = 'Hidden' WHERE seq = 2", [])
        .unwrap();
    let finding = f.verify().unwrap_err();
    assert!(
        matches!(finding, Finding::AlteredColumn(_, "event_name")),
        "{finding}"
    );
    assert_eq!(named(&finding), 2);
    db.execute("UPDATE events SET event_name = 'Op1' WHERE seq = 2", [])
        .unwrap();
    db.execute("DELETE FROM event_resources WHERE seq = 3", [])
        .unwrap();
    let finding = f.verify().unwrap_err();
    assert!(
        matches!(finding, Finding::AlteredColumn(_, "event_resources")),
        "{finding}"
    );
    // The index is derived: deleting it loses nothing, and the next open rebuilds it.
    drop(db);
    let dir = f.dir.path().join(LOG_DIR);
    for file in ["index.db", "index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(dir.join(file));
    }
    assert_eq!(f.verify().unwrap().events, 5);
}

#[tokio::test]
async fn detects_a_removed_event() {
    let f = open(config(100));
    f.append(8).await;
    let mut lines = f.lines();
    lines.remove(f.line_of(5));
    f.write_lines(&lines);
    let finding = f.verify().unwrap_err();
    assert!(
        matches!(
            finding,
            Finding::Removed {
                missing: Some((5, 5)),
                ..
            }
        ),
        "{finding}"
    );
    assert_eq!(named(&finding), 6);
}

#[tokio::test]
async fn detects_removal_with_renumbering() {
    let f = open(config(100));
    f.append(8).await;
    let mut lines = f.lines();
    lines.remove(f.line_of(5));
    let lines: Vec<String> = lines.iter().map(|l| renumber(l, -1, 5)).collect();
    f.write_lines(&lines);
    let finding = f.verify().unwrap_err();
    assert!(
        matches!(finding, Finding::Removed { missing: None, .. }),
        "{finding}"
    );
    assert_eq!(named(&finding), 5);
}

#[tokio::test]
async fn detects_removed_first_events_and_tail() {
    let f = open(config(3));
    f.append(8).await;
    let mut lines = f.lines();
    lines.drain(..f.line_of(3));
    f.write_lines(&lines);
    let finding = f.verify().unwrap_err();
    assert!(matches!(finding, Finding::Unanchored(_)), "{finding}");
    assert_eq!(named(&finding), 3);

    // Events 5 and 6 go, the digest of 4..=6 after them stays.
    let f = open(config(3));
    f.append(8).await;
    let mut lines = f.lines();
    lines.drain(f.line_of(5)..=f.line_of(6));
    f.write_lines(&lines);
    let finding = f.verify().unwrap_err();
    assert!(
        matches!(
            finding,
            Finding::TailRemoved {
                last_seq: 4,
                digest_last_seq: 6,
                ..
            }
        ),
        "{finding}"
    );
}

#[tokio::test]
async fn detects_reordered_events() {
    let f = open(config(100));
    f.append(8).await;
    let moved = f.event_id(4);
    let mut lines = f.lines();
    lines.swap(f.line_of(3), f.line_of(4));
    f.write_lines(&lines);
    let finding = f.verify().unwrap_err();
    assert!(matches!(finding, Finding::Reordered(_)), "{finding}");
    assert_eq!(named(&finding), 4);
    assert!(finding.to_string().contains(&moved));
}

#[tokio::test]
async fn detects_an_inserted_event_even_with_a_valid_hash() {
    let f = open(config(100));
    f.append(8).await;
    let mut lines = f.lines();
    let i = f.line_of(4);
    let (_, _, hash4, record) = parsed(&lines[i]);
    let forged = record.replace(&f.event_id(4), "forged-event");
    let forged_hash = event_hash(&hash4, forged.as_bytes());
    let mut line = Vec::new();
    segment::write_event_line(&mut line, 5, &hash4, &forged_hash, &forged);
    let mut renumbered: Vec<String> = lines.iter().map(|l| renumber(l, 1, 5)).collect();
    renumbered.insert(
        i + 1,
        String::from_utf8(line).unwrap().trim_end().to_string(),
    );
    lines = renumbered;
    f.write_lines(&lines);
    let finding = f.verify().unwrap_err();
    assert!(matches!(finding, Finding::Inserted(_)), "{finding}");
    assert_eq!(named(&finding), 5);
    assert!(finding.to_string().contains("forged-event"));
}

#[tokio::test]
async fn detects_a_rewritten_chain_through_the_digest() {
    let f = open(config(4));
    f.append(8).await;
    // Alter event 2 and re-hash everything after it: the chain is self-consistent again, but
    // digest 1 signed the old hash of event 4.
    let mut prev = super::chain::GENESIS;
    let lines: Vec<String> = f
        .lines()
        .into_iter()
        .map(|line| {
            let Some(Entry::Event(e)) = segment::parse_line(line.as_bytes()) else {
                return line;
            };
            let record = if e.seq == 2 {
                e.record.replace("req-1", "req-Z")
            } else {
                e.record.to_string()
            };
            let hash = event_hash(&prev, record.as_bytes());
            let mut out = Vec::new();
            segment::write_event_line(&mut out, e.seq, &prev, &hash, &record);
            prev = hash;
            String::from_utf8(out).unwrap().trim_end().to_string()
        })
        .collect();
    f.write_lines(&lines);
    let finding = f.verify().unwrap_err();
    assert!(
        matches!(finding, Finding::Rewritten { first_seq: 1, .. }),
        "{finding}"
    );
    assert_eq!(named(&finding), 4);
}

#[tokio::test]
async fn detects_tampered_digests() {
    let f = open(config(2));
    f.append(6).await;
    let lines: Vec<String> = f
        .lines()
        .into_iter()
        .map(|l| {
            if l.starts_with("{\"digest\"") && l.contains("\"lastSeq\":4") {
                l.replace("\"lastSeq\":4", "\"lastSeq\":5")
            } else {
                l
            }
        })
        .collect();
    f.write_lines(&lines);
    let finding = f.verify().unwrap_err();
    assert!(
        matches!(&finding, Finding::DigestInvalid { reason, .. } if reason.contains("signature")),
        "{finding}"
    );

    let f = open(config(2));
    f.append(6).await;
    let lines: Vec<String> = f
        .lines()
        .into_iter()
        .filter(|l| !(l.starts_with("{\"digest\"") && l.contains("\"lastSeq\":4")))
        .collect();
    f.write_lines(&lines);
    let finding = f.verify().unwrap_err();
    assert!(
        matches!(&finding, Finding::DigestInvalid { reason, .. } if reason.contains("removed")),
        "{finding}"
    );
}

#[tokio::test]
async fn pruning_keeps_the_rest_verifiable() {
    // A new segment at every digest (every 3 events).
    let f = open(AuditConfig {
        segment_bytes: 1,
        ..config(3)
    });
    f.append(10).await; // times T0 .. T0+9s; segments: 1..=3 | 4..=6 | 7..=9 | 10
    // Keep events from T0+5s: only the first segment is entirely older.
    assert_eq!(f.log.prune_before(T0 + 5_000).await.unwrap(), 3);
    let summary = f.verify().unwrap();
    assert_eq!(summary.range, Some((4, 10)));
    assert_eq!(summary.anchored_after, 3);
    assert!(summary.to_string().contains("pruned"));
    f.append(2).await;
    assert_eq!(f.verify().unwrap().range, Some((4, 12)));
    // Prune everything: the current segment is closed first, and new events still chain on.
    f.clock.advance(60_000);
    assert_eq!(f.log.prune_before(f.clock.now_millis()).await.unwrap(), 9);
    assert_eq!(f.verify().unwrap().range, None);
    f.append(1).await;
    assert_eq!(f.verify().unwrap().range, Some((13, 13)));
    // Nothing to prune; lookups no longer see pruned events.
    assert_eq!(f.log.prune_before(T0).await.unwrap(), 0);
    let seqs: Vec<i64> = f
        .log
        .query(EventQuery::default())
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [13]);
}

#[tokio::test]
async fn recovery_sets_a_torn_write_aside_and_continues_the_chain() {
    let f = open(config(100));
    f.append(3).await;
    f.log.close().await.unwrap();
    // A crash in the middle of a group commit: half a line after the last synced one.
    let path = f.segment_path(1);
    let mut lines = f.lines();
    lines.push("{\"seq\":4,\"prevHash\":\"00".into());
    std::fs::write(&path, lines.join("\n")).unwrap();
    let log = AuditLog::open(
        f.dir.path(),
        &f.root,
        Arc::new(f.clock.clone()),
        config(100),
    )
    .unwrap();
    let f = Fixture { log, ..f };
    f.append(1).await;
    assert_eq!(f.verify().unwrap().range, Some((1, 4)));
    let torn: Vec<_> = std::fs::read_dir(f.dir.path().join(LOG_DIR))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".torn-"))
        .collect();
    assert_eq!(torn.len(), 1);
}

#[tokio::test]
async fn events_from_the_old_single_database_move_into_segments() {
    let f = open(config(2));
    f.append(5).await;
    let expected = f.lines();
    f.log.close().await.unwrap();
    // Rebuild what a data directory from before the segment files held: events and digests
    // in audit.db.
    let db = Connection::open(f.dir.path().join(AUDIT_FILE)).unwrap();
    db.execute_batch(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, event_id TEXT, record TEXT NOT NULL,
             prev_hash BLOB NOT NULL, hash BLOB NOT NULL);
         CREATE TABLE digests (id INTEGER PRIMARY KEY, first_seq INTEGER, last_seq INTEGER,
             payload TEXT NOT NULL, signature BLOB NOT NULL);",
    )
    .unwrap();
    for line in &expected {
        match segment::parse_line(line.as_bytes()).unwrap() {
            Entry::Event(e) => db
                .execute(
                    "INSERT INTO events(seq, record, prev_hash, hash) VALUES (?1, ?2, ?3, ?4)",
                    params![e.seq, e.record, e.prev_hash.as_slice(), e.hash.as_slice()],
                )
                .unwrap(),
            Entry::Digest(d) => db
                .execute(
                    "INSERT INTO digests(first_seq, last_seq, payload, signature)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        d.payload.first_seq,
                        d.payload.last_seq,
                        d.payload_text,
                        d.signature
                    ],
                )
                .unwrap(),
        };
    }
    drop(db);
    std::fs::remove_dir_all(f.dir.path().join(LOG_DIR)).unwrap();
    let log = AuditLog::open(f.dir.path(), &f.root, Arc::new(f.clock.clone()), config(2)).unwrap();
    let f = Fixture { log, ..f };
    assert_eq!(f.lines(), expected);
    f.append(1).await;
    assert_eq!(f.verify().unwrap().range, Some((1, 6)));
    assert_eq!(f.log.query(EventQuery::default()).await.unwrap().len(), 6);
}

#[tokio::test]
async fn lookups_filter_and_page() {
    let f = open(config(100));
    let mut e = entry("GetSecretValue", T0);
    f.log.append(&e).await.unwrap();
    e.event_name = "PutSecretValue".into();
    e.read_only = false;
    e.time = T0 + 10_000;
    e.identity = Identity::Unverified {
        access_key_id: Some("AKIAOTHER".into()),
    };
    e.error = Some(RecordedError::new("AccessDeniedException", None));
    e.resources.clear();
    f.log.append(&e).await.unwrap();
    e.recipient_account_id = "999999999999".into();
    f.log.append(&e).await.unwrap();

    let q = |attributes: Vec<Attribute>| EventQuery {
        account_id: Some("123456789012".into()),
        attributes,
        ..EventQuery::default()
    };
    let names = |events: Vec<StoredEvent>| -> Vec<String> {
        events.into_iter().map(|e| e.event_name).collect()
    };
    let all = f.log.query(q(vec![])).await.unwrap();
    assert_eq!(names(all), ["GetSecretValue", "PutSecretValue"]);
    for (attribute, expected) in [
        (
            Attribute::EventName("PutSecretValue".into()),
            vec!["PutSecretValue"],
        ),
        (Attribute::ReadOnly(true), vec!["GetSecretValue"]),
        (Attribute::Username("root".into()), vec!["GetSecretValue"]),
        (
            Attribute::User("arn:aws:iam::123456789012:root".into()),
            vec!["GetSecretValue"],
        ),
        (
            Attribute::AccessKeyId("AKIAOTHER".into()),
            vec!["PutSecretValue"],
        ),
        // The denied put names no resource, but it asked for `db`.
        (
            Attribute::ResourceName("db".into()),
            vec!["GetSecretValue", "PutSecretValue"],
        ),
        (
            Attribute::ResourceName(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf".into(),
            ),
            vec!["GetSecretValue"],
        ),
        (
            Attribute::ResourceType("AWS::SecretsManager::Secret".into()),
            vec!["GetSecretValue", "PutSecretValue"],
        ),
        (
            Attribute::EventSource("secretsmanager.amazonaws.com".into()),
            vec!["GetSecretValue", "PutSecretValue"],
        ),
        (Attribute::ErrorsOnly, vec!["PutSecretValue"]),
        (Attribute::EventSource("iam.amazonaws.com".into()), vec![]),
    ] {
        let got = names(f.log.query(q(vec![attribute.clone()])).await.unwrap());
        assert_eq!(got, expected, "{attribute:?}");
    }
    let id = f.event_id(1);
    assert_eq!(
        names(f.log.query(q(vec![Attribute::EventId(id)])).await.unwrap()),
        ["GetSecretValue"]
    );
    let mut timed = q(vec![]);
    timed.start_ms = Some(T0 + 5_000);
    assert_eq!(names(f.log.query(timed).await.unwrap()), ["PutSecretValue"]);
    let mut timed = q(vec![]);
    timed.end_ms = Some(T0 + 5_000);
    assert_eq!(names(f.log.query(timed).await.unwrap()), ["GetSecretValue"]);
    let mut newest = q(vec![]);
    newest.newest_first = true;
    newest.limit = 1;
    let page = f.log.query(newest.clone()).await.unwrap();
    assert_eq!(names(page.clone()), ["PutSecretValue"]);
    newest.before_seq = Some(page[0].seq);
    assert_eq!(
        names(f.log.query(newest).await.unwrap()),
        ["GetSecretValue"]
    );
    let mut after = q(vec![]);
    after.account_id = None;
    after.after_seq = Some(1);
    assert_eq!(f.log.query(after).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_failed_append_fails_and_the_log_recovers() {
    let c = config(100);
    let fail = c.fail_writes.clone();
    let f = open(c);
    f.append(2).await;
    fail.store(true, std::sync::atomic::Ordering::Relaxed);
    let err = f.log.append(&entry("Blocked", T0)).await.unwrap_err();
    assert!(matches!(err, AuditError::Storage(_)), "{err}");
    assert!(!f.log.writable().await);
    fail.store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(f.log.writable().await);
    f.log.append(&entry("After", T0)).await.unwrap();
    let summary = f.verify().unwrap();
    assert_eq!(summary.events, 3);
    assert_eq!(
        f.log
            .stats()
            .failures
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[tokio::test]
async fn stats_render_as_prometheus_text() {
    let f = open(config(100));
    f.append(1).await;
    let mut out = String::new();
    f.log.stats().render(&mut out);
    assert!(out.contains("strongbox_audit_queue_depth 0\n"));
    assert!(out.contains("strongbox_audit_events_total 1\n"));
    assert!(out.contains("strongbox_audit_commit_duration_seconds_count 1\n"));
}

#[tokio::test]
async fn a_lookup_can_index_what_the_indexer_has_not_yet() {
    // The indexer may be starved of CPU (it runs in the idle class); a lookup then indexes the
    // missing events itself, beside the indexer thread, without duplicating any.
    let f = open(config(1000));
    f.append(40).await;
    let inner = f.log.inner.clone();
    let last = tokio::task::spawn_blocking(move || inner.catch_up_index())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last, 40);
    f.append(5).await;
    let events = f.log.query(EventQuery::default()).await.unwrap();
    assert_eq!(events.len(), 45);
    let rows: i64 = f
        .index_db()
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 45);
}
