//! `audit/index.db`: the lookup index over the segment files.
//!
//! The index is derived data. One row per event holds the columns lookups filter on and where
//! the event's line is (segment, offset, length); the record itself stays in the segment. The
//! indexer thread writes it behind the durable log, in large transactions and without any
//! fsync (`synchronous=OFF`): its writes never queue behind or in front of the log's
//! `fdatasync`. After a process crash it is brought up to date from the segments
//! ([`catch_up`]); after an operating-system crash or power loss, which could leave an unsynced
//! SQLite file damaged, it is deleted and rebuilt ([`open_checked`]).

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::AuditError;
use super::record::EventIndex;
use super::segment::{self, Entry};

/// The index database's name inside the segment directory.
pub const INDEX_FILE: &str = "index.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    segment INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    event_source TEXT NOT NULL,
    event_name TEXT NOT NULL,
    username TEXT,
    principal_arn TEXT,
    access_key_id TEXT,
    read_only INTEGER NOT NULL,
    error_code TEXT
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
";

pub(super) fn storage(e: impl std::fmt::Display) -> AuditError {
    AuditError::Storage(e.to_string())
}

/// One event to index: where its line is and what lookups filter on.
#[derive(Debug, Clone)]
pub struct IndexRow {
    /// Position in the log.
    pub seq: i64,
    /// Segment number.
    pub segment: u32,
    /// Byte offset of the line in the segment.
    pub offset: u64,
    /// Length of the line, without its newline.
    pub length: u32,
    /// The columns.
    pub index: EventIndex,
}

/// This boot of the operating system (Linux), to tell a process restart, which leaves the
/// unsynced index intact, from a reboot, which may not.
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
}

/// Opens the index in `log_dir` for writing, creating it or, when it may be damaged, deleting
/// and recreating it (it is then rebuilt by [`catch_up`]). It may be damaged when it cannot be
/// read, or when the machine restarted since it was opened without its writer closing it
/// cleanly ([`mark_clean`]).
pub fn open_checked(log_dir: &Path, busy_timeout: Duration) -> Result<Connection, AuditError> {
    std::fs::create_dir_all(log_dir).map_err(storage)?;
    let path = log_dir.join(INDEX_FILE);
    let boot = boot_id().unwrap_or_default();
    let trusted = |conn: &Connection| -> rusqlite::Result<bool> {
        create_schema_raw(conn)?;
        let meta = |key: &str| -> rusqlite::Result<Option<String>> {
            conn.query_row(
                "SELECT value FROM index_meta WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
        };
        let same_boot = meta("boot_id")?.is_none_or(|b| b == boot);
        let clean = meta("clean")?.is_some_and(|c| c == "1");
        Ok(same_boot || clean)
    };
    let conn = match open_raw(&path, busy_timeout) {
        Ok(conn) if trusted(&conn).unwrap_or(false) => conn,
        _ => {
            tracing::warn!(
                index = %path.display(),
                "audit index may be damaged (unreadable, or the machine restarted while it was \
                 open): rebuilding it from the log"
            );
            for suffix in ["", "-wal", "-shm"] {
                let file = log_dir.join(format!("{INDEX_FILE}{suffix}"));
                match std::fs::remove_file(&file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(storage(e));
                    }
                    _ => {}
                }
            }
            let conn = open_raw(&path, busy_timeout)?;
            create_schema_raw(&conn).map_err(storage)?;
            conn
        }
    };
    // Durably "open in this boot, not clean" before any unsynced write.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(storage)?;
    conn.execute(
        "INSERT OR REPLACE INTO index_meta(key, value) VALUES ('boot_id', ?1), ('clean', '0')",
        params![boot],
    )
    .map_err(storage)?;
    conn.pragma_update(None, "synchronous", "OFF")
        .map_err(storage)?;
    Ok(conn)
}

/// Records, durably, that every index write so far reached the disk: a reboot after this does
/// not force a rebuild.
pub fn mark_clean(conn: &Connection) -> Result<(), AuditError> {
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(storage)?;
    // A checkpoint writes the WAL into the database and syncs it; the update below is synced.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .map_err(storage)?;
    conn.execute(
        "INSERT OR REPLACE INTO index_meta(key, value) VALUES ('clean', '1')",
        [],
    )
    .map_err(storage)?;
    Ok(())
}

fn open_raw(path: &Path, busy_timeout: Duration) -> Result<Connection, AuditError> {
    let conn = open_wal(path, busy_timeout)?;
    // 32 MiB of page cache: index pages touched by one batch stay in memory.
    conn.pragma_update(None, "cache_size", -32_768)
        .map_err(storage)?;
    Ok(conn)
}

/// Opens a database of the audit log for writing, in WAL mode.
pub(super) fn open_wal(path: &Path, busy_timeout: Duration) -> Result<Connection, AuditError> {
    let conn = Connection::open(path).map_err(storage)?;
    conn.busy_timeout(busy_timeout).map_err(storage)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(storage)?;
    Ok(conn)
}

fn create_schema_raw(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

/// Opens a database read-only (the index for lookups and export, `audit.db` for the key); it
/// must exist.
pub fn open_read_only(path: &Path) -> Result<Connection, AuditError> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(storage)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(storage)?;
    Ok(conn)
}

/// The last indexed event: its sequence number and where the next line starts.
pub fn resume_point(conn: &Connection) -> Result<Option<(i64, u32, u64)>, AuditError> {
    conn.query_row(
        "SELECT seq, segment, offset + length + 1 FROM events ORDER BY seq DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?)),
    )
    .optional()
    .map(|found| found.map(|(seq, segment, next)| (seq, segment, u64::try_from(next).unwrap_or(0))))
    .map_err(storage)
}

/// Inserts rows (already indexed ones are ignored) inside `tx`.
pub fn insert_rows<'a>(
    tx: &Transaction<'_>,
    rows: impl IntoIterator<Item = &'a IndexRow>,
) -> Result<(), AuditError> {
    let mut insert = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO events(seq, segment, offset, length, event_id, time_ms,
                account_id, event_source, event_name, username, principal_arn, access_key_id,
                read_only, error_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .map_err(storage)?;
    let mut resource = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO event_resources(name, seq, type) VALUES (?1, ?2, ?3)",
        )
        .map_err(storage)?;
    for row in rows {
        let ix = &row.index;
        let inserted = insert
            .execute(params![
                row.seq,
                row.segment,
                i64::try_from(row.offset).map_err(storage)?,
                row.length,
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
            ])
            .map_err(storage)?;
        if inserted == 0 {
            continue;
        }
        for (name, kind) in &ix.resource_names {
            resource
                .execute(params![name, row.seq, kind])
                .map_err(storage)?;
        }
    }
    Ok(())
}

/// Indexes every event in the segment files after the last indexed one, one transaction per
/// segment; returns the last indexed sequence number. Safe to run beside another indexer:
/// each transaction re-reads where the index stands once it holds the write lock.
pub fn catch_up(conn: &mut Connection, log_dir: &Path) -> Result<i64, AuditError> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let resume = resume_point(&tx)?;
        let Some((segment, rows)) = next_rows(log_dir, resume)? else {
            drop(tx);
            return Ok(resume.map_or(0, |r| r.0));
        };
        insert_rows(&tx, &rows)?;
        tx.commit().map_err(storage)?;
        let last_segment = segment::list_segments(log_dir)
            .map_err(storage)?
            .last()
            .map_or(0, |(n, _)| *n);
        if segment >= last_segment {
            return Ok(resume_point(conn)?.map_or(0, |r| r.0));
        }
    }
}

/// The unindexed events of the first segment that has any after `resume` (sequence number,
/// segment, offset of the next line), read from the segment files.
fn next_rows(
    log_dir: &Path,
    resume: Option<(i64, u32, u64)>,
) -> Result<Option<(u32, Vec<IndexRow>)>, AuditError> {
    let (after_seq, from_segment, from_offset) = resume.unwrap_or((0, 0, 0));
    for (number, path) in segment::list_segments(log_dir).map_err(storage)? {
        if number < from_segment {
            continue;
        }
        let start = if number == from_segment {
            from_offset
        } else {
            0
        };
        let bytes = read_from(&path, start)?;
        let mut rows = Vec::new();
        for (at, line) in segment::lines(&bytes, 0) {
            let Some(Entry::Event(e)) = segment::parse_line(line) else {
                continue;
            };
            if e.seq <= after_seq {
                continue;
            }
            // A record that is not a CloudTrail record (only possible if the file was edited)
            // is not indexed; `strongbox audit verify` reports it.
            let Some(index) = serde_json::from_str(e.record)
                .ok()
                .and_then(|v| EventIndex::from_record(&v))
            else {
                continue;
            };
            rows.push(IndexRow {
                seq: e.seq,
                segment: number,
                offset: start + at as u64,
                length: u32::try_from(line.len()).map_err(storage)?,
                index,
            });
        }
        if !rows.is_empty() {
            return Ok(Some((number, rows)));
        }
    }
    Ok(None)
}

/// The bytes of the file at `path` from `offset` to its end.
fn read_from(path: &Path, offset: u64) -> Result<Vec<u8>, AuditError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = File::open(path).map_err(storage)?;
    file.seek(SeekFrom::Start(offset)).map_err(storage)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(storage)?;
    Ok(bytes)
}

/// Deletes the index rows of events up to `seq` (their segments were pruned).
pub fn forget_through(conn: &mut Connection, seq: i64) -> Result<(), AuditError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(storage)?;
    tx.execute("DELETE FROM event_resources WHERE seq <= ?1", params![seq])
        .map_err(storage)?;
    tx.execute("DELETE FROM events WHERE seq <= ?1", params![seq])
        .map_err(storage)?;
    tx.commit().map_err(storage)
}

/// Reads stored lines for lookups, keeping each segment file open across a query.
pub struct LineReader<'a> {
    log_dir: &'a Path,
    files: HashMap<u32, Option<File>>,
}

impl<'a> LineReader<'a> {
    /// A reader over the segments in `log_dir`.
    pub fn new(log_dir: &'a Path) -> Self {
        Self {
            log_dir,
            files: HashMap::new(),
        }
    }

    /// The record of event `seq` stored at (segment, offset, length); `None` if its segment
    /// was pruned meanwhile.
    pub fn record(
        &mut self,
        seq: i64,
        segment: u32,
        offset: u64,
        length: u32,
    ) -> Result<Option<String>, AuditError> {
        let file = self
            .files
            .entry(segment)
            .or_insert_with(|| File::open(self.log_dir.join(segment::segment_name(segment))).ok());
        let Some(file) = file else {
            return Ok(None);
        };
        let unreadable = || {
            AuditError::Storage(format!(
                "audit event seq {seq} cannot be read from segment {segment}: run \
                 `strongbox audit verify`"
            ))
        };
        let line = segment::read_at(file, offset, length as usize).map_err(|_| unreadable())?;
        match segment::parse_line(&line) {
            Some(Entry::Event(e)) if e.seq == seq => Ok(Some(e.record.to_string())),
            _ => Err(unreadable()),
        }
    }
}
