//! Scenario 4: many long polls waiting at once, and what they cost while nothing happens.
//!
//! Usage: `long-polls --polls N [--idle SECS]`
//!
//! Starts `controller-under-test` (serving N + 1024 requests at once: long polls hold one each;
//! the scripted endpoint answers `202, APS-Retry-Timeout: 3600`,
//! so the tasks stay unchanged), makes N/10 tasks, and opens N connections, each sending
//! `GET /api/v1/tasks/{id}?poll_timeout=120` (ten per task). Once they are all waiting, it
//! measures the controller for SECS: resident memory, CPU used, and how many store reads it
//! made (the store's counter; a long poll waits on the task's watch channel, so it must be 0).
//! Then it cancels every task and checks that each poll answered at once with the canceled task,
//! which proves they were all still waiting.
//!
//! The client side is plain TCP (one request per connection, `Connection: close`), so the
//! driver's own cost stays small; it is printed too.

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use aps_bench::load;
use aps_bench::process::{ChildScript, ControllerProcess, cpu_secs, figure, memory_mib};
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};

/// Connections being opened at once (below the listener's backlog).
const CONNECTING: usize = 256;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    polls: usize,
    /// How long the idle controller is measured, seconds.
    #[arg(long, default_value_t = 10)]
    idle: u64,
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let script = ChildScript {
        time_scale: 1.0,
        accepts: u32::MAX,
        retry_secs: 3600,
        max_requests: args.polls + 1024,
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
    let polls: Vec<_> = (0..args.polls)
        .map(|i| {
            let path = format!("/api/v1/tasks/{}?poll_timeout=120", ids[i % ids.len()]);
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

    figure("longpoll_waiters", args.polls, "polls");
    figure("longpoll_tasks", tasks, "tasks");
    figure("longpoll_rss_before", format!("{before_rss:.1}"), "MiB");
    figure("longpoll_rss", format!("{rss:.1}"), "MiB");
    figure(
        "longpoll_rss_per_waiter",
        format!("{:.2}", (rss - before_rss) * 1024.0 / args.polls as f64),
        "KiB",
    );
    figure(
        "longpoll_idle_cpu",
        format!("{:.2}", idle_cpu * 100.0 / args.idle as f64),
        "%",
    );
    figure("longpoll_idle_store_reads", idle_reads, "reads");
    figure("longpoll_answered_on_change", answered, "polls");
    figure("longpoll_load_cpu", format!("{own:.2}"), "s");
    if answered != args.polls {
        bail!(
            "{answered} of {} long polls answered the change; one answered {other:?}",
            args.polls
        );
    }
    controller.kill().await
}
