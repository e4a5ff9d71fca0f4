//! The audit log end to end below the front end: appends, digests, tamper detection, pruning,
//! lookups and failure handling.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, params};

use super::chain::event_hash;
use super::record::tests::entry;
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
        verify_log(&self.dir.path().join(AUDIT_FILE), &self.root)
    }

    fn db(&self) -> Connection {
        Connection::open(self.dir.path().join(AUDIT_FILE)).unwrap()
    }

    fn event_id(&self, seq: i64) -> String {
        self.db()
            .query_row(
                "SELECT event_id FROM events WHERE seq = ?1",
                params![seq],
                |r| r.get(0),
            )
            .unwrap()
    }
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
    let pkcs8 = storage::load_signing_key(&f.db(), &f.root)
        .unwrap()
        .unwrap();
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
    let err = verify_log(&f.dir.path().join(AUDIT_FILE), &other).unwrap_err();
    assert!(matches!(err, Finding::Unreadable(_)), "{err}");
    let reopened = AuditLog::open(f.dir.path(), &other, Arc::new(f.clock.clone()), config(2));
    assert!(matches!(reopened, Err(AuditError::Crypto(_))));
}

#[tokio::test]
async fn detects_an_altered_record() {
    let f = open(config(100));
    f.append(8).await;
    f.db()
        .execute(
            "UPDATE events SET record = replace(record, 'req-3', 'req-X') WHERE seq = 4",
            [],
        )
        .unwrap();
    let finding = f.verify().unwrap_err();
    assert!(matches!(finding, Finding::Altered(_)), "{finding}");
    assert_eq!(named(&finding), 4);
    assert!(finding.to_string().contains(&f.event_id(4)));
}

#[tokio::test]
async fn detects_an_altered_lookup_column() {
    let f = open(config(100));
    f.append(5).await;
    f.db()
        .execute("UPDATE events SET event_name = 'Hidden' WHERE seq = 2", [])
        .unwrap();
    let finding = f.verify().unwrap_err();
    assert_eq!(finding, {
        let Finding::AlteredColumn(e, "event_name") = &finding else {
            panic!("{finding}")
        };
        Finding::AlteredColumn(e.clone(), "event_name")
    });
    assert_eq!(named(&finding), 2);
    f.db()
        .execute("UPDATE events SET event_name = 'Op1' WHERE seq = 2", [])
        .unwrap();
    f.db()
        .execute("DELETE FROM event_resources WHERE seq = 3", [])
        .unwrap();
    let finding = f.verify().unwrap_err();
    assert!(
        matches!(finding, Finding::AlteredColumn(_, "event_resources")),
        "{finding}"
    );
}

#[tokio::test]
async fn detects_a_removed_event() {
    let f = open(config(100));
    f.append(8).await;
    f.db()
        .execute("DELETE FROM events WHERE seq = 5", [])
        .unwrap();
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
    let db = f.db();
    db.execute("DELETE FROM events WHERE seq = 5", []).unwrap();
    db.execute("DELETE FROM event_resources WHERE seq = 5", [])
        .unwrap();
    for table in ["events", "event_resources"] {
        db.execute(
            &format!("UPDATE {table} SET seq = seq - 1 WHERE seq > 5"),
            [],
        )
        .unwrap();
    }
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
    f.db()
        .execute("DELETE FROM events WHERE seq <= 2", [])
        .unwrap();
    let finding = f.verify().unwrap_err();
    assert!(matches!(finding, Finding::Unanchored(_)), "{finding}");
    assert_eq!(named(&finding), 3);

    let f = open(config(3));
    f.append(8).await;
    f.db()
        .execute("DELETE FROM events WHERE seq >= 5", [])
        .unwrap();
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
    let db = f.db();
    db.execute("UPDATE events SET seq = -1 WHERE seq = 3", [])
        .unwrap();
    db.execute("UPDATE events SET seq = 3 WHERE seq = 4", [])
        .unwrap();
    db.execute("UPDATE events SET seq = 4 WHERE seq = -1", [])
        .unwrap();
    let finding = f.verify().unwrap_err();
    assert!(matches!(finding, Finding::Reordered(_)), "{finding}");
    assert_eq!(named(&finding), 3);
    assert!(finding.to_string().contains(&moved));
}

#[tokio::test]
async fn detects_an_inserted_event_even_with_a_valid_hash() {
    let f = open(config(100));
    f.append(8).await;
    let db = f.db();
    let (record, hash4): (String, Vec<u8>) = db
        .query_row("SELECT record, hash FROM events WHERE seq = 4", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let forged = record.replace(&f.event_id(4), "forged-event");
    let forged_hash = event_hash(&hash4, forged.as_bytes());
    for table in ["events", "event_resources"] {
        db.execute(
            &format!("UPDATE {table} SET seq = seq + 1000 WHERE seq > 4"),
            [],
        )
        .unwrap();
        db.execute(
            &format!("UPDATE {table} SET seq = seq - 999 WHERE seq > 1000"),
            [],
        )
        .unwrap();
    }
    db.execute(
        "INSERT INTO events(seq, event_id, time_ms, account_id, event_source, event_name,
            username, principal_arn, access_key_id, read_only, error_code, record, prev_hash, hash)
         SELECT 5, 'forged-event', time_ms, account_id, event_source, event_name, username,
            principal_arn, access_key_id, read_only, error_code, ?1, ?2, ?3
         FROM events WHERE seq = 4",
        params![forged, hash4, forged_hash.as_slice()],
    )
    .unwrap();
    db.execute(
        "INSERT INTO event_resources(name, seq, type)
         SELECT name, 5, type FROM event_resources WHERE seq = 4",
        [],
    )
    .unwrap();
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
    let db = f.db();
    let rows: Vec<(i64, String)> = db
        .prepare("SELECT seq, record FROM events ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = super::chain::GENESIS.to_vec();
    for (seq, mut record) in rows {
        if seq == 2 {
            record = record.replace("req-1", "req-Z");
        }
        let hash = event_hash(&prev, record.as_bytes());
        db.execute(
            "UPDATE events SET record = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            params![record, prev, hash.as_slice(), seq],
        )
        .unwrap();
        prev = hash.to_vec();
    }
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
    f.db()
        .execute(
            "UPDATE digests SET payload = replace(payload, '\"lastSeq\":4', '\"lastSeq\":5'),
                last_seq = 5 WHERE last_seq = 4",
            [],
        )
        .unwrap();
    let finding = f.verify().unwrap_err();
    assert!(
        matches!(&finding, Finding::DigestInvalid { reason, .. } if reason.contains("signature")),
        "{finding}"
    );

    let f = open(config(2));
    f.append(6).await;
    f.db()
        .execute("DELETE FROM digests WHERE last_seq = 4", [])
        .unwrap();
    let finding = f.verify().unwrap_err();
    assert!(
        matches!(&finding, Finding::DigestInvalid { reason, .. } if reason.contains("removed")),
        "{finding}"
    );
}

#[tokio::test]
async fn pruning_keeps_the_rest_verifiable() {
    let f = open(config(3));
    f.append(10).await; // times T0 .. T0+9s, digests at 3, 6, 9
    // Keep events from T0+5s: the cut is the last digest boundary before seq 6, i.e. seq 3.
    assert_eq!(f.log.prune_before(T0 + 5_000).await.unwrap(), 3);
    let summary = f.verify().unwrap();
    assert_eq!(summary.range, Some((4, 10)));
    assert_eq!(summary.anchored_after, 3);
    assert!(summary.to_string().contains("pruned"));
    f.append(2).await;
    assert_eq!(f.verify().unwrap().range, Some((4, 12)));
    // Prune everything: the tail is signed first, and new events still chain on.
    f.clock.advance(60_000);
    assert_eq!(f.log.prune_before(f.clock.now_millis()).await.unwrap(), 9);
    assert_eq!(f.verify().unwrap().range, None);
    f.append(1).await;
    assert_eq!(f.verify().unwrap().range, Some((13, 13)));
    // Nothing to prune.
    assert_eq!(f.log.prune_before(T0).await.unwrap(), 0);
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
        (Attribute::ResourceName("db".into()), vec!["GetSecretValue"]),
        (
            Attribute::ResourceName(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf".into(),
            ),
            vec!["GetSecretValue"],
        ),
        (
            Attribute::ResourceType("AWS::SecretsManager::Secret".into()),
            vec!["GetSecretValue"],
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
    let mut c = config(100);
    c.busy_timeout = Duration::from_millis(0);
    let f = open(c);
    f.append(2).await;
    let blocker = f.db();
    blocker.execute_batch("BEGIN IMMEDIATE;").unwrap();
    let err = f.log.append(&entry("Blocked", T0)).await.unwrap_err();
    assert!(matches!(err, AuditError::Storage(_)), "{err}");
    assert!(!f.log.writable().await);
    blocker.execute_batch("ROLLBACK;").unwrap();
    f.log.append(&entry("After", T0)).await.unwrap();
    assert!(f.log.writable().await);
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
