//! Scenario 6, a busy endpoint: the controller against an endpoint that serves only a few
//! requests at once and answers the rest 503 `Busy` with `Retry-After`.
//!
//! Usage: `busy-endpoint --endpoint URL --binary PATH --tasks N [--concurrency C]`
//!
//! The endpoint (the demo, `PATH`, already serving at `URL` with `--max-requests 4`) is packaged
//! with `aps-package`'s builder, imported into a controller run in this process (time scale
//! 1000, a fresh SQLite file) and installed; then N provisions go through the client API, C at a
//! time, and every task is waited for. A busy answer is retried after its `Retry-After`, so no
//! task may fail: the driver exits non-zero when one does.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use aps_bench::load;
use aps_bench::process::figure;
use aps_controller::{Controller, PackageModel, State};
use clap::Parser;
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// The endpoint's base URL.
    #[arg(long)]
    endpoint: String,
    /// The endpoint's program, to package.
    #[arg(long)]
    binary: PathBuf,
    #[arg(long)]
    tasks: usize,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let zip = aps_package::build(&args.binary, dir.path())?;
    let package = aps_package::Package::read(&std::fs::read(zip)?)?;
    let controller = Controller::builder()
        .database(dir.path().join("c.db").to_string_lossy())
        .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .time_scale(1000.0)
        .start()
        .await?;
    let client = controller.client();
    let info = controller.import(&PackageModel::from(package)).await?;
    let install = client.install(info.id, &args.endpoint, json!({})).await?;
    let install = client.wait(install.id, |_| {}).await?;
    if install.state != State::Success {
        bail!("installing the instance ended {:?}", install.output);
    }
    let began = Instant::now();
    let ids = load::provision_of(
        &controller.url(),
        install.application,
        "provisionable",
        args.tasks,
        args.concurrency,
    )
    .await?;
    let (mut failed, mut attempts) = (0, 0u64);
    for id in ids {
        let task = client.wait(id, |_| {}).await?;
        if task.state != State::Success && failed == 0 {
            eprintln!("a task failed: {:?}", task.output);
        }
        failed += usize::from(task.state != State::Success);
        attempts += u64::from(task.attempts);
    }
    let elapsed = began.elapsed().as_secs_f64();
    figure("busy_endpoint_tasks", args.tasks, "tasks");
    figure("busy_endpoint_failed", failed, "tasks");
    figure(
        "busy_endpoint_attempts_per_task",
        format!("{:.2}", attempts as f64 / args.tasks as f64),
        "calls",
    );
    figure(
        "busy_endpoint_tasks_per_s",
        format!("{:.0}", args.tasks as f64 / elapsed),
        "tasks/s",
    );
    if failed > 0 {
        bail!(
            "{failed} of {} tasks failed against the busy endpoint",
            args.tasks
        );
    }
    Ok(())
}
