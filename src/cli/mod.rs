//! The `strongbox` command line.

mod admin;
mod audit;
mod log_sink;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::audit::AuditConfig;
use crate::auth::SecretAccessKey;
use crate::clock::SystemClock;
use crate::server::{CREDENTIALS_FILE, Server, ServerConfig};

/// Strongbox: a self-hosted secrets manager that speaks the AWS Secrets Manager API.
#[derive(Debug, Parser)]
#[command(name = "strongbox", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process, so the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Load-test a Secrets Manager endpoint (see docs/BENCHMARKS.md).
    Bench(crate::bench::BenchArgs),
    /// Verify, search and export the audit log.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Accounts (offline administration of a data directory).
    #[command(subcommand)]
    Account(admin::AccountCommand),
    /// IAM users (offline administration).
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Access keys (offline administration).
    #[command(subcommand)]
    AccessKey(admin::AccessKeyCommand),
    /// IAM roles (offline administration).
    #[command(subcommand)]
    Role(admin::RoleCommand),
    /// Managed policies (offline administration).
    #[command(subcommand)]
    Policy(admin::PolicyCommand),
}

/// Log output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

/// Where the root key is, for every command that opens a data directory. The key itself may
/// instead come from `STRONGBOX_ROOT_KEY` (64 hex characters), or a passphrase from
/// `STRONGBOX_ROOT_PASSPHRASE`, each read from the environment only so that it never shows in
/// `ps` or in `--help`.
#[derive(Debug, clap::Args)]
pub struct RootKeyArgs {
    /// The root key file, when it is not `root.key` in the data directory (created with mode
    /// 0600 on first start). Kept elsewhere, no secret value can be decrypted from a copy of
    /// the data directory.
    #[arg(long, env = "STRONGBOX_ROOT_KEY_FILE")]
    root_key_file: Option<PathBuf>,
    /// A file holding a passphrase (one trailing newline ignored; at least 12 characters) from
    /// which the root key is derived with Argon2id, e.g. a Docker or Kubernetes secret. The
    /// passphrase itself may instead be in STRONGBOX_ROOT_PASSPHRASE. A data directory made
    /// with a passphrase opens only with it.
    #[arg(long, env = "STRONGBOX_ROOT_PASSPHRASE_FILE")]
    root_passphrase_file: Option<PathBuf>,
}

impl RootKeyArgs {
    /// The source these arguments, `STRONGBOX_ROOT_KEY` and `STRONGBOX_ROOT_PASSPHRASE` name.
    pub fn source(&self) -> Result<crate::server::RootKeySource, String> {
        crate::server::RootKeySource::from_command_line(
            self.root_key_file.clone(),
            self.root_passphrase_file.clone(),
        )
    }
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "STRONGBOX_LISTEN", default_value = "127.0.0.1:8383")]
    listen: SocketAddr,
    /// Data directory (created and initialised on first start).
    #[arg(long, env = "STRONGBOX_DATA_DIR", default_value = "./strongbox-data")]
    data_dir: PathBuf,
    /// The 12-digit account id to create on first start (random if omitted).
    #[arg(long, env = "STRONGBOX_ACCOUNT_ID")]
    account_id: Option<String>,
    #[command(flatten)]
    root_key: RootKeyArgs,
    /// PEM certificate chain: serve HTTPS.
    #[arg(long, env = "STRONGBOX_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "STRONGBOX_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address.
    #[arg(long)]
    insecure_listen: bool,
    /// Log format on stderr.
    #[arg(
        long,
        env = "STRONGBOX_LOG_FORMAT",
        value_enum,
        default_value = "human"
    )]
    log_format: LogFormat,
    /// Seconds between purges of secrets past their recovery window.
    #[arg(long, default_value = "60")]
    purge_interval_secs: u64,
    /// Sign an audit digest after this many events.
    #[arg(long, env = "STRONGBOX_AUDIT_DIGEST_EVENTS", default_value = "1000")]
    audit_digest_events: u64,
    /// Sign an audit digest at least this often (seconds) while events arrive.
    #[arg(
        long,
        env = "STRONGBOX_AUDIT_DIGEST_INTERVAL_SECS",
        default_value = "60"
    )]
    audit_digest_interval_secs: u64,
    /// Delete audit events older than this many days (at a digest boundary, so the rest still
    /// verifies). 0 keeps every event.
    #[arg(long, env = "STRONGBOX_AUDIT_RETENTION_DAYS", default_value = "0")]
    audit_retention_days: u64,
}

/// Parses the command line and runs the command; returns the process exit code.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The offline commands unwrap keys and may print a secret; `serve` protects itself once
    // its log is up, so that a refusal can be reported.
    if !matches!(cli.command, Command::Serve(_) | Command::Bench(_)) {
        for refusal in protect_process_memory() {
            eprintln!("strongbox: warning: {refusal}");
        }
    }
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Bench(args) => crate::bench::main(args),
        Command::Audit { command } => audit::run(command),
        Command::Account(cmd) => admin::account(cmd),
        Command::User(cmd) => admin::user(cmd),
        Command::AccessKey(cmd) => admin::access_key(cmd),
        Command::Role(cmd) => admin::role(cmd),
        Command::Policy(cmd) => admin::policy(cmd),
    }
}

/// Installs the stderr logger: lines are formatted by the thread that logs and written in
/// batches by a logging thread ([`log_sink`]). The returned guard writes out what is left when
/// it is dropped, so `serve` keeps it to the end.
fn init_logging(format: LogFormat) -> log_sink::LogGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STRONGBOX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only for a terminal: in a log file they are noise, and cost time per line.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = log_sink::batched_stderr();
    if !ansi {
        // Request lines skip the generic formatter; they are the same bytes, made faster.
        let line_format = match format {
            LogFormat::Human => crate::wire::request_log::LineFormat::Human,
            LogFormat::Json => crate::wire::request_log::LineFormat::Json,
        };
        crate::wire::request_log::install(line_format, writer.line_output());
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    guard
}

/// Keeps what the process holds in memory (the root key, unwrapped data keys, plaintext on its
/// way to a client) out of core files and away from other processes of the same user: no core
/// dump on a crash (`RLIMIT_CORE` 0), and on Linux not dumpable (`PR_SET_DUMPABLE` 0), so that
/// such a process can neither `ptrace` it nor read its memory through `/proc` (root still can:
/// that is outside the threat model in DESIGN.md, and profiling the server takes root). Best
/// effort: returns what the system refused, for the caller to report, and the command goes on.
pub fn protect_process_memory() -> Vec<String> {
    let mut refused = Vec::new();
    #[cfg(unix)]
    {
        let no_core = rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        };
        if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::Core, no_core) {
            refused.push(format!("cannot turn core dumps off: {e}"));
        }
    }
    #[cfg(target_os = "linux")]
    if let Err(e) =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        refused.push(format!("cannot make the process non-dumpable: {e}"));
    }
    refused
}

fn bootstrap_key() -> Option<(String, SecretAccessKey)> {
    let id = std::env::var("STRONGBOX_BOOTSTRAP_ACCESS_KEY_ID").ok()?;
    let secret = std::env::var("STRONGBOX_BOOTSTRAP_SECRET_ACCESS_KEY").ok()?;
    (!id.is_empty() && !secret.is_empty()).then(|| (id, SecretAccessKey::new(secret)))
}

fn serve(args: ServeArgs) -> std::process::ExitCode {
    let _log_guard = init_logging(args.log_format);
    for refusal in protect_process_memory() {
        tracing::warn!("{refusal}");
    }
    let root_key = match args.root_key.source() {
        Ok(source) => source,
        Err(e) => {
            eprintln!("strongbox: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("strongbox: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let config = ServerConfig {
        listen: args.listen,
        data_dir: args.data_dir.clone(),
        account_id: args.account_id,
        root_key,
        tls: args.tls_cert.zip(args.tls_key),
        insecure_listen: args.insecure_listen,
        bootstrap_key: bootstrap_key(),
        purge_interval: Duration::from_secs(args.purge_interval_secs.max(1)),
        audit: AuditConfig {
            digest_every_events: args.audit_digest_events.max(1),
            digest_interval: Duration::from_secs(args.audit_digest_interval_secs.max(1)),
            retention: (args.audit_retention_days > 0)
                .then(|| Duration::from_secs(args.audit_retention_days.saturating_mul(86_400))),
            ..AuditConfig::default()
        },
        ..ServerConfig::new(args.data_dir)
    };
    runtime.block_on(async move {
        // The port first: a server that cannot listen leaves no new data directory behind.
        let listener = match crate::server::bind(config.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("strongbox: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let server = match Server::open(config.clone(), Arc::new(SystemClock)).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("strongbox: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let shutdown = shutdown_signal();
        let addr = listener.local_addr().unwrap_or(config.listen);
        let url = format!("{}://{addr}", server.scheme());
        let credentials = std::fs::canonicalize(&config.data_dir)
            .unwrap_or(config.data_dir.clone())
            .join(CREDENTIALS_FILE);
        // A closed stdout (`strongbox serve | head -1`) must not stop the server: the banner
        // is written without `println!`, which would panic on the broken pipe.
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "Listening on {url}");
        let _ = writeln!(
            out,
            "Account {}. Point the AWS CLI or an SDK at it with:\n  \
             export AWS_ENDPOINT_URL_SECRETS_MANAGER={url}\n  \
             export AWS_ENDPOINT_URL_IAM={url} AWS_ENDPOINT_URL_STS={url}\n  \
             export AWS_ENDPOINT_URL_CLOUDTRAIL={url}\n  \
             export AWS_SHARED_CREDENTIALS_FILE={}\n  \
             export AWS_PROFILE=strongbox\n  \
             export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1",
            server.data_dir().account_id,
            credentials.display()
        );
        let _ = out.flush();
        drop(out);
        server.run(listener, shutdown).await;
        tracing::info!("shut down");
        std::process::ExitCode::SUCCESS
    })
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled, so a signal sent as soon as the banner is out already stops the
/// server gracefully.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {},
                        _ = terminate.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
