//! Scenario 2, the controller end to end: task state changes stored per second.
//!
//! Usage: `controller-throughput --tasks N [--concurrency C]`
//!
//! Starts `controller-under-test` on a fresh SQLite file (WAL, `synchronous = FULL`) with a
//! time scale of 1000, against the scripted endpoint answering `202, APS-Retry-Timeout: 1`
//! twice and then 200, so each recheck waits about a millisecond. It provisions N resources
//! through the client API (`timeout: 0`, C requests at a time) and waits until every task has
//! ended.
//!
//! A *transition* is one stored task change: a task row inserted or updated and committed. Each
//! task here makes five: stored queued, running, the sync 202, the async 202, success. The
//! figure is 5 N divided by the time from the first request to the last commit (read from the
//! store's counters, polled every 10 ms).

use std::time::{Duration, Instant};

use anyhow::bail;
use aps_bench::load;
use aps_bench::process::{ChildScript, ControllerProcess, cpu_secs, figure};
use clap::Parser;

/// Stored changes per task: queued, running, 202, 202, success.
const CHANGES_PER_TASK: u64 = 5;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    tasks: usize,
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let script = ChildScript {
        time_scale: 1000.0,
        accepts: 2,
        retry_secs: 1,
        max_requests: 1024,
        max_connections_per_client: None,
    };
    let mut controller = ControllerProcess::spawn(&dir.path().join("c.db"), script).await?;
    let pid = controller.pid()?.to_string();
    let before = controller.stats().await?;
    let (cpu_before, own_before) = (cpu_secs(&pid)?, cpu_secs("self")?);
    let began = Instant::now();
    load::provision(
        &controller.url,
        controller.application,
        args.tasks,
        args.concurrency,
    )
    .await?;
    let accepted = began.elapsed();
    let expected = before["task_writes"] + CHANGES_PER_TASK * args.tasks as u64;
    let after = loop {
        let stats = controller.stats().await?;
        if stats["task_writes"] >= expected {
            break stats;
        }
        if began.elapsed() > Duration::from_secs(600) {
            bail!("tasks did not end in 10 minutes: {stats:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let elapsed = began.elapsed().as_secs_f64();
    let writes = after["task_writes"] - before["task_writes"];
    let commits = (after["commits"] - before["commits"]).max(1);
    let cpu = cpu_secs(&pid)? - cpu_before;
    let own = cpu_secs("self")? - own_before;
    figure("controller_tasks", args.tasks, "tasks");
    figure(
        "controller_task_transitions_per_s",
        format!("{:.0}", writes as f64 / elapsed),
        "transitions/s",
    );
    figure(
        "controller_provisions_per_s",
        format!("{:.0}", args.tasks as f64 / accepted.as_secs_f64()),
        "req/s",
    );
    figure(
        "controller_transitions_per_commit",
        format!("{:.1}", writes as f64 / commits as f64),
        "transitions",
    );
    figure("controller_cpu", format!("{:.2}", cpu / elapsed), "cores");
    figure(
        "controller_load_cpu",
        format!("{:.2}", own / elapsed),
        "cores",
    );
    controller.kill().await
}
