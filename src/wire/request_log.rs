//! The one line `serve` logs per request, formatted by hand.
//!
//! Through `tracing_subscriber`'s formatter the line cost 4 to 5 µs of CPU per request (the
//! timestamp converted to a calendar date every time, each field written through `core::fmt`,
//! the principal escaped character by character), about a tenth of a GetSecretValue. Here the
//! same line, byte for byte in both formats (`--log-format human|json`, colours off; a test
//! compares them with `tracing_subscriber`'s), is built from a per-second timestamp prefix and
//! plain byte copies, and handed to the output the CLI installed (its batched stderr writer).
//! One difference is deliberate: a request id or operation with a space, quote or control
//! character is quoted and escaped, where the generic formatter wrote it raw. `STRONGBOX_LOG` still decides whether the line is
//! written: it is a `strongbox::wire` event at INFO, as before. Without an installed output
//! (colours on, or Strongbox used as a library) the line goes through `tracing` as it did.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::OnceLock;

/// What a request's line says.
pub(super) struct RequestLine<'a> {
    pub request_id: &'a str,
    pub operation: &'a str,
    pub principal: Option<&'a str>,
    pub remote: IpAddr,
    pub status: u16,
    pub latency_us: u64,
}

/// The layout of log lines, as `serve --log-format` chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFormat {
    /// `tracing_subscriber`'s default (full) format without colours.
    Human,
    /// `tracing_subscriber`'s JSON format.
    Json,
}

/// Where formatted lines go; each call gets whole lines.
pub type LineOutput = Box<dyn Fn(&[u8]) + Send + Sync>;

static OUTPUT: OnceLock<(LineFormat, LineOutput)> = OnceLock::new();

/// Sends request lines to `output` in `format` from now on, instead of through `tracing`.
/// The first installation stays (one process, one log); false if one was installed already.
pub fn install(format: LineFormat, output: LineOutput) -> bool {
    OUTPUT.set((format, output)).is_ok()
}

/// The target the line is filtered and labelled by (`STRONGBOX_LOG=strongbox::wire=warn`).
const TARGET: &str = "strongbox::wire";

/// Logs `line` if INFO is enabled for [`TARGET`].
pub(super) fn log(line: &RequestLine<'_>) {
    if !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
        return;
    }
    let Some((format, output)) = OUTPUT.get() else {
        through_tracing(line);
        return;
    };
    thread_local! {
        static BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(320));
    }
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        format_line(&mut buffer, *format, now_micros(), line);
        output(&buffer);
    });
}

/// The line as a `tracing` event, for whatever subscriber is installed.
fn through_tracing(line: &RequestLine<'_>) {
    tracing::info!(
        target: TARGET,
        request_id = %line.request_id,
        operation = %line.operation,
        principal = line.principal.unwrap_or("-"),
        remote = %line.remote,
        status = line.status,
        latency_us = line.latency_us,
        "request"
    );
}

fn now_micros() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

/// Appends `line`, ending in a newline, as `tracing_subscriber` would have written it at
/// `micros` (Unix time).
fn format_line(out: &mut Vec<u8>, format: LineFormat, micros: i64, line: &RequestLine<'_>) {
    let mut ip = IpText::new();
    let _ = write!(ip, "{}", line.remote);
    let principal = line.principal.unwrap_or("-");
    match format {
        LineFormat::Human => {
            timestamp(out, micros);
            out.extend_from_slice(b"  INFO strongbox::wire: request request_id=");
            plain_or_debug(out, line.request_id);
            out.extend_from_slice(b" operation=");
            plain_or_debug(out, line.operation);
            out.extend_from_slice(b" principal=");
            debug_str(out, principal);
            out.extend_from_slice(b" remote=");
            out.extend_from_slice(ip.as_bytes());
            out.extend_from_slice(b" status=");
            out.extend_from_slice(itoa::Buffer::new().format(line.status).as_bytes());
            out.extend_from_slice(b" latency_us=");
            out.extend_from_slice(itoa::Buffer::new().format(line.latency_us).as_bytes());
        }
        LineFormat::Json => {
            out.extend_from_slice(b"{\"timestamp\":\"");
            timestamp(out, micros);
            out.extend_from_slice(
                b"\",\"level\":\"INFO\",\"fields\":{\"message\":\"request\",\"request_id\":",
            );
            json_str(out, line.request_id);
            out.extend_from_slice(b",\"operation\":");
            json_str(out, line.operation);
            out.extend_from_slice(b",\"principal\":");
            json_str(out, principal);
            out.extend_from_slice(b",\"remote\":\"");
            out.extend_from_slice(ip.as_bytes());
            out.extend_from_slice(b"\",\"status\":");
            out.extend_from_slice(itoa::Buffer::new().format(line.status).as_bytes());
            out.extend_from_slice(b",\"latency_us\":");
            out.extend_from_slice(itoa::Buffer::new().format(line.latency_us).as_bytes());
            out.extend_from_slice(b"},\"target\":\"strongbox::wire\"}");
        }
    }
    out.push(b'\n');
}

/// `2026-11-25T02:59:32.606173Z`: the date and time to the second from a per-second cache,
/// then the microseconds.
fn timestamp(out: &mut Vec<u8>, micros: i64) {
    thread_local! {
        static SECOND: crate::clock::PerSecond<[u8; 19]> = const { crate::clock::PerSecond::new() };
    }
    let seconds = SECOND.with(|cached| {
        cached.get(micros.div_euclid(1000), |millis| {
            let mut text = [b'0'; 19];
            let formatted = crate::audit::record::format_event_time(millis);
            // "YYYY-MM-DDTHH:MM:SSZ" without its "Z"; a year past 9999 keeps the zeros.
            if let Some(head) = formatted.as_bytes().get(..19) {
                text.copy_from_slice(head);
            }
            text
        })
    });
    out.extend_from_slice(&seconds);
    out.push(b'.');
    let fraction = micros.rem_euclid(1_000_000) + 1_000_000;
    // The leading "1" keeps the zeros of a short fraction.
    out.extend_from_slice(&itoa::Buffer::new().format(fraction).as_bytes()[1..]);
    out.push(b'Z');
}

/// Whether `Debug` would print `s` between quotes unchanged.
fn needs_no_escape(s: &str) -> bool {
    s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// A `&str` field as `tracing` writes it: `Debug`, so in quotes.
fn debug_str(out: &mut Vec<u8>, s: &str) {
    if needs_no_escape(s) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(format!("{s:?}").as_bytes());
    }
}

/// A `Display` field: as is, unless it holds a space, quote or control character that would
/// let it pass for more than one field (then quoted and escaped).
fn plain_or_debug(out: &mut Vec<u8>, s: &str) {
    if !s.is_empty() && needs_no_escape(s) && !s.contains(' ') {
        out.extend_from_slice(s.as_bytes());
    } else {
        debug_str(out, s);
    }
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    if needs_no_escape(s) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a `&str` into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// An IP address's text without an allocation (at most 45 bytes: an IPv6 address with an
/// embedded IPv4 one).
struct IpText {
    bytes: [u8; 48],
    len: usize,
}

impl IpText {
    fn new() -> Self {
        Self {
            bytes: [0; 48],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::fmt::Write for IpText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(principal: Option<&'a str>, remote: &str) -> RequestLine<'a> {
        RequestLine {
            request_id: "7495f2c6-c6f9-475e-b779-c04d873d27c8",
            operation: "CreateSecret",
            principal,
            remote: remote.parse().unwrap(),
            status: 200,
            latency_us: 5126,
        }
    }

    fn formatted(format: LineFormat, micros: i64, line: &RequestLine<'_>) -> String {
        let mut out = Vec::new();
        format_line(&mut out, format, micros, line);
        String::from_utf8(out).unwrap()
    }

    /// 2026-11-25T02:59:32.006173Z
    const AT: i64 = 1_795_575_572_006_173;

    /// `tracing_subscriber`'s clock, stopped at [`AT`].
    struct StoppedClock;

    impl tracing_subscriber::fmt::time::FormatTime for StoppedClock {
        fn format_time(
            &self,
            w: &mut tracing_subscriber::fmt::format::Writer<'_>,
        ) -> std::fmt::Result {
            w.write_str("2026-11-25T02:59:32.006173Z")
        }
    }

    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `tracing_subscriber`, configured as `serve` configures it, writes for `line`.
    fn from_tracing_subscriber(format: LineFormat, line: &RequestLine<'_>) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let builder = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_timer(StoppedClock)
            .with_writer(move || writer.clone());
        match format {
            LineFormat::Human => {
                tracing::subscriber::with_default(builder.finish(), || through_tracing(line))
            }
            LineFormat::Json => {
                tracing::subscriber::with_default(builder.json().finish(), || through_tracing(line))
            }
        }
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn the_same_bytes_as_tracing_subscriber_writes() {
        let lines = [
            line(
                Some("arn:aws:iam::496152169672:user/ops/alice"),
                "127.0.0.1",
            ),
            line(None, "::1"),
            line(
                Some("arn:aws:sts::496152169672:assumed-role/r/s@x"),
                "10.1.2.3",
            ),
        ];
        for format in [LineFormat::Human, LineFormat::Json] {
            for line in &lines {
                assert_eq!(
                    formatted(format, AT, line),
                    from_tracing_subscriber(format, line),
                    "{format:?}"
                );
            }
        }
    }

    #[test]
    fn human_lines_match_tracing_subscribers_format() {
        let got = formatted(
            LineFormat::Human,
            AT,
            &line(Some("arn:aws:iam::496152169672:root"), "127.0.0.1"),
        );
        assert_eq!(
            got,
            "2026-11-25T02:59:32.006173Z  INFO strongbox::wire: request \
             request_id=7495f2c6-c6f9-475e-b779-c04d873d27c8 operation=CreateSecret \
             principal=\"arn:aws:iam::496152169672:root\" remote=127.0.0.1 status=200 \
             latency_us=5126\n"
        );
    }

    #[test]
    fn json_lines_match_tracing_subscribers_format() {
        let got = formatted(LineFormat::Json, AT, &line(None, "::1"));
        assert_eq!(
            got,
            "{\"timestamp\":\"2026-11-25T02:59:32.006173Z\",\"level\":\"INFO\",\"fields\":\
             {\"message\":\"request\",\"request_id\":\"7495f2c6-c6f9-475e-b779-c04d873d27c8\",\
             \"operation\":\"CreateSecret\",\"principal\":\"-\",\"remote\":\"::1\",\
             \"status\":200,\"latency_us\":5126},\"target\":\"strongbox::wire\"}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert_eq!(parsed["fields"]["latency_us"], 5126);
    }

    #[test]
    fn odd_characters_are_escaped_and_stay_on_one_line() {
        let mut odd = line(Some("a\"b\\c\nd"), "127.0.0.1");
        odd.operation = "x y\nz";
        let human = formatted(LineFormat::Human, AT, &odd);
        assert!(
            human.contains(r#"operation="x y\nz" principal="a\"b\\c\nd""#),
            "{human}"
        );
        assert_eq!(human.matches('\n').count(), 1);
        let json = formatted(LineFormat::Json, AT, &odd);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["fields"]["principal"], "a\"b\\c\nd");
        assert_eq!(parsed["fields"]["operation"], "x y\nz");
    }

    #[test]
    fn the_longest_addresses_fit() {
        let ip = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
        let human = formatted(LineFormat::Human, 0, &line(None, ip));
        assert!(human.starts_with("1970-01-01T00:00:00.000000Z "), "{human}");
        assert!(
            human.contains(" remote=ffff:ffff:ffff:ffff:ffff:ffff:"),
            "{human}"
        );
    }
}
