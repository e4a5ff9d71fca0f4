//! `audit.db`: the schema, the wrapped signing key, and the writer thread that group-commits
//! events (many events, one transaction, one fsync) and writes digests and prunes.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};
use zeroize::Zeroizing;

use super::chain::{DigestPayload, GENESIS, HASH_LEN, event_hash, sign};
use super::record::PreparedEvent;
use super::{AuditError, AuditStats};
use crate::clock::Clock;
use crate::crypto::RootKey;

/// The audit database's name inside the data directory.
pub const AUDIT_FILE: &str = "audit.db";
/// The root-key wrap label of the digest signing key.
const SIGNING_KEY_LABEL: &str = "audit/ed25519-signing-key";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    event_source TEXT NOT NULL,
    event_name TEXT NOT NULL,
    username TEXT,
    principal_arn TEXT,
    access_key_id TEXT,
    read_only INTEGER NOT NULL,
    error_code TEXT,
    record TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events(time_ms);
CREATE INDEX IF NOT EXISTS events_name ON events(event_name, seq);
CREATE INDEX IF NOT EXISTS events_user ON events(username, seq);
CREATE INDEX IF NOT EXISTS events_key ON events(access_key_id, seq);
CREATE INDEX IF NOT EXISTS events_id ON events(event_id);
CREATE TABLE IF NOT EXISTS event_resources (
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (name, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_resources_seq ON event_resources(seq);
CREATE TABLE IF NOT EXISTS digests (
    id INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    payload TEXT NOT NULL,
    signature BLOB NOT NULL
);
";

fn storage(e: impl std::fmt::Display) -> AuditError {
    AuditError::Storage(e.to_string())
}

/// Opens `audit.db` with the durability settings of the main store (WAL, `synchronous=FULL`)
/// and creates the schema.
pub fn open_connection(path: &Path, busy_timeout: Duration) -> Result<Connection, AuditError> {
    let conn = Connection::open(path).map_err(storage)?;
    conn.busy_timeout(busy_timeout).map_err(storage)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(storage)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(storage)?;
    conn.execute_batch(SCHEMA).map_err(storage)?;
    Ok(conn)
}

/// Opens `audit.db` read-only, for lookups, export and verify; it must exist.
pub fn open_read_only(path: &Path) -> Result<Connection, AuditError> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(storage)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(storage)?;
    Ok(conn)
}

/// The digest signing key's PKCS#8 document, unwrapped with the root key; created (and
/// stored wrapped) on first use. Concurrent first opens agree on one key.
pub fn load_or_create_signing_key(
    conn: &Connection,
    root: &RootKey,
) -> Result<Zeroizing<Vec<u8>>, AuditError> {
    if let Some(key) = load_signing_key(conn, root)? {
        return Ok(key);
    }
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| AuditError::Crypto("cannot generate the signing key".into()))?;
    let pkcs8 = Zeroizing::new(pkcs8.as_ref().to_vec());
    let wrapped = root
        .wrap(SIGNING_KEY_LABEL, &pkcs8)
        .map_err(|e| AuditError::Crypto(e.to_string()))?;
    conn.execute(
        "INSERT OR IGNORE INTO audit_meta(key, value) VALUES ('signing_key', ?1)",
        params![wrapped],
    )
    .map_err(storage)?;
    load_signing_key(conn, root)?.ok_or_else(|| storage("signing key vanished"))
}

/// The stored signing key, unwrapped; `None` if there is none yet.
pub fn load_signing_key(
    conn: &Connection,
    root: &RootKey,
) -> Result<Option<Zeroizing<Vec<u8>>>, AuditError> {
    let wrapped: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM audit_meta WHERE key = 'signing_key'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(storage)?;
    let Some(wrapped) = wrapped else {
        return Ok(None);
    };
    let key = root.unwrap(SIGNING_KEY_LABEL, &wrapped).map_err(|_| {
        AuditError::Crypto("the audit signing key does not unwrap with this root key".into())
    })?;
    Ok(Some(Zeroizing::new(key.expose().to_vec())))
}

/// The raw Ed25519 public key of a PKCS#8 signing key.
pub fn public_key(pkcs8: &[u8]) -> Result<Vec<u8>, AuditError> {
    Ed25519KeyPair::from_pkcs8(pkcs8)
        .map(|k| k.public_key().as_ref().to_vec())
        .map_err(|_| AuditError::Crypto("the audit signing key is malformed".into()))
}

/// A request to the writer thread. Appends dominate, so they travel unboxed: one allocation
/// fewer per request.
#[allow(clippy::large_enum_variant)]
pub(super) enum Command {
    /// Append one event; acknowledged once it is durable.
    Append(PreparedEvent, oneshot::Sender<Result<(), AuditError>>),
    /// Sign a digest of the events since the last one, if there are any.
    Digest(oneshot::Sender<Result<bool, AuditError>>),
    /// Delete events older than this instant, up to a digest boundary.
    Prune(i64, oneshot::Sender<Result<u64, AuditError>>),
    /// Check the log can take its write lock.
    Ping(oneshot::Sender<Result<(), AuditError>>),
}

/// Where the chain stands: the last event and the last digest.
#[derive(Debug, Clone)]
struct ChainState {
    last_seq: i64,
    last_hash: [u8; HASH_LEN],
    digest_seq: i64,
    digest_signature: Option<Vec<u8>>,
}

fn hash_array(bytes: &[u8]) -> Result<[u8; HASH_LEN], AuditError> {
    bytes
        .try_into()
        .map_err(|_| storage("stored hash has the wrong length"))
}

fn load_state(conn: &Connection) -> Result<ChainState, AuditError> {
    let last_digest: Option<(i64, String, Vec<u8>)> = conn
        .query_row(
            "SELECT last_seq, payload, signature FROM digests ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(storage)?;
    let last_event: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(storage)?;
    let (last_seq, last_hash) = match (&last_event, &last_digest) {
        (Some((seq, hash)), _) => (*seq, hash_array(hash)?),
        // Everything was pruned: the chain continues from the anchoring digest.
        (None, Some((seq, payload, _))) => {
            let p: DigestPayload = serde_json::from_str(payload).map_err(storage)?;
            let hash = hex::decode(&p.last_hash).map_err(storage)?;
            (*seq, hash_array(&hash)?)
        }
        (None, None) => (0, GENESIS),
    };
    Ok(ChainState {
        last_seq,
        last_hash,
        digest_seq: last_digest.as_ref().map_or(0, |d| d.0),
        digest_signature: last_digest.map(|d| d.2),
    })
}

/// Signs and inserts a digest of `state.digest_seq + 1 ..= last_seq` inside `tx`; returns the
/// signature.
fn write_digest(
    tx: &Transaction<'_>,
    key: &Ed25519KeyPair,
    state: &ChainState,
    now: i64,
) -> Result<Vec<u8>, AuditError> {
    let payload = DigestPayload {
        version: 1,
        first_seq: state.digest_seq + 1,
        last_seq: state.last_seq,
        last_hash: hex::encode(state.last_hash),
        time_ms: now,
        previous_signature: state.digest_signature.as_ref().map(hex::encode),
    };
    let bytes = payload.to_bytes();
    let signature = sign(key, &bytes);
    tx.execute(
        "INSERT INTO digests(first_seq, last_seq, payload, signature) VALUES (?1, ?2, ?3, ?4)",
        params![
            payload.first_seq,
            payload.last_seq,
            String::from_utf8_lossy(&bytes),
            signature
        ],
    )
    .map_err(storage)?;
    Ok(signature)
}

/// The writer: owns the only write connection and the signing key.
pub(super) struct Writer {
    conn: Connection,
    key: Ed25519KeyPair,
    clock: Arc<dyn Clock>,
    state: ChainState,
    digest_every: u64,
    max_batch: usize,
    stats: Arc<AuditStats>,
}

impl Writer {
    /// Prepares the writer over an open connection.
    pub(super) fn new(
        conn: Connection,
        pkcs8: &[u8],
        clock: Arc<dyn Clock>,
        digest_every: u64,
        max_batch: usize,
        stats: Arc<AuditStats>,
    ) -> Result<Self, AuditError> {
        let key = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|_| AuditError::Crypto("the audit signing key is malformed".into()))?;
        let state = load_state(&conn)?;
        Ok(Self {
            conn,
            key,
            clock,
            state,
            digest_every: digest_every.max(1),
            max_batch: max_batch.max(1),
            stats,
        })
    }

    /// Serves commands until every sender is gone.
    pub(super) fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        while let Some(first) = rx.blocking_recv() {
            let mut appends = Vec::new();
            let mut controls = Vec::new();
            let mut next = Some(first);
            while let Some(command) = next {
                match command {
                    Command::Append(event, ack) => {
                        self.stats.queue_depth.fetch_sub(1, Ordering::Relaxed);
                        appends.push((event, ack));
                    }
                    other => controls.push(other),
                }
                next = if appends.len() < self.max_batch {
                    rx.try_recv().ok()
                } else {
                    None
                };
            }
            if !appends.is_empty() {
                self.commit(appends);
            }
            for command in controls {
                self.control(command);
            }
        }
    }

    fn commit(&mut self, batch: Vec<(PreparedEvent, oneshot::Sender<Result<(), AuditError>>)>) {
        let started = Instant::now();
        let result = self.insert_batch(batch.iter().map(|(e, _)| e));
        self.stats.commit_latency.observe(started.elapsed());
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(state) => {
                self.state = state;
                self.stats.healthy.store(true, Ordering::Relaxed);
                self.stats
                    .events
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                for (_, ack) in batch {
                    let _ = ack.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, events = batch.len(), "audit append failed");
                self.stats.healthy.store(false, Ordering::Relaxed);
                self.stats
                    .failures
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                for (_, ack) in batch {
                    let _ = ack.send(Err(e.clone()));
                }
            }
        }
    }

    /// Inserts the batch in one transaction (one fsync at commit), adding a digest when
    /// `digest_every` events have accumulated. Returns the new state; the old one stays in
    /// force if anything fails.
    fn insert_batch<'a>(
        &mut self,
        batch: impl Iterator<Item = &'a PreparedEvent>,
    ) -> Result<ChainState, AuditError> {
        let mut state = self.state.clone();
        let now = self.clock.now_millis();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events(seq, event_id, time_ms, account_id, event_source,
                        event_name, username, principal_arn, access_key_id, read_only,
                        error_code, record, prev_hash, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )
                .map_err(storage)?;
            let mut resource = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO event_resources(name, seq, type) VALUES (?1, ?2, ?3)",
                )
                .map_err(storage)?;
            for event in batch {
                let seq = state.last_seq + 1;
                let hash = event_hash(&state.last_hash, event.json.as_bytes());
                let ix = &event.index;
                insert
                    .execute(params![
                        seq,
                        ix.event_id,
                        ix.time_ms,
                        ix.account_id,
                        ix.event_source,
                        ix.event_name,
                        ix.username,
                        ix.principal_arn,
                        ix.access_key_id,
                        ix.read_only,
                        ix.error_code,
                        event.json,
                        state.last_hash.as_slice(),
                        hash.as_slice(),
                    ])
                    .map_err(storage)?;
                for (name, kind) in &ix.resource_names {
                    resource
                        .execute(params![name, seq, kind])
                        .map_err(storage)?;
                }
                state.last_seq = seq;
                state.last_hash = hash;
            }
        }
        if (state.last_seq - state.digest_seq) as u64 >= self.digest_every {
            let signature = write_digest(&tx, &self.key, &state, now)?;
            state.digest_seq = state.last_seq;
            state.digest_signature = Some(signature);
        }
        tx.commit().map_err(storage)?;
        Ok(state)
    }

    fn control(&mut self, command: Command) {
        match command {
            Command::Append(..) => {}
            Command::Digest(ack) => {
                let _ = ack.send(self.digest());
            }
            Command::Prune(before, ack) => {
                let _ = ack.send(self.prune(before));
            }
            Command::Ping(ack) => {
                let result = self
                    .conn
                    .execute_batch("BEGIN IMMEDIATE; ROLLBACK;")
                    .map_err(storage);
                if result.is_err() {
                    let _ = self.conn.execute_batch("ROLLBACK;");
                }
                let _ = ack.send(result);
            }
        }
    }

    /// Signs a digest of the events since the last digest; false if there were none.
    fn digest(&mut self) -> Result<bool, AuditError> {
        if self.state.last_seq <= self.state.digest_seq {
            return Ok(false);
        }
        let now = self.clock.now_millis();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let signature = write_digest(&tx, &self.key, &self.state, now)?;
        tx.commit().map_err(storage)?;
        self.state.digest_seq = self.state.last_seq;
        self.state.digest_signature = Some(signature);
        Ok(true)
    }

    /// Deletes events older than `before` (ms), cutting only at a digest boundary so that a
    /// signed digest anchors the first kept event. Returns how many events were deleted.
    fn prune(&mut self, before: i64) -> Result<u64, AuditError> {
        let now = self.clock.now_millis();
        let mut state = self.state.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let first_recent: Option<i64> = tx
            .query_row(
                "SELECT MIN(seq) FROM events WHERE time_ms >= ?1",
                params![before],
                |r| r.get(0),
            )
            .map_err(storage)?;
        let limit = match first_recent {
            Some(seq) => seq - 1,
            None => {
                // Everything is old: sign the tail so the whole log has a boundary to cut at.
                if state.last_seq > state.digest_seq {
                    let signature = write_digest(&tx, &self.key, &state, now)?;
                    state.digest_seq = state.last_seq;
                    state.digest_signature = Some(signature);
                }
                state.last_seq
            }
        };
        let cut: Option<i64> = tx
            .query_row(
                "SELECT MAX(last_seq) FROM digests WHERE last_seq <= ?1",
                params![limit],
                |r| r.get(0),
            )
            .map_err(storage)?;
        let first: Option<i64> = tx
            .query_row("SELECT MIN(seq) FROM events", [], |r| r.get(0))
            .map_err(storage)?;
        let deleted = match (cut, first) {
            (Some(cut), Some(first)) if cut >= first => {
                tx.execute("DELETE FROM event_resources WHERE seq <= ?1", params![cut])
                    .map_err(storage)?;
                let n = tx
                    .execute("DELETE FROM events WHERE seq <= ?1", params![cut])
                    .map_err(storage)?;
                tx.execute("DELETE FROM digests WHERE last_seq < ?1", params![cut])
                    .map_err(storage)?;
                n as u64
            }
            _ => 0,
        };
        tx.commit().map_err(storage)?;
        self.state = state;
        Ok(deleted)
    }
}
