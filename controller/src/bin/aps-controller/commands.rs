//! The command line: `serve`, `openapi`, `token create|list|revoke` (in `tokens`), and the
//! client commands `tasks`, `task show|wait`, `provision`, `application uninstall`, and those
//! about one resource (`call`, `link`, `unlink`, `links`, in [`crate::resources`]).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use aps_controller::auth::Scope;
use aps_controller::{Client, Controller, MAX_SCALE, MIN_SCALE, Secret, Task};
use clap::builder::FalseyValueParser;
use clap::{Args, Parser, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// An APS controller and task manager.
#[derive(Debug, Parser)]
#[command(name = "aps-controller", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the controller.
    Serve(Serve),
    /// Makes, lists and revokes API tokens.
    Token {
        #[command(subcommand)]
        action: super::tokens::TokenAction,
    },
    /// Lists tasks, newest first.
    Tasks {
        #[command(flatten)]
        target: Target,
        /// Only tasks in this state (queued, running, success, failure, canceled).
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Shows or waits for one task.
    Task {
        #[command(subcommand)]
        action: TaskAction,
    },
    /// Provisions a resource.
    Provision {
        #[command(flatten)]
        target: Target,
        /// The application instance.
        #[arg(long)]
        app: Uuid,
        /// The type id (or service id) of the resource.
        #[arg(long = "type")]
        type_id: String,
        /// A property, as `key=value` (value read as JSON when it is JSON, else as text).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// 0 answers at once; -1 waits the server's default; N waits up to N seconds.
        #[arg(long, allow_negative_numbers = true)]
        timeout: Option<i64>,
    },
    /// Acts on an application instance.
    Application {
        #[command(subcommand)]
        action: crate::applications::ApplicationAction,
    },
    #[command(flatten)]
    Resource(crate::resources::ResourceCommand),
    /// Writes the OpenAPI 3.1 description of `/api/v1` (as `GET /api/v1/openapi.json` serves it).
    Openapi {
        /// The file to write; standard output when not given.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum TaskAction {
    /// Prints the task.
    Show {
        #[command(flatten)]
        target: Target,
        id: Uuid,
    },
    /// Shows the task live until it ends.
    Wait {
        #[command(flatten)]
        target: Target,
        id: Uuid,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Target {
    /// The controller.
    #[arg(
        long,
        env = "APS_CONTROLLER_URL",
        default_value = "http://127.0.0.1:6308"
    )]
    url: String,
    /// A CA certificate (PEM) to trust for an https controller, e.g. `{data dir}/tls/ca.crt`.
    #[arg(long, env = "APS_CONTROLLER_CA")]
    ca: Option<std::path::PathBuf>,
    /// An API token (`aps-controller token create`), for a controller that asks credentials.
    #[arg(long, env = "APS_CONTROLLER_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

impl Target {
    pub(crate) fn client(&self) -> anyhow::Result<Client> {
        let client = match &self.ca {
            Some(path) => {
                let pem = std::fs::read_to_string(path)
                    .with_context(|| format!("--ca {}", path.display()))?;
                Client::trusting(&self.url, &pem)
            }
            None => Client::new(&self.url),
        };
        Ok(match &self.token {
            Some(token) => client.with_token(token.trim()),
            None => client,
        })
    }
}

#[derive(Debug, Args)]
struct Serve {
    /// Where the API listens.
    #[arg(long, env = "APS_CONTROLLER_LISTEN", default_value = "127.0.0.1:6308")]
    listen: SocketAddr,
    /// The database.
    #[arg(
        long,
        env = "APS_CONTROLLER_DB",
        default_value = "sqlite://aps-controller.db"
    )]
    db: String,
    /// Divides every recheck delay (for demos and tests): from 0.001 to 1e9, 1 is real time.
    #[arg(long, env = "APS_CONTROLLER_TIME_SCALE", default_value_t = 1.0, value_parser = time_scale)]
    time_scale: f64,
    /// What `timeout: -1` waits: seconds, or a duration such as `30s` or `2m`.
    #[arg(long, env = "APS_CONTROLLER_SYNC_TIMEOUT", default_value = "30s", value_parser = duration)]
    sync_timeout: Duration,
    /// The Standard Webhooks secret (`whsec_…`); made and kept in the database when absent.
    #[arg(long, env = "APS_CONTROLLER_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
    /// How long a task may run before it fails: seconds, or a duration such as `12h` or `7d`.
    #[arg(long, env = "APS_CONTROLLER_TASK_DEADLINE", default_value = "7d", value_parser = duration)]
    task_deadline: Duration,
    /// How often resources with usage counters (Counter, Limit, Usage properties) are
    /// synchronized from their endpoint: seconds, or a duration such as `1h`.
    #[arg(long, env = "APS_CONTROLLER_USAGE_INTERVAL", default_value = "1h", value_parser = duration)]
    usage_interval: Duration,
    /// Where the certificates are kept (`tls/`); default: the database's directory.
    #[arg(long, env = "APS_CONTROLLER_DATA_DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Serve the API over TLS with the controller's certificate; this or --insecure-http is
    /// required.
    #[arg(long, env = "APS_CONTROLLER_TLS", value_parser = FalseyValueParser::new())]
    tls: bool,
    /// Serve plain HTTP, for local development only: no TLS, and `/aps/2` believes the
    /// caller's APS-Instance-ID, so anyone who reaches the port can act for any instance.
    #[arg(long, env = "APS_CONTROLLER_INSECURE_HTTP", value_parser = FalseyValueParser::new())]
    insecure_http: bool,
    /// Another name for the controller's certificate (used when it is first made); the
    /// environment variable takes a comma-separated list.
    #[arg(
        long = "tls-name",
        value_name = "NAME",
        env = "APS_CONTROLLER_TLS_NAME",
        value_delimiter = ','
    )]
    tls_names: Vec<String>,
    /// CA certificates (PEM) that https endpoints must present a certificate signed by; without
    /// it any endpoint certificate is accepted, with a warning.
    #[arg(long, env = "APS_CONTROLLER_ENDPOINT_CA")]
    endpoint_ca: Option<std::path::PathBuf>,
    /// The only hosts a callbackURL may name (comma-separated); default: any.
    #[arg(long, env = "APS_CONTROLLER_CALLBACK_HOSTS", value_delimiter = ',')]
    callback_hosts: Option<Vec<String>>,
    /// How many API requests are served at once; more are answered 503.
    #[arg(long, env = "APS_CONTROLLER_MAX_REQUESTS", default_value_t = 1024)]
    max_requests: usize,
    /// How many requests may wait at once (long polls, operations waiting for their task);
    /// waiting ones do not count against --max-requests.
    #[arg(long, env = "APS_CONTROLLER_MAX_WAITING", default_value_t = 65_536)]
    max_waiting: usize,
    /// How long a client may take to send a request head (or finish a TLS handshake): seconds,
    /// or a duration such as `10s`.
    #[arg(long, env = "APS_CONTROLLER_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = duration)]
    header_read_timeout: Duration,
    /// How many connections are held at once; default: three quarters of the descriptor limit
    /// (raised to the hard limit at start). More are answered 503.
    #[arg(long, env = "APS_CONTROLLER_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// How many connections one client (peer address) may hold at once; default: a quarter of
    /// --max-connections. More are answered 429.
    #[arg(long, env = "APS_CONTROLLER_MAX_CONNECTIONS_PER_CLIENT")]
    max_connections_per_client: Option<usize>,
    /// CA certificates (PEM) whose client certificates are API credentials (with
    /// --client-ca-scope), besides API tokens; TLS only.
    #[arg(long, env = "APS_CONTROLLER_CLIENT_CA", requires = "tls")]
    client_ca: Option<std::path::PathBuf>,
    /// Also serve /metrics here, over plain HTTP and without credentials (on the API's address
    /// it needs the `read` scope).
    #[arg(long, env = "APS_CONTROLLER_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// The scope a --client-ca certificate grants: read, operate or admin.
    #[arg(long, env = "APS_CONTROLLER_CLIENT_CA_SCOPE", default_value = "read")]
    client_ca_scope: Scope,
}

fn time_scale(text: &str) -> Result<f64, String> {
    let scale: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (MIN_SCALE..=MAX_SCALE).contains(&scale) {
        Ok(scale)
    } else {
        Err(format!(
            "the time scale goes from {MIN_SCALE} to {MAX_SCALE} (1 is real time)"
        ))
    }
}

/// A duration as humantime reads it (`90s`, `15m`, `7d`, `1h 30m`), or plain seconds: humantime
/// wants a unit, and command lines written for the seconds these flags took still work.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    match text.parse() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(text).map_err(|e| format!("`{text}`: {e}")),
    }
}

pub(crate) async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(serve) => self::serve(serve).await,
        Command::Resource(command) => crate::resources::run(command).await,
        Command::Token { action } => super::tokens::run(action).await,
        Command::Openapi { output } => {
            let document = aps_controller::openapi_json()?;
            match output {
                Some(path) => std::fs::write(&path, document)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => println!("{document}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Application { action } => crate::applications::run(action).await,
        Command::Tasks {
            target,
            state,
            limit,
        } => {
            let mut query = url::form_urlencoded::Serializer::new(format!("limit={limit}"));
            if let Some(state) = &state {
                query.append_pair("state", state);
            }
            let query = query.finish();
            for task in target.client()?.tasks(&query).await? {
                println!(
                    "{}  {:<9}  {}  {}",
                    task.id,
                    task.state.as_str(),
                    task.last_modified,
                    task.name
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Task {
            action: TaskAction::Show { target, id },
        } => {
            let task = target.client()?.task(id).await?;
            println!("{}", serde_json::to_string_pretty(&task)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Task {
            action: TaskAction::Wait { target, id },
        } => {
            let task = aps_controller::dev::watch(&target.client()?, id).await?;
            Ok(exit_for(&task))
        }
        Command::Provision {
            target,
            app,
            type_id,
            set,
            timeout,
        } => {
            let mut resource = properties(&set)?;
            resource.insert("aps".into(), json!({"type": type_id}));
            let mut body = json!({"application": app, "resource": resource});
            if let Some(timeout) = timeout {
                body["timeout"] = json!(timeout);
            }
            let answer = target
                .client()?
                .send(Method::POST, "/api/v1/resources", Some(&body))
                .await?;
            print_answer(&answer)
        }
    }
}

/// Prints an answer's JSON; succeeds on a 2xx.
pub(crate) fn print_answer(answer: &aps_controller::Answer) -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(&answer.body)?);
    Ok(if (200..300).contains(&answer.status) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn exit_for(task: &Task) -> ExitCode {
    if task.state == aps_controller::State::Success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn properties(set: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut map = Map::new();
    for pair in set {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--set takes key=value, not `{pair}`");
        };
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        map.insert(key.trim().to_owned(), value);
    }
    Ok(map)
}

/// What `serve` needs to be told: TLS, or plain HTTP on purpose. Checked here rather than with
/// clap's groups because a flag set to `false` in the environment counts as given there.
fn plain_http(args: &Serve) -> anyhow::Result<bool> {
    match (args.tls, args.insecure_http) {
        (true, false) => Ok(false),
        (false, true) => Ok(true),
        (true, true) => bail!("--tls and --insecure-http exclude each other: choose one"),
        (false, false) => bail!(
            "the controller serves its API over TLS: give --tls (its CA and certificate are \
             made in the data directory's tls/), or --insecure-http to serve plain HTTP for \
             local development (then /aps/2 trusts the APS-Instance-ID header)"
        ),
    }
}

async fn serve(args: Serve) -> anyhow::Result<ExitCode> {
    let plain_http = plain_http(&args)?;
    let mut builder = Controller::builder()
        .listen(args.listen)
        .database(&args.db)
        .time_scale(args.time_scale)
        .sync_timeout(args.sync_timeout)
        .task_deadline(args.task_deadline)
        .usage_interval(args.usage_interval)
        .tls(!plain_http)
        .tls_names(args.tls_names.clone())
        .max_requests(args.max_requests)
        .max_waiting(args.max_waiting)
        .header_read_timeout(args.header_read_timeout);
    if let Some(dir) = &args.data_dir {
        builder = builder.data_dir(dir);
    }
    if let Some(max) = args.max_connections {
        builder = builder.max_connections(max);
    }
    if let Some(max) = args.max_connections_per_client {
        builder = builder.max_connections_per_client(max);
    }
    if let Some(ca) = &args.endpoint_ca {
        builder = builder.endpoint_ca(ca);
    }
    if let Some(addr) = args.metrics_listen {
        builder = builder.metrics_listen(addr);
    }
    if let Some(ca) = &args.client_ca {
        builder = builder.client_ca(ca, args.client_ca_scope);
    }
    if let Some(hosts) = &args.callback_hosts {
        builder = builder.callback_hosts(hosts.clone());
    }
    if let Some(secret) = &args.webhook_secret {
        builder = builder.webhook_secret(Secret::parse(secret).context("--webhook-secret")?);
    }
    let controller = builder
        .start()
        .await
        .context("cannot start the controller")?;
    // The secret itself is never printed: under a service manager stdout ends up in the journal.
    if let Some(path) = controller.webhook_secret_file() {
        println!(
            "Webhook secret made and kept in the database; a copy readable only by you: {}",
            path.display()
        );
    }
    println!("aps-controller listening on {}", controller.url());
    if !plain_http && controller.tokens().list().await?.is_empty() {
        println!(
            "It asks API clients for a token, and there is none yet: `aps-controller token \
             create --scope admin --db {}` makes one",
            args.db
        );
    }
    // Ctrl-C or SIGTERM (a service manager's stop) ends it cleanly; so would a kill -9,
    // since nothing acknowledged waits in memory.
    aps_server::shutdown_signal().await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_scales_are_bounded() {
        assert_eq!(time_scale("1000"), Ok(1000.0));
        assert_eq!(time_scale(" 0.5 "), Ok(0.5));
        for bad in ["0", "-1", "1e-20", "1e12", "NaN", "inf", "fast"] {
            assert!(time_scale(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_take_units_or_plain_seconds() {
        assert_eq!(duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(duration(" 7d "), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(duration("soon").is_err());
        assert!(duration("3 parsecs").is_err());
        assert!(duration("-5").is_err());
    }

    #[test]
    fn set_reads_json_or_text() {
        let map = properties(&["n=3".into(), "name=box".into()]).unwrap();
        assert_eq!(map["n"], json!(3));
        assert_eq!(map["name"], json!("box"));
        assert!(properties(&["novalue".into()]).is_err());
    }
}
