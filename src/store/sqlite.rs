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
use super::{
    AccessKeyRecord, Cursor, CursorValue, IamChange, IamObject, KmsKeyRecord, ListPage, ListQuery,
    MAX_TAGS_PER_SECRET, MAX_VERSIONS_PER_SECRET, MetadataUpdate, NewSecret, NewVersion, Scope,
    SecretLookup, SecretRecord, SortKey, Store, StoreCounts, StoreError, StoreResult,
    VersionRecord,
};
use crate::clock::EpochMillis;
use crate::model::Tag;
use crate::model::filter::{FilterTarget, matches_all};

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
];

/// How many read connections to keep.
const READ_POOL: usize = 4;
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
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
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
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let mut writer = open_connection(path)?;
        migrate(&mut writer)?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer.lock().map_err(backend)?;
            f(&mut conn)
        })
        .await
        .map_err(backend)?
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().map_err(backend)?.pop();
            let conn = match pooled {
                Some(c) => c,
                None => open_connection(&path)?,
            };
            // One read transaction around all of `f`'s statements: a read that takes several
            // SELECTs (a secret then its labels, the labels then the versions, a list page then
            // each secret's labels) must see one snapshot. In autocommit mode each SELECT saw
            // the latest commit, so a writer committing in between (e.g. a put that moves
            // AWSPREVIOUS and prunes its old holder) produced states that never existed, such
            // as versions() with no AWSPREVIOUS. The conformance suite's concurrent readers
            // test catches this.
            let result = (|| {
                let tx = conn.unchecked_transaction()?;
                let out = f(&tx)?;
                tx.commit()?;
                Ok(out)
            })();
            if let Ok(mut pool) = readers.lock()
                && pool.len() < READ_POOL
            {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(backend)?
    }
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

const SECRET_COLUMNS: &str = "pk, account_id, region, name, arn, description, kms_key_id, \
     secret_type, created_ms, last_changed_ms, last_accessed_ms, deleted_ms, deletion_ms, tags, \
     resource_policy";

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
    match row {
        Some(mut v) => {
            v.stages = labels::labels_of(&load_labels(conn, secret_pk)?, &v.version_id);
            Ok(Some(v))
        }
        None => Ok(None),
    }
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
        conn.prepare_cached("DELETE FROM stages WHERE secret_pk = ?1 AND stage = ?2")?
            .execute(params![pk, stage])?;
    }
    for (stage, version) in new {
        if old.get(stage) != Some(version) {
            conn.prepare_cached(
                "INSERT INTO stages (secret_pk, stage, version_id) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (secret_pk, stage) DO UPDATE SET version_id = excluded.version_id",
            )?
            .execute(params![pk, stage, version])?;
        }
    }
    Ok(())
}

fn touch(conn: &Connection, pk: i64, now: EpochMillis) -> StoreResult<()> {
    conn.prepare_cached("UPDATE secrets SET last_changed_ms = ?2 WHERE pk = ?1")?
        .execute(params![pk, now])?;
    Ok(())
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
    let sql_first = format!(
        "SELECT {SECRET_COLUMNS} FROM secrets WHERE account_id = ?1 AND region = ?2 \
         AND (deletion_ms IS NULL OR deletion_ms > ?3){deleted_clause} \
         ORDER BY {col} {dir}, pk {dir} LIMIT ?4"
    );
    let sql_after = format!(
        "SELECT {SECRET_COLUMNS} FROM secrets WHERE account_id = ?1 AND region = ?2 \
         AND (deletion_ms IS NULL OR deletion_ms > ?3){deleted_clause} \
         AND ({col} {cmp} ?5 OR ({col} = ?5 AND pk {cmp} ?6)) \
         ORDER BY {col} {dir}, pk {dir} LIMIT ?4"
    );
    let mut out: Vec<SecretRecord> = Vec::new();
    let mut after = q.after.clone();
    let want = q.limit + 1;
    loop {
        let batch: Vec<SecretRecord> = match &after {
            None => {
                let mut stmt = conn.prepare_cached(&sql_first)?;
                let rows = stmt.query_map(
                    params![scope.account_id, scope.region, q.now, LIST_BATCH as i64],
                    secret_from_row,
                )?;
                rows.collect::<rusqlite::Result<_>>()?
            }
            Some(c) => {
                let mut stmt = conn.prepare_cached(&sql_after)?;
                let value: rusqlite::types::Value = match &c.value {
                    CursorValue::Int(i) => (*i).into(),
                    CursorValue::Text(t) => t.clone().into(),
                };
                let rows = stmt.query_map(
                    params![
                        scope.account_id,
                        scope.region,
                        q.now,
                        LIST_BATCH as i64,
                        value,
                        c.pk
                    ],
                    secret_from_row,
                )?;
                rows.collect::<rusqlite::Result<_>>()?
            }
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
    for record in &mut out {
        record.labels = load_labels(conn, record.pk)?;
    }
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
    let pruned = conn
        .prepare_cached(
            "DELETE FROM versions WHERE rowid IN (SELECT v.rowid FROM versions v \
             WHERE v.secret_pk = ?1 AND v.created_ms < ?2 AND v.version_id <> ?4 AND NOT EXISTS \
             (SELECT 1 FROM stages s WHERE s.secret_pk = v.secret_pk AND s.version_id = v.version_id) \
             ORDER BY v.created_ms ASC LIMIT ?3)",
        )?
        .execute(params![pk, prune_before, excess, keep])?;
    if (pruned as i64) < excess {
        return Err(StoreError::TooManyVersions);
    }
    Ok(())
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

    async fn meta_init(&self, key: &str, value: &str) -> StoreResult<String> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![key, value],
            )?;
            let v: String = tx.query_row("SELECT value FROM meta WHERE key = ?1", [&key], |r| {
                r.get(0)
            })?;
            tx.commit()?;
            Ok(v)
        })
        .await
    }

    async fn insert_access_key(&self, key: AccessKeyRecord) -> StoreResult<()> {
        self.write(move |c| {
            c.execute(
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
            Ok(c.execute(
                "UPDATE access_keys SET active = ?2 WHERE access_key_id = ?1",
                params![id, active],
            )? > 0)
        })
        .await
    }

    async fn delete_access_key(&self, access_key_id: &str) -> StoreResult<bool> {
        let id = access_key_id.to_string();
        self.write(move |c| {
            Ok(c.execute("DELETE FROM access_keys WHERE access_key_id = ?1", [id])? > 0)
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
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for change in changes {
                match change {
                    IamChange::Insert(o) => {
                        let inserted = tx.execute(
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
                        tx.execute(
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
                        tx.execute(
                            "DELETE FROM iam_objects WHERE account_id = ?1 AND kind = ?2 AND key = ?3",
                            params![account_id, kind, key],
                        )?;
                    }
                }
            }
            tx.commit()?;
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
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx.execute(
                "UPDATE secrets SET resource_policy = ?2, last_changed_ms = ?3 WHERE pk = ?1",
                params![secret_pk, policy, now],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            tx.commit()?;
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
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
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
            tx.execute(
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
            tx.commit()?;
            Ok(key)
        })
        .await
    }

    async fn create_secret(
        &self,
        secret: NewSecret,
        version: Option<NewVersion>,
    ) -> StoreResult<SecretRecord> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let tags = tags_to_json(&secret.tags)?;
            let inserted = tx.execute(
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
                tx.execute(
                    "INSERT INTO versions (secret_pk, version_id, created_ms, sealed) VALUES (?1, ?2, ?3, ?4)",
                    params![pk, v.version_id, v.created_ms, v.sealed],
                )?;
                tx.execute(
                    "INSERT INTO stages (secret_pk, stage, version_id) VALUES (?1, 'AWSCURRENT', ?2)",
                    params![pk, v.version_id],
                )?;
            }
            let record = load_secret(&tx, pk)?.ok_or(StoreError::NotFound)?;
            tx.commit()?;
            Ok(record)
        })
        .await
    }

    async fn find_secret(
        &self,
        scope: &Scope,
        lookup: SecretLookup<'_>,
    ) -> StoreResult<Option<SecretRecord>> {
        let scope = scope.clone();
        let (by_arn, key) = match lookup {
            SecretLookup::Name(n) => (false, n.to_string()),
            SecretLookup::Arn(a) => (true, a.to_string()),
        };
        self.read(move |c| {
            let sql = if by_arn {
                "SELECT pk FROM secrets WHERE account_id = ?1 AND region = ?2 AND arn = ?3"
            } else {
                "SELECT pk FROM secrets WHERE account_id = ?1 AND region = ?2 AND name = ?3"
            };
            let pk: Option<i64> = c
                .prepare_cached(sql)?
                .query_row(params![scope.account_id, scope.region, key], |r| r.get(0))
                .optional()?;
            match pk {
                Some(pk) => load_secret(c, pk),
                None => Ok(None),
            }
        })
        .await
    }

    async fn version(
        &self,
        secret_pk: i64,
        version_id: &str,
    ) -> StoreResult<Option<VersionRecord>> {
        let version_id = version_id.to_string();
        self.read(move |c| load_version(c, secret_pk, &version_id))
            .await
    }

    async fn version_by_stage(
        &self,
        secret_pk: i64,
        stage: &str,
    ) -> StoreResult<Option<VersionRecord>> {
        let stage = stage.to_string();
        // One read transaction: the label and the version's labels come from one snapshot, so
        // the version returned holds `stage` even while writers move labels.
        self.read(move |c| {
            let version_id: Option<String> = c
                .prepare_cached(
                    "SELECT version_id FROM stages WHERE secret_pk = ?1 AND stage = ?2",
                )?
                .query_row(params![secret_pk, stage], |r| r.get(0))
                .optional()?;
            match version_id {
                Some(id) => load_version(c, secret_pk, &id),
                None => Ok(None),
            }
        })
        .await
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
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            require_secret(&tx, secret_pk)?;
            let inserted = tx.execute(
                "INSERT INTO versions (secret_pk, version_id, created_ms, sealed) VALUES (?1, ?2, ?3, ?4)",
                params![secret_pk, version.version_id, version.created_ms, version.sealed],
            );
            match inserted {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::VersionExists),
                other => {
                    other?;
                }
            }
            let old = load_labels(&tx, secret_pk)?;
            let new = labels::plan_put(&old, &version.version_id, &stages).map_err(StoreError::Stage)?;
            write_labels(&tx, secret_pk, &old, &new)?;
            prune_versions(&tx, secret_pk, prune_before, &version.version_id)?;
            touch(&tx, secret_pk, version.created_ms)?;
            tx.commit()?;
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
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            require_secret(&tx, secret_pk)?;
            if let Some(d) = &update.description {
                tx.execute(
                    "UPDATE secrets SET description = ?2 WHERE pk = ?1",
                    params![secret_pk, d],
                )?;
            }
            if let Some(k) = &update.kms_key_id {
                tx.execute(
                    "UPDATE secrets SET kms_key_id = ?2 WHERE pk = ?1",
                    params![secret_pk, k],
                )?;
            }
            if let Some(t) = &update.secret_type {
                tx.execute(
                    "UPDATE secrets SET secret_type = ?2 WHERE pk = ?1",
                    params![secret_pk, t],
                )?;
            }
            touch(&tx, secret_pk, now)?;
            tx.commit()?;
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
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            require_secret(&tx, secret_pk)?;
            let old = load_labels(&tx, secret_pk)?;
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
            write_labels(&tx, secret_pk, &old, &new)?;
            touch(&tx, secret_pk, now)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn tag_secret(&self, secret_pk: i64, tags: &[Tag], now: EpochMillis) -> StoreResult<()> {
        let tags = tags.to_vec();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut record = load_secret(&tx, secret_pk)?.ok_or(StoreError::NotFound)?;
            let mut current = record.tags.take().unwrap_or_default();
            for tag in tags {
                match current.iter_mut().find(|t| t.key == tag.key) {
                    Some(existing) => existing.value = tag.value,
                    None => current.push(tag),
                }
            }
            if current.len() > MAX_TAGS_PER_SECRET {
                return Err(StoreError::TooManyTags);
            }
            tx.execute(
                "UPDATE secrets SET tags = ?2 WHERE pk = ?1",
                params![secret_pk, tags_to_json(&Some(current))?],
            )?;
            touch(&tx, secret_pk, now)?;
            tx.commit()?;
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
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let record = load_secret(&tx, secret_pk)?.ok_or(StoreError::NotFound)?;
            if let Some(mut current) = record.tags {
                current.retain(|t| !keys.contains(&t.key));
                tx.execute(
                    "UPDATE secrets SET tags = ?2 WHERE pk = ?1",
                    params![secret_pk, tags_to_json(&Some(current))?],
                )?;
            }
            touch(&tx, secret_pk, now)?;
            tx.commit()?;
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
            let n = c.execute(
                "UPDATE secrets SET deleted_ms = ?2, deletion_ms = ?3, last_changed_ms = ?2 WHERE pk = ?1",
                params![secret_pk, deleted, deletion],
            )?;
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
        .await
    }

    async fn restore_secret(&self, secret_pk: i64, now: EpochMillis) -> StoreResult<()> {
        self.write(move |c| {
            let n = c.execute(
                "UPDATE secrets SET deleted_ms = NULL, deletion_ms = NULL, last_changed_ms = ?2 WHERE pk = ?1",
                params![secret_pk, now],
            )?;
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
        .await
    }

    async fn delete_secret(&self, secret_pk: i64) -> StoreResult<()> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM stages WHERE secret_pk = ?1", [secret_pk])?;
            tx.execute("DELETE FROM versions WHERE secret_pk = ?1", [secret_pk])?;
            tx.execute("DELETE FROM secrets WHERE pk = ?1", [secret_pk])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn purge_expired(&self, now: EpochMillis) -> StoreResult<u64> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let filter =
                "SELECT pk FROM secrets WHERE deletion_ms IS NOT NULL AND deletion_ms <= ?1";
            tx.execute(
                &format!("DELETE FROM stages WHERE secret_pk IN ({filter})"),
                [now],
            )?;
            tx.execute(
                &format!("DELETE FROM versions WHERE secret_pk IN ({filter})"),
                [now],
            )?;
            let n = tx.execute(
                "DELETE FROM secrets WHERE deletion_ms IS NOT NULL AND deletion_ms <= ?1",
                [now],
            )?;
            tx.commit()?;
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
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE secrets SET last_accessed_ms = ?2 WHERE pk = ?1 \
                 AND (last_accessed_ms IS NULL OR last_accessed_ms < ?2)",
                params![secret_pk, day],
            )?;
            tx.execute(
                "UPDATE versions SET last_accessed_ms = ?3 WHERE secret_pk = ?1 AND version_id = ?2 \
                 AND (last_accessed_ms IS NULL OR last_accessed_ms < ?3)",
                params![secret_pk, version_id, day],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn list_secrets(&self, scope: &Scope, query: &ListQuery) -> StoreResult<ListPage> {
        let scope = scope.clone();
        let query = query.clone();
        self.read(move |c| list_page(c, &scope, &query)).await
    }

    async fn counts(&self) -> StoreResult<StoreCounts> {
        self.read(|c| {
            let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
            Ok(StoreCounts {
                secrets: count("SELECT COUNT(*) FROM secrets")?.max(0) as u64,
                versions: count("SELECT COUNT(*) FROM versions")?.max(0) as u64,
            })
        })
        .await
    }
}
