//! `bench startup`: start-to-ready time of a server command, measured from the spawn to the first
//! `200` from `GET /health`, polled every millisecond.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::client::Endpoint;

/// The longest a start may take before the measurement gives up.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

async fn healthy(authority: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(authority).await else {
        return false;
    };
    let request = format!("GET /health HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.is_ok() && head.ends_with(b"200")
}

/// Starts `command` `runs` times and prints the start-to-ready times.
pub async fn measure(
    endpoint: &str,
    runs: usize,
    command: &[String],
    json: bool,
) -> Result<(), String> {
    let endpoint = Endpoint::parse(endpoint, None)?;
    if endpoint.is_tls() {
        return Err("startup polls a local plain-HTTP /health: give an http:// endpoint".into());
    }
    let (program, args) = command.split_first().ok_or("no server command given")?;
    let mut times_ms = Vec::new();
    for _ in 0..runs.max(1) {
        if healthy(endpoint.address()).await {
            return Err(format!(
                "something already answers on {}",
                endpoint.authority
            ));
        }
        let started = Instant::now();
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        let ready = loop {
            if healthy(endpoint.address()).await {
                break Some(started.elapsed());
            }
            if started.elapsed() > READY_TIMEOUT || child.try_wait().ok().flatten().is_some() {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        stop(&mut child).await;
        let ready = ready.ok_or("the server did not become ready")?;
        times_ms.push(ready.as_secs_f64() * 1000.0);
    }
    times_ms.sort_by(f64::total_cmp);
    let median = times_ms[times_ms.len() / 2];
    if json {
        let out = serde_json::json!({
            "runs_ms": times_ms,
            "min_ms": times_ms.first(),
            "median_ms": median,
            "max_ms": times_ms.last(),
        });
        println!("{out}");
    } else {
        println!(
            "start to ready: median {median:.1} ms, min {:.1} ms, max {:.1} ms ({} runs)",
            times_ms.first().copied().unwrap_or(0.0),
            times_ms.last().copied().unwrap_or(0.0),
            times_ms.len()
        );
    }
    Ok(())
}

/// Stops the server gracefully (SIGTERM), or kills it if it does not exit in time.
async fn stop(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    if tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
}
