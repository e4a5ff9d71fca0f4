//! The two threads behind the audit log, and `audit.db`, which keeps their signing key.
//!
//! - The writer owns the segment files: it group-commits events (many lines, one write, one
//!   `fdatasync`), acknowledges them, signs digests, rotates segments and prunes old ones.
//! - The indexer owns the write connection of `audit/index.db`: it indexes what the writer made
//!   durable, in large transactions, behind the request path.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot, watch};
use zeroize::Zeroizing;

use super::chain::{DigestPayload, HASH_LEN, event_hash, sign};
use super::index::{self, IndexRow, storage};
use super::record::{EventIndex, PreparedEvent};
use super::segment::{self, Entry, SegmentWriter, Tail};
use super::{AuditError, AuditStats};
use crate::clock::Clock;
use crate::crypto::RootKey;

/// The root-key wrap label of the digest signing key.
const SIGNING_KEY_LABEL: &str = "audit/ed25519-signing-key";

/// Opens `audit.db`, which holds the wrapped digest signing key (WAL, `synchronous=FULL`).
pub fn open_key_store(path: &Path, busy_timeout: Duration) -> Result<Connection, AuditError> {
    let conn = index::open_wal(path, busy_timeout)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(storage)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);",
    )
    .map_err(storage)?;
    Ok(conn)
}

/// True when `audit.db` holds events in the format before segment files (with a `record`
/// column).
pub fn has_legacy_events(conn: &Connection) -> Result<bool, AuditError> {
    conn.query_row(
        "SELECT COUNT(*) FROM pragma_table_info('events') WHERE name = 'record'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(storage)
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
    /// Delete segments whose events are all older than this instant.
    Prune(i64, oneshot::Sender<Result<u64, AuditError>>),
    /// Check the writer is alive and its last write succeeded.
    Ping(oneshot::Sender<Result<(), AuditError>>),
    /// Stop: index everything, mark the index clean, then acknowledge.
    Close(oneshot::Sender<Result<(), AuditError>>),
}

/// Work for the indexer thread.
pub(super) enum IndexWork {
    /// Events just made durable.
    Rows(Vec<IndexRow>),
    /// Events up to this sequence number were pruned.
    Forget(i64),
    /// A lookup is waiting: index what is pending now.
    Flush,
    /// The log is closing: index everything, mark the index clean and stop.
    Close(oneshot::Sender<Result<(), AuditError>>),
}

/// Where the chain stands: the last event and the last digest.
#[derive(Debug, Clone)]
struct ChainState {
    last_seq: i64,
    last_hash: [u8; HASH_LEN],
    digest_seq: i64,
    digest_signature: Option<Vec<u8>>,
    /// The last digest's line, repeated as the anchor of a new segment when no event
    /// followed it.
    digest_line: Option<Vec<u8>>,
}

impl From<Tail> for ChainState {
    fn from(tail: Tail) -> Self {
        Self {
            last_seq: tail.last_seq,
            last_hash: tail.last_hash,
            digest_seq: tail.digest_seq,
            digest_signature: tail.digest_signature,
            digest_line: tail.digest_line,
        }
    }
}

/// The file whose lock makes a process the only writer of the log in `log_dir`.
pub const WRITER_LOCK_FILE: &str = "writer.lock";

/// Takes the writer's lock on `log_dir` (creating both if needed), or fails at once if another
/// writer holds it: two processes appending to one segment would interleave their lines and
/// break the chain for good. The lock (`flock`) goes with the returned file, and with the
/// process if it dies.
pub fn lock_writer(log_dir: &Path) -> Result<File, AuditError> {
    let path = log_dir.join(WRITER_LOCK_FILE);
    let file = fs::create_dir_all(log_dir)
        .and_then(|()| {
            fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        })
        .map_err(|e| AuditError::Storage(format!("{}: {e}", path.display())))?;
    // A log of this process that was dropped without `close` lets go of the lock when its
    // writer thread ends, a moment later: wait that long, not for another process.
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(AuditError::Storage(format!(
                    "{} is in use by another Strongbox process (its audit log has one writer); \
                     stop that one or give this one another --data-dir",
                    log_dir.parent().unwrap_or(log_dir).display()
                )));
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(AuditError::Storage(format!("{}: {e}", path.display())));
            }
        }
    }
}

/// How long [`lock_writer`] waits for a lock held by someone else.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Settings of the writer thread.
pub(super) struct WriterSettings {
    pub digest_every: u64,
    pub max_batch: usize,
    /// Start a new segment at the next digest once the current one is older than this.
    pub segment_age_ms: i64,
    /// Fault injection (tests): fail every write while set.
    pub fail_writes: Arc<std::sync::atomic::AtomicBool>,
}

/// The writer: owns the segment files and the signing key.
pub(super) struct Writer {
    log: SegmentWriter,
    log_dir: PathBuf,
    key: Ed25519KeyPair,
    clock: Arc<dyn Clock>,
    state: ChainState,
    settings: WriterSettings,
    /// When the current segment's first line was written (ms); `None` if unknown.
    segment_started_ms: Option<i64>,
    stats: Arc<AuditStats>,
    index: std_mpsc::SyncSender<IndexWork>,
    buf: Vec<u8>,
    /// The writer's lock ([`lock_writer`]), released when the log is closed.
    lock: Option<File>,
}

impl Writer {
    /// Prepares the writer over the opened log.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        log: SegmentWriter,
        tail: Tail,
        log_dir: PathBuf,
        pkcs8: &[u8],
        clock: Arc<dyn Clock>,
        settings: WriterSettings,
        stats: Arc<AuditStats>,
        index: std_mpsc::SyncSender<IndexWork>,
        lock: File,
    ) -> Result<Self, AuditError> {
        let key = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|_| AuditError::Crypto("the audit signing key is malformed".into()))?;
        stats.durable_seq.store(tail.last_seq, Ordering::Release);
        let segment_started_ms = (!log.is_empty()).then(|| clock.now_millis());
        Ok(Self {
            log,
            log_dir,
            key,
            clock,
            state: tail.into(),
            settings: WriterSettings {
                digest_every: settings.digest_every.max(1),
                max_batch: settings.max_batch.max(1),
                ..settings
            },
            segment_started_ms,
            stats,
            index,
            buf: Vec::with_capacity(64 << 10),
            lock: Some(lock),
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
                next = if appends.len() < self.settings.max_batch {
                    rx.try_recv().ok()
                } else {
                    None
                };
            }
            if !appends.is_empty() {
                self.commit(appends);
            }
            for command in controls {
                if let Command::Close(ack) = command {
                    self.close(rx, ack);
                    return;
                }
                self.control(command);
            }
        }
    }

    /// Stops taking commands, writes and answers whatever was queued before, signs a digest of
    /// the tail (a stopped log ends signed), then waits for the indexer to finish and mark the
    /// index clean.
    fn close(
        &mut self,
        mut rx: mpsc::Receiver<Command>,
        ack: oneshot::Sender<Result<(), AuditError>>,
    ) {
        rx.close();
        let mut rest = Vec::new();
        while let Ok(command) = rx.try_recv() {
            match command {
                Command::Append(event, ack) => {
                    self.stats.queue_depth.fetch_sub(1, Ordering::Relaxed);
                    rest.push((event, ack));
                }
                Command::Close(again) => {
                    let _ = again.send(Err(AuditError::Closed));
                }
                other => self.control(other),
            }
        }
        if !rest.is_empty() {
            self.commit(rest);
        }
        if let Err(e) = self.digest() {
            tracing::warn!(error = %e, "audit log: no final digest at close");
        }
        let (done, wait) = oneshot::channel();
        let closed = if self.index.send(IndexWork::Close(done)).is_ok() {
            wait.blocking_recv().unwrap_or(Err(AuditError::Closed))
        } else {
            Err(AuditError::Closed)
        };
        // Another log may open the directory as soon as this one says it is closed.
        self.lock = None;
        let _ = ack.send(closed);
    }

    /// The line of a digest of the events since the last digest, and its signature.
    fn digest_line(&self, state: &ChainState, now: i64) -> (Vec<u8>, Vec<u8>) {
        let payload = DigestPayload {
            version: 1,
            first_seq: state.digest_seq + 1,
            last_seq: state.last_seq,
            last_hash: hex::encode(state.last_hash),
            time_ms: now,
            previous_signature: state.digest_signature.as_ref().map(hex::encode),
        };
        let bytes = payload.to_bytes();
        let signature = sign(&self.key, &bytes);
        let mut line = Vec::with_capacity(bytes.len() + 160);
        segment::write_digest_line(&mut line, &bytes, &signature);
        (line, signature)
    }

    fn segment_is_old(&self, now: i64) -> bool {
        self.segment_started_ms
            .is_some_and(|started| now - started >= self.settings.segment_age_ms)
    }

    /// Writes the lines of `batch` (and a digest, when one is due) with one write and one sync,
    /// then acknowledges every event and hands their index rows to the indexer.
    fn commit(&mut self, batch: Vec<(PreparedEvent, oneshot::Sender<Result<(), AuditError>>)>) {
        let started = Instant::now();
        let now = self.clock.now_millis();
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let base = self.log.len();
        let number = self.log.number();
        let mut state = self.state.clone();
        let mut rows = Vec::with_capacity(batch.len());
        let mut acks = Vec::with_capacity(batch.len());
        for (event, ack) in batch {
            let seq = state.last_seq + 1;
            let hash = event_hash(&state.last_hash, event.json.as_bytes());
            let start = buf.len();
            segment::write_event_line(&mut buf, seq, &state.last_hash, &hash, &event.json);
            rows.push(IndexRow {
                seq,
                segment: number,
                offset: base + start as u64,
                length: (buf.len() - start - 1) as u32,
                index: event.index,
            });
            acks.push(ack);
            state.last_seq = seq;
            state.last_hash = hash;
        }
        let digest_due = (state.last_seq - state.digest_seq) as u64 >= self.settings.digest_every;
        let rotate = digest_due && (self.log.wants_rotation() || self.segment_is_old(now));
        if digest_due && !rotate {
            let (line, signature) = self.digest_line(&state, now);
            buf.extend_from_slice(&line);
            state.digest_seq = state.last_seq;
            state.digest_signature = Some(signature);
            state.digest_line = Some(line);
        }
        let result = self.fault().and_then(|()| self.log.append(&buf));
        self.buf = buf;
        self.stats.commit_latency.observe(started.elapsed());
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(()) => {
                let count = acks.len() as u64;
                self.segment_started_ms.get_or_insert(now);
                self.state = state;
                self.stats
                    .durable_seq
                    .store(self.state.last_seq, Ordering::Release);
                self.stats.healthy.store(true, Ordering::Relaxed);
                self.stats.events.fetch_add(count, Ordering::Relaxed);
                for ack in acks {
                    let _ = ack.send(Ok(()));
                }
                // A full queue only delays the index: the indexer reads what it missed from
                // the segments.
                let _ = self.index.try_send(IndexWork::Rows(rows));
                if rotate && let Err(e) = self.rotate(now) {
                    tracing::error!(error = %e, "audit log: cannot start a new segment");
                }
            }
            Err(e) => {
                let e = storage(e);
                tracing::error!(error = %e, events = acks.len(), "audit append failed");
                self.stats.healthy.store(false, Ordering::Relaxed);
                self.stats
                    .failures
                    .fetch_add(acks.len() as u64, Ordering::Relaxed);
                for ack in acks {
                    let _ = ack.send(Err(e.clone()));
                }
            }
        }
    }

    /// The injected failure, when tests asked for one.
    fn fault(&self) -> std::io::Result<()> {
        if self.settings.fail_writes.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("injected audit write failure"));
        }
        Ok(())
    }

    /// Starts a new segment whose first line is a digest covering everything before it (the
    /// last digest again if no event followed it).
    fn rotate(&mut self, now: i64) -> Result<(), AuditError> {
        let mut state = self.state.clone();
        let anchor = if state.last_seq > state.digest_seq || state.digest_line.is_none() {
            let (line, signature) = self.digest_line(&state, now);
            state.digest_seq = state.last_seq;
            state.digest_signature = Some(signature);
            state.digest_line = Some(line.clone());
            line
        } else {
            state.digest_line.clone().unwrap_or_default()
        };
        self.log.rotate(&anchor).map_err(storage)?;
        self.state = state;
        self.segment_started_ms = Some(now);
        Ok(())
    }

    fn control(&mut self, command: Command) {
        match command {
            Command::Append(..) | Command::Close(_) => {}
            Command::Digest(ack) => {
                let _ = ack.send(self.digest());
            }
            Command::Prune(before, ack) => {
                let _ = ack.send(self.prune(before));
            }
            Command::Ping(ack) => {
                let probe = self.fault().and_then(|()| self.log.sync());
                self.stats.healthy.store(probe.is_ok(), Ordering::Relaxed);
                let _ = ack.send(probe.map_err(storage));
            }
        }
    }

    /// Signs a digest of the events since the last digest; false if there were none.
    fn digest(&mut self) -> Result<bool, AuditError> {
        if self.state.last_seq <= self.state.digest_seq {
            return Ok(false);
        }
        let now = self.clock.now_millis();
        if self.log.wants_rotation() || self.segment_is_old(now) {
            self.rotate(now)?;
            return Ok(true);
        }
        let (line, signature) = self.digest_line(&self.state, now);
        self.fault()
            .and_then(|()| self.log.append(&line))
            .map_err(storage)?;
        self.state.digest_seq = self.state.last_seq;
        self.state.digest_signature = Some(signature);
        self.state.digest_line = Some(line);
        Ok(true)
    }

    /// Deletes the oldest segments whose events are all older than `before` (ms), never the
    /// current one; a current segment whose events are all old is closed first, so that it can
    /// go. Each remaining segment starts with a digest, which anchors its first event. Returns
    /// how many events were deleted.
    fn prune(&mut self, before: i64) -> Result<u64, AuditError> {
        let now = self.clock.now_millis();
        let current = self.log_dir.join(segment::segment_name(self.log.number()));
        if let Some(summary) = summarize(&current)?
            && summary.events > 0
            && summary.newest_ms < before
        {
            self.rotate(now)?;
        }
        let mut deleted = 0u64;
        let mut forget = None;
        for (number, path) in segment::list_segments(&self.log_dir).map_err(storage)? {
            if number >= self.log.number() {
                break;
            }
            let Some(summary) = summarize(&path)? else {
                continue;
            };
            if summary.events > 0 && summary.newest_ms >= before {
                break;
            }
            fs::remove_file(&path).map_err(storage)?;
            deleted += summary.events;
            forget = Some(summary.last_seq);
        }
        if let Some(seq) = forget {
            fs::File::open(&self.log_dir)
                .and_then(|d| d.sync_all())
                .map_err(storage)?;
            let _ = self.index.send(IndexWork::Forget(seq));
        }
        Ok(deleted)
    }
}

/// What retention needs to know about a segment.
struct SegmentSummary {
    events: u64,
    last_seq: i64,
    newest_ms: i64,
}

/// Reads a segment's events' count, last sequence number and newest event time.
fn summarize(path: &Path) -> Result<Option<SegmentSummary>, AuditError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(storage(e)),
    };
    let mut out = SegmentSummary {
        events: 0,
        last_seq: 0,
        newest_ms: i64::MIN,
    };
    for (_, line) in segment::lines(&bytes, 0) {
        match segment::parse_line(line) {
            Some(Entry::Event(e)) => {
                out.events += 1;
                out.last_seq = e.seq;
                if let Some(ix) = serde_json::from_str(e.record)
                    .ok()
                    .and_then(|v| EventIndex::from_record(&v))
                {
                    out.newest_ms = out.newest_ms.max(ix.time_ms);
                }
            }
            Some(Entry::Digest(d)) if out.events == 0 => out.last_seq = d.payload.last_seq,
            _ => {}
        }
    }
    Ok(Some(out))
}

/// The indexer: owns `audit.db`'s write connection.
pub(super) struct Indexer {
    conn: Connection,
    log_dir: PathBuf,
    progress: watch::Sender<i64>,
    stats: Arc<AuditStats>,
}

/// Most rows the indexer puts in one transaction.
const INDEX_BATCH: usize = 16_384;
/// How long the indexer gathers rows before a transaction.
const GATHER: Duration = Duration::from_millis(1000);
/// How often an idle indexer checks that it has seen everything the writer made durable.
const IDLE_CHECK: Duration = Duration::from_millis(500);

impl Indexer {
    pub(super) fn new(
        conn: Connection,
        log_dir: PathBuf,
        progress: watch::Sender<i64>,
        stats: Arc<AuditStats>,
    ) -> Self {
        Self {
            conn,
            log_dir,
            progress,
            stats,
        }
    }

    /// Indexes until the writer is gone: rows as the writer sends them, and whatever it could
    /// not send (or sent before a restart) from the segment files.
    pub(super) fn run(mut self, rx: std_mpsc::Receiver<IndexWork>) {
        lower_priority();
        self.catch_up();
        loop {
            match rx.recv_timeout(IDLE_CHECK) {
                Ok(first) => {
                    // Gather rows for a while: one transaction per gathering keeps the index
                    // cheap (its pages are written once per batch, not once per commit of
                    // the log). A waiting lookup cuts the wait short.
                    let deadline = Instant::now() + GATHER;
                    let mut rows = Vec::new();
                    let mut next = Some(first);
                    while let Some(work) = next {
                        let flush = match work {
                            IndexWork::Rows(r) => {
                                rows.extend(r);
                                false
                            }
                            IndexWork::Forget(seq) => {
                                self.index(std::mem::take(&mut rows));
                                if let Err(e) = index::forget_through(&mut self.conn, seq) {
                                    tracing::error!(error = %e, "audit index: cannot drop pruned events");
                                }
                                false
                            }
                            IndexWork::Flush => true,
                            IndexWork::Close(ack) => {
                                self.index(std::mem::take(&mut rows));
                                self.catch_up();
                                let _ = ack.send(index::mark_clean(&self.conn));
                                return;
                            }
                        };
                        let wait = deadline.saturating_duration_since(Instant::now());
                        next = if flush || rows.len() >= INDEX_BATCH || wait.is_zero() {
                            None
                        } else {
                            rx.recv_timeout(wait).ok()
                        };
                    }
                    self.index(rows);
                }
                Err(std_mpsc::RecvTimeoutError::Timeout) => {
                    if *self.progress.borrow() < self.stats.durable_seq.load(Ordering::Acquire) {
                        self.catch_up();
                    }
                }
                Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                    self.catch_up();
                    if let Err(e) = index::mark_clean(&self.conn) {
                        tracing::warn!(error = %e, "audit index: cannot mark it clean");
                    }
                    return;
                }
            }
        }
    }

    fn publish(&self, seq: i64) {
        self.progress.send_if_modified(|current| {
            let advanced = seq > *current;
            if advanced {
                *current = seq;
            }
            advanced
        });
        self.stats
            .indexed_seq
            .store(*self.progress.borrow(), Ordering::Relaxed);
    }

    /// Indexes everything in the segment files not indexed yet.
    fn catch_up(&mut self) {
        let durable = self.stats.durable_seq.load(Ordering::Acquire);
        match index::catch_up(&mut self.conn, &self.log_dir) {
            // Everything durable before the catch-up started was read.
            Ok(seq) => self.publish(seq.max(durable)),
            Err(e) => tracing::error!(error = %e, "audit index: cannot catch up"),
        }
    }

    fn index(&mut self, mut rows: Vec<IndexRow>) {
        let Some(first) = rows.first().map(|r| r.seq) else {
            return;
        };
        let indexed = *self.progress.borrow();
        if first > indexed + 1 {
            // Rows were dropped on the way (a full queue): read them from the segments, which
            // also holds these.
            self.catch_up();
            let indexed = *self.progress.borrow();
            rows.retain(|r| r.seq > indexed);
            if rows.is_empty() {
                return;
            }
        }
        let last = rows.last().map_or(first, |r| r.seq);
        let result = self.conn.transaction().map_err(storage).and_then(|tx| {
            index::insert_rows(&tx, &rows)?;
            tx.commit().map_err(storage)
        });
        match result {
            Ok(()) => self.publish(last),
            Err(e) => tracing::error!(error = %e, "audit index: cannot index events"),
        }
    }
}

/// Moves the calling thread (the indexer) to the idle scheduling class (Linux `SCHED_IDLE`):
/// it runs only on a core that nothing else wants, and a request thread that wakes up takes the
/// core back at once. Nice 19, which it had before, still let it finish its time slice on a
/// core a woken request was waiting for: under saturation, `SCHED_IDLE` measured 8 to 12% more
/// GetSecretValue throughput (docs/BENCHMARKS.md). The index is derived data, so it only has
/// to keep up in the gaps; a lookup that finds it behind indexes the rest itself
/// ([`super::AuditLog::query`]).
/// Where the class cannot be changed (another OS, a seccomp filter), nice 19 is the fallback;
/// failing both only costs that preference.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
            set_thread_priority_and_policy, thread_native_id,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle).is_ok() {
            return;
        }
        if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19) {
            tracing::debug!(error = %e, "audit index: cannot lower the indexer's priority");
        }
    }
}

/// Moves the events and digests of an `audit.db` from before the segment files into the first
/// segment (once: skipped if segments exist), then drops the old tables; the index is rebuilt
/// from the segment.
pub(super) fn migrate_legacy(conn: &mut Connection, log_dir: &Path) -> Result<(), AuditError> {
    if segment::list_segments(log_dir).map_err(storage)?.is_empty() {
        fs::create_dir_all(log_dir).map_err(storage)?;
        let mut out = Vec::new();
        let mut digests: Vec<(i64, String, Vec<u8>)> = {
            let mut stmt = conn
                .prepare("SELECT last_seq, payload, signature FROM digests ORDER BY id")
                .map_err(storage)?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(storage)?
                .collect::<Result<_, _>>()
                .map_err(storage)?
        };
        digests.reverse();
        let mut put_digests_through = |out: &mut Vec<u8>, seq: i64| {
            while digests.last().is_some_and(|d| d.0 <= seq) {
                if let Some((_, payload, signature)) = digests.pop() {
                    segment::write_digest_line(out, payload.as_bytes(), &signature);
                }
            }
        };
        {
            let mut stmt = conn
                .prepare("SELECT seq, prev_hash, hash, record FROM events ORDER BY seq")
                .map_err(storage)?;
            let mut rows = stmt.query([]).map_err(storage)?;
            while let Some(r) = rows.next().map_err(storage)? {
                let seq: i64 = r.get(0).map_err(storage)?;
                let prev: Vec<u8> = r.get(1).map_err(storage)?;
                let hash: Vec<u8> = r.get(2).map_err(storage)?;
                let record: String = r.get(3).map_err(storage)?;
                put_digests_through(&mut out, seq - 1);
                let (Ok(prev), Ok(hash)) = (
                    <[u8; HASH_LEN]>::try_from(prev.as_slice()),
                    <[u8; HASH_LEN]>::try_from(hash.as_slice()),
                ) else {
                    return Err(storage(format!(
                        "legacy audit event {seq} has a malformed hash"
                    )));
                };
                segment::write_event_line(&mut out, seq, &prev, &hash, &record);
            }
        }
        put_digests_through(&mut out, i64::MAX);
        let first = log_dir.join(segment::segment_name(1));
        let temp = log_dir.join("migrating.tmp");
        fs::write(&temp, &out).map_err(storage)?;
        fs::File::open(&temp)
            .and_then(|f| f.sync_all())
            .map_err(storage)?;
        fs::rename(&temp, &first).map_err(storage)?;
        fs::File::open(log_dir)
            .and_then(|d| d.sync_all())
            .map_err(storage)?;
        tracing::info!(
            segment = %first.display(),
            "audit log: moved events from audit.db into segment files"
        );
    }
    conn.execute_batch(
        "DROP TABLE IF EXISTS event_resources; DROP TABLE IF EXISTS events;
         DROP TABLE IF EXISTS digests;",
    )
    .map_err(storage)
}
