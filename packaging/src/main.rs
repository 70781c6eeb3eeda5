//! `aps-package`: build and verify APS packages from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

/// Build and verify APS packages (.app.zip).
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build {name}-{version}-{release}.app.zip from an application binary (which must answer
    /// `meta --out DIR`).
    Build {
        /// The application binary.
        app_binary: PathBuf,
        /// The directory to write the package into.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Check a package: print each problem on its own line and exit 1, or print OK.
    Verify {
        /// The .app.zip to check.
        package: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("aps-package: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Cmd) -> anyhow::Result<ExitCode> {
    match command {
        Cmd::Build { app_binary, out } => {
            let path = aps_package::build(&app_binary, &out)?;
            println!("{}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Verify { package } => verify(&package),
    }
}

fn verify(package: &PathBuf) -> anyhow::Result<ExitCode> {
    let shown = package.display();
    let size = std::fs::metadata(package)
        .with_context(|| format!("cannot read {shown}"))?
        .len();
    if size > aps_package::MAX_UNPACKED {
        bail!(
            "{shown} is {size} bytes, more than the {} a package may have",
            aps_package::MAX_UNPACKED
        );
    }
    let bytes = std::fs::read(package).with_context(|| format!("cannot read {shown}"))?;
    let problems = aps_package::verify(&bytes);
    if problems.is_empty() {
        println!("OK: {shown} is a sound package");
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &problems {
        println!("{shown}: {problem}");
    }
    Ok(ExitCode::FAILURE)
}
