//! The durable audit log: append-only JSON-lines segment files in `DATA_DIR/audit/`.
//!
//! This is the record of truth. A request's event is durable once its line is written and the
//! file is `fdatasync`ed: one sequential write and one sync per group commit, with no B-tree,
//! page cache or checkpoint in the way. `audit.db` only indexes these files and can be rebuilt
//! from them.
//!
//! Each line is one JSON object:
//!
//! - an event: `{"seq":N,"prevHash":"<hex>","hash":"<hex>","record":{...CloudTrail record...}}`,
//!   where `hash = SHA-256(prevHash || record bytes)` ([`super::chain::event_hash`]);
//! - a digest: `{"digest":{...DigestPayload...},"signature":"<hex Ed25519>"}`.
//!
//! Segments are `log-000001.jsonl`, `log-000002.jsonl`, ... Every segment after the first
//! starts with a digest signing everything before it, so each segment is anchored on its own
//! and retention can delete whole old segments while the rest still verifies.
//!
//! After a crash, the last segment may end in a torn write (the part of the last group commit
//! that reached the disk). Only the tail after the last complete, well-chained line is cut;
//! its bytes are kept beside the segment (`.torn-<offset>`), not deleted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::chain::{DigestPayload, GENESIS, HASH_LEN, event_hash};

/// The segment directory's name inside the data directory.
pub const LOG_DIR: &str = "audit";
/// A new segment is started (at the next digest) once the current one is this large.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;
/// How much of the last segment recovery reads first. A torn write is at most one group
/// commit, which the writer keeps well below this.
const TAIL_WINDOW: u64 = 8 << 20;

/// File name of segment `n`.
pub fn segment_name(n: u32) -> String {
    format!("log-{n:06}.jsonl")
}

fn parse_segment_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("log-")?.strip_suffix(".jsonl")?;
    if digits.len() < 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The segments in `dir`, oldest first. A missing directory has none.
pub fn list_segments(dir: &Path) -> io::Result<Vec<(u32, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        if let Some(n) = entry.file_name().to_str().and_then(parse_segment_name) {
            out.push((n, entry.path()));
        }
    }
    out.sort_by_key(|(n, _)| *n);
    Ok(out)
}

/// One event line, borrowed from the segment's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine<'a> {
    /// Position in the log.
    pub seq: i64,
    /// The previous event's hash.
    pub prev_hash: [u8; HASH_LEN],
    /// This event's hash.
    pub hash: [u8; HASH_LEN],
    /// The CloudTrail record, byte for byte as hashed.
    pub record: &'a str,
}

/// One digest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestLine<'a> {
    /// The signed payload, byte for byte as signed.
    pub payload_text: &'a str,
    /// The payload, parsed.
    pub payload: DigestPayload,
    /// The Ed25519 signature of `payload_text`.
    pub signature: Vec<u8>,
}

/// A parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<'a> {
    /// An event.
    Event(EventLine<'a>),
    /// A signed digest.
    Digest(DigestLine<'a>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawLine<'a> {
    seq: Option<i64>,
    #[serde(borrow)]
    prev_hash: Option<&'a str>,
    #[serde(borrow)]
    hash: Option<&'a str>,
    #[serde(borrow)]
    record: Option<&'a RawValue>,
    #[serde(borrow)]
    digest: Option<&'a RawValue>,
    #[serde(borrow)]
    signature: Option<&'a str>,
}

fn hash_from_hex(text: &str) -> Option<[u8; HASH_LEN]> {
    let mut out = [0u8; HASH_LEN];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// Parses one line (without its newline); `None` if it is not a well-formed event or digest.
pub fn parse_line(line: &[u8]) -> Option<Entry<'_>> {
    let text = std::str::from_utf8(line).ok()?;
    let raw: RawLine<'_> = serde_json::from_str(text).ok()?;
    match raw {
        RawLine {
            seq: Some(seq),
            prev_hash: Some(prev),
            hash: Some(hash),
            record: Some(record),
            digest: None,
            signature: None,
        } => Some(Entry::Event(EventLine {
            seq,
            prev_hash: hash_from_hex(prev)?,
            hash: hash_from_hex(hash)?,
            record: record.get(),
        })),
        RawLine {
            seq: None,
            prev_hash: None,
            hash: None,
            record: None,
            digest: Some(digest),
            signature: Some(signature),
        } => Some(Entry::Digest(DigestLine {
            payload_text: digest.get(),
            payload: serde_json::from_str(digest.get()).ok()?,
            signature: hex::decode(signature).ok()?,
        })),
        _ => None,
    }
}

/// Appends an event line (with its newline) to `out`. `record` is compact JSON from
/// `serde_json`, so it holds no raw newline.
pub fn write_event_line(
    out: &mut Vec<u8>,
    seq: i64,
    prev_hash: &[u8; HASH_LEN],
    hash: &[u8; HASH_LEN],
    record: &str,
) {
    let mut hex_buf = [0u8; HASH_LEN * 2];
    out.extend_from_slice(b"{\"seq\":");
    // Formatting into the Vec itself: no temporary String per event. Writing to a Vec cannot
    // fail.
    let _ = write!(out, "{seq}");
    out.extend_from_slice(b",\"prevHash\":\"");
    out.extend_from_slice(hex_of(prev_hash, &mut hex_buf));
    out.extend_from_slice(b"\",\"hash\":\"");
    out.extend_from_slice(hex_of(hash, &mut hex_buf));
    out.extend_from_slice(b"\",\"record\":");
    out.extend_from_slice(record.as_bytes());
    out.extend_from_slice(b"}\n");
}

fn hex_of<'a>(bytes: &[u8; HASH_LEN], buf: &'a mut [u8; HASH_LEN * 2]) -> &'a [u8] {
    // Cannot fail: the buffer is exactly twice the input.
    let _ = hex::encode_to_slice(bytes, buf);
    buf
}

/// Appends a digest line (with its newline) to `out`.
pub fn write_digest_line(out: &mut Vec<u8>, payload: &[u8], signature: &[u8]) {
    out.extend_from_slice(b"{\"digest\":");
    out.extend_from_slice(payload);
    out.extend_from_slice(b",\"signature\":\"");
    out.extend_from_slice(hex::encode(signature).as_bytes());
    out.extend_from_slice(b"\"}\n");
}

/// Complete lines of `bytes` from `start`, with their offsets; a last line without a newline
/// is not returned (it is a torn write).
pub fn lines(bytes: &[u8], start: usize) -> impl Iterator<Item = (usize, &[u8])> {
    let mut at = start.min(bytes.len());
    std::iter::from_fn(move || {
        let rest = &bytes[at..];
        let end = memchr_newline(rest)?;
        let line = (at, &rest[..end]);
        at += end + 1;
        Some(line)
    })
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Reads `length` bytes at `offset` of a segment: one stored line, for lookups.
pub fn read_at(file: &File, offset: u64, length: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; length];
    file.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

/// Where the chain stands at the end of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    /// The last event's sequence number (0 for an empty log).
    pub last_seq: i64,
    /// The last event's hash ([`GENESIS`] for an empty log).
    pub last_hash: [u8; HASH_LEN],
    /// The last event the last digest covers (0 if there is no digest).
    pub digest_seq: i64,
    /// The last digest's signature.
    pub digest_signature: Option<Vec<u8>>,
    /// The last digest's line, with its newline.
    pub digest_line: Option<Vec<u8>>,
    /// Where a torn tail was moved, if recovery cut one.
    pub torn: Option<PathBuf>,
}

/// The open end of the log: the current segment, appended to by one writer.
///
/// The segment is zero-filled ahead of the writes ([`PREALLOCATE`] at a time), as database
/// write-ahead logs are: a write into blocks that already exist needs no file-size or extent
/// change, so its `fdatasync` flushes only data, about half the latency of an appending one.
/// Readers stop at the last newline; the zeros after it are not lines. A closed segment is cut
/// to its data.
#[derive(Debug)]
pub struct SegmentWriter {
    dir: PathBuf,
    number: u32,
    file: File,
    /// End of the data.
    len: u64,
    /// End of the zero-filled file.
    allocated: u64,
    max_bytes: u64,
}

/// How far ahead of the data the current segment is zero-filled.
pub const PREALLOCATE: u64 = 4 << 20;

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn open_rw(path: &Path, create_new: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    if create_new {
        options.create_new(true);
    }
    options.open(path)
}

/// Writes zeros over `from..to` of `file`.
fn write_zeros(file: &File, from: u64, to: u64) -> io::Result<()> {
    const CHUNK: usize = 1 << 20;
    let zeros = vec![0u8; CHUNK.min(to.saturating_sub(from) as usize)];
    let mut at = from;
    while at < to {
        let n = (to - at).min(CHUNK as u64) as usize;
        file.write_all_at(&zeros[..n], at)?;
        at += n as u64;
    }
    Ok(())
}

/// The end of the data in `file`: just after its last non-zero byte.
fn data_end(file: &File) -> io::Result<u64> {
    const CHUNK: u64 = 1 << 20;
    let mut end = file.metadata()?.len();
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let bytes = read_at(file, start, (end - start) as usize)?;
        if let Some(i) = bytes.iter().rposition(|&b| b != 0) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

impl SegmentWriter {
    /// Opens the log in `dir` (created if missing), recovering the tail of the last segment.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<(Self, Tail)> {
        fs::create_dir_all(dir)?;
        let mut segments = list_segments(dir)?;
        // A crash between creating a segment and syncing its anchor leaves it without data.
        while segments.len() > 1 {
            let Some((_, path)) = segments.last() else {
                break;
            };
            if data_end(&File::open(path)?)? > 0 {
                break;
            }
            fs::remove_file(path)?;
            sync_dir(dir)?;
            segments.pop();
        }
        let Some((number, path)) = segments.last().cloned() else {
            let path = dir.join(segment_name(1));
            let file = open_rw(&path, true)?;
            file.sync_all()?;
            sync_dir(dir)?;
            let writer = Self {
                dir: dir.to_path_buf(),
                number: 1,
                file,
                len: 0,
                allocated: 0,
                max_bytes,
            };
            return Ok((writer, empty_tail()));
        };
        let file = open_rw(&path, false)?;
        let allocated = file.metadata()?.len();
        let (mut tail, valid_len, end) = recover_tail(&file)?;
        if valid_len < end {
            let torn = dir.join(format!("{}.torn-{valid_len}", segment_name(number)));
            let bytes = read_at(&file, valid_len, (end - valid_len) as usize)?;
            fs::write(&torn, bytes)?;
            File::open(&torn)?.sync_all()?;
            write_zeros(&file, valid_len, end)?;
            file.sync_all()?;
            sync_dir(dir)?;
            tracing::warn!(
                segment = %path.display(),
                cut_bytes = end - valid_len,
                kept_in = %torn.display(),
                "audit log: set aside a torn write at the end of the last segment"
            );
            tail.torn = Some(torn);
        }
        let writer = Self {
            dir: dir.to_path_buf(),
            number,
            file,
            len: valid_len,
            allocated,
            max_bytes,
        };
        Ok((writer, tail))
    }

    /// The current segment's number.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// Bytes of data in the current segment.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing has been written to the current segment.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True once the current segment has reached its size: the next digest starts a new one.
    pub fn wants_rotation(&self) -> bool {
        self.len >= self.max_bytes
    }

    /// Writes `bytes` at the end of the current segment's data and syncs them to disk. On
    /// failure the attempted range is zeroed again (best effort), so a failed append leaves no
    /// line behind.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let end = self.len + bytes.len() as u64;
        let result = self.preallocate(end).and_then(|()| {
            self.file
                .write_all_at(bytes, self.len)
                .and_then(|()| self.file.sync_data())
        });
        match result {
            Ok(()) => {
                self.len = end;
                Ok(())
            }
            Err(e) => {
                let _ = write_zeros(&self.file, self.len, end);
                Err(e)
            }
        }
    }

    /// Syncs the current segment: a probe that the disk takes writes.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Zero-fills the file to cover `end` and [`PREALLOCATE`] beyond (synced with the next
    /// data write).
    fn preallocate(&mut self, end: u64) -> io::Result<()> {
        if end <= self.allocated {
            return Ok(());
        }
        let target = end + PREALLOCATE;
        write_zeros(&self.file, self.allocated.max(self.len), target)?;
        self.allocated = target;
        Ok(())
    }

    /// Closes the current segment (cut to its data) and starts segment `number + 1` with
    /// `anchor` (a digest line) as its first line.
    pub fn rotate(&mut self, anchor: &[u8]) -> io::Result<()> {
        self.file.set_len(self.len)?;
        self.file.sync_all()?;
        self.allocated = self.len;
        let number = self.number + 1;
        let path = self.dir.join(segment_name(number));
        let file = open_rw(&path, true)?;
        let mut next = Self {
            dir: self.dir.clone(),
            number,
            file,
            len: 0,
            allocated: 0,
            max_bytes: self.max_bytes,
        };
        let written = next.append(anchor).and_then(|()| sync_dir(&self.dir));
        if let Err(e) = written {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        *self = next;
        Ok(())
    }
}

fn empty_tail() -> Tail {
    Tail {
        last_seq: 0,
        last_hash: GENESIS,
        digest_seq: 0,
        digest_signature: None,
        digest_line: None,
        torn: None,
    }
}

/// What a forward scan of some lines found.
#[derive(Default)]
struct Scan {
    /// The chain's head: the last event, or the last digest's last event before any event.
    head: Option<(i64, [u8; HASH_LEN])>,
    /// The last digest: the last event it covers, its signature and its line.
    last_digest: Option<(i64, Vec<u8>, Vec<u8>)>,
    /// End of the last good line, relative to the scanned bytes.
    valid_end: usize,
}

/// Scans complete lines of `bytes` from `start`, stopping at the first line that does not
/// parse or does not continue the chain (the first line's predecessor may be unknown).
fn scan(bytes: &[u8], start: usize) -> Scan {
    let mut out = Scan {
        valid_end: start,
        ..Scan::default()
    };
    for (offset, line) in lines(bytes, start) {
        match parse_line(line) {
            Some(Entry::Event(e)) => {
                let hashed = event_hash(&e.prev_hash, e.record.as_bytes()) == e.hash;
                let linked = out
                    .head
                    .is_none_or(|(seq, hash)| seq + 1 == e.seq && hash == e.prev_hash);
                if !hashed || !linked {
                    break;
                }
                out.head = Some((e.seq, e.hash));
            }
            Some(Entry::Digest(d)) => {
                let Some(last_hash) = hash_from_hex(&d.payload.last_hash) else {
                    break;
                };
                if out
                    .head
                    .is_some_and(|head| head != (d.payload.last_seq, last_hash))
                {
                    break;
                }
                out.head = Some((d.payload.last_seq, last_hash));
                let mut digest_line = line.to_vec();
                digest_line.push(b'\n');
                out.last_digest = Some((d.payload.last_seq, d.signature, digest_line));
            }
            None => break,
        }
        out.valid_end = offset + line.len() + 1;
    }
    out
}

/// Finds the chain's tail in the last segment: returns it, the length of the valid prefix and
/// the end of the data (the zero fill after it is not data).
fn recover_tail(file: &File) -> io::Result<(Tail, u64, u64)> {
    let file_len = data_end(file)?;
    let window_start = file_len.saturating_sub(TAIL_WINDOW);
    let window = read_at(file, window_start, (file_len - window_start) as usize)?;
    // A window that starts mid-file starts mid-line: skip to the next line.
    let first = if window_start == 0 {
        0
    } else {
        memchr_newline(&window).map_or(window.len(), |i| i + 1)
    };
    let found = scan(&window, first);
    let valid_len = window_start + found.valid_end as u64;
    let mut digest = found.last_digest;
    let mut head = found.head;
    if window_start > 0 && (digest.is_none() || head.is_none()) {
        // The last digest is further back (each segment after the first starts with one).
        let whole = read_at(file, 0, window_start as usize + first)?;
        let before = scan(&whole, 0);
        digest = digest.or(before.last_digest);
        head = head.or(before.head);
    }
    let (last_seq, last_hash) = head.unwrap_or((0, GENESIS));
    let tail = Tail {
        last_seq,
        last_hash,
        digest_seq: digest.as_ref().map_or(0, |d| d.0),
        digest_signature: digest.as_ref().map(|d| d.1.clone()),
        digest_line: digest.map(|d| d.2),
        torn: None,
    };
    Ok((tail, valid_len, file_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_line(seq: i64, prev: &[u8; HASH_LEN], record: &str) -> (Vec<u8>, [u8; HASH_LEN]) {
        let hash = event_hash(prev, record.as_bytes());
        let mut out = Vec::new();
        write_event_line(&mut out, seq, prev, &hash, record);
        (out, hash)
    }

    #[test]
    fn lines_round_trip() {
        let (line, hash) = event_line(1, &GENESIS, r#"{"eventName":"A","x":"a\nb"}"#);
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        let Some(Entry::Event(e)) = parse_line(&line[..line.len() - 1]) else {
            panic!("not an event");
        };
        assert_eq!(e.seq, 1);
        assert_eq!(e.hash, hash);
        assert_eq!(e.record, r#"{"eventName":"A","x":"a\nb"}"#);

        let payload = DigestPayload {
            version: 1,
            first_seq: 1,
            last_seq: 1,
            last_hash: hex::encode(hash),
            time_ms: 5,
            previous_signature: None,
        };
        let mut out = Vec::new();
        write_digest_line(&mut out, &payload.to_bytes(), &[7u8; 64]);
        let Some(Entry::Digest(d)) = parse_line(&out[..out.len() - 1]) else {
            panic!("not a digest");
        };
        assert_eq!(d.payload, payload);
        assert_eq!(d.payload_text.as_bytes(), payload.to_bytes());
        assert_eq!(d.signature, vec![7u8; 64]);
    }

    #[test]
    fn malformed_lines_are_rejected() {
        for bad in [
            &b""[..],
            b"{}",
            b"not json",
            b"{\"seq\":1}",
            b"{\"seq\":1,\"prevHash\":\"00\",\"hash\":\"00\",\"record\":{}}",
            b"{\"digest\":{},\"signature\":\"00\"}",
            b"{\"seq\":1,\"prevHash\":\"zz\",\"hash\":\"00\",\"record\":{},\"extra\":1}",
        ] {
            assert_eq!(parse_line(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn segment_names_sort_and_parse() {
        assert_eq!(segment_name(7), "log-000007.jsonl");
        assert_eq!(parse_segment_name("log-000007.jsonl"), Some(7));
        assert_eq!(parse_segment_name("log-1234567.jsonl"), Some(1_234_567));
        assert_eq!(parse_segment_name("log-000007.jsonl.torn-5"), None);
        assert_eq!(parse_segment_name("log-7.jsonl"), None);
    }

    #[test]
    fn recovery_finds_the_tail_and_cuts_a_torn_write() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, tail) = SegmentWriter::open(dir.path(), DEFAULT_SEGMENT_BYTES).unwrap();
        assert_eq!(tail, empty_tail());
        let (a, ha) = event_line(1, &GENESIS, r#"{"n":1}"#);
        let (b, hb) = event_line(2, &ha, r#"{"n":2}"#);
        w.append(&[a.clone(), b].concat()).unwrap();
        let (c, _) = event_line(3, &hb, r#"{"n":3}"#);
        w.append(&c[..c.len() / 2]).unwrap();
        drop(w);

        let (w, tail) = SegmentWriter::open(dir.path(), DEFAULT_SEGMENT_BYTES).unwrap();
        assert_eq!((tail.last_seq, tail.last_hash), (2, hb));
        let torn = tail.torn.expect("the torn write is kept aside");
        assert_eq!(fs::read(torn).unwrap(), &c[..c.len() / 2]);
        let bytes = fs::read(dir.path().join(segment_name(1))).unwrap();
        assert_eq!(
            w.len(),
            data_end(&File::open(dir.path().join(segment_name(1))).unwrap()).unwrap()
        );
        assert!(bytes[w.len() as usize..].iter().all(|&b| b == 0));
    }

    #[test]
    fn rotation_anchors_the_next_segment() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _) = SegmentWriter::open(dir.path(), 10).unwrap();
        let (a, ha) = event_line(1, &GENESIS, r#"{"n":1}"#);
        w.append(&a).unwrap();
        assert!(w.wants_rotation());
        let payload = DigestPayload {
            version: 1,
            first_seq: 1,
            last_seq: 1,
            last_hash: hex::encode(ha),
            time_ms: 5,
            previous_signature: None,
        };
        let mut anchor = Vec::new();
        write_digest_line(&mut anchor, &payload.to_bytes(), &[1u8; 64]);
        w.rotate(&anchor).unwrap();
        assert_eq!(w.number(), 2);
        drop(w);
        // An empty segment left by a crash mid-rotation is dropped.
        File::create(dir.path().join(segment_name(3))).unwrap();
        let (w, tail) = SegmentWriter::open(dir.path(), 10).unwrap();
        assert_eq!(w.number(), 2);
        assert_eq!((tail.last_seq, tail.last_hash, tail.digest_seq), (1, ha, 1));
        assert_eq!(tail.digest_signature, Some(vec![1u8; 64]));
    }
}
