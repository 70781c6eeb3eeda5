//! The command line every application gets: `serve` (the default) and `meta`.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::App;

/// No options of the application's own.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct NoArgs {}

#[derive(Parser, Debug)]
struct Cli<A: Args> {
    #[command(subcommand)]
    command: Command<A>,
}

#[derive(Subcommand, Debug)]
enum Command<A: Args> {
    /// Serve the endpoint (the default).
    Serve(ServeArgs<A>),
    /// Write APP-META.xml and schemas/ for packaging.
    Meta(MetaArgs<A>),
    /// Run the endpoint with an embedded controller: install an instance, provision one
    /// resource, and show its task live.
    #[cfg(feature = "dev")]
    Dev(crate::dev::DevArgs<A>),
    /// Without the `dev` feature: says how to get the command.
    #[cfg(not(feature = "dev"))]
    #[command(hide = true)]
    Dev(NoDev),
}

/// Whatever `dev` was given, in a program built without it.
#[cfg(not(feature = "dev"))]
#[derive(Args, Debug)]
struct NoDev {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    _args: Vec<OsString>,
}

/// What `dev` answers in a program built without it.
#[cfg(not(feature = "dev"))]
const NO_DEV: &str = "this program was built without the `dev` command: it comes with the `dev` \
    feature of `aps` (for a program with a `dev` feature enabling `aps/dev`: \
    `cargo run --features dev -- dev`)";

#[derive(Args, Debug)]
struct ServeArgs<A: Args> {
    /// Address to listen on.
    #[arg(long, env = "APS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve the services under this path, e.g. `/async-prov`.
    #[arg(long, env = "APS_BASE_PATH", default_value = "/")]
    base_path: String,
    /// Where the endpoint keeps its state (the self-signed certificate, instance credentials).
    #[arg(long, env = "APS_DATA_DIR", default_value = "aps-data")]
    data_dir: PathBuf,
    /// Requests served at once; more are answered 503 `Busy` with `Retry-After` (the
    /// application's own limit, 512 unless it sets one, when not given).
    #[arg(long, env = "APS_MAX_REQUESTS")]
    max_requests: Option<usize>,
    #[command(flatten)]
    tls: TlsArgs,
    /// How long a call back to the controller may take: a duration such as `10s`.
    #[arg(long, env = "APS_CONTROLLER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    controller_timeout: std::time::Duration,
    /// A controller this endpoint serves over plain HTTP (its origin; repeat for more, or
    /// comma-separated in the environment). Without any, only controllers on loopback
    /// addresses; over HTTPS the client certificate decides instead.
    #[arg(
        long = "controller-uri",
        value_name = "URL",
        env = "APS_CONTROLLER_URIS",
        value_delimiter = ','
    )]
    controller_uris: Vec<url::Url>,
    /// How many connections are held at once; default: three quarters of the descriptor limit.
    #[arg(long, env = "APS_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// How many connections one client (peer address) may hold; default: a quarter of
    /// --max-connections.
    #[arg(long, env = "APS_MAX_CONNECTIONS_PER_CLIENT")]
    max_connections_per_client: Option<usize>,
    #[command(flatten)]
    app: A,
}

// Without `tls` the options stay, so that giving one is answered with why it cannot be served
// rather than with "unknown option"; their values are then never read.
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
#[derive(Args, Debug)]
struct TlsArgs {
    /// Serve HTTPS with this certificate chain (PEM).
    #[arg(
        long,
        env = "APS_TLS_CERT",
        requires = "tls_key",
        conflicts_with = "self_signed"
    )]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "APS_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a self-signed certificate, made on first start and kept in --data-dir.
    #[arg(long, conflicts_with = "insecure_http")]
    self_signed: bool,
    /// Another name (host or IP address) the self-signed certificate must cover, besides
    /// loopback, the host name and the listen address: the host clients use. Repeat or separate
    /// with commas; without --self-signed it is ignored.
    #[arg(long = "tls-name", env = "APS_TLS_NAMES", value_delimiter = ',')]
    tls_names: Vec<String>,
    /// Serve plain HTTP, without TLS or client certificates: for local development only.
    #[arg(long, env = "APS_INSECURE_HTTP", conflicts_with = "tls_cert")]
    insecure_http: bool,
}

impl TlsArgs {
    /// The TLS to serve with, or `None` for plain HTTP, which must be asked for. A self-signed
    /// certificate names the listen address (unless it is a wildcard) and `--tls-name`s, besides
    /// loopback and the host name: endpoint.sh gives the host of the URL it prints.
    fn load(
        &self,
        data_dir: &Path,
        listen: SocketAddr,
    ) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
        if self.tls_cert.is_none() && !self.self_signed {
            return if self.insecure_http {
                Ok(None)
            } else {
                Err(NO_TLS_ASKED.into())
            };
        }
        self.certificate(data_dir, listen).map(Some)
    }

    #[cfg(feature = "tls")]
    fn certificate(
        &self,
        data_dir: &Path,
        listen: SocketAddr,
    ) -> Result<Arc<rustls::ServerConfig>, String> {
        let loaded = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => crate::Tls::from_pem_files(cert, key),
            _ => {
                let mut names: Vec<String> = self
                    .tls_names
                    .iter()
                    .map(|name| name.trim().to_owned())
                    .filter(|name| !name.is_empty())
                    .collect();
                // No client connects to 0.0.0.0 or [::]: not a name to certify.
                if !listen.ip().is_unspecified() {
                    names.push(listen.ip().to_string());
                }
                crate::Tls::self_signed(data_dir, &names)
            }
        };
        loaded
            .map(|tls| tls.config)
            .map_err(|e| format!("cannot set up TLS: {e}"))
    }

    #[cfg(not(feature = "tls"))]
    fn certificate(
        &self,
        _data_dir: &Path,
        _listen: SocketAddr,
    ) -> Result<Arc<rustls::ServerConfig>, String> {
        Err(
            "this endpoint was built without HTTPS (the `tls` feature of `aps`): it serves \
             only plain HTTP, with --insecure-http"
                .into(),
        )
    }
}

/// Neither a certificate nor plain HTTP was asked for.
const NO_TLS_ASKED: &str = "an endpoint serves HTTPS: give --tls-cert and --tls-key, or \
    --self-signed; --insecure-http serves plain HTTP for local development";

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
/// * `serve` (the default): `--listen` (env `APS_LISTEN`, default `127.0.0.1:8080`),
///   `--base-path` (env `APS_BASE_PATH`), `--data-dir` (env `APS_DATA_DIR`),
///   `--max-requests` (env `APS_MAX_REQUESTS`, requests served at once), and HTTPS with
///   `--tls-cert` / `--tls-key` or `--self-signed`; plain HTTP only with `--insecure-http`;
///   `--controller-uri URL` (repeatable; the controllers served over plain HTTP, loopback ones
///   when none is given), `--controller-timeout` (10 s), `--max-connections` and
///   `--max-connections-per-client` (derived from the descriptor limit unless given).
/// * `meta --out DIR`: writes `APP-META.xml` and `schemas/`.
/// * `dev` (with the `dev` feature): the endpoint and an embedded controller on loopback,
///   installing an instance and provisioning one resource with its task shown live.
pub fn run_with<A: Args>(build: impl FnOnce(A) -> App) -> ExitCode {
    let cli = Cli::<A>::parse_from(with_default_command(std::env::args_os().collect()));
    // `dev` draws a live task view on the terminal: keep request lines out of it.
    let quiet = matches!(cli.command, Command::Dev(_));
    // The controller's start-up notice (the time scale) is shown by `dev` itself.
    let _logs = crate::trace::init(if quiet {
        "warn,aps_controller::controller=error"
    } else {
        "info"
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match cli.command {
        Command::Serve(args) => {
            let tls = match args.tls.load(&args.data_dir, args.listen) {
                Ok(tls) => tls,
                Err(e) => return fail(&e),
            };
            let app = args
                .controller_uris
                .into_iter()
                .fold(build(args.app), App::allow_controller)
                .data_dir(&args.data_dir)
                .controller_timeout(args.controller_timeout);
            let app = match args.max_connections {
                Some(max) => app.max_connections(max),
                None => app,
            };
            let app = match args.max_connections_per_client {
                Some(max) => app.max_connections_per_client(max),
                None => app,
            };
            let app = match args.max_requests {
                Some(requests) => app.max_concurrency(requests),
                None => app,
            };
            runtime.block_on(serve(&app, args.listen, &args.base_path, tls))
        }
        #[cfg(feature = "dev")]
        Command::Dev(args) => {
            let app = build(args.app);
            runtime.block_on(crate::dev::run(&app, args.dev))
        }
        #[cfg(not(feature = "dev"))]
        Command::Dev(_) => fail(NO_DEV),
        Command::Meta(args) => {
            let mut app = build(args.app);
            // The package keeps this binary as `bin/{its file name}`: the services' `<code>`.
            app.binary = std::env::current_exe()
                .ok()
                .and_then(|exe| Some(format!("bin/{}", exe.file_name()?.to_str()?)));
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

/// The arguments with `serve` put in when they name no command, so `serve` is the default
/// while its options (and their environment variables) are read only when serving.
fn with_default_command(mut args: Vec<OsString>) -> Vec<OsString> {
    let named = args.get(1).is_some_and(|first| {
        let first = first.to_string_lossy();
        !first.starts_with('-') || matches!(&*first, "-h" | "--help")
    });
    if !named && !args.is_empty() {
        args.insert(1, "serve".into());
    }
    args
}

async fn serve(
    app: &App,
    listen: SocketAddr,
    base_path: &str,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> ExitCode {
    let listener = match std::net::TcpListener::bind(listen) {
        Ok(listener) => listener,
        Err(e) => return fail(&format!("cannot listen on {listen}: {e}")),
    };
    if let Some(problem) = crate::serve::base_path_problem(base_path) {
        return fail(&problem);
    }
    let base = format!("/{}", base_path.trim_matches('/'));
    let scheme = if tls.is_some() { "https" } else { "http" };
    if tls.is_none() {
        tracing::warn!(
            "serving plain HTTP (--insecure-http): no TLS and no client certificates, so anyone \
             who reaches this port can act for any instance; for local development only"
        );
    }
    let name = app.meta().name;
    tracing::info!(
        "serving {name} at {scheme}://{listen}{}",
        base.trim_end_matches('/')
    );
    match app.serve_on(listener, &base, tls).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string()),
    }
}

pub(crate) fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::with_default_command;

    fn args(words: &[&str]) -> Vec<std::ffi::OsString> {
        words.iter().map(Into::into).collect()
    }

    #[test]
    fn serve_is_the_command_when_none_is_named() {
        let cases: [(&[&str], &[&str]); 6] = [
            (&["app"], &["app", "serve"]),
            (
                &["app", "--listen", "0:1"],
                &["app", "serve", "--listen", "0:1"],
            ),
            (
                &["app", "meta", "--out", "d"],
                &["app", "meta", "--out", "d"],
            ),
            (&["app", "serve"], &["app", "serve"]),
            (&["app", "--help"], &["app", "--help"]),
            (&[], &[]),
        ];
        for (given, expected) in cases {
            assert_eq!(with_default_command(args(given)), args(expected));
        }
    }
}
