//! The hosting endpoint's command line: `serve` (default) and `meta`.

use std::process::ExitCode;

fn main() -> ExitCode {
    aps::run(hosting::app())
}
