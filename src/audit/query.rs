//! Finding events: the filters of `strongbox audit lookup`, export and LookupEvents, as one
//! query over the index (`audit.db`); the records themselves are read from the segments.

use std::path::Path;

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;

use super::AuditError;
use super::index::LineReader;
use crate::clock::EpochMillis;

/// One filter; a query ANDs all of its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `eventID`.
    EventId(String),
    /// `eventName`.
    EventName(String),
    /// `readOnly`.
    ReadOnly(bool),
    /// LookupEvents' `Username` (IAM user name, role session name, or `root`).
    Username(String),
    /// A user name or a principal ARN (the CLI's `--user`).
    User(String),
    /// A resource's type.
    ResourceType(String),
    /// A resource's ARN, or a secret's name.
    ResourceName(String),
    /// `eventSource`.
    EventSource(String),
    /// `userIdentity.accessKeyId`.
    AccessKeyId(String),
    /// Only failed calls.
    ErrorsOnly,
}

/// A query over the audit log.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only events whose `recipientAccountId` is this account.
    pub account_id: Option<String>,
    /// Filters, AND'ed.
    pub attributes: Vec<Attribute>,
    /// Inclusive lower bound on `eventTime` (ms).
    pub start_ms: Option<EpochMillis>,
    /// Inclusive upper bound on `eventTime` (ms).
    pub end_ms: Option<EpochMillis>,
    /// Only events with a sequence number below this (paging newest first).
    pub before_seq: Option<i64>,
    /// Only events with a sequence number above this (paging oldest first, `--follow`).
    pub after_seq: Option<i64>,
    /// Newest first (LookupEvents) instead of oldest first (lookup, export).
    pub newest_first: bool,
    /// Most events returned; 0 means no limit.
    pub limit: usize,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Position in the log.
    pub seq: i64,
    /// `eventID`.
    pub event_id: String,
    /// `eventTime` (ms).
    pub time_ms: EpochMillis,
    /// `eventSource`.
    pub event_source: String,
    /// `eventName`.
    pub event_name: String,
    /// LookupEvents' `Username`.
    pub username: Option<String>,
    /// `userIdentity.accessKeyId`.
    pub access_key_id: Option<String>,
    /// `readOnly`.
    pub read_only: bool,
    /// The CloudTrail record's JSON.
    pub record: String,
}

/// Runs `q` over the index `conn` and the segments in `log_dir`. Events whose segment was
/// pruned while the query ran are left out.
pub fn run(
    conn: &Connection,
    log_dir: &Path,
    q: &EventQuery,
) -> Result<Vec<StoredEvent>, AuditError> {
    let mut clauses: Vec<&str> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    let text = |s: &String| SqlValue::Text(s.clone());
    if let Some(account) = &q.account_id {
        clauses.push("account_id = ?");
        args.push(text(account));
    }
    for attribute in &q.attributes {
        match attribute {
            Attribute::EventId(v) => {
                clauses.push("event_id = ?");
                args.push(text(v));
            }
            Attribute::EventName(v) => {
                clauses.push("event_name = ?");
                args.push(text(v));
            }
            Attribute::ReadOnly(v) => {
                clauses.push("read_only = ?");
                args.push(SqlValue::Integer(i64::from(*v)));
            }
            Attribute::Username(v) => {
                clauses.push("username = ?");
                args.push(text(v));
            }
            Attribute::User(v) => {
                clauses.push("(username = ? OR principal_arn = ?)");
                args.push(text(v));
                args.push(text(v));
            }
            Attribute::ResourceType(v) => {
                clauses.push("seq IN (SELECT seq FROM event_resources WHERE type = ?)");
                args.push(text(v));
            }
            Attribute::ResourceName(v) => {
                clauses.push("seq IN (SELECT seq FROM event_resources WHERE name = ?)");
                args.push(text(v));
            }
            Attribute::EventSource(v) => {
                clauses.push("event_source = ?");
                args.push(text(v));
            }
            Attribute::AccessKeyId(v) => {
                clauses.push("access_key_id = ?");
                args.push(text(v));
            }
            Attribute::ErrorsOnly => clauses.push("error_code IS NOT NULL"),
        }
    }
    if let Some(start) = q.start_ms {
        clauses.push("time_ms >= ?");
        args.push(SqlValue::Integer(start));
    }
    if let Some(end) = q.end_ms {
        clauses.push("time_ms <= ?");
        args.push(SqlValue::Integer(end));
    }
    if let Some(before) = q.before_seq {
        clauses.push("seq < ?");
        args.push(SqlValue::Integer(before));
    }
    if let Some(after) = q.after_seq {
        clauses.push("seq > ?");
        args.push(SqlValue::Integer(after));
    }
    let mut sql = String::from(
        "SELECT seq, event_id, time_ms, event_source, event_name, username, access_key_id,
                read_only, segment, offset, length FROM events",
    );
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    sql.push_str(if q.newest_first {
        " ORDER BY seq DESC"
    } else {
        " ORDER BY seq ASC"
    });
    if q.limit > 0 {
        sql.push_str(" LIMIT ?");
        args.push(SqlValue::Integer(
            i64::try_from(q.limit).unwrap_or(i64::MAX),
        ));
    }
    let storage = |e: rusqlite::Error| AuditError::Storage(e.to_string());
    let mut stmt = conn.prepare_cached(&sql).map_err(storage)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok((
                StoredEvent {
                    seq: r.get(0)?,
                    event_id: r.get(1)?,
                    time_ms: r.get(2)?,
                    event_source: r.get(3)?,
                    event_name: r.get(4)?,
                    username: r.get(5)?,
                    access_key_id: r.get(6)?,
                    read_only: r.get(7)?,
                    record: String::new(),
                },
                (
                    r.get::<_, u32>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, u32>(10)?,
                ),
            ))
        })
        .map_err(storage)?;
    let mut reader = LineReader::new(log_dir);
    let mut out = Vec::new();
    for row in rows {
        let (mut event, (segment, offset, length)) = row.map_err(storage)?;
        let offset = u64::try_from(offset).unwrap_or(u64::MAX);
        if let Some(record) = reader.record(event.seq, segment, offset, length)? {
            event.record = record;
            out.push(event);
        }
    }
    Ok(out)
}
