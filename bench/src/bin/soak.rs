//! Soak: one client holding thousands of long polls while another sends ordinary requests.
//!
//! Usage: `soak --polls N --seconds S`
//!
//! Starts `controller-under-test` with its default connection limits (derived from its
//! descriptor limit, a quarter of them for one client), makes a few tasks that never change, and
//! from `127.0.0.1` opens N long polls `GET /api/v1/tasks/{id}?poll_timeout=120`, one
//! connection each (scaled down to what this process's descriptor limit allows, and said so).
//! The controller holds the client's share and answers the rest 429 at once. Meanwhile a second
//! client, from `127.0.0.2`, reads tasks (`GET /api/v1/tasks/{id}`, eight at a time over
//! keep-alive connections) for S seconds: its request count, errors and p50/p99 latency are the
//! figures that matter. It fails when that client saw any error.
//!
//! The polls are counted as the client sees them: `held` (still waiting: the controller holds
//! them), `refused_429`, `refused_closed` (closed unanswered, when the controller is answering
//! many refusals at once), `answered` (none expected: the tasks do not change) and `failed`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aps_bench::load;
use aps_bench::process::{ChildScript, ControllerProcess, figure};
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::sync::Semaphore;

/// Connections being opened at once (below the listener's backlog).
const CONNECTING: usize = 256;
/// Descriptors this process keeps for itself besides the polls.
const OWN_DESCRIPTORS: usize = 256;
/// Requests the other client has in flight.
const OTHER_CONCURRENCY: usize = 8;

#[derive(Parser)]
struct Args {
    /// Long polls the first client tries to hold.
    #[arg(long)]
    polls: usize,
    /// How long the other client sends requests, seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Connections one client may hold; default: the controller's (a quarter of its limit).
    #[arg(long)]
    max_connections_per_client: Option<usize>,
}

/// The soft descriptor limit of this process (`ulimit -n`).
fn descriptor_limit() -> anyhow::Result<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits")?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .context("no descriptor limit in /proc/self/limits")?;
    let soft = line
        .split_whitespace()
        .nth(3)
        .context("no soft descriptor limit")?;
    Ok(soft.parse().unwrap_or(usize::MAX))
}

/// How the first client's polls ended up.
#[derive(Default)]
struct Polls {
    sent: AtomicUsize,
    refused: AtomicUsize,
    /// Closed without an answer: refused while the controller was answering many refusals.
    closed: AtomicUsize,
    /// Answered otherwise (a long poll does not end while the driver runs).
    answered: AtomicUsize,
    failed: AtomicUsize,
}

/// One long poll from 127.0.0.1 on a connection of its own; counts how it went.
async fn long_poll(
    server: SocketAddr,
    path: String,
    connecting: Arc<Semaphore>,
    polls: Arc<Polls>,
) {
    let outcome = async {
        let permit = connecting.acquire_owned().await?;
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let mut stream = socket.connect(server).await?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        drop(permit);
        polls.sent.fetch_add(1, Ordering::Relaxed);
        let mut head = [0u8; 12];
        match stream.read_exact(&mut head).await {
            Ok(_) if head.starts_with(b"HTTP/1.1 429") => {
                polls.refused.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Ok(_) => {}
            Err(_) => {
                polls.closed.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
        }
        polls.answered.fetch_add(1, Ordering::Relaxed);
        anyhow::Ok(())
    };
    if outcome.await.is_err() {
        polls.failed.fetch_add(1, Ordering::Relaxed);
    }
}

/// The other client: reads tasks from 127.0.0.2 until `until`; answers each request's latency
/// and the count of errors.
async fn other_client(
    url: String,
    ids: Arc<Vec<uuid::Uuid>>,
    until: Instant,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let client = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut i = 0;
    while Instant::now() < until {
        let id = ids[i % ids.len()];
        i += 1;
        let began = Instant::now();
        let answer = client.get(format!("{url}/api/v1/tasks/{id}")).send().await;
        match answer {
            Ok(response) if response.status().is_success() => {
                let _ = response.bytes().await?;
                latencies.push(began.elapsed());
            }
            _ => errors += 1,
        }
    }
    Ok((latencies, errors))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let attempted = args
        .polls
        .min(descriptor_limit()?.saturating_sub(OWN_DESCRIPTORS));
    let dir = tempfile::tempdir()?;
    let script = ChildScript {
        time_scale: 1.0,
        accepts: u32::MAX,
        retry_secs: 3600,
        max_requests: 1024,
        max_connections_per_client: args.max_connections_per_client,
    };
    let mut controller = ControllerProcess::spawn(&dir.path().join("c.db"), script).await?;
    let tasks = 10;
    let made = controller.stat("task_writes").await?;
    let ids = load::provision(&controller.url, controller.application, tasks, 4).await?;
    // Each task is stored queued, running, then waiting after its first 202: from then on it
    // does not change, so the polls wait.
    while controller.stat("task_writes").await? < made + 3 * tasks as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let server: SocketAddr = controller.url.trim_start_matches("http://").parse()?;

    let polls = Arc::new(Polls::default());
    let connecting = Arc::new(Semaphore::new(CONNECTING));
    let waiting: Vec<_> = (0..attempted)
        .map(|i| {
            let path = format!("/api/v1/tasks/{}?poll_timeout=120", ids[i % ids.len()]);
            tokio::spawn(long_poll(server, path, connecting.clone(), polls.clone()))
        })
        .collect();
    let opening = Instant::now();
    while polls.sent.load(Ordering::Relaxed) + polls.failed.load(Ordering::Relaxed) < attempted {
        if opening.elapsed() > Duration::from_secs(120) {
            bail!("the long polls were not all sent within two minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the controller read them all.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let until = Instant::now() + Duration::from_secs(args.seconds);
    let ids = Arc::new(ids);
    let others: Vec<_> = (0..OTHER_CONCURRENCY)
        .map(|_| tokio::spawn(other_client(controller.url.clone(), ids.clone(), until)))
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for other in others {
        let (taken, failed) = other.await??;
        latencies.extend(taken);
        errors += failed;
    }
    // Polls still in the listen backlog are neither held nor refused yet: wait until no more
    // answers come, so that what still waits is what the controller holds.
    let settled = |p: &Polls| {
        p.refused.load(Ordering::Relaxed)
            + p.closed.load(Ordering::Relaxed)
            + p.answered.load(Ordering::Relaxed)
            + p.failed.load(Ordering::Relaxed)
    };
    for _ in 0..60 {
        let before = settled(&polls);
        tokio::time::sleep(Duration::from_millis(500)).await;
        if settled(&polls) == before {
            break;
        }
    }
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let refused = polls.refused.load(Ordering::Relaxed);
    let closed = polls.closed.load(Ordering::Relaxed);
    let answered = polls.answered.load(Ordering::Relaxed);
    let failed = polls.failed.load(Ordering::Relaxed);
    figure("soak_polls_asked", args.polls.to_string(), "polls");
    figure("soak_polls_attempted", attempted.to_string(), "polls");
    figure(
        "soak_polls_held",
        (attempted - refused - closed - answered - failed).to_string(),
        "polls",
    );
    figure("soak_polls_refused_429", refused.to_string(), "polls");
    figure("soak_polls_refused_closed", closed.to_string(), "polls");
    figure("soak_polls_answered", answered.to_string(), "polls");
    figure("soak_polls_failed", failed.to_string(), "polls");
    figure(
        "soak_other_requests",
        latencies.len().to_string(),
        "requests",
    );
    figure("soak_other_errors", errors.to_string(), "requests");
    figure("soak_other_p50", format!("{:.3}", at(0.50)), "ms");
    figure("soak_other_p99", format!("{:.3}", at(0.99)), "ms");
    for poll in waiting {
        poll.abort();
    }
    controller.kill().await?;
    if errors > 0 || latencies.is_empty() {
        bail!(
            "the other client saw {errors} errors in {} requests",
            latencies.len()
        );
    }
    Ok(())
}
