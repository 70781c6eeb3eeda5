//! The command line every application gets: `serve` (the default) and `meta`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::App;

/// No options of the application's own.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct NoArgs {}

#[derive(Parser, Debug)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli<A: Args> {
    #[command(subcommand)]
    command: Option<Command<A>>,
    #[command(flatten)]
    serve: ServeArgs<A>,
}

#[derive(Subcommand, Debug)]
enum Command<A: Args> {
    /// Serve the endpoint (the default).
    Serve(ServeArgs<A>),
    /// Write APP-META.xml and schemas/ for packaging.
    Meta(MetaArgs<A>),
}

#[derive(Args, Debug)]
struct ServeArgs<A: Args> {
    /// Address to listen on.
    #[arg(long, env = "APS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve the services under this path, e.g. `/async-prov`.
    #[arg(long, env = "APS_BASE_PATH", default_value = "/")]
    base_path: String,
    #[command(flatten)]
    app: A,
}

#[derive(Args, Debug)]
struct MetaArgs<A: Args> {
    /// Directory to write APP-META.xml and schemas/ into.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    app: A,
}

/// Runs the application's command line. See [`run_with`] for applications with options of their
/// own.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     aps::run(aps::app!())
/// }
/// ```
pub fn run(app: App) -> ExitCode {
    run_with(|_: NoArgs| app)
}

/// Runs the application's command line, with the application's own options `A` (a
/// `clap::Args` struct) accepted by every subcommand and handed to `build` to make the `App`.
///
/// * `serve` (the default): `--listen` (env `APS_LISTEN`, default `127.0.0.1:8080`) and
///   `--base-path` (env `APS_BASE_PATH`).
/// * `meta --out DIR`: writes `APP-META.xml` and `schemas/`.
pub fn run_with<A: Args>(build: impl FnOnce(A) -> App) -> ExitCode {
    let cli = Cli::<A>::parse();
    crate::trace::init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(args) => {
            let app = build(args.app);
            runtime.block_on(serve(&app, args.listen, &args.base_path))
        }
        Command::Meta(args) => {
            let app = build(args.app);
            let problems = app.problems();
            if !problems.is_empty() {
                return fail(&problems.join("\n"));
            }
            match app.write_meta(&args.out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&format!("cannot write into {}: {e}", args.out.display())),
            }
        }
    }
}

async fn serve(app: &App, listen: SocketAddr, base_path: &str) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(e) => return fail(&format!("cannot listen on {listen}: {e}")),
    };
    let base = format!("/{}", base_path.trim_matches('/'));
    tracing::info!(
        "serving {} at http://{listen}{}",
        app.meta().name,
        base.trim_end_matches('/')
    );
    match app.serve(listener, &base).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
