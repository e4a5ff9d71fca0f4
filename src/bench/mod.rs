//! `strongbox bench`: a SigV4-signing load generator for any plain-HTTP Secrets Manager
//! endpoint (Strongbox, moto, LocalStack; no TLS client, to keep the dependency set small), the
//! reference "limit" server it is compared with, and
//! helpers the benchmark script needs (fast seeding of a data directory, start-to-ready time).
//!
//! The generator keeps one HTTP/1.1 keep-alive connection per worker with one request in flight,
//! so `--concurrency` is exactly the number of connections. Latency is measured per call from
//! just before signing to the last byte of the answer.

mod client;
mod limit;
mod profile;
mod report;
mod seed;
mod startup;
mod workload;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

pub use client::{Connection, Credentials, Endpoint};
pub use report::{Report, Tally};
pub use workload::{Rng, Workload};

use crate::auth::SecretAccessKey;

/// `strongbox bench` arguments: a load run, or one of the helper subcommands.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Run the reference server: SigV4-verified POST / answered with a fixed ~450-byte body.
    LimitServer(LimitArgs),
    /// Fill a data directory with N secrets through the API layer, in-process (no HTTP), with
    /// real encryption; group commit batches the writes. For benchmarks with 1,000,000 secrets.
    #[command(hide = true)]
    SeedStore(SeedArgs),
    /// Measure start-to-ready: run a server command, poll its /health, stop it; repeat.
    #[command(hide = true)]
    Startup(StartupArgs),
}

/// Credentials and region to sign with: the flags or `AWS_ACCESS_KEY_ID` /
/// `AWS_SECRET_ACCESS_KEY`, else the profile's key in the shared credentials file (as the SDKs
/// read it), else `test` / `test` (what moto and LocalStack accept).
#[derive(Debug, Clone, Args)]
struct CredentialArgs {
    /// Access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key_id: Option<String>,
    /// Secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: Option<String>,
    /// Session token of temporary credentials.
    #[arg(long, env = "AWS_SESSION_TOKEN", hide_env_values = true)]
    session_token: Option<String>,
    /// Profile of the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else
    /// `~/.aws/credentials`) used when no access key is given.
    #[arg(long, env = "AWS_PROFILE", default_value = "default")]
    profile: String,
    /// Region of the signature's credential scope.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
}

impl CredentialArgs {
    fn credentials(&self) -> Credentials {
        let given = self
            .access_key_id
            .clone()
            .zip(self.secret_access_key.clone())
            .map(|(id, secret)| (id, SecretAccessKey::new(secret), self.session_token.clone()));
        let (access_key_id, secret, session_token) = given
            .or_else(|| {
                profile::load(&self.profile)
                    .map(|key| (key.access_key_id, key.secret_access_key, key.session_token))
            })
            .unwrap_or_else(|| ("test".into(), SecretAccessKey::new("test"), None));
        Credentials {
            access_key_id,
            secret_access_key: secret,
            session_token: session_token.filter(|t| !t.is_empty()),
            region: self.region.clone(),
        }
    }
}

#[derive(Debug, Clone, Args)]
struct RunArgs {
    /// The endpoint, `http://host:port` or `https://host[:port]`.
    #[arg(long, default_value = "http://127.0.0.1:8383")]
    endpoint: String,
    /// PEM bundle of the CAs an `https://` endpoint's certificate may chain to (default:
    /// `$SSL_CERT_FILE`, else the system's bundle).
    #[arg(long, env = "AWS_CA_BUNDLE")]
    ca_bundle: Option<std::path::PathBuf>,
    #[command(flatten)]
    credentials: CredentialArgs,
    /// What to send.
    #[arg(long, value_enum, default_value = "get")]
    workload: Workload,
    /// Secrets to seed (named `<prefix>/0000000` ...) and pick from.
    #[arg(long, default_value = "1000")]
    secrets: u64,
    /// Name prefix of the seeded secrets.
    #[arg(long, default_value = "bench")]
    prefix: String,
    /// Do not create the secrets; assume they exist (e.g. made by `bench seed-store`).
    #[arg(long)]
    skip_seed: bool,
    /// Only create the secrets, then exit.
    #[arg(long, conflicts_with = "skip_seed")]
    seed_only: bool,
    /// Measured seconds.
    #[arg(long, default_value = "10", value_parser = parse_secs)]
    duration: Duration,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value = "1", value_parser = parse_secs)]
    warmup: Duration,
    /// Connections, each with one request in flight.
    #[arg(long, default_value = "16")]
    concurrency: usize,
    /// A label for the target in the report.
    #[arg(long, default_value = "target")]
    label: String,
    /// Print the report as JSON on stdout (progress stays on stderr).
    #[arg(long)]
    json: bool,
    /// Seed of the request generator, for repeatable request sequences.
    #[arg(long, default_value = "1")]
    seed: u64,
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let s = s.strip_suffix('s').unwrap_or(s);
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("not a number of seconds: {s}"))
}

#[derive(Debug, Args)]
struct LimitArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8384")]
    listen: SocketAddr,
    #[command(flatten)]
    credentials: CredentialArgs,
}

#[derive(Debug, Args)]
struct SeedArgs {
    /// The data directory (created if missing), as for `strongbox serve`.
    #[arg(long)]
    data_dir: PathBuf,
    /// The account id of a new data directory.
    #[arg(long, env = "STRONGBOX_ACCOUNT_ID")]
    account_id: Option<String>,
    /// Region the secrets are created in.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// How many secrets.
    #[arg(long, default_value = "1000000")]
    secrets: u64,
    /// Name prefix.
    #[arg(long, default_value = "bench")]
    prefix: String,
    /// Creates in flight (each batch of the group commit holds up to this many).
    #[arg(long, default_value = "512")]
    concurrency: usize,
}

#[derive(Debug, Args)]
struct StartupArgs {
    /// Where the server will answer `GET /health`.
    #[arg(long)]
    endpoint: String,
    /// Starts to measure.
    #[arg(long, default_value = "5")]
    runs: usize,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// The server command and its arguments.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// Runs `strongbox bench ...`; returns the process exit code.
pub fn main(args: BenchArgs) -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("strongbox bench: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match args.command {
            None => run(args.run).await,
            Some(BenchCommand::LimitServer(a)) => {
                let listener = tokio::net::TcpListener::bind(a.listen)
                    .await
                    .map_err(|e| format!("cannot listen on {}: {e}", a.listen))?;
                let addr = listener.local_addr().map_err(|e| e.to_string())?;
                println!("Listening on http://{addr}");
                use std::io::Write;
                let _ = std::io::stdout().flush();
                limit::serve(listener, a.credentials.credentials()).await;
                Ok(())
            }
            Some(BenchCommand::SeedStore(a)) => {
                seed::seed_store(
                    &a.data_dir,
                    a.account_id.as_deref(),
                    &a.region,
                    &a.prefix,
                    a.secrets,
                    a.concurrency,
                )
                .await
            }
            Some(BenchCommand::Startup(a)) => {
                startup::measure(&a.endpoint, a.runs, &a.command, a.json).await
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strongbox bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Seeds (unless told not to), runs the workload and prints the report.
async fn run(args: RunArgs) -> Result<(), String> {
    let endpoint = Endpoint::parse(&args.endpoint, args.ca_bundle.as_deref())?;
    let credentials = args.credentials.credentials();
    let concurrency = args.concurrency.max(1);
    if !args.skip_seed {
        seed_api(
            &endpoint,
            &credentials,
            &args.prefix,
            args.secrets,
            concurrency,
        )
        .await?;
        if args.seed_only {
            return Ok(());
        }
    }
    let tally = load(&args, &endpoint, &credentials, concurrency).await;
    let report = Report::new(
        args.label.clone(),
        args.endpoint.clone(),
        args.workload.name(),
        concurrency,
        args.secrets,
        args.duration.as_secs_f64(),
        &tally,
    );
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{json}");
    } else {
        print!("{}", report.human());
    }
    Ok(())
}

/// Tries per secret while seeding through the API.
const SEED_ATTEMPTS: u64 = 5;

/// Creates secrets `0..n` through the API; ones that already exist are left as they are.
async fn seed_api(
    endpoint: &Endpoint,
    credentials: &Credentials,
    prefix: &str,
    n: u64,
    concurrency: usize,
) -> Result<(), String> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (next, prefix) = (next.clone(), prefix.to_string());
        let mut conn = Connection::new(endpoint.clone(), credentials.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(0x5eed ^ (w as u64) << 32 ^ now_nanos());
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok(());
                }
                // Emulators fail now and then under load (moto answers 500s); retry a few
                // times, with the same token, before giving up.
                let body = workload::create_body(&prefix, i, &mut rng);
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let code = match conn.call("CreateSecret", body.clone()).await {
                        Ok(reply) if reply.status == 200 => break,
                        Ok(reply) => reply.error_code(),
                        Err(code) => code,
                    };
                    if code == "ResourceExistsException" {
                        break;
                    }
                    if attempt == SEED_ATTEMPTS {
                        let name = workload::secret_name(&prefix, i);
                        return Err(format!("seeding {name}: {code} ({attempt} attempts)"));
                    }
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
                if (i + 1) % 10_000 == 0 {
                    eprintln!(
                        "seeded {} of {n} ({:.0}s)",
                        i + 1,
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    eprintln!(
        "seeded {n} secrets in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Runs the workload for warm-up plus duration on `concurrency` connections.
async fn load(
    args: &RunArgs,
    endpoint: &Endpoint,
    credentials: &Credentials,
    concurrency: usize,
) -> Tally {
    let start = Instant::now();
    let measure_from = start + args.warmup;
    let stop_at = measure_from + args.duration;
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let progress = {
        let (done, failed, finished) = (done.clone(), failed.clone(), finished.clone());
        let label = format!("{} {}", args.label, args.workload.name());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            let mut last = 0;
            while !finished.load(Ordering::Relaxed) {
                tick.tick().await;
                let now = done.load(Ordering::Relaxed);
                eprintln!(
                    "[{label} {:>3.0}s] {:>7} req/s  errors {}",
                    start.elapsed().as_secs_f64(),
                    now - last,
                    failed.load(Ordering::Relaxed)
                );
                last = now;
            }
        })
    };
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let mut conn = Connection::new(endpoint.clone(), credentials.clone());
        let (done, failed) = (done.clone(), failed.clone());
        let (workload, prefix, secrets) = (args.workload, args.prefix.clone(), args.secrets);
        let mut rng = Rng::new(args.seed.wrapping_mul(0x1000_0001) ^ (w as u64 + 1) << 40);
        // Fresh per run (and per connection): a second run with the same --seed must write new
        // versions, not replay the first run's tokens.
        let mut tokens = Rng::new(now_nanos() ^ (w as u64 + 1) << 48);
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new();
            loop {
                let (op, body) =
                    workload::next_request(workload, &prefix, secrets, &mut rng, &mut tokens);
                let sent = Instant::now();
                if sent >= stop_at {
                    return tally;
                }
                let result = conn.call(op, body).await;
                let elapsed = sent.elapsed();
                done.fetch_add(1, Ordering::Relaxed);
                let error = match &result {
                    Ok(reply) if reply.status == 200 => None,
                    Ok(reply) => Some(reply.error_code()),
                    Err(code) => Some(code.clone()),
                };
                if error.is_some() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                if sent < measure_from {
                    continue;
                }
                let _ = tally.latency.record((elapsed.as_micros() as u64).max(1));
                match error {
                    None => tally.ok += 1,
                    Some(code) => *tally.errors.entry(code).or_default() += 1,
                }
                if result.is_err() {
                    // Do not spin on a dead endpoint.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }));
    }
    let mut total = Tally::new();
    for t in tasks {
        match t.await {
            Ok(tally) => total.merge(tally),
            Err(_) => {
                *total.errors.entry("worker-failed".into()).or_default() += 1;
            }
        }
    }
    finished.store(true, Ordering::Relaxed);
    progress.abort();
    total
}
