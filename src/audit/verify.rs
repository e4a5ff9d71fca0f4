//! Checking the log: every event's hash, every link of the chain, every digest's signature,
//! and that the columns lookups use agree with the hashed record. The first problem found is
//! reported naming the event, and classified as altered, removed, inserted or reordered.

use std::collections::HashMap;
use std::fmt;

use rusqlite::{Connection, OptionalExtension, params};

use super::chain::{DigestPayload, GENESIS, HASH_LEN, event_hash, signature_valid};
use super::record::{EventIndex, format_event_time};

/// An event as named in a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLabel {
    /// Sequence number.
    pub seq: i64,
    /// `eventID` as stored.
    pub event_id: String,
    /// `eventName` as stored.
    pub event_name: String,
    /// `eventTime` as stored (ms).
    pub time_ms: i64,
}

impl fmt::Display for EventLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seq {} ({} at {}, eventID {})",
            self.seq,
            self.event_name,
            format_event_time(self.time_ms),
            self.event_id
        )
    }
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The event's record (or hash) was changed.
    Altered(EventLabel),
    /// A column beside the record was changed, so lookups would see something else.
    AlteredColumn(EventLabel, &'static str),
    /// Events are missing before `before`; `missing` is the sequence range when known.
    Removed {
        /// The first event after the gap.
        before: EventLabel,
        /// The missing sequence numbers, when the rest were not renumbered.
        missing: Option<(i64, i64)>,
    },
    /// The event does not belong in the chain where it is.
    Inserted(EventLabel),
    /// The event is before one it should follow.
    Reordered(EventLabel),
    /// The first stored event is not the first ever, and no digest anchors it.
    Unanchored(EventLabel),
    /// Events after the last stored one were removed: a digest covers more.
    TailRemoved {
        /// The last stored event, if any.
        last_seq: i64,
        /// The digest that covers more.
        digest_id: i64,
        /// The last sequence number it covers.
        digest_last_seq: i64,
    },
    /// A digest's signature, contents or place in the digest chain is wrong.
    DigestInvalid {
        /// The digest's row id.
        digest_id: i64,
        /// What is wrong.
        reason: String,
    },
    /// A digest signed a different hash for its last event: the events it covers were
    /// rewritten (re-hashed to hide the change).
    Rewritten {
        /// The digest's row id.
        digest_id: i64,
        /// First sequence number the digest covers.
        first_seq: i64,
        /// The event whose hash differs.
        event: EventLabel,
    },
    /// The database or the key could not be read.
    Unreadable(String),
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Altered(e) => {
                write!(
                    f,
                    "event {e} was altered: its record does not match its hash"
                )
            }
            Finding::AlteredColumn(e, column) => write!(
                f,
                "event {e} was altered: its {column} column does not match its record"
            ),
            Finding::Removed {
                before,
                missing: Some((a, b)),
            } => write!(
                f,
                "events seq {a}..={b} were removed: the next event is {before}"
            ),
            Finding::Removed {
                before,
                missing: None,
            } => write!(
                f,
                "the chain breaks before event {before}: events before it were removed (and the \
                 rest renumbered), or the event before it was altered and re-hashed"
            ),
            Finding::Inserted(e) => write!(
                f,
                "event {e} was inserted: it does not follow the event before it"
            ),
            Finding::Reordered(e) => write!(
                f,
                "event {e} was reordered: it follows an event stored after it"
            ),
            Finding::Unanchored(e) => write!(
                f,
                "events before {e} were removed: no signed digest anchors the first remaining event"
            ),
            Finding::TailRemoved {
                last_seq,
                digest_id,
                digest_last_seq,
            } => write!(
                f,
                "events after seq {last_seq} were removed: digest #{digest_id} covers up to seq \
                 {digest_last_seq}"
            ),
            Finding::DigestInvalid { digest_id, reason } => {
                write!(f, "digest #{digest_id} is invalid: {reason}")
            }
            Finding::Rewritten {
                digest_id,
                first_seq,
                event,
            } => write!(
                f,
                "events seq {first_seq}..={} were rewritten: digest #{digest_id} signed a \
                 different hash for event {event}",
                event.seq
            ),
            Finding::Unreadable(why) => write!(f, "the audit log cannot be read: {why}"),
        }
    }
}

/// What a successful check covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Events checked.
    pub events: u64,
    /// First and last sequence numbers present.
    pub range: Option<(i64, i64)>,
    /// Digests checked.
    pub digests: u64,
    /// The last sequence number covered by a signed digest.
    pub signed_through: i64,
    /// The sequence number a digest anchors the first event at (0 when nothing was pruned).
    pub anchored_after: i64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.range {
            Some((a, b)) => write!(f, "audit log OK: {} events (seq {a}..={b})", self.events)?,
            None => write!(f, "audit log OK: no events")?,
        }
        write!(
            f,
            ", {} signed digests, signed through seq {}",
            self.digests, self.signed_through
        )?;
        let unsigned = self
            .range
            .map_or(0, |(_, b)| (b - self.signed_through).max(0));
        if unsigned > 0 {
            write!(f, ", {unsigned} newest events not yet in a digest")?;
        }
        if self.anchored_after > 0 {
            write!(
                f,
                ", events up to seq {} pruned (anchored by a digest)",
                self.anchored_after
            )?;
        }
        Ok(())
    }
}

struct Digest {
    id: i64,
    payload: DigestPayload,
}

fn unreadable(e: impl fmt::Display) -> Finding {
    Finding::Unreadable(e.to_string())
}

fn check_digests(conn: &Connection, public_key: &[u8]) -> Result<Vec<Digest>, Finding> {
    let mut stmt = conn
        .prepare("SELECT id, first_seq, last_seq, payload, signature FROM digests ORDER BY id")
        .map_err(unreadable)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Vec<u8>>(4)?,
            ))
        })
        .map_err(unreadable)?;
    let mut out: Vec<Digest> = Vec::new();
    let mut previous: Option<(i64, Vec<u8>)> = None;
    for row in rows {
        let (id, first_seq, last_seq, payload_text, signature) = row.map_err(unreadable)?;
        let invalid = |reason: &str| Finding::DigestInvalid {
            digest_id: id,
            reason: reason.to_string(),
        };
        if !signature_valid(public_key, payload_text.as_bytes(), &signature) {
            return Err(invalid("its signature does not verify"));
        }
        let payload: DigestPayload = serde_json::from_str(&payload_text)
            .map_err(|_| invalid("its signed payload is malformed"))?;
        if payload.first_seq != first_seq || payload.last_seq != last_seq {
            return Err(invalid("its range columns do not match what was signed"));
        }
        if let Some((prev_last, prev_sig)) = &previous {
            if payload.previous_signature.as_deref() != Some(hex::encode(prev_sig).as_str()) {
                return Err(invalid(
                    "it does not follow the digest before it: a digest was removed, inserted \
                     or reordered",
                ));
            }
            if payload.first_seq != prev_last + 1 {
                return Err(invalid("its range does not continue the digest before it"));
            }
        }
        previous = Some((last_seq, signature));
        out.push(Digest { id, payload });
    }
    Ok(out)
}

struct Row {
    seq: i64,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    record: String,
    index: EventIndex,
}

impl Row {
    fn label(&self) -> EventLabel {
        EventLabel {
            seq: self.seq,
            event_id: self.index.event_id.clone(),
            event_name: self.index.event_name.clone(),
            time_ms: self.index.time_ms,
        }
    }
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        seq: r.get(0)?,
        prev_hash: r.get(1)?,
        hash: r.get(2)?,
        record: r.get(3)?,
        index: EventIndex {
            event_id: r.get(4)?,
            time_ms: r.get(5)?,
            account_id: r.get(6)?,
            event_source: r.get(7)?,
            event_name: r.get(8)?,
            username: r.get(9)?,
            principal_arn: r.get(10)?,
            access_key_id: r.get(11)?,
            read_only: r.get(12)?,
            error_code: r.get(13)?,
            resource_names: Vec::new(),
        },
    })
}

/// Which stored column disagrees with the hashed record, if any.
fn column_mismatch(
    conn: &Connection,
    row: &Row,
    record: &EventIndex,
) -> Result<Option<&'static str>, Finding> {
    let stored = &row.index;
    let checks: [(&'static str, bool); 10] = [
        ("event_id", stored.event_id == record.event_id),
        ("time_ms", stored.time_ms == record.time_ms),
        ("account_id", stored.account_id == record.account_id),
        ("event_source", stored.event_source == record.event_source),
        ("event_name", stored.event_name == record.event_name),
        ("username", stored.username == record.username),
        (
            "principal_arn",
            stored.principal_arn == record.principal_arn,
        ),
        (
            "access_key_id",
            stored.access_key_id == record.access_key_id,
        ),
        ("read_only", stored.read_only == record.read_only),
        ("error_code", stored.error_code == record.error_code),
    ];
    if let Some((column, _)) = checks.iter().find(|(_, ok)| !ok) {
        return Ok(Some(column));
    }
    let mut stmt = conn
        .prepare_cached("SELECT name, type FROM event_resources WHERE seq = ?1")
        .map_err(unreadable)?;
    let mut stored_resources: Vec<(String, String)> = stmt
        .query_map(params![row.seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(unreadable)?
        .collect::<Result<_, _>>()
        .map_err(unreadable)?;
    let mut expected = record.resource_names.clone();
    stored_resources.sort();
    expected.sort();
    Ok((stored_resources != expected).then_some("event_resources"))
}

/// Classifies a broken link at `row`: its `prev_hash` is not the hash of the event before it.
fn classify_break(
    conn: &Connection,
    row: &Row,
    expected_prev: &[u8],
    prev: Option<&Row>,
    prevprev_hash: Option<&[u8]>,
    expected_seq: i64,
) -> Result<Finding, Finding> {
    let later: Option<i64> = conn
        .query_row(
            "SELECT seq FROM events WHERE hash = ?1 AND seq > ?2 LIMIT 1",
            params![row.prev_hash, row.seq],
            |r| r.get(0),
        )
        .optional()
        .map_err(unreadable)?;
    if later.is_some() {
        return Ok(Finding::Reordered(row.label()));
    }
    if let (Some(p), Some(pp)) = (prev, prevprev_hash)
        && row.prev_hash == pp
    {
        return Ok(Finding::Inserted(p.label()));
    }
    if row.seq != expected_seq {
        return Ok(Finding::Removed {
            before: row.label(),
            missing: Some((expected_seq, row.seq - 1)),
        });
    }
    let next_prev: Option<Vec<u8>> = conn
        .query_row(
            "SELECT prev_hash FROM events WHERE seq > ?1 ORDER BY seq LIMIT 1",
            params![row.seq],
            |r| r.get(0),
        )
        .optional()
        .map_err(unreadable)?;
    match next_prev {
        Some(next) if next == expected_prev => Ok(Finding::Inserted(row.label())),
        None if prev.is_some() => Ok(Finding::Inserted(row.label())),
        _ => Ok(Finding::Removed {
            before: row.label(),
            missing: None,
        }),
    }
}

/// Checks the whole log against the digest signing key's raw Ed25519 public key.
pub fn verify(conn: &Connection, public_key: &[u8]) -> Result<Summary, Finding> {
    let digests = check_digests(conn, public_key)?;
    let by_last: HashMap<i64, &Digest> = digests.iter().map(|d| (d.payload.last_seq, d)).collect();
    let decode = |d: &Digest| -> Result<Vec<u8>, Finding> {
        hex::decode(&d.payload.last_hash)
            .ok()
            .filter(|h| h.len() == HASH_LEN)
            .ok_or_else(|| Finding::DigestInvalid {
                digest_id: d.id,
                reason: "its last hash is malformed".into(),
            })
    };

    let mut stmt = conn
        .prepare(
            "SELECT seq, prev_hash, hash, record, event_id, time_ms, account_id, event_source,
                    event_name, username, principal_arn, access_key_id, read_only, error_code
             FROM events ORDER BY seq",
        )
        .map_err(unreadable)?;
    let mut rows = stmt.query([]).map_err(unreadable)?;

    let mut prev: Option<Row> = None;
    let mut prevprev_hash: Option<Vec<u8>> = None;
    let mut expected_prev: Vec<u8> = GENESIS.to_vec();
    let mut expected_seq = 1i64;
    let mut anchored_after = 0i64;
    let mut first_seq = None;
    let mut events = 0u64;
    while let Some(r) = rows.next().map_err(unreadable)? {
        let row = read_row(r).map_err(unreadable)?;
        if prev.is_none() {
            first_seq = Some(row.seq);
            if row.seq != 1 {
                // Pruning cuts at a digest boundary and deletes the digests before it, so the
                // first digest must end right before the first kept event.
                let anchor = match digests.first() {
                    Some(d) if d.payload.last_seq == row.seq - 1 => d,
                    Some(d) if d.payload.last_seq < row.seq - 1 => {
                        return Err(Finding::Removed {
                            before: row.label(),
                            missing: Some((d.payload.last_seq + 1, row.seq - 1)),
                        });
                    }
                    _ => return Err(Finding::Unanchored(row.label())),
                };
                expected_prev = decode(anchor)?;
                expected_seq = row.seq;
                anchored_after = row.seq - 1;
            }
        }
        if row.prev_hash != expected_prev {
            return Err(classify_break(
                conn,
                &row,
                &expected_prev,
                prev.as_ref(),
                prevprev_hash.as_deref(),
                expected_seq,
            )?);
        }
        if event_hash(&row.prev_hash, row.record.as_bytes()).as_slice() != row.hash.as_slice() {
            return Err(Finding::Altered(row.label()));
        }
        let record: Option<EventIndex> = serde_json::from_str(&row.record)
            .ok()
            .and_then(|v| EventIndex::from_record(&v));
        let Some(record) = record else {
            return Err(Finding::Altered(row.label()));
        };
        if let Some(column) = column_mismatch(conn, &row, &record)? {
            return Err(Finding::AlteredColumn(row.label(), column));
        }
        if let Some(d) = by_last.get(&row.seq)
            && decode(d)? != row.hash
        {
            return Err(Finding::Rewritten {
                digest_id: d.id,
                first_seq: d.payload.first_seq,
                event: row.label(),
            });
        }
        events += 1;
        expected_prev = row.hash.clone();
        expected_seq = row.seq + 1;
        prevprev_hash = prev.map(|p| p.hash);
        prev = Some(row);
    }
    let last_seq = prev.as_ref().map(|p| p.seq);
    if let Some(last) = last_seq
        && let Some(d) = digests.iter().find(|d| d.payload.last_seq > last)
    {
        return Err(Finding::TailRemoved {
            last_seq: last,
            digest_id: d.id,
            digest_last_seq: d.payload.last_seq,
        });
    }
    // Pruning everything leaves exactly one digest, the anchor; more means events went missing.
    if last_seq.is_none()
        && digests.len() > 1
        && let Some(d) = digests.last()
    {
        return Err(Finding::TailRemoved {
            last_seq: 0,
            digest_id: d.id,
            digest_last_seq: d.payload.last_seq,
        });
    }
    Ok(Summary {
        events,
        range: first_seq.zip(last_seq),
        digests: digests.len() as u64,
        signed_through: digests.last().map_or(0, |d| d.payload.last_seq),
        anchored_after,
    })
}
