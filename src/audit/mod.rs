//! The tamper-evident audit log: one CloudTrail-shaped event per request, durable before the
//! response leaves.
//!
//! - [`record`]: the neutral [`AuditEntry`] the front end fills in, and the CloudTrail record.
//! - [`redact`]: `requestParameters` / `responseElements` without secret values.
//! - [`chain`]: the SHA-256 hash chain and Ed25519-signed digests (pure functions).
//! - [`segment`]: the durable log, append-only JSON-lines files in `DATA_DIR/audit/`.
//! - [`storage`]: the writer thread (group commit: one write and one `fdatasync` for many
//!   events, digests, rotation, retention) and the indexer thread.
//! - [`index`]: `audit.db`, the lookup index built behind the log, and the wrapped signing key.
//! - [`verify`]: checks the chain and digests and names the first tampered event.
//! - [`query`]: filters for `strongbox audit lookup`, export and LookupEvents.
//! - [`cloudtrail`]: CloudTrail's LookupEvents.

pub mod chain;
pub mod cloudtrail;
pub mod index;
pub mod query;
pub mod record;
pub mod redact;
pub mod segment;
pub mod storage;
pub mod verify;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot, watch};

pub use query::{Attribute, EventQuery, StoredEvent};
pub use record::{AuditEntry, Identity, PreparedEvent, RecordedError, ResourceRef};
pub use redact::{
    request_parameters_from_form, request_parameters_from_json, response_elements_from_json,
};
pub use segment::LOG_DIR;

/// The file in the data directory that holds the wrapped digest signing key.
pub const AUDIT_FILE: &str = "audit.db";

use crate::clock::Clock;
use crate::crypto::RootKey;
use crate::metrics::{Histogram, write_header, write_single};

/// Why the audit log could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// SQLite failed (I/O, lock timeout, corruption).
    #[error("audit storage: {0}")]
    Storage(String),
    /// The signing key could not be created, unwrapped or used.
    #[error("audit signing key: {0}")]
    Crypto(String),
    /// The writer thread is gone.
    #[error("the audit writer has stopped")]
    Closed,
}

/// Audit settings; `strongbox serve` fills them from flags.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Sign a digest after this many events...
    pub digest_every_events: u64,
    /// ...or after this much time with new events, whichever comes first.
    pub digest_interval: Duration,
    /// Delete events older than this (at a digest boundary); `None` keeps everything.
    pub retention: Option<Duration>,
    /// How often retention is applied.
    pub prune_interval: Duration,
    /// How long an append waits for the database's write lock before failing.
    pub busy_timeout: Duration,
    /// Most events in one group commit.
    pub max_batch: usize,
    /// Events that may wait for the writer before appends wait for room.
    pub queue_capacity: usize,
    /// A new segment starts at the next digest once the current one is this large...
    pub segment_bytes: u64,
    /// ...or this old; retention deletes whole segments.
    pub segment_max_age: Duration,
    /// Fault injection for tests: while set, every write to the log fails as an I/O error
    /// would.
    pub fail_writes: Arc<AtomicBool>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            digest_every_events: 1000,
            digest_interval: Duration::from_secs(60),
            retention: None,
            prune_interval: Duration::from_secs(3600),
            busy_timeout: Duration::from_secs(5),
            max_batch: 4096,
            queue_capacity: 65_536,
            segment_bytes: segment::DEFAULT_SEGMENT_BYTES,
            segment_max_age: Duration::from_secs(24 * 3600),
            fail_writes: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// Counters the writer keeps, for `/metrics` and `/ready`.
#[derive(Debug)]
pub struct AuditStats {
    /// Appends sent but not yet taken by the writer.
    pub queue_depth: AtomicI64,
    /// Events made durable.
    pub events: AtomicU64,
    /// Events whose append failed.
    pub failures: AtomicU64,
    /// The last durable event's sequence number.
    pub durable_seq: AtomicI64,
    /// The last indexed event's sequence number.
    pub indexed_seq: AtomicI64,
    /// Group commits attempted.
    pub batches: AtomicU64,
    /// Time per group commit (insert and fsync).
    pub commit_latency: Histogram,
    /// False after a failed commit, until one succeeds.
    pub healthy: AtomicBool,
}

impl Default for AuditStats {
    fn default() -> Self {
        Self {
            queue_depth: AtomicI64::new(0),
            events: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            durable_seq: AtomicI64::new(0),
            indexed_seq: AtomicI64::new(0),
            batches: AtomicU64::new(0),
            commit_latency: Histogram::default(),
            healthy: AtomicBool::new(true),
        }
    }
}

impl AuditStats {
    /// Appends the audit metrics in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        write_single(
            out,
            "strongbox_audit_queue_depth",
            "gauge",
            "Audit events waiting for the writer.",
            self.queue_depth.load(Ordering::Relaxed).max(0) as f64,
        );
        write_single(
            out,
            "strongbox_audit_events_total",
            "counter",
            "Audit events made durable.",
            self.events.load(Ordering::Relaxed) as f64,
        );
        write_single(
            out,
            "strongbox_audit_failures_total",
            "counter",
            "Audit events whose append failed (their requests got InternalServiceError).",
            self.failures.load(Ordering::Relaxed) as f64,
        );
        write_single(
            out,
            "strongbox_audit_index_lag_events",
            "gauge",
            "Durable audit events not yet in the lookup index.",
            (self.durable_seq.load(Ordering::Relaxed) - self.indexed_seq.load(Ordering::Relaxed))
                .max(0) as f64,
        );
        write_single(
            out,
            "strongbox_audit_batches_total",
            "counter",
            "Audit group commits.",
            self.batches.load(Ordering::Relaxed) as f64,
        );
        write_header(
            out,
            "strongbox_audit_commit_duration_seconds",
            "histogram",
            "Time per audit group commit (write and fdatasync).",
        );
        self.commit_latency
            .render(out, "strongbox_audit_commit_duration_seconds", "");
    }
}

struct Inner {
    tx: mpsc::Sender<storage::Command>,
    /// The index, `audit/index.db`.
    path: PathBuf,
    /// The segment directory.
    log_dir: PathBuf,
    /// The last indexed sequence number, as the indexer publishes it.
    indexed: watch::Receiver<i64>,
    /// The indexer's queue, to ask it to index what it has now.
    index_tx: std::sync::mpsc::SyncSender<storage::IndexWork>,
    stats: Arc<AuditStats>,
    config: AuditConfig,
    readers: Mutex<Vec<Connection>>,
}

/// A handle on the audit log; cheap to clone. Appends go to one writer thread.
#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.inner.path)
            .finish()
    }
}

const READ_POOL: usize = 4;

impl AuditLog {
    /// Opens (creating on first start) the audit log in `dir`: the segment files in
    /// `dir/audit/` and the index `dir/audit.db`. Unwraps (or creates and wraps) the digest
    /// signing key with `root`, recovers the log's tail, and starts the writer and indexer
    /// threads.
    pub fn open(
        dir: &Path,
        root: &RootKey,
        clock: Arc<dyn Clock>,
        config: AuditConfig,
    ) -> Result<Self, AuditError> {
        let log_dir = dir.join(LOG_DIR);
        let lock = storage::lock_writer(&log_dir)?;
        let mut keys = storage::open_key_store(&dir.join(AUDIT_FILE), config.busy_timeout)?;
        if storage::has_legacy_events(&keys)? {
            storage::migrate_legacy(&mut keys, &log_dir)?;
        }
        let pkcs8 = storage::load_or_create_signing_key(&keys, root)?;
        drop(keys);
        let (log, tail) = segment::SegmentWriter::open(&log_dir, config.segment_bytes)
            .map_err(|e| AuditError::Storage(format!("{}: {e}", log_dir.display())))?;
        let conn = index::open_checked(&log_dir, config.busy_timeout)?;
        let path = log_dir.join(index::INDEX_FILE);
        let stats = Arc::new(AuditStats::default());
        let (index_tx, index_rx) = std::sync::mpsc::sync_channel(1024);
        let indexed_now = index::resume_point(&conn)?.map_or(0, |r| r.0);
        let (progress, indexed) = watch::channel(indexed_now);
        stats.indexed_seq.store(indexed_now, Ordering::Relaxed);
        let writer = storage::Writer::new(
            log,
            tail,
            log_dir.clone(),
            &pkcs8,
            clock,
            storage::WriterSettings {
                digest_every: config.digest_every_events,
                max_batch: config.max_batch,
                segment_age_ms: i64::try_from(config.segment_max_age.as_millis())
                    .unwrap_or(i64::MAX),
                fail_writes: config.fail_writes.clone(),
            },
            stats.clone(),
            index_tx.clone(),
            lock,
        )?;
        drop(pkcs8);
        let indexer = storage::Indexer::new(conn, log_dir.clone(), progress, stats.clone());
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        let thread_error =
            |e: std::io::Error| AuditError::Storage(format!("cannot start an audit thread: {e}"));
        std::thread::Builder::new()
            .name("audit-indexer".into())
            .spawn(move || indexer.run(index_rx))
            .map_err(thread_error)?;
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(thread_error)?;
        Ok(Self {
            inner: Arc::new(Inner {
                tx,
                path,
                log_dir,
                indexed,
                index_tx,
                stats,
                config,
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &AuditConfig {
        &self.inner.config
    }

    /// The writer's counters.
    pub fn stats(&self) -> &Arc<AuditStats> {
        &self.inner.stats
    }

    /// Path of the index, `audit/index.db`.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, AuditError>>) -> storage::Command,
    ) -> Result<T, AuditError> {
        let (ack, done) = oneshot::channel();
        self.inner
            .tx
            .send(make(ack))
            .await
            .map_err(|_| AuditError::Closed)?;
        done.await.map_err(|_| AuditError::Closed)?
    }

    /// Appends an already built event; resolves once it is durable (committed and fsynced).
    pub async fn append_prepared(&self, event: PreparedEvent) -> Result<(), AuditError> {
        let stats = &self.inner.stats;
        stats.queue_depth.fetch_add(1, Ordering::Relaxed);
        let (ack, done) = oneshot::channel();
        if self
            .inner
            .tx
            .send(storage::Command::Append(event, ack))
            .await
            .is_err()
        {
            stats.queue_depth.fetch_sub(1, Ordering::Relaxed);
            return Err(AuditError::Closed);
        }
        done.await.map_err(|_| AuditError::Closed)?
    }

    /// Builds the record for `entry` (serialised once, here, off the writer thread) and
    /// appends it; resolves once it is durable.
    pub async fn append(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        self.append_prepared(PreparedEvent::build(entry)).await
    }

    /// Appends several events; they are durable when this resolves. They go to the writer
    /// together, so they usually share one commit.
    pub async fn append_all(&self, entries: &[AuditEntry]) -> Result<(), AuditError> {
        let mut pending = Vec::with_capacity(entries.len());
        for entry in entries {
            let event = PreparedEvent::build(entry);
            self.inner.stats.queue_depth.fetch_add(1, Ordering::Relaxed);
            let (ack, done) = oneshot::channel();
            if self
                .inner
                .tx
                .send(storage::Command::Append(event, ack))
                .await
                .is_err()
            {
                self.inner.stats.queue_depth.fetch_sub(1, Ordering::Relaxed);
                return Err(AuditError::Closed);
            }
            pending.push(done);
        }
        for done in pending {
            done.await.map_err(|_| AuditError::Closed)??;
        }
        Ok(())
    }

    /// Stops taking events once those already sent are durable, waits for the index to hold
    /// them all and marks it cleanly closed (so a reboot need not rebuild it). Appends after
    /// this fail with [`AuditError::Closed`].
    pub async fn close(&self) -> Result<(), AuditError> {
        self.call(storage::Command::Close).await
    }

    /// Signs a digest of the events since the last one; false if there were none.
    pub async fn digest_now(&self) -> Result<bool, AuditError> {
        self.call(storage::Command::Digest).await
    }

    /// Deletes events older than `before` (epoch ms), up to the last digest boundary before
    /// it; returns how many were deleted.
    pub async fn prune_before(&self, before: i64) -> Result<u64, AuditError> {
        self.call(|ack| storage::Command::Prune(before, ack)).await
    }

    /// True when the writer is running and can sync the log now (after a failed write, this
    /// probe is what marks the log healthy again).
    pub async fn writable(&self) -> bool {
        self.call(storage::Command::Ping).await.is_ok()
    }

    /// Runs a query on a pooled read-only connection, once the index holds every event that
    /// was durable when the query arrived (it trails the log by milliseconds).
    pub async fn query(&self, q: EventQuery) -> Result<Vec<StoredEvent>, AuditError> {
        let target = self.inner.stats.durable_seq.load(Ordering::Acquire);
        if !self.index_reaches(target).await {
            tracing::warn!("audit index is behind the log: the lookup may miss recent events");
        }
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner
                .readers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let conn = match pooled {
                Some(c) => c,
                None => index::open_read_only(&inner.path)?,
            };
            let result = query::run(&conn, &inner.log_dir, &q);
            let mut pool = inner.readers.lock().unwrap_or_else(PoisonError::into_inner);
            if pool.len() < READ_POOL {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|_| AuditError::Closed)?
    }
}

/// How long a lookup waits for the index to reach the log before answering from what is
/// indexed.
const INDEX_WAIT: Duration = Duration::from_secs(10);

/// How long a lookup waits for the indexer before indexing the missing events itself.
const INDEX_NUDGE: Duration = Duration::from_millis(50);

impl AuditLog {
    /// Waits until the index holds event `target`; false if it still does not after
    /// [`INDEX_WAIT`]. The indexer is asked first and given [`INDEX_NUDGE`]; it runs in the idle
    /// scheduling class, so on saturated cores it may get almost no CPU, and the lookup then
    /// indexes the missing events itself, at its own priority.
    async fn index_reaches(&self, target: i64) -> bool {
        let mut indexed = self.inner.indexed.clone();
        if *indexed.borrow() >= target {
            return true;
        }
        let _ = self.inner.index_tx.try_send(storage::IndexWork::Flush);
        let nudged = tokio::time::timeout(INDEX_NUDGE, indexed.wait_for(|seq| *seq >= target));
        if nudged.await.is_ok() {
            return true;
        }
        let inner = self.inner.clone();
        match tokio::task::spawn_blocking(move || inner.catch_up_index()).await {
            Ok(Ok(seq)) if seq >= target => return true,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "audit lookup: cannot index behind the log"),
            Err(e) => tracing::warn!(error = %e, "audit lookup: the indexing task failed"),
        }
        tokio::time::timeout(INDEX_WAIT, indexed.wait_for(|seq| *seq >= target))
            .await
            .is_ok()
    }
}

impl Inner {
    /// Indexes, on the calling thread and its own connection, every durable event the index
    /// lacks; returns the last indexed sequence number. Safe beside the indexer thread: both
    /// insert-or-ignore under SQLite's write lock, from where the index stands.
    fn catch_up_index(&self) -> Result<i64, AuditError> {
        let mut conn = index::open_wal(&self.path, self.config.busy_timeout)?;
        // As the indexer's own connection: the index is rebuilt after a reboot, never synced.
        conn.pragma_update(None, "synchronous", "OFF")
            .map_err(index::storage)?;
        index::catch_up(&mut conn, &self.log_dir)
    }
}

/// Checks the audit log of the data directory `dir` (see [`verify::verify`]), with the digest
/// public key derived from the signing key that `root` unwraps from `audit.db`: a key swapped
/// in the database would not unwrap.
pub fn verify_log(dir: &Path, root: &RootKey) -> Result<verify::Summary, verify::Finding> {
    let unreadable = |e: AuditError| verify::Finding::Unreadable(e.to_string());
    let path = dir.join(AUDIT_FILE);
    if !path.exists() {
        return Err(verify::Finding::Unreadable(format!(
            "{} does not exist",
            path.display()
        )));
    }
    let keys = index::open_read_only(&path).map_err(unreadable)?;
    let pkcs8 = storage::load_signing_key(&keys, root)
        .map_err(unreadable)?
        .ok_or_else(|| verify::Finding::Unreadable("the log has no signing key".into()))?;
    let public = storage::public_key(&pkcs8).map_err(unreadable)?;
    if storage::has_legacy_events(&keys).map_err(unreadable)? {
        return Err(verify::Finding::Unreadable(
            "audit.db is in the format before segment files; start the server once to move \
             its events"
                .into(),
        ));
    }
    let log_dir = dir.join(LOG_DIR);
    let index_path = log_dir.join(index::INDEX_FILE);
    let index = if index_path.exists() {
        Some(index::open_read_only(&index_path).map_err(unreadable)?)
    } else {
        None
    };
    verify::verify(&log_dir, index.as_ref(), &public)
}

/// Brings the index of the data directory `dir` up to date with its segment files (for the
/// offline CLI, which may run while no server does).
pub fn catch_up_index(dir: &Path) -> Result<(), AuditError> {
    let log_dir = dir.join(LOG_DIR);
    let mut conn = index::open_checked(&log_dir, Duration::from_secs(5))?;
    index::catch_up(&mut conn, &log_dir).map(|_| ())
}

#[cfg(test)]
mod tests;
