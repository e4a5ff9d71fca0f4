//! `strongbox audit verify | lookup | export`: offline tools over a data directory's
//! `audit.db`. They open it read-only, so they are safe while the server runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::audit::{
    AUDIT_FILE, Attribute, EventQuery, LOG_DIR, catch_up_index, index, query, verify_log,
};
use crate::crypto::RootKey;

/// Audit log commands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and the signed digests; names the first altered, removed,
    /// inserted or reordered event. Exit status 0 when intact, 1 when tampered, 2 when the log
    /// or key cannot be read.
    Verify {
        /// The data directory (its root key unwraps the digest signing key).
        #[arg(long, env = "STRONGBOX_DATA_DIR", default_value = "./strongbox-data")]
        data_dir: PathBuf,
        #[command(flatten)]
        root_key: super::RootKeyArgs,
    },
    /// Print matching events as JSON lines (CloudTrail records), oldest first.
    Lookup {
        /// The data directory.
        #[arg(long, env = "STRONGBOX_DATA_DIR", default_value = "./strongbox-data")]
        data_dir: PathBuf,
        /// Only events at or after this time (RFC 3339, e.g. 2025-01-31T12:00:00Z, or epoch
        /// seconds).
        #[arg(long, value_parser = parse_time)]
        start: Option<i64>,
        /// Only events at or before this time (RFC 3339 or epoch seconds).
        #[arg(long, value_parser = parse_time)]
        end: Option<i64>,
        /// Only this operation, e.g. GetSecretValue.
        #[arg(long)]
        event_name: Option<String>,
        /// Only calls by this principal: a user name, role session name, `root`, or an ARN.
        #[arg(long)]
        user: Option<String>,
        /// Only calls on this secret: its name or ARN.
        #[arg(long)]
        secret: Option<String>,
        /// Only failed calls.
        #[arg(long)]
        errors_only: bool,
        /// Print at most this many events.
        #[arg(long, default_value = "0", hide_default_value = true)]
        limit: usize,
    },
    /// Stream every event as JSON lines (CloudTrail records), oldest first, for a SIEM.
    Export {
        /// The data directory.
        #[arg(long, env = "STRONGBOX_DATA_DIR", default_value = "./strongbox-data")]
        data_dir: PathBuf,
        /// Append to this file instead of writing to stdout.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Keep running and write new events as they are logged.
        #[arg(long)]
        follow: bool,
        /// Start after this sequence number (resume an earlier export).
        #[arg(long, default_value = "0")]
        after_seq: i64,
    },
}

/// Parses RFC 3339 or epoch seconds into epoch milliseconds.
fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<i64>() {
        return secs
            .checked_mul(1000)
            .ok_or_else(|| "time out of range".to_string());
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| format!("'{s}' is neither RFC 3339 (2025-01-31T12:00:00Z) nor epoch seconds"))
}

fn load_root_key(data_dir: &Path, args: &super::RootKeyArgs) -> Result<RootKey, String> {
    args.source()?
        .load_existing(data_dir)
        .map_err(|e| e.to_string())
}

/// Runs an audit command; returns the process exit code.
pub fn run(command: AuditCommand) -> ExitCode {
    let result = match command {
        AuditCommand::Verify { data_dir, root_key } => return verify(&data_dir, &root_key),
        AuditCommand::Lookup {
            data_dir,
            start,
            end,
            event_name,
            user,
            secret,
            errors_only,
            limit,
        } => {
            let mut attributes = Vec::new();
            attributes.extend(event_name.map(Attribute::EventName));
            attributes.extend(user.map(Attribute::User));
            attributes.extend(secret.map(Attribute::ResourceName));
            if errors_only {
                attributes.push(Attribute::ErrorsOnly);
            }
            let q = EventQuery {
                attributes,
                start_ms: start,
                end_ms: end,
                limit,
                ..EventQuery::default()
            };
            print_events(&data_dir, q, &mut std::io::stdout().lock(), false)
        }
        AuditCommand::Export {
            data_dir,
            output,
            follow,
            after_seq,
        } => {
            let q = EventQuery {
                after_seq: Some(after_seq),
                ..EventQuery::default()
            };
            match output {
                Some(path) => std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))
                    .and_then(|mut f| print_events(&data_dir, q, &mut f, follow)),
                None => print_events(&data_dir, q, &mut std::io::stdout().lock(), follow),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strongbox: {e}");
            ExitCode::from(2)
        }
    }
}

fn verify(data_dir: &Path, root_key: &super::RootKeyArgs) -> ExitCode {
    let root = match load_root_key(data_dir, root_key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("strongbox: {e}");
            return ExitCode::from(2);
        }
    };
    match verify_log(data_dir, &root) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(finding @ crate::audit::verify::Finding::Unreadable(_)) => {
            eprintln!("strongbox: {finding}");
            ExitCode::from(2)
        }
        Err(finding) => {
            println!("audit log FAILED verification: {finding}");
            ExitCode::FAILURE
        }
    }
}

/// Pages through the query in batches, printing each record on its own line; with `follow`,
/// polls for new events once a second instead of stopping at the end.
fn print_events(
    data_dir: &Path,
    mut q: EventQuery,
    out: &mut dyn Write,
    follow: bool,
) -> Result<(), String> {
    const BATCH: usize = 1000;
    let path = data_dir.join(AUDIT_FILE);
    if !path.exists() {
        return Err(format!("{} does not exist", path.display()));
    }
    let log_dir = data_dir.join(LOG_DIR);
    // The index trails the log; bring it up to date (a running server's indexer may be doing
    // the same: both are safe). A read-only data directory is queried as it is.
    let refresh = || {
        if let Err(e) = catch_up_index(data_dir) {
            tracing::debug!(error = %e, "audit index not refreshed");
        }
    };
    refresh();
    let index_path = log_dir.join(index::INDEX_FILE);
    if !index_path.exists() {
        return Err(format!("{} does not exist", index_path.display()));
    }
    let conn = index::open_read_only(&index_path).map_err(|e| e.to_string())?;
    let mut remaining = if q.limit == 0 { usize::MAX } else { q.limit };
    loop {
        q.limit = remaining.min(BATCH);
        let events = query::run(&conn, &log_dir, &q).map_err(|e| e.to_string())?;
        for e in &events {
            writeln!(out, "{}", e.record).map_err(|e| e.to_string())?;
        }
        out.flush().map_err(|e| e.to_string())?;
        remaining -= events.len();
        if let Some(last) = events.last() {
            q.after_seq = Some(last.seq);
        }
        if remaining == 0 || (events.len() < q.limit && !follow) {
            return Ok(());
        }
        if events.is_empty() {
            std::thread::sleep(Duration::from_secs(1));
            refresh();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times() {
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("2023-11-14T22:13:20.5Z"), Ok(1_700_000_000_500));
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("99999999999999999").is_err());
    }
}
