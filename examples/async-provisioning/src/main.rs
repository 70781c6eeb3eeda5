//! The demo endpoint's command line: `serve` (default), `meta`, and `--seed`.

use std::process::ExitCode;

// Options of the demo (a doc comment here would become the program's --help text).
#[derive(clap::Args, Debug)]
struct Demo {
    /// Seed the coin, so the same rechecks give the same answers.
    #[arg(long, env = "APS_DEMO_SEED")]
    seed: Option<u64>,
}

fn main() -> ExitCode {
    aps::run_with(|demo: Demo| async_provisioning::app(demo.seed))
}
