//! The controller the benchmarks measure: `aps-controller` embedded with the scripted endpoint
//! (`aps_test_support::scripted`) called in-process, its API on a loopback port.
//!
//! Usage: `controller-under-test --db PATH --time-scale F --accepts N --retry SECS
//! [--max-requests N] [--max-connections-per-client N]`
//!
//! It imports the scripted package, installs an instance, and prints
//! `ready URL APPLICATION START_US` (START_US: how long `ControllerBuilder::start` took: open,
//! migrate, resume every unfinished task). Then each `stats` line on its standard input gets
//! one line of `key=value` counters: `reads`, `task_writes`, `commits` (the store's counters) and
//! `late_count`, `late_p50_us`, `late_p99_us`, `late_max_us` (rechecks since the previous
//! `stats`). It exits when its input closes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use aps_controller::{Controller, State};
use aps_test_support::scripted::{self, Script, Scripted};
use clap::Parser;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Parser)]
struct Args {
    /// The SQLite database file.
    #[arg(long)]
    db: PathBuf,
    #[arg(long)]
    time_scale: f64,
    /// 202s per transaction before the 200.
    #[arg(long)]
    accepts: u32,
    /// APS-Retry-Timeout of each 202, seconds.
    #[arg(long)]
    retry: u64,
    /// API requests served at once (long polls included).
    #[arg(long, default_value_t = 1024)]
    max_requests: usize,
    /// Connections one client may hold; default: the controller's.
    #[arg(long)]
    max_connections_per_client: Option<usize>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let endpoint = Scripted::new(Script {
        accepts: args.accepts,
        retry_secs: args.retry,
        time_scale: args.time_scale,
        record: false,
    });
    let began = Instant::now();
    let mut builder = Controller::builder();
    if let Some(max) = args.max_connections_per_client {
        builder = builder.max_connections_per_client(max);
    }
    let controller = builder
        .database(args.db.to_string_lossy())
        .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .time_scale(args.time_scale)
        .max_requests(args.max_requests)
        .endpoint_router(scripted::BASE_URL, endpoint.router())
        .start()
        .await?;
    let start = began.elapsed();
    let client = controller.client();
    let package = controller.import(&Scripted::model()).await?;
    let install = client
        .install(package.id, scripted::BASE_URL, json!({}))
        .await?;
    let install = client.wait(install.id, |_| {}).await?;
    if install.state != State::Success {
        bail!("installing the instance ended {}", install.state.as_str());
    }
    println!(
        "ready {} {} {}",
        controller.url(),
        install.application,
        start.as_micros()
    );
    let mut input = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = input.next_line().await? {
        if line.trim() == "stats" {
            let store = controller.store_stats();
            let late = endpoint.lateness();
            println!(
                "reads={} task_writes={} commits={} late_count={} late_p50_us={} late_p99_us={} late_max_us={}",
                store.reads,
                store.task_writes,
                store.commits,
                late.count,
                late.p50_us,
                late.p99_us,
                late.max_us
            );
        }
    }
    Ok(())
}
