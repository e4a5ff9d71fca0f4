//! The embedded default backend: SQLite in WAL mode with `synchronous=FULL`, so an
//! acknowledged write survives a crash or power loss.
//!
//! One writer connection serialises transactions (SQLite allows one writer anyway); readers
//! use a small pool of their own connections, so reads never wait behind an fsync. All calls
//! run on tokio's blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::labels::{self, LabelMap, StageRequest};
use super::read_cache::{Generation, ReadCache};
use super::{
    AccessKeyRecord, Cursor, CursorValue, IamChange, IamObject, KmsKeyRecord, ListPage, ListQuery,
    MAX_TAGS_PER_SECRET, MAX_VERSIONS_PER_SECRET, MetadataUpdate, NewSecret, NewVersion, Scope,
    SecretLookup, SecretRecord, SortKey, Store, StoreCounts, StoreError, StoreResult,
    VersionRecord,
};
use crate::clock::EpochMillis;
use crate::model::Tag;
use crate::model::filter::{FilterTarget, matches_all, name_prefixes};

/// Ordered schema migrations; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL,
    principal_arn TEXT NOT NULL,
    sealed_secret BLOB NOT NULL,
    active        INTEGER NOT NULL,
    created_ms    INTEGER NOT NULL
);
CREATE TABLE kms_keys (
    key_id           TEXT PRIMARY KEY,
    arn              TEXT NOT NULL UNIQUE,
    account_id       TEXT NOT NULL,
    region           TEXT NOT NULL,
    alias            TEXT,
    material_version INTEGER NOT NULL,
    sealed_material  BLOB NOT NULL,
    created_ms       INTEGER NOT NULL,
    UNIQUE (account_id, region, alias)
);
CREATE TABLE secrets (
    pk               INTEGER PRIMARY KEY,
    account_id       TEXT NOT NULL,
    region           TEXT NOT NULL,
    name             TEXT NOT NULL,
    arn              TEXT NOT NULL UNIQUE,
    description      TEXT,
    kms_key_id       TEXT,
    secret_type      TEXT,
    created_ms       INTEGER NOT NULL,
    last_changed_ms  INTEGER NOT NULL,
    last_accessed_ms INTEGER,
    deleted_ms       INTEGER,
    deletion_ms      INTEGER,
    tags             TEXT,
    UNIQUE (account_id, region, name)
);
CREATE INDEX secrets_created ON secrets (account_id, region, created_ms, pk);
CREATE INDEX secrets_changed ON secrets (account_id, region, last_changed_ms, pk);
CREATE INDEX secrets_deletion ON secrets (deletion_ms) WHERE deletion_ms IS NOT NULL;
CREATE TABLE versions (
    secret_pk        INTEGER NOT NULL REFERENCES secrets (pk) ON DELETE CASCADE,
    version_id       TEXT NOT NULL,
    created_ms       INTEGER NOT NULL,
    last_accessed_ms INTEGER,
    sealed           BLOB,
    PRIMARY KEY (secret_pk, version_id)
);
CREATE TABLE stages (
    secret_pk  INTEGER NOT NULL,
    stage      TEXT NOT NULL,
    version_id TEXT NOT NULL,
    PRIMARY KEY (secret_pk, stage),
    FOREIGN KEY (secret_pk, version_id) REFERENCES versions (secret_pk, version_id) ON DELETE CASCADE
);
"#,
    r#"
ALTER TABLE secrets ADD COLUMN resource_policy TEXT;
CREATE TABLE iam_objects (
    account_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (account_id, kind, key)
);
"#,
    // A secret's labels clustered in one B-tree leaf (WITHOUT ROWID, keyed by the secret):
    // a put that moves AWSCURRENT and AWSPREVIOUS dirties one page instead of two rows' pages
    // found through a separate key index.
    r#"
CREATE TABLE stages_by_secret (
    secret_pk  INTEGER NOT NULL,
    stage      TEXT NOT NULL,
    version_id TEXT NOT NULL,
    PRIMARY KEY (secret_pk, stage),
    FOREIGN KEY (secret_pk, version_id) REFERENCES versions (secret_pk, version_id) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO stages_by_secret (secret_pk, stage, version_id)
    SELECT secret_pk, stage, version_id FROM stages;
DROP TABLE stages;
ALTER TABLE stages_by_secret RENAME TO stages;
"#,
    // A counter every change to identities bumps, whoever writes it (this server, another
    // process such as `strongbox user create`): a running server polls it to reload its
    // credential table.
    r#"
CREATE TABLE iam_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO iam_generation (id, n) VALUES (1, 0);
CREATE TRIGGER access_keys_insert AFTER INSERT ON access_keys
    BEGIN UPDATE iam_generation SET n = n + 1; END;
CREATE TRIGGER access_keys_update AFTER UPDATE ON access_keys
    BEGIN UPDATE iam_generation SET n = n + 1; END;
CREATE TRIGGER access_keys_delete AFTER DELETE ON access_keys
    BEGIN UPDATE iam_generation SET n = n + 1; END;
CREATE TRIGGER iam_objects_insert AFTER INSERT ON iam_objects
    BEGIN UPDATE iam_generation SET n = n + 1; END;
CREATE TRIGGER iam_objects_update AFTER UPDATE ON iam_objects
    BEGIN UPDATE iam_generation SET n = n + 1; END;
CREATE TRIGGER iam_objects_delete AFTER DELETE ON iam_objects
    BEGIN UPDATE iam_generation SET n = n + 1; END;
"#,
];

/// How many read connections to keep.
const READ_POOL: usize = 16;
/// Rows fetched per step while filtering a ListSecrets page.
const LIST_BATCH: usize = 256;

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        backend(e)
    }
}

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Writer>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// Recent secret lookups by scope and name or ARN (see [`ReadCache`]).
    secrets: Arc<ReadCache<String, Arc<SecretRecord>>>,
    /// The same, without staging labels ([`Store::find_secret_row`]).
    secret_rows: Arc<ReadCache<String, Arc<SecretRecord>>>,
    /// Recent version-by-label lookups by secret and label.
    staged: Arc<ReadCache<(i64, String), Arc<VersionRecord>>>,
}

/// Most write jobs committed in one transaction: far above any realistic number of concurrent
/// writers, and a bound on how long the first job of a batch can wait for the last.
const MAX_BATCH: usize = 1024;

/// One write waiting for the writer thread: it runs inside the batch's transaction, then learns
/// whether the batch committed.
trait WriteJob: Send {
    /// Runs the write on the batch's connection; false if it failed (its changes must be undone).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Reports the outcome to the waiting caller: its own result if it failed, otherwise the
    /// commit's.
    fn finish(self: Box<Self>, committed: Result<(), StoreError>);
}

struct TypedJob<T, F> {
    work: Option<F>,
    result: Option<StoreResult<T>>,
    done: tokio::sync::oneshot::Sender<StoreResult<T>>,
}

impl<T, F> WriteJob for TypedJob<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> StoreResult<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let result = match self.work.take() {
            Some(f) => f(conn),
            None => Err(backend("write job ran twice")),
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<(), StoreError>) {
        let out = match (self.result, committed) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Ok(_)), Err(e)) => Err(e),
            (None, Err(e)) => Err(e),
            (None, Ok(())) => Err(backend("write job did not run")),
        };
        let _ = self.done.send(out);
    }
}

/// The group-committing writer: one thread owns the write connection. It takes every job
/// queued while the previous batch was committing, runs each in its own savepoint inside one
/// `BEGIN IMMEDIATE` transaction, commits once (one fsync), and only then answers the jobs. So
/// many concurrent writers share an fsync, each write is still atomic (a failed job rolls back
/// to its savepoint and leaves the others alone), jobs run one after another in queue order
/// (each sees the ones before it, as with one transaction per write), and no caller hears
/// "done" before its write is durable.
struct Writer {
    queue: std::sync::mpsc::Sender<Box<dyn WriteJob>>,
    /// Dropped with the writer: stops the checkpoint thread.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

/// How often the checkpoint thread looks for committed WAL frames to copy into the database.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
/// The writer checkpoints by itself, inside a commit, only past this many WAL pages (64 MiB).
///
/// Under steady writes and reads SQLite seldom starts the WAL over by itself (that needs a
/// write to begin after a checkpoint that left nothing behind, with no reader on an older
/// snapshot), so the WAL grows until this limit; past it, commits checkpoint and sync the
/// database file until the WAL restarts. A put dirties three to four 4 KiB pages, so at
/// 7,000 puts/s the WAL grows by about 100 MB/s: at 16 MiB that stall came six times a
/// second (PutSecretValue p99 18 ms), at 64 MiB less than twice (p99 7 ms). It also
/// bounds the WAL a start after a crash must read (start to ready stays far below 200 ms).
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 16_384;

impl Writer {
    fn start(conn: Connection, path: &Path, generation: Generation) -> std::io::Result<Self> {
        let (queue, jobs) = std::sync::mpsc::channel::<Box<dyn WriteJob>>();
        // Checkpoints (copying WAL frames into the database file and syncing it) run on their
        // own thread and connection, as PASSIVE checkpoints that never block the writer: a
        // write waits for its own commit's sync only, not for the database file's.
        let _ = conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES);
        let (checkpoints, stop) = std::sync::mpsc::channel::<()>();
        let checkpointer = open_connection(path).map_err(std::io::Error::other)?;
        let seen = generation.clone();
        std::thread::Builder::new()
            .name("strongbox-sqlite-checkpoint".into())
            .spawn(move || {
                let mut last = seen.current();
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stop.recv_timeout(CHECKPOINT_INTERVAL)
                {
                    let now = seen.current();
                    if now != last {
                        last = now;
                        if let Err(e) = checkpointer.execute_batch("PRAGMA wal_checkpoint(PASSIVE)")
                        {
                            tracing::warn!(error = %e, "store checkpoint failed");
                        }
                    }
                }
            })?;
        std::thread::Builder::new()
            .name("strongbox-sqlite-writer".into())
            .spawn(move || {
                // Ends when every SqliteStore clone (and so every sender) is gone.
                while let Ok(first) = jobs.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match jobs.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    let committed = run_batch(&conn, &mut batch);
                    // Before any acknowledgement: cached reads from before this commit die.
                    generation.bump();
                    for job in batch {
                        job.finish(committed.clone());
                    }
                }
            })?;
        Ok(Self {
            queue,
            _checkpoints: checkpoints,
        })
    }
}

/// Runs `batch` in one transaction, each job in a savepoint; returns the commit's outcome.
fn run_batch(conn: &Connection, batch: &mut [Box<dyn WriteJob>]) -> Result<(), StoreError> {
    exec(conn, "BEGIN IMMEDIATE", [])?;
    let result = (|| {
        for job in batch.iter_mut() {
            exec(conn, "SAVEPOINT job", [])?;
            if job.run(conn) {
                exec(conn, "RELEASE job", [])?;
            } else {
                exec(conn, "ROLLBACK TO job", [])?;
                exec(conn, "RELEASE job", [])?;
            }
        }
        exec(conn, "COMMIT", []).map(|_| ())
    })();
    result.map_err(|e| {
        // Nothing of the batch is acknowledged; leave the connection usable for the next one.
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        StoreError::from(e)
    })
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // List queries vary in shape (sort, direction, number of name prefixes), and the writer
    // runs every write statement through the cache ([`exec`]); keep them all.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let mut writer = open_connection(path)?;
        migrate(&mut writer)?;
        let generation = Generation::default();
        Ok(Self {
            path: path.to_path_buf(),
            writer: Arc::new(Writer::start(writer, path, generation.clone()).map_err(backend)?),
            readers: Arc::new(Mutex::new(Vec::new())),
            secrets: Arc::new(ReadCache::new(generation.clone())),
            secret_rows: Arc::new(ReadCache::new(generation.clone())),
            staged: Arc::new(ReadCache::new(generation)),
        })
    }

    /// Runs `f` as one atomic write, group-committed with whatever else is queued (see
    /// [`Writer`]); resolves only once the write is durable. `f` must not begin or commit a
    /// transaction itself: it runs inside a savepoint of the batch's transaction.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Box<dyn WriteJob> = Box::new(TypedJob {
            work: Some(f),
            result: None,
            done,
        });
        self.writer
            .queue
            .send(job)
            .map_err(|_| backend("the writer thread has stopped"))?;
        result
            .await
            .map_err(|_| backend("the writer thread has stopped"))?
    }

    /// Runs a bounded read (a few indexed point lookups) inline on the calling task's thread.
    /// Such a read takes microseconds from the page cache, less than handing it to another
    /// thread and back; under load those hand-offs (context switches) cost more than the reads.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T>,
    {
        with_reader(&self.readers, &self.path, f)
    }

    /// Runs a read of unbounded cost (a list page that may scan past many non-matching rows)
    /// on tokio's blocking pool, so it never stalls the runtime's worker threads.
    async fn read_blocking<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || with_reader(&readers, &path, f))
            .await
            .map_err(backend)?
    }
}

/// Runs `f` in one read transaction on a pooled reader connection (opening one if the pool is
/// empty); the pool mutex is held only to take and return a connection, never during the read.
fn with_reader<T>(
    readers: &Mutex<Vec<Connection>>,
    path: &Path,
    f: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    let pooled = readers.lock().map_err(backend)?.pop();
    let conn = match pooled {
        Some(c) => c,
        None => open_connection(path)?,
    };
    // One read transaction around all of `f`'s statements: a read that takes several
    // SELECTs (a secret then its labels, the labels then the versions, a list page then
    // each secret's labels) must see one snapshot. In autocommit mode each SELECT saw
    // the latest commit, so a writer committing in between (e.g. a put that moves
    // AWSPREVIOUS and prunes its old holder) produced states that never existed, such
    // as versions() with no AWSPREVIOUS. The conformance suite's concurrent readers
    // test catches this.
    let result = (|| {
        exec(&conn, "BEGIN", [])?;
        let out = f(&conn);
        exec(&conn, "COMMIT", [])?;
        out
    })();
    if !conn.is_autocommit() {
        // A failed statement left the transaction open; a pooled connection must not keep an
        // old snapshot.
        let _ = conn.execute_batch("ROLLBACK");
    }
    if let Ok(mut pool) = readers.lock()
        && pool.len() < READ_POOL
    {
        pool.push(conn);
    }
    result
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let applied = usize::try_from(version).map_err(backend)?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Backend(format!(
            "database schema version {applied} is newer than this binary ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// The `secrets` columns [`secret_from_row`] reads, as a macro so queries can be `concat!`ed
/// into constants (no formatting per request).
macro_rules! secret_columns {
    () => {
        "pk, account_id, region, name, arn, description, kms_key_id, secret_type, created_ms, \
         last_changed_ms, last_accessed_ms, deleted_ms, deletion_ms, tags, resource_policy"
    };
}
const SECRET_COLUMNS: &str = secret_columns!();

fn tags_to_json(tags: &Option<Vec<Tag>>) -> StoreResult<Option<String>> {
    tags.as_ref()
        .map(|t| serde_json::to_string(t).map_err(backend))
        .transpose()
}

fn secret_from_row(row: &Row<'_>) -> rusqlite::Result<SecretRecord> {
    let tags: Option<String> = row.get(13)?;
    let tags = match tags {
        Some(json) => Some(serde_json::from_str(&json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(13, rusqlite::types::Type::Text, Box::new(e))
        })?),
        None => None,
    };
    Ok(SecretRecord {
        pk: row.get(0)?,
        account_id: row.get(1)?,
        region: row.get(2)?,
        name: row.get(3)?,
        arn: row.get(4)?,
        description: row.get(5)?,
        kms_key_id: row.get(6)?,
        secret_type: row.get(7)?,
        created_ms: row.get(8)?,
        last_changed_ms: row.get(9)?,
        last_accessed_ms: row.get(10)?,
        deleted_ms: row.get(11)?,
        deletion_ms: row.get(12)?,
        tags,
        resource_policy: row.get(14)?,
        labels: LabelMap::new(),
    })
}

fn load_labels(conn: &Connection, pk: i64) -> StoreResult<LabelMap> {
    let mut stmt =
        conn.prepare_cached("SELECT stage, version_id FROM stages WHERE secret_pk = ?1")?;
    let rows = stmt.query_map([pk], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<LabelMap>>()?)
}

/// Fills the labels of a page of secrets with one statement (the page's keys passed as a JSON
/// array to `json_each`), instead of one query per secret.
fn load_labels_of_page(conn: &Connection, page: &mut [SecretRecord]) -> StoreResult<()> {
    if page.is_empty() {
        return Ok(());
    }
    let keys: Vec<i64> = page.iter().map(|r| r.pk).collect();
    let keys = serde_json::to_string(&keys).map_err(backend)?;
    let mut by_pk: std::collections::HashMap<i64, LabelMap> = std::collections::HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT secret_pk, stage, version_id FROM stages \
         WHERE secret_pk IN (SELECT value FROM json_each(?1))",
    )?;
    let mut rows = stmt.query([keys])?;
    while let Some(row) = rows.next()? {
        by_pk
            .entry(row.get(0)?)
            .or_default()
            .insert(row.get(1)?, row.get(2)?);
    }
    for record in page {
        record.labels = by_pk.remove(&record.pk).unwrap_or_default();
    }
    Ok(())
}

fn load_secret(conn: &Connection, pk: i64) -> StoreResult<Option<SecretRecord>> {
    let sql = format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE pk = ?1");
    let record = conn
        .prepare_cached(&sql)?
        .query_row([pk], secret_from_row)
        .optional()?;
    match record {
        Some(mut r) => {
            r.labels = load_labels(conn, pk)?;
            Ok(Some(r))
        }
        None => Ok(None),
    }
}

fn load_version(
    conn: &Connection,
    secret_pk: i64,
    version_id: &str,
) -> StoreResult<Option<VersionRecord>> {
    let labels = load_labels(conn, secret_pk)?;
    load_version_labelled(conn, secret_pk, version_id, &labels)
}

/// A version row, its stages taken from `labels` (read in the same transaction).
fn load_version_labelled(
    conn: &Connection,
    secret_pk: i64,
    version_id: &str,
    labels: &LabelMap,
) -> StoreResult<Option<VersionRecord>> {
    let row = conn
        .prepare_cached(
            "SELECT version_id, created_ms, last_accessed_ms, sealed FROM versions \
             WHERE secret_pk = ?1 AND version_id = ?2",
        )?
        .query_row(params![secret_pk, version_id], |r| {
            Ok(VersionRecord {
                version_id: r.get(0)?,
                created_ms: r.get(1)?,
                last_accessed_ms: r.get(2)?,
                sealed: r.get(3)?,
                stages: Vec::new(),
            })
        })
        .optional()?;
    Ok(row.map(|mut v| {
        v.stages = labels::labels_of(labels, &v.version_id);
        v
    }))
}

fn require_secret(conn: &Connection, pk: i64) -> StoreResult<()> {
    let exists: Option<i64> = conn
        .prepare_cached("SELECT pk FROM secrets WHERE pk = ?1")?
        .query_row([pk], |r| r.get(0))
        .optional()?;
    exists.map(|_| ()).ok_or(StoreError::NotFound)
}

/// Writes the difference between two label maps.
fn write_labels(conn: &Connection, pk: i64, old: &LabelMap, new: &LabelMap) -> StoreResult<()> {
    for stage in old.keys().filter(|s| !new.contains_key(*s)) {
        exec(
            conn,
            "DELETE FROM stages WHERE secret_pk = ?1 AND stage = ?2",
            params![pk, stage],
        )?;
    }
    for (stage, version) in new {
        if old.get(stage) != Some(version) {
            exec(
                conn,
                "INSERT INTO stages (secret_pk, stage, version_id) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (secret_pk, stage) DO UPDATE SET version_id = excluded.version_id",
                params![pk, stage, version],
            )?;
        }
    }
    Ok(())
}

fn touch(conn: &Connection, pk: i64, now: EpochMillis) -> StoreResult<()> {
    exec(
        conn,
        "UPDATE secrets SET last_changed_ms = ?2 WHERE pk = ?1",
        params![pk, now],
    )?;
    Ok(())
}

/// Runs one statement through the connection's statement cache: the write paths (and the
/// batch's BEGIN, SAVEPOINT, RELEASE and COMMIT) run the same few statements over and over, and
/// parsing them each time was a measurable share of a put.
fn exec<P: rusqlite::Params>(conn: &Connection, sql: &str, params: P) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

fn iam_from_row(row: &Row<'_>) -> rusqlite::Result<IamObject> {
    Ok(IamObject {
        account_id: row.get(0)?,
        kind: row.get(1)?,
        key: row.get(2)?,
        body: row.get(3)?,
    })
}

fn kms_from_row(row: &Row<'_>) -> rusqlite::Result<KmsKeyRecord> {
    Ok(KmsKeyRecord {
        key_id: row.get(0)?,
        arn: row.get(1)?,
        account_id: row.get(2)?,
        region: row.get(3)?,
        alias: row.get(4)?,
        material_version: row.get(5)?,
        sealed_material: row.get(6)?,
        created_ms: row.get(7)?,
    })
}

const KMS_COLUMNS: &str =
    "key_id, arn, account_id, region, alias, material_version, sealed_material, created_ms";

fn sort_column(key: SortKey) -> &'static str {
    match key {
        SortKey::Created => "created_ms",
        SortKey::LastAccessed => "COALESCE(last_accessed_ms, 0)",
        SortKey::LastChanged => "last_changed_ms",
        SortKey::Name => "name",
    }
}

fn cursor_of(record: &SecretRecord, key: SortKey) -> Cursor {
    let value = match key {
        SortKey::Created => CursorValue::Int(record.created_ms),
        SortKey::LastAccessed => CursorValue::Int(record.last_accessed_ms.unwrap_or(0)),
        SortKey::LastChanged => CursorValue::Int(record.last_changed_ms),
        SortKey::Name => CursorValue::Text(record.name.clone()),
    };
    Cursor {
        value,
        pk: record.pk,
    }
}

/// The smallest string greater than every string that starts with `prefix`, when it is easy to
/// compute: the last character, if ASCII below DEL, incremented. Filter values are ASCII (AWS's
/// pattern), so in practice this always succeeds; otherwise the range stays open-ended, which
/// only costs a longer scan (the filter is still applied to every row).
fn prefix_successor(prefix: &str) -> Option<String> {
    let last = *prefix.as_bytes().last()?;
    if !last.is_ascii() || last >= 0x7e {
        return None;
    }
    let mut out = prefix[..prefix.len() - 1].to_string();
    out.push(char::from(last + 1));
    Some(out)
}

/// The SQL condition that narrows a list to names starting with one of the filters' name
/// prefixes (see [`name_prefixes`]), as index ranges on `UNIQUE (account_id, region, name)`,
/// with its parameters numbered from `first`. Empty when the filters do not constrain names.
fn name_range_clause(
    filters: &[crate::model::filter::Filter],
    first: usize,
) -> (String, Vec<rusqlite::types::Value>) {
    let Some(prefixes) = name_prefixes(filters) else {
        return (String::new(), Vec::new());
    };
    if prefixes.iter().any(|p| p.is_empty()) {
        return (String::new(), Vec::new());
    }
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    let mut ranges: Vec<String> = Vec::new();
    for prefix in prefixes {
        values.push(prefix.to_string().into());
        let lo = first + values.len() - 1;
        match prefix_successor(prefix) {
            Some(hi) => {
                values.push(hi.into());
                ranges.push(format!("(name >= ?{lo} AND name < ?{})", lo + 1));
            }
            None => ranges.push(format!("name >= ?{lo}")),
        }
    }
    (format!(" AND ({})", ranges.join(" OR ")), values)
}

/// Name-range matches up to which a list reads them through the name index and sorts them.
const NAME_RANGE_SORT_LIMIT: i64 = 10_000;

/// True when at most [`NAME_RANGE_SORT_LIMIT`] secrets of the scope fall in the name ranges
/// (`clause`, parameters from ?5); counts at most that many index entries.
fn name_range_is_small(
    conn: &Connection,
    scope: &Scope,
    clause: &str,
    values: &[rusqlite::types::Value],
) -> StoreResult<bool> {
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM secrets WHERE account_id = ?1 AND region = ?2{clause} \
         LIMIT ?4)"
    );
    let mut params: Vec<rusqlite::types::Value> = vec![
        scope.account_id.clone().into(),
        scope.region.clone().into(),
        0i64.into(),
        (NAME_RANGE_SORT_LIMIT + 1).into(),
    ];
    params.extend(values.iter().cloned());
    let n: i64 = conn
        .prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(params), |r| r.get(0))?;
    Ok(n <= NAME_RANGE_SORT_LIMIT)
}

fn list_page(conn: &Connection, scope: &Scope, q: &ListQuery) -> StoreResult<ListPage> {
    let col = sort_column(q.sort);
    let (cmp, dir) = if q.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let deleted_clause = if q.include_deleted {
        ""
    } else {
        " AND deleted_ms IS NULL"
    };
    // ?1..?4 are the scope, now and batch size; after them come the cursor (?5, ?6) on later
    // batches, then the name ranges.
    let (first_names, first_values) = name_range_clause(&q.filters, 5);
    let (after_names, after_values) = name_range_clause(&q.filters, 7);
    // With a name range and another sort order, SQLite would rather walk the sort index (no
    // sort step) and test each row, which is a scan of the whole scope when the prefix is rare.
    // A bounded probe of the name index tells which plan wins: few matches, read them through
    // the name index and sort them (`+col` stops the planner from choosing the sort index);
    // many matches, they are dense enough that walking the sort index finds a page quickly.
    let order_col = if !first_names.is_empty()
        && q.sort != SortKey::Name
        && name_range_is_small(conn, scope, &first_names, &first_values)?
    {
        format!("+{col}")
    } else {
        col.to_string()
    };
    let sql_first = format!(
        "SELECT {SECRET_COLUMNS} FROM secrets WHERE account_id = ?1 AND region = ?2 \
         AND (deletion_ms IS NULL OR deletion_ms > ?3){deleted_clause}{first_names} \
         ORDER BY {order_col} {dir}, pk {dir} LIMIT ?4"
    );
    let sql_after = format!(
        "SELECT {SECRET_COLUMNS} FROM secrets WHERE account_id = ?1 AND region = ?2 \
         AND (deletion_ms IS NULL OR deletion_ms > ?3){deleted_clause}{after_names} \
         AND ({col} {cmp} ?5 OR ({col} = ?5 AND pk {cmp} ?6)) \
         ORDER BY {order_col} {dir}, pk {dir} LIMIT ?4"
    );
    let mut out: Vec<SecretRecord> = Vec::new();
    let mut after = q.after.clone();
    let want = q.limit + 1;
    loop {
        let mut values: Vec<rusqlite::types::Value> = vec![
            scope.account_id.clone().into(),
            scope.region.clone().into(),
            q.now.into(),
            (LIST_BATCH as i64).into(),
        ];
        let sql = match &after {
            None => {
                values.extend(first_values.iter().cloned());
                &sql_first
            }
            Some(c) => {
                values.push(match &c.value {
                    CursorValue::Int(i) => (*i).into(),
                    CursorValue::Text(t) => t.clone().into(),
                });
                values.push(c.pk.into());
                values.extend(after_values.iter().cloned());
                &sql_after
            }
        };
        let batch: Vec<SecretRecord> = {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values), secret_from_row)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let exhausted = batch.len() < LIST_BATCH;
        for record in batch {
            after = Some(cursor_of(&record, q.sort));
            let keep = q.filters.is_empty()
                || matches_all(
                    &q.filters,
                    &FilterTarget {
                        name: &record.name,
                        description: record.description.as_deref(),
                        tags: record.tags.as_deref().unwrap_or(&[]),
                        primary_region: None,
                        owning_service: None,
                    },
                );
            if keep {
                out.push(record);
                if out.len() == want {
                    break;
                }
            }
        }
        if out.len() == want || exhausted {
            break;
        }
    }
    let next = if out.len() > q.limit {
        out.truncate(q.limit);
        out.last().map(|r| cursor_of(r, q.sort))
    } else {
        None
    };
    load_labels_of_page(conn, &mut out)?;
    Ok(ListPage { secrets: out, next })
}

/// Deletes the oldest unlabelled versions created before `prune_before` while the secret has
/// more than [`MAX_VERSIONS_PER_SECRET`]; `keep` (the version just written) is never pruned.
fn prune_versions(
    conn: &Connection,
    pk: i64,
    prune_before: EpochMillis,
    keep: &str,
) -> StoreResult<()> {
    let count: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM versions WHERE secret_pk = ?1")?
        .query_row([pk], |r| r.get(0))?;
    let excess = count - MAX_VERSIONS_PER_SECRET as i64;
    if excess <= 0 {
        return Ok(());
    }
    let pruned = exec(
        conn,
        "DELETE FROM versions WHERE rowid IN (SELECT v.rowid FROM versions v \
             WHERE v.secret_pk = ?1 AND v.created_ms < ?2 AND v.version_id <> ?4 AND NOT EXISTS \
             (SELECT 1 FROM stages s WHERE s.secret_pk = v.secret_pk AND s.version_id = v.version_id) \
             ORDER BY v.created_ms ASC LIMIT ?3)",
        params![pk, prune_before, excess, keep],
    )?;
    if (pruned as i64) < excess {
        return Err(StoreError::TooManyVersions);
    }
    Ok(())
}

impl SqliteStore {
    /// A secret by name or ARN, with its staging labels when `with_labels` (one more B-tree
    /// walk; under writes, which empty SQLite's page cache, a few more page reads).
    async fn lookup_secret(
        &self,
        scope: &Scope,
        lookup: SecretLookup<'_>,
        with_labels: bool,
    ) -> StoreResult<Option<Arc<SecretRecord>>> {
        let (sql, key) = match lookup {
            SecretLookup::Name(n) => (
                concat!(
                    "SELECT ",
                    secret_columns!(),
                    " FROM secrets WHERE account_id = ?1 AND region = ?2 AND name = ?3"
                ),
                n,
            ),
            SecretLookup::Arn(a) => (
                concat!(
                    "SELECT ",
                    secret_columns!(),
                    " FROM secrets WHERE account_id = ?1 AND region = ?2 AND arn = ?3"
                ),
                a,
            ),
        };
        // account \0 region \0 kind \0 name-or-ARN; `join` sizes it once.
        let kind = if matches!(lookup, SecretLookup::Arn(_)) {
            "arn"
        } else {
            "name"
        };
        let cache_key = [scope.account_id.as_str(), scope.region.as_str(), kind, key].join("\0");
        let cache = if with_labels {
            &self.secrets
        } else {
            &self.secret_rows
        };
        if let Some(hit) = cache.get(&cache_key) {
            return Ok(Some(hit));
        }
        let read_at = cache.generation();
        // The row and its labels in one read transaction: two statements, one snapshot.
        let found = self
            .read(|c| {
                let record = c
                    .prepare_cached(sql)?
                    .query_row(
                        params![scope.account_id, scope.region, key],
                        secret_from_row,
                    )
                    .optional()?;
                match record {
                    Some(mut r) if with_labels => {
                        r.labels = load_labels(c, r.pk)?;
                        Ok(Some(r))
                    }
                    other => Ok(other),
                }
            })
            .await?
            .map(Arc::new);
        if let Some(record) = &found {
            cache.put(read_at, cache_key, Arc::clone(record));
        }
        Ok(found)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn meta_get(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_string();
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn iam_generation(&self) -> StoreResult<i64> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT n FROM iam_generation WHERE id = 1")?
                    .query_row([], |r| r.get(0))?,
            )
        })
        .await
    }

    async fn meta_init(&self, key: &str, value: &str) -> StoreResult<String> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write(move |tx| {
            exec(
                tx,
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![key, value],
            )?;
            let v: String = tx.query_row("SELECT value FROM meta WHERE key = ?1", [&key], |r| {
                r.get(0)
            })?;
            Ok(v)
        })
        .await
    }

    async fn insert_access_key(&self, key: AccessKeyRecord) -> StoreResult<()> {
        self.write(move |c| {
            exec(
                c,
                "INSERT INTO access_keys (access_key_id, account_id, principal_arn, sealed_secret, \
                 active, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    key.access_key_id,
                    key.account_id,
                    key.principal_arn,
                    key.sealed_secret,
                    key.active,
                    key.created_ms
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn access_keys(&self) -> StoreResult<Vec<AccessKeyRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT access_key_id, account_id, principal_arn, sealed_secret, active, created_ms \
                 FROM access_keys",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(AccessKeyRecord {
                    access_key_id: r.get(0)?,
                    account_id: r.get(1)?,
                    principal_arn: r.get(2)?,
                    sealed_secret: r.get(3)?,
                    active: r.get(4)?,
                    created_ms: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn set_access_key_active(&self, access_key_id: &str, active: bool) -> StoreResult<bool> {
        let id = access_key_id.to_string();
        self.write(move |c| {
            Ok(exec(
                c,
                "UPDATE access_keys SET active = ?2 WHERE access_key_id = ?1",
                params![id, active],
            )? > 0)
        })
        .await
    }

    async fn delete_access_key(&self, access_key_id: &str) -> StoreResult<bool> {
        let id = access_key_id.to_string();
        self.write(move |c| {
            Ok(exec(c, "DELETE FROM access_keys WHERE access_key_id = ?1", [id])? > 0)
        })
        .await
    }

    async fn iam_get(
        &self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> StoreResult<Option<IamObject>> {
        let (account, kind, key) = (account.to_string(), kind.to_string(), key.to_string());
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT account_id, kind, key, body FROM iam_objects \
                 WHERE account_id = ?1 AND kind = ?2 AND key = ?3",
            )?
            .query_row(params![account, kind, key], iam_from_row)
            .optional()?)
        })
        .await
    }

    async fn iam_list(&self, account: Option<&str>, kind: &str) -> StoreResult<Vec<IamObject>> {
        let (account, kind) = (account.map(str::to_string), kind.to_string());
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT account_id, kind, key, body FROM iam_objects \
                 WHERE kind = ?1 AND (?2 IS NULL OR account_id = ?2) ORDER BY account_id, key",
            )?;
            let rows = stmt.query_map(params![kind, account], iam_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn iam_write(&self, changes: Vec<IamChange>) -> StoreResult<()> {
        self.write(move |tx| {
            for change in changes {
                match change {
                    IamChange::Insert(o) => {
                        let inserted = exec(
                            tx,
                            "INSERT INTO iam_objects (account_id, kind, key, body) \
                             VALUES (?1, ?2, ?3, ?4)",
                            params![o.account_id, o.kind, o.key, o.body],
                        );
                        match inserted {
                            Err(e) if is_unique_violation(&e) => {
                                return Err(StoreError::NameExists);
                            }
                            other => {
                                other?;
                            }
                        }
                    }
                    IamChange::Upsert(o) => {
                        exec(
                            tx,
                            "INSERT INTO iam_objects (account_id, kind, key, body) \
                             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id, kind, key) \
                             DO UPDATE SET body = excluded.body",
                            params![o.account_id, o.kind, o.key, o.body],
                        )?;
                    }
                    IamChange::Delete {
                        account_id,
                        kind,
                        key,
                    } => {
                        exec(
                            tx,
                            "DELETE FROM iam_objects WHERE account_id = ?1 AND kind = ?2 AND key = ?3",
                            params![account_id, kind, key],
                        )?;
                    }
                }
            }
            Ok(())
        })
        .await
    }

    async fn set_resource_policy(
        &self,
        secret_pk: i64,
        policy: Option<String>,
        now: EpochMillis,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let changed = exec(
                tx,
                "UPDATE secrets SET resource_policy = ?2, last_changed_ms = ?3 WHERE pk = ?1",
                params![secret_pk, policy, now],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn kms_key_by_alias(
        &self,
        account: &str,
        region: &str,
        alias: &str,
    ) -> StoreResult<Option<KmsKeyRecord>> {
        let (account, region, alias) = (account.to_string(), region.to_string(), alias.to_string());
        self.read(move |c| {
            let sql = format!(
                "SELECT {KMS_COLUMNS} FROM kms_keys WHERE account_id = ?1 AND region = ?2 AND alias = ?3"
            );
            Ok(c.prepare_cached(&sql)?
                .query_row(params![account, region, alias], kms_from_row)
                .optional()?)
        })
        .await
    }

    async fn kms_key_by_id(&self, key_id: &str) -> StoreResult<Option<KmsKeyRecord>> {
        let key_id = key_id.to_string();
        self.read(move |c| {
            let sql = format!("SELECT {KMS_COLUMNS} FROM kms_keys WHERE key_id = ?1");
            Ok(c.prepare_cached(&sql)?
                .query_row([key_id], kms_from_row)
                .optional()?)
        })
        .await
    }

    async fn insert_kms_key(&self, key: KmsKeyRecord) -> StoreResult<KmsKeyRecord> {
        self.write(move |tx| {
            let existing = match &key.alias {
                Some(alias) => {
                    let sql = format!(
                        "SELECT {KMS_COLUMNS} FROM kms_keys WHERE account_id = ?1 AND region = ?2 AND alias = ?3"
                    );
                    tx.query_row(&sql, params![key.account_id, key.region, alias], kms_from_row)
                        .optional()?
                }
                None => None,
            };
            if let Some(existing) = existing {
                return Ok(existing);
            }
            exec(
                tx,
                "INSERT INTO kms_keys (key_id, arn, account_id, region, alias, material_version, \
                 sealed_material, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    key.key_id,
                    key.arn,
                    key.account_id,
                    key.region,
                    key.alias,
                    key.material_version,
                    key.sealed_material,
                    key.created_ms
                ],
            )?;
            Ok(key)
        })
        .await
    }

    async fn create_secret(
        &self,
        secret: NewSecret,
        version: Option<NewVersion>,
    ) -> StoreResult<SecretRecord> {
        self.write(move |tx| {
            let tags = tags_to_json(&secret.tags)?;
            let inserted = exec(
                tx,
                "INSERT INTO secrets (account_id, region, name, arn, description, kms_key_id, \
                 secret_type, created_ms, last_changed_ms, tags) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
                params![
                    secret.scope.account_id,
                    secret.scope.region,
                    secret.name,
                    secret.arn,
                    secret.description,
                    secret.kms_key_id,
                    secret.secret_type,
                    secret.created_ms,
                    tags
                ],
            );
            match inserted {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::NameExists),
                other => {
                    other?;
                }
            }
            let pk = tx.last_insert_rowid();
            if let Some(v) = version {
                exec(
                    tx,
                    "INSERT INTO versions (secret_pk, version_id, created_ms, sealed) VALUES (?1, ?2, ?3, ?4)",
                    params![pk, v.version_id, v.created_ms, v.sealed],
                )?;
                exec(
                    tx,
                    "INSERT INTO stages (secret_pk, stage, version_id) VALUES (?1, 'AWSCURRENT', ?2)",
                    params![pk, v.version_id],
                )?;
            }
            let record = load_secret(tx, pk)?.ok_or(StoreError::NotFound)?;
            Ok(record)
        })
        .await
    }

    async fn find_secret(
        &self,
        scope: &Scope,
        lookup: SecretLookup<'_>,
    ) -> StoreResult<Option<Arc<SecretRecord>>> {
        self.lookup_secret(scope, lookup, true).await
    }

    async fn find_secret_row(
        &self,
        scope: &Scope,
        lookup: SecretLookup<'_>,
    ) -> StoreResult<Option<Arc<SecretRecord>>> {
        self.lookup_secret(scope, lookup, false).await
    }

    async fn version(
        &self,
        secret_pk: i64,
        version_id: &str,
    ) -> StoreResult<Option<VersionRecord>> {
        self.read(|c| load_version(c, secret_pk, version_id)).await
    }

    async fn version_by_stage(
        &self,
        secret_pk: i64,
        stage: &str,
    ) -> StoreResult<Option<Arc<VersionRecord>>> {
        let cache_key = (secret_pk, stage.to_string());
        if let Some(hit) = self.staged.get(&cache_key) {
            return Ok(Some(hit));
        }
        let read_at = self.staged.generation();
        // One read transaction: the label and the version's labels come from one snapshot, so
        // the version returned holds `stage` even while writers move labels.
        let found = self
            .read(|c| {
                let labels = load_labels(c, secret_pk)?;
                match labels.get(stage) {
                    Some(id) => load_version_labelled(c, secret_pk, id, &labels),
                    None => Ok(None),
                }
            })
            .await?
            .map(Arc::new);
        if let Some(version) = &found {
            self.staged.put(read_at, cache_key, Arc::clone(version));
        }
        Ok(found)
    }

    async fn versions(&self, secret_pk: i64) -> StoreResult<Vec<VersionRecord>> {
        self.read(move |c| {
            let labels = load_labels(c, secret_pk)?;
            let mut stmt = c.prepare_cached(
                "SELECT version_id, created_ms, last_accessed_ms, sealed FROM versions \
                 WHERE secret_pk = ?1 ORDER BY created_ms ASC, rowid ASC",
            )?;
            let rows = stmt.query_map([secret_pk], |r| {
                Ok(VersionRecord {
                    version_id: r.get(0)?,
                    created_ms: r.get(1)?,
                    last_accessed_ms: r.get(2)?,
                    sealed: r.get(3)?,
                    stages: Vec::new(),
                })
            })?;
            let mut out: Vec<VersionRecord> = rows.collect::<rusqlite::Result<_>>()?;
            for v in &mut out {
                v.stages = labels::labels_of(&labels, &v.version_id);
            }
            Ok(out)
        })
        .await
    }

    async fn put_version(
        &self,
        secret_pk: i64,
        version: NewVersion,
        stages: StageRequest,
        prune_before: EpochMillis,
    ) -> StoreResult<Vec<String>> {
        self.write(move |tx| {
            require_secret(tx, secret_pk)?;
            let inserted = exec(
                tx,
                "INSERT INTO versions (secret_pk, version_id, created_ms, sealed) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    secret_pk,
                    version.version_id,
                    version.created_ms,
                    version.sealed
                ],
            );
            match inserted {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::VersionExists),
                other => {
                    other?;
                }
            }
            let old = load_labels(tx, secret_pk)?;
            let new =
                labels::plan_put(&old, &version.version_id, &stages).map_err(StoreError::Stage)?;
            write_labels(tx, secret_pk, &old, &new)?;
            prune_versions(tx, secret_pk, prune_before, &version.version_id)?;
            touch(tx, secret_pk, version.created_ms)?;
            Ok(labels::labels_of(&new, &version.version_id))
        })
        .await
    }

    async fn update_metadata(
        &self,
        secret_pk: i64,
        update: MetadataUpdate,
        now: EpochMillis,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            require_secret(tx, secret_pk)?;
            if let Some(d) = &update.description {
                exec(
                    tx,
                    "UPDATE secrets SET description = ?2 WHERE pk = ?1",
                    params![secret_pk, d],
                )?;
            }
            if let Some(k) = &update.kms_key_id {
                exec(
                    tx,
                    "UPDATE secrets SET kms_key_id = ?2 WHERE pk = ?1",
                    params![secret_pk, k],
                )?;
            }
            if let Some(t) = &update.secret_type {
                exec(
                    tx,
                    "UPDATE secrets SET secret_type = ?2 WHERE pk = ?1",
                    params![secret_pk, t],
                )?;
            }
            touch(tx, secret_pk, now)?;
            Ok(())
        })
        .await
    }

    async fn update_version_stage(
        &self,
        secret_pk: i64,
        stage: &str,
        move_to: Option<&str>,
        remove_from: Option<&str>,
        now: EpochMillis,
    ) -> StoreResult<()> {
        let stage = stage.to_string();
        let move_to = move_to.map(str::to_string);
        let remove_from = remove_from.map(str::to_string);
        self.write(move |tx| {
            require_secret(tx, secret_pk)?;
            let old = load_labels(tx, secret_pk)?;
            let versions: std::collections::HashSet<String> = {
                let mut stmt =
                    tx.prepare_cached("SELECT version_id FROM versions WHERE secret_pk = ?1")?;
                let rows = stmt.query_map([secret_pk], |r| r.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let new = labels::plan_update_stage(
                &old,
                &|v| versions.contains(v),
                &stage,
                move_to.as_deref(),
                remove_from.as_deref(),
            )
            .map_err(StoreError::Stage)?;
            write_labels(tx, secret_pk, &old, &new)?;
            touch(tx, secret_pk, now)?;
            Ok(())
        })
        .await
    }

    async fn tag_secret(&self, secret_pk: i64, tags: &[Tag], now: EpochMillis) -> StoreResult<()> {
        let tags = tags.to_vec();
        self.write(move |tx| {
            let mut record = load_secret(tx, secret_pk)?.ok_or(StoreError::NotFound)?;
            let mut current = record.tags.take().unwrap_or_default();
            crate::model::merge_tags(&mut current, tags);
            if current.len() > MAX_TAGS_PER_SECRET {
                return Err(StoreError::TooManyTags);
            }
            exec(
                tx,
                "UPDATE secrets SET tags = ?2 WHERE pk = ?1",
                params![secret_pk, tags_to_json(&Some(current))?],
            )?;
            touch(tx, secret_pk, now)?;
            Ok(())
        })
        .await
    }

    async fn untag_secret(
        &self,
        secret_pk: i64,
        keys: &[String],
        now: EpochMillis,
    ) -> StoreResult<()> {
        let keys = keys.to_vec();
        self.write(move |tx| {
            let record = load_secret(tx, secret_pk)?.ok_or(StoreError::NotFound)?;
            if let Some(mut current) = record.tags {
                current.retain(|t| !keys.contains(&t.key));
                exec(
                    tx,
                    "UPDATE secrets SET tags = ?2 WHERE pk = ?1",
                    params![secret_pk, tags_to_json(&Some(current))?],
                )?;
            }
            touch(tx, secret_pk, now)?;
            Ok(())
        })
        .await
    }

    async fn schedule_deletion(
        &self,
        secret_pk: i64,
        deleted: EpochMillis,
        deletion: EpochMillis,
    ) -> StoreResult<()> {
        self.write(move |c| {
            let n = exec(
                c,
                "UPDATE secrets SET deleted_ms = ?2, deletion_ms = ?3, last_changed_ms = ?2 WHERE pk = ?1",
                params![secret_pk, deleted, deletion],
            )?;
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
        .await
    }

    async fn restore_secret(&self, secret_pk: i64, now: EpochMillis) -> StoreResult<()> {
        self.write(move |c| {
            let n = exec(
                c,
                "UPDATE secrets SET deleted_ms = NULL, deletion_ms = NULL, last_changed_ms = ?2 WHERE pk = ?1",
                params![secret_pk, now],
            )?;
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
        .await
    }

    async fn delete_secret(&self, secret_pk: i64) -> StoreResult<()> {
        self.write(move |tx| {
            exec(tx, "DELETE FROM stages WHERE secret_pk = ?1", [secret_pk])?;
            exec(tx, "DELETE FROM versions WHERE secret_pk = ?1", [secret_pk])?;
            exec(tx, "DELETE FROM secrets WHERE pk = ?1", [secret_pk])?;
            Ok(())
        })
        .await
    }

    async fn purge_expired(&self, now: EpochMillis) -> StoreResult<u64> {
        self.write(move |tx| {
            let filter =
                "SELECT pk FROM secrets WHERE deletion_ms IS NOT NULL AND deletion_ms <= ?1";
            exec(
                tx,
                &format!("DELETE FROM stages WHERE secret_pk IN ({filter})"),
                [now],
            )?;
            exec(
                tx,
                &format!("DELETE FROM versions WHERE secret_pk IN ({filter})"),
                [now],
            )?;
            let n = exec(
                tx,
                "DELETE FROM secrets WHERE deletion_ms IS NOT NULL AND deletion_ms <= ?1",
                [now],
            )?;
            Ok(n as u64)
        })
        .await
    }

    async fn record_access(
        &self,
        secret_pk: i64,
        version_id: &str,
        day: EpochMillis,
    ) -> StoreResult<()> {
        let version_id = version_id.to_string();
        self.write(move |tx| {
            exec(
                tx,
                "UPDATE secrets SET last_accessed_ms = ?2 WHERE pk = ?1 \
                 AND (last_accessed_ms IS NULL OR last_accessed_ms < ?2)",
                params![secret_pk, day],
            )?;
            exec(
                tx,
                "UPDATE versions SET last_accessed_ms = ?3 WHERE secret_pk = ?1 AND version_id = ?2 \
                 AND (last_accessed_ms IS NULL OR last_accessed_ms < ?3)",
                params![secret_pk, version_id, day],
            )?;
            Ok(())
        })
        .await
    }

    async fn list_secrets(&self, scope: &Scope, query: &ListQuery) -> StoreResult<ListPage> {
        let scope = scope.clone();
        let query = query.clone();
        self.read_blocking(move |c| list_page(c, &scope, &query))
            .await
    }
    async fn counts(&self) -> StoreResult<StoreCounts> {
        // Counting scans whole tables (tens of milliseconds with a million secrets): keep it off
        // the runtime's worker threads.
        self.read_blocking(|c| {
            let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
            Ok(StoreCounts {
                secrets: count("SELECT COUNT(*) FROM secrets")?.max(0) as u64,
                versions: count("SELECT COUNT(*) FROM versions")?.max(0) as u64,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::filter::{Filter, FilterKey};

    #[test]
    fn prefix_successor_bounds_the_prefix() {
        assert_eq!(prefix_successor("prod/"), Some("prod0".to_string()));
        assert_eq!(prefix_successor("a"), Some("b".to_string()));
        assert_eq!(prefix_successor(""), None);
        assert_eq!(prefix_successor("x~"), None);
        assert_eq!(prefix_successor("é"), None);
    }

    /// A database made before labels were clustered by secret keeps every label through the
    /// migration, and the labels still follow their versions (cascade on delete).
    #[test]
    fn stages_migration_keeps_labels() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_connection(&dir.path().join("t.db")).unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 2i64).unwrap();
        conn.execute_batch(
            "INSERT INTO secrets (pk, account_id, region, name, arn, created_ms, last_changed_ms)
                 VALUES (1, 'a', 'r', 'one', 'arn:one', 0, 0), (2, 'a', 'r', 'two', 'arn:two', 0, 0);
             INSERT INTO versions (secret_pk, version_id, created_ms) VALUES
                 (1, 'v1', 0), (1, 'v2', 1), (2, 'w1', 0);
             INSERT INTO stages (secret_pk, stage, version_id) VALUES
                 (1, 'AWSPREVIOUS', 'v1'), (1, 'AWSCURRENT', 'v2'), (2, 'AWSCURRENT', 'w1'),
                 (1, 'custom', 'v2');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let ddl: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'stages'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(ddl.contains("WITHOUT ROWID"), "{ddl}");
        let labels = load_labels(&conn, 1).unwrap();
        assert_eq!(labels.len(), 3);
        assert_eq!(labels.get("AWSCURRENT").map(String::as_str), Some("v2"));
        assert_eq!(labels.get("AWSPREVIOUS").map(String::as_str), Some("v1"));
        assert_eq!(labels.get("custom").map(String::as_str), Some("v2"));
        assert_eq!(load_labels(&conn, 2).unwrap().len(), 1);
        conn.execute(
            "DELETE FROM versions WHERE secret_pk = 1 AND version_id = 'v1'",
            [],
        )
        .unwrap();
        assert!(!load_labels(&conn, 1).unwrap().contains_key("AWSPREVIOUS"));
        let broken: i64 = conn
            .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(broken, 0);
    }

    /// A name-prefix filter becomes index ranges: the list query searches the
    /// `(account_id, region, name)` index instead of scanning every secret of the scope.
    #[test]
    fn name_filter_uses_the_name_index() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_connection(&dir.path().join("t.db")).unwrap();
        let mut conn = conn;
        migrate(&mut conn).unwrap();
        let filters = vec![Filter::new(FilterKey::Name, ["bench/00001", "bench/00420"])];
        let (clause, values) = name_range_clause(&filters, 5);
        assert_eq!(values.len(), 4);
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT {SECRET_COLUMNS} FROM secrets WHERE account_id = ?1 \
             AND region = ?2 AND (deletion_ms IS NULL OR deletion_ms > ?3){clause} \
             ORDER BY +created_ms ASC, pk ASC LIMIT ?4"
        );
        let mut stmt = conn.prepare(&sql).unwrap();
        let plan: Vec<String> = stmt
            .query_map(
                rusqlite::params_from_iter(
                    [
                        rusqlite::types::Value::from("123456789012".to_string()),
                        "us-east-1".to_string().into(),
                        0i64.into(),
                        10i64.into(),
                    ]
                    .into_iter()
                    .chain(values),
                ),
                |r| r.get::<_, String>(3),
            )
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("name>? AND name<?"), "{plan}");
        assert!(!plan.contains("secrets_created"), "{plan}");
    }
}
