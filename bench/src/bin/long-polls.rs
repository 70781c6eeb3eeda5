//! Scenario 4: many long polls waiting at once, and what they cost while nothing happens.
//!
//! Usage: `long-polls --polls N [--idle SECS] [--protocol http2|http1]`
//!
//! Starts `controller-under-test` with the default limits (1,024 requests served at once; a
//! long poll gives its slot back while it waits; the scripted endpoint answers
//! `202, APS-Retry-Timeout: 3600`, so the tasks stay unchanged), makes N/10 tasks, and sends N requests
//! `GET /api/v1/tasks/{id}?poll_timeout=120` (ten per task). Once they are all waiting, it
//! measures the controller for SECS: resident memory, CPU used, and how many store reads it
//! made (the store's counter; a long poll waits on the task's watch channel, so it must be 0).
//! Then it cancels every task and checks that each poll answered at once with the canceled task,
//! which proves they were all still waiting.
//!
//! With `http2` (the default) the polls share connections, [`STREAMS_PER_CONNECTION`] on each,
//! as an HTTP/2 client (reqwest, curl, a browser over HTTPS) sends them. With `http1` each poll
//! has a connection of its own (plain TCP, `Connection: close`): hyper keeps two 8 KiB buffers
//! for every HTTP/1 connection, so that client costs the controller far more. The figures are
//! named after the protocol. The client side is kept small either way; its CPU is printed too.
//!
//! `http1-bare` measures the floor beside it: the same HTTP/1 connections held by
//! `bare-long-polls`, bare axum with a handler that only waits (no controller, no tasks).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use aps_bench::load;
use aps_bench::process::{ChildScript, ControllerProcess, cpu_secs, figure, memory_mib};
use clap::{Parser, ValueEnum};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};

/// Connections being opened at once (below the listener's backlog).
const CONNECTING: usize = 256;
/// Long polls on one HTTP/2 connection: below the controller's limit of concurrent streams.
const STREAMS_PER_CONNECTION: usize = 250;

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Protocol {
    Http1,
    Http2,
    /// HTTP/1 against bare axum instead of the controller.
    Http1Bare,
}

#[derive(Parser)]
struct Args {
    #[arg(long)]
    polls: usize,
    /// How long the idle controller is measured, seconds.
    #[arg(long, default_value_t = 10)]
    idle: u64,
    /// How the polls reach the controller.
    #[arg(long, value_enum, default_value = "http2")]
    protocol: Protocol,
}

/// Opens a connection, sends one long poll, says so on `sent`, and answers the whole response.
async fn long_poll(
    addr: String,
    path: String,
    connecting: Arc<Semaphore>,
    sent: mpsc::UnboundedSender<()>,
) -> anyhow::Result<String> {
    let permit = connecting.acquire_owned().await?;
    let mut stream = TcpStream::connect(&addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    drop(permit);
    let _ = sent.send(());
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

/// Sends one long poll on a shared HTTP/2 connection and answers the response as HTTP/1 text
/// would start (`HTTP/1.1 200 …` and the body), so both protocols are checked alike.
async fn long_poll_h2(
    mut connection: SendRequest<Empty<Bytes>>,
    path: String,
    sent: mpsc::UnboundedSender<()>,
) -> anyhow::Result<String> {
    connection.ready().await?;
    let request = hyper::Request::get(path).body(Empty::new())?;
    let response = connection.send_request(request);
    let _ = sent.send(());
    let response = response.await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(format!(
        "HTTP/1.1 {status}\r\n\r\n{}",
        String::from_utf8_lossy(&body)
    ))
}

/// Opens one HTTP/2 connection (prior knowledge, as on plain HTTP) to `addr`.
async fn h2_connection(addr: &str) -> anyhow::Result<SendRequest<Empty<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .context("HTTP/2 handshake")?;
    tokio::spawn(connection);
    Ok(sender)
}

/// The floor: `args.polls` HTTP/1 connections each waiting in bare axum's handler.
async fn bare(args: &Args) -> anyhow::Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = format!("127.0.0.1:{port}");
    let exe = std::env::current_exe()?.with_file_name("bare-long-polls");
    let mut server = tokio::process::Command::new(&exe)
        .arg(&addr)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let pid = server.id().context("no pid")?.to_string();
    while TcpStream::connect(&addr).await.is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (before_rss, _) = memory_mib(&pid)?;
    let connecting = Arc::new(Semaphore::new(CONNECTING));
    let (sent, mut all_sent) = mpsc::unbounded_channel();
    let polls: Vec<_> = (0..args.polls)
        .map(|i| {
            let path = format!("/api/v1/tasks/{i}?poll_timeout=120");
            tokio::spawn(long_poll(
                addr.clone(),
                path,
                connecting.clone(),
                sent.clone(),
            ))
        })
        .collect();
    drop(sent);
    for _ in 0..args.polls {
        if all_sent.recv().await.is_none() {
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss, _) = memory_mib(&pid)?;
    if let Some(ended) = polls.iter().position(|p| p.is_finished()) {
        bail!("poll {ended} ended before it was measured");
    }
    figure("longpoll_bare_http1_rss", format!("{rss:.1}"), "MiB");
    figure(
        "longpoll_bare_http1_rss_per_waiter",
        format!("{:.2}", (rss - before_rss) * 1024.0 / args.polls as f64),
        "KiB",
    );
    server.kill().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.protocol == Protocol::Http1Bare {
        return bare(&args).await;
    }
    let dir = tempfile::tempdir()?;
    let script = ChildScript {
        time_scale: 1.0,
        accepts: u32::MAX,
        retry_secs: 3600,
        max_requests: 1024,
        // This scenario measures what waiting polls cost, all from one client: let it hold
        // them all (the soak measures the per-client limit).
        max_connections_per_client: Some(args.polls + 64),
    };
    let mut controller = ControllerProcess::spawn(&dir.path().join("c.db"), script).await?;
    let pid = controller.pid()?.to_string();
    let tasks = (args.polls / 10).max(1);
    let made = controller.stat("task_writes").await?;
    let ids = load::provision(&controller.url, controller.application, tasks, 64).await?;
    // Each task is stored queued, running, then waiting after its first 202: from then on it
    // does not change until it is canceled.
    while controller.stat("task_writes").await? < made + 3 * tasks as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (before_rss, _) = memory_mib(&pid)?;

    let own_before = cpu_secs("self")?;
    let addr = controller.url.trim_start_matches("http://").to_owned();
    let connecting = Arc::new(Semaphore::new(CONNECTING));
    let (sent, mut all_sent) = mpsc::unbounded_channel();
    let mut polls = Vec::with_capacity(args.polls);
    let mut h2 = None;
    for i in 0..args.polls {
        let path = format!("/api/v1/tasks/{}?poll_timeout=120", ids[i % ids.len()]);
        polls.push(match args.protocol {
            Protocol::Http1 | Protocol::Http1Bare => tokio::spawn(long_poll(
                addr.clone(),
                path,
                connecting.clone(),
                sent.clone(),
            )),
            Protocol::Http2 => {
                if i % STREAMS_PER_CONNECTION == 0 {
                    h2 = Some(h2_connection(&addr).await?);
                }
                let connection = h2.clone().context("no connection")?;
                tokio::spawn(long_poll_h2(connection, path, sent.clone()))
            }
        });
    }
    drop(sent);
    for _ in 0..args.polls {
        if all_sent.recv().await.is_none() {
            break;
        }
    }
    // Let the controller read every request before measuring it idle.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let reads_before = controller.stat("reads").await?;
    let cpu_before = cpu_secs(&pid)?;
    tokio::time::sleep(Duration::from_secs(args.idle)).await;
    let idle_cpu = cpu_secs(&pid)? - cpu_before;
    let idle_reads = controller.stat("reads").await? - reads_before;
    let (rss, _) = memory_mib(&pid)?;

    let client = reqwest::Client::new();
    for id in &ids {
        let url = format!("{}/api/v1/tasks/{id}/cancel", controller.url);
        let status = client.post(url).send().await?.status();
        if !status.is_success() {
            bail!("cancel answered {status}");
        }
    }
    let mut answered = 0;
    let mut other = None;
    for poll in polls {
        let response = tokio::time::timeout(Duration::from_secs(30), poll).await???;
        if response.starts_with("HTTP/1.1 200") && response.contains(r#""state":"canceled""#) {
            answered += 1;
        } else {
            other.get_or_insert(response);
        }
    }
    let own = cpu_secs("self")? - own_before;

    let prefix = match args.protocol {
        Protocol::Http1 | Protocol::Http1Bare => "longpoll_http1",
        Protocol::Http2 => "longpoll_http2",
    };
    let figure =
        |name: &str, value: String, unit: &str| figure(&format!("{prefix}_{name}"), value, unit);
    figure("waiters", args.polls.to_string(), "polls");
    figure("tasks", tasks.to_string(), "tasks");
    figure("rss_before", format!("{before_rss:.1}"), "MiB");
    figure("rss", format!("{rss:.1}"), "MiB");
    figure(
        "rss_per_waiter",
        format!("{:.2}", (rss - before_rss) * 1024.0 / args.polls as f64),
        "KiB",
    );
    figure(
        "idle_cpu",
        format!("{:.2}", idle_cpu * 100.0 / args.idle as f64),
        "%",
    );
    figure("idle_store_reads", idle_reads.to_string(), "reads");
    figure("answered_on_change", answered.to_string(), "polls");
    figure("load_cpu", format!("{own:.2}"), "s");
    if answered != args.polls {
        bail!(
            "{answered} of {} long polls answered the change; one answered {other:?}",
            args.polls
        );
    }
    controller.kill().await
}
