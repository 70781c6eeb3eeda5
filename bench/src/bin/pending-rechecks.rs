//! Scenarios 3 and 5: many tasks waiting for rechecks, then a restart with all of them.
//!
//! Usage: `pending-rechecks --tasks N [--window SECS]`
//!
//! Starts `controller-under-test` (time scale 1, real seconds) against the scripted endpoint
//! answering every call `202, APS-Retry-Timeout: P` with P = N / 1000 s (at least 1), so the
//! tasks never end and each is rechecked every P seconds. It provisions N resources through the
//! client API; P is longer than that takes, so the first rechecks start once all N are waiting.
//!
//! * Scenario 3: the controller's RSS once all N are waiting, and the lateness of the rechecks
//!   (actual call minus due time, timed by the endpoint) during a window of the first wave of
//!   rechecks, which comes at the rate the tasks were made.
//! * Scenario 5: the controller is killed with `SIGKILL`, then started again on the same file;
//!   the figure is how long `ControllerBuilder::start` took: open the database, read every
//!   unfinished task, and schedule its recheck.

use std::time::{Duration, Instant};

use aps_bench::load;
use aps_bench::process::{ChildScript, ControllerProcess, cpu_secs, figure, memory_mib};
use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    tasks: usize,
    /// How long lateness is measured for, seconds.
    #[arg(long, default_value_t = 10)]
    window: u64,
}

fn ms(us: u64) -> String {
    format!("{:.1}", us as f64 / 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("c.db");
    let period = (args.tasks as u64 / 1000).max(1);
    let script = ChildScript {
        time_scale: 1.0,
        accepts: u32::MAX,
        retry_secs: period,
        max_requests: 1024,
        max_connections_per_client: None,
    };
    let mut controller = ControllerProcess::spawn(&db, script).await?;
    let pid = controller.pid()?.to_string();
    let (idle_rss, _) = memory_mib(&pid)?;
    let own_before = cpu_secs("self")?;
    let began = Instant::now();
    load::provision(&controller.url, controller.application, args.tasks, 64).await?;
    let made_in = began.elapsed();
    let (pending_rss, _) = memory_mib(&pid)?;

    // The first wave of rechecks starts one period after the first task was made.
    let wave = began + Duration::from_secs(period);
    tokio::time::sleep_until(wave.into()).await;
    controller.stats().await?;
    tokio::time::sleep(Duration::from_secs(args.window)).await;
    let late = controller.stats().await?;
    let (rss, peak) = memory_mib(&pid)?;
    let own = cpu_secs("self")? - own_before;

    controller.kill().await?;
    let restarted = ControllerProcess::spawn(&db, script).await?;
    let (resumed_rss, _) = memory_mib(&restarted.pid()?.to_string())?;

    figure("pending_tasks", args.tasks, "tasks");
    figure(
        "pending_made_per_s",
        format!("{:.0}", args.tasks as f64 / made_in.as_secs_f64()),
        "tasks/s",
    );
    figure("pending_recheck_period", period, "s");
    figure("pending_idle_rss", format!("{idle_rss:.1}"), "MiB");
    figure("pending_rss", format!("{pending_rss:.1}"), "MiB");
    figure("pending_rss_in_rechecks", format!("{rss:.1}"), "MiB");
    figure("pending_peak_rss", format!("{peak:.1}"), "MiB");
    figure(
        "pending_rss_per_task",
        format!(
            "{:.2}",
            (pending_rss - idle_rss) * 1024.0 / args.tasks as f64
        ),
        "KiB",
    );
    figure("recheck_timed", late["late_count"], "rechecks");
    figure("recheck_late_p50", ms(late["late_p50_us"]), "ms");
    figure("recheck_late_p99", ms(late["late_p99_us"]), "ms");
    figure("recheck_late_max", ms(late["late_max_us"]), "ms");
    figure(
        "recovery_start",
        format!("{:.2}", restarted.start.as_secs_f64()),
        "s",
    );
    figure(
        "recovery_ready",
        format!("{:.2}", restarted.ready_after.as_secs_f64()),
        "s",
    );
    figure("recovery_rss", format!("{resumed_rss:.1}"), "MiB");
    figure(
        "pending_load_cpu",
        format!("{:.2}", own / began.elapsed().as_secs_f64()),
        "cores",
    );
    restarted.kill().await
}
