//! Checking the log: every line of every segment, every event's hash, every link of the chain,
//! every digest's signature and place, and that the index columns lookups use agree with the
//! hashed record. The first problem found is reported naming the event, and classified as
//! altered, removed, inserted or reordered.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use super::chain::{GENESIS, HASH_LEN, event_hash, signature_valid};
use super::record::{EventIndex, format_event_time};
use super::segment::{self, DigestLine, Entry, EventLine};

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
    /// A line is neither an event nor a digest: it was altered (or the file was damaged).
    Malformed {
        /// The segment file's name.
        file: String,
        /// The line number, from 1.
        line: usize,
        /// The sequence number the line claims, if it names one.
        seq: Option<i64>,
    },
    /// The log or the key could not be read.
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
            Finding::Malformed { file, line, seq } => {
                write!(f, "line {line} of {file}")?;
                if let Some(seq) = seq {
                    write!(f, " (seq {seq})")?;
                }
                write!(
                    f,
                    " is not a well-formed event or digest: it was altered or damaged"
                )
            }
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

fn unreadable(e: impl fmt::Display) -> Finding {
    Finding::Unreadable(e.to_string())
}

/// The event before the current one, as verification remembers it.
struct Seen {
    seq: i64,
    hash: [u8; HASH_LEN],
    label: EventLabel,
}

/// A digest already checked.
struct SeenDigest {
    id: i64,
    last_seq: i64,
    last_hash: [u8; HASH_LEN],
    signature: Vec<u8>,
}

/// Where a line is: segment index in the list and the offset just after it.
#[derive(Clone, Copy)]
struct Position {
    segment: usize,
    after: usize,
}

struct Verifier<'a> {
    segments: &'a [(u32, PathBuf)],
    index: Option<&'a Connection>,
    public_key: &'a [u8],
    prev: Option<Seen>,
    prevprev_hash: Option<[u8; HASH_LEN]>,
    expected_prev: [u8; HASH_LEN],
    expected_seq: i64,
    first_seq: Option<i64>,
    anchored_after: i64,
    events: u64,
    digests: Vec<SeenDigest>,
    /// The first index column that disagrees with its record; reported only if the chain
    /// itself is intact, since a break in the chain (an inserted line, say) explains it.
    column_mismatch: Option<Finding>,
}

fn label_of(e: &EventLine<'_>, record: Option<&EventIndex>) -> EventLabel {
    EventLabel {
        seq: e.seq,
        event_id: record.map_or_else(|| "?".into(), |r| r.event_id.clone()),
        event_name: record.map_or_else(|| "?".into(), |r| r.event_name.clone()),
        time_ms: record.map_or(0, |r| r.time_ms),
    }
}

fn read_segment(path: &Path) -> Result<Vec<u8>, Finding> {
    fs::read(path).map_err(|e| Finding::Unreadable(format!("{}: {e}", path.display())))
}

/// The sequence number a malformed line claims, if it starts like an event.
fn claimed_seq(line: &[u8]) -> Option<i64> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let digits: Vec<u8> = rest
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

impl Verifier<'_> {
    /// Calls `visit` on each event after `from`, in file order, until it returns true.
    fn scan_after(
        &self,
        from: Position,
        mut visit: impl FnMut(&EventLine<'_>) -> bool,
    ) -> Result<(), Finding> {
        for (i, (_, path)) in self.segments.iter().enumerate().skip(from.segment) {
            let bytes = read_segment(path)?;
            let start = if i == from.segment { from.after } else { 0 };
            for (_, line) in segment::lines(&bytes, start) {
                if let Some(Entry::Event(e)) = segment::parse_line(line)
                    && visit(&e)
                {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn event(&mut self, e: &EventLine<'_>, at: Position) -> Result<(), Finding> {
        let record: Option<EventIndex> = serde_json::from_str(e.record)
            .ok()
            .and_then(|v| EventIndex::from_record(&v));
        let label = label_of(e, record.as_ref());
        if self.prev.is_none() {
            self.first_seq = Some(e.seq);
            if e.seq != 1 {
                // Retention deletes whole segments; the next one starts with a digest of
                // everything before it, which anchors its first event.
                let anchor = match self.digests.last() {
                    Some(d) if d.last_seq == e.seq - 1 => d,
                    Some(d) if d.last_seq < e.seq - 1 => {
                        return Err(Finding::Removed {
                            before: label,
                            missing: Some((d.last_seq + 1, e.seq - 1)),
                        });
                    }
                    _ => return Err(Finding::Unanchored(label)),
                };
                self.expected_prev = anchor.last_hash;
                self.expected_seq = e.seq;
                self.anchored_after = e.seq - 1;
            }
        }
        if e.prev_hash != self.expected_prev {
            return Err(self.classify_break(e, label, at)?);
        }
        if event_hash(&e.prev_hash, e.record.as_bytes()) != e.hash {
            return Err(Finding::Altered(label));
        }
        let Some(record) = record else {
            return Err(Finding::Altered(label));
        };
        if e.seq != self.expected_seq {
            return Err(Finding::Removed {
                before: label,
                missing: Some((self.expected_seq, e.seq - 1)),
            });
        }
        if self.column_mismatch.is_none()
            && let Some(conn) = self.index
            && let Some(column) = column_mismatch(conn, e.seq, &record)?
        {
            self.column_mismatch = Some(Finding::AlteredColumn(label.clone(), column));
        }
        self.events += 1;
        self.expected_prev = e.hash;
        self.expected_seq = e.seq + 1;
        self.prevprev_hash = self.prev.as_ref().map(|p| p.hash);
        self.prev = Some(Seen {
            seq: e.seq,
            hash: e.hash,
            label,
        });
        Ok(())
    }

    fn classify_break(
        &self,
        e: &EventLine<'_>,
        label: EventLabel,
        at: Position,
    ) -> Result<Finding, Finding> {
        let mut later = false;
        self.scan_after(at, |next| {
            later = next.hash == e.prev_hash;
            later
        })?;
        if later {
            return Ok(Finding::Reordered(label));
        }
        if let (Some(p), Some(pp)) = (&self.prev, &self.prevprev_hash)
            && e.prev_hash == *pp
        {
            return Ok(Finding::Inserted(p.label.clone()));
        }
        if e.seq != self.expected_seq {
            return Ok(Finding::Removed {
                before: label,
                missing: Some((self.expected_seq, e.seq - 1)),
            });
        }
        let mut next_prev = None;
        self.scan_after(at, |next| {
            next_prev = Some(next.prev_hash);
            true
        })?;
        Ok(match next_prev {
            Some(next) if next == self.expected_prev => Finding::Inserted(label),
            None if self.prev.is_some() => Finding::Inserted(label),
            _ => Finding::Removed {
                before: label,
                missing: None,
            },
        })
    }

    fn digest(&mut self, d: &DigestLine<'_>, first_line: bool) -> Result<(), Finding> {
        let id = self.digests.len() as i64 + 1;
        let invalid = |reason: &str| Finding::DigestInvalid {
            digest_id: id,
            reason: reason.to_string(),
        };
        if !signature_valid(self.public_key, d.payload_text.as_bytes(), &d.signature) {
            return Err(invalid("its signature does not verify"));
        }
        let mut last_hash = [0u8; HASH_LEN];
        if hex::decode_to_slice(&d.payload.last_hash, &mut last_hash).is_err() {
            return Err(invalid("its last hash is malformed"));
        }
        if let Some(previous) = self.digests.last() {
            if previous.signature == d.signature {
                // A segment starts with the last digest again when no event followed it.
                return if first_line {
                    Ok(())
                } else {
                    Err(invalid("it repeats the digest before it"))
                };
            }
            if d.payload.previous_signature.as_deref()
                != Some(hex::encode(&previous.signature).as_str())
            {
                return Err(invalid(
                    "it does not follow the digest before it: a digest was removed, inserted \
                     or reordered",
                ));
            }
            if d.payload.first_seq != previous.last_seq + 1 {
                return Err(invalid("its range does not continue the digest before it"));
            }
        }
        if let Some(prev) = &self.prev {
            if d.payload.last_seq > prev.seq {
                return Err(Finding::TailRemoved {
                    last_seq: prev.seq,
                    digest_id: id,
                    digest_last_seq: d.payload.last_seq,
                });
            }
            if d.payload.last_seq < prev.seq {
                return Err(invalid(
                    "it is out of place: events it does not cover come before it",
                ));
            }
            if last_hash != prev.hash {
                return Err(Finding::Rewritten {
                    digest_id: id,
                    first_seq: d.payload.first_seq,
                    event: prev.label.clone(),
                });
            }
        }
        self.digests.push(SeenDigest {
            id,
            last_seq: d.payload.last_seq,
            last_hash,
            signature: d.signature.clone(),
        });
        Ok(())
    }

    fn finish(self) -> Result<Summary, Finding> {
        let last_seq = self.prev.as_ref().map(|p| p.seq);
        // With every event pruned, only the anchor is left; more digests mean events went
        // missing.
        if last_seq.is_none()
            && self.digests.len() > 1
            && let Some(d) = self.digests.last()
        {
            return Err(Finding::TailRemoved {
                last_seq: 0,
                digest_id: d.id,
                digest_last_seq: d.last_seq,
            });
        }
        if let Some(finding) = self.column_mismatch {
            return Err(finding);
        }
        Ok(Summary {
            events: self.events,
            range: self.first_seq.zip(last_seq),
            digests: self.digests.len() as u64,
            signed_through: self.digests.last().map_or(0, |d| d.last_seq),
            anchored_after: self.anchored_after,
        })
    }
}

/// Checks the index columns of event `seq` (if it is indexed) against its record.
fn column_mismatch(
    conn: &Connection,
    seq: i64,
    record: &EventIndex,
) -> Result<Option<&'static str>, Finding> {
    let stored: Option<EventIndex> = conn
        .prepare_cached(
            "SELECT event_id, time_ms, account_id, event_source, event_name, username,
                    principal_arn, access_key_id, read_only, error_code
             FROM events WHERE seq = ?1",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![seq], |r| {
                Ok(EventIndex {
                    event_id: r.get(0)?,
                    time_ms: r.get(1)?,
                    account_id: r.get(2)?,
                    event_source: r.get(3)?,
                    event_name: r.get(4)?,
                    username: r.get(5)?,
                    principal_arn: r.get(6)?,
                    access_key_id: r.get(7)?,
                    read_only: r.get(8)?,
                    error_code: r.get(9)?,
                    resource_names: Vec::new(),
                })
            })
            .optional()
        })
        .map_err(unreadable)?;
    let Some(stored) = stored else {
        return Ok(None);
    };
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
        .query_map(params![seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(unreadable)?
        .collect::<Result<_, _>>()
        .map_err(unreadable)?;
    let mut expected = record.resource_names.clone();
    stored_resources.sort();
    expected.sort();
    Ok((stored_resources != expected).then_some("event_resources"))
}

/// Checks the whole log in `log_dir` against the digest signing key's raw Ed25519 public key,
/// and, given the index, that its columns agree with the records. An unfinished line at the
/// very end (a write cut short by a crash, which the next start sets aside) is not a finding.
pub fn verify(
    log_dir: &Path,
    index: Option<&Connection>,
    public_key: &[u8],
) -> Result<Summary, Finding> {
    let segments = segment::list_segments(log_dir).map_err(unreadable)?;
    let mut v = Verifier {
        segments: &segments,
        index,
        public_key,
        prev: None,
        prevprev_hash: None,
        expected_prev: GENESIS,
        expected_seq: 1,
        first_seq: None,
        anchored_after: 0,
        events: 0,
        digests: Vec::new(),
        column_mismatch: None,
    };
    for (i, (_, path)) in segments.iter().enumerate() {
        let bytes = read_segment(path)?;
        let mut complete = 0;
        for (n, (offset, line)) in segment::lines(&bytes, 0).enumerate() {
            complete = offset + line.len() + 1;
            let at = Position {
                segment: i,
                after: complete,
            };
            match segment::parse_line(line) {
                Some(Entry::Event(e)) => v.event(&e, at)?,
                Some(Entry::Digest(d)) => v.digest(&d, n == 0)?,
                None => {
                    return Err(Finding::Malformed {
                        file: file_name(path),
                        line: n + 1,
                        seq: claimed_seq(line),
                    });
                }
            }
        }
        if complete < bytes.len() && i + 1 < segments.len() {
            return Err(Finding::Malformed {
                file: file_name(path),
                line: segment::lines(&bytes, 0).count() + 1,
                seq: claimed_seq(&bytes[complete..]),
            });
        }
    }
    v.finish()
}
