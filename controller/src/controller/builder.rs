//! The settings of a controller to start, and its start: open the store, resume unfinished
//! work, serve.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aps_server::files::{self, Readers};
use axum::Router;
use tokio::net::TcpListener;

use crate::Error;
use crate::api::{self, Api, Limits};
use crate::auth::client_ca::ClientCa;
use crate::auth::{Auth, Scope, Tokens};
use crate::callback::{Callbacks, Secret};
use crate::endpoint::Endpoints;
use crate::engine::{Config, Engine};
use crate::observe::{Metrics, Parts};
use crate::schedule::TimeScale;
use crate::serve::Server;
use crate::store::{PausedClock, Store};
use crate::tls::Authority;

use super::Controller;

/// Settings of a controller to start; every one has a default.
#[derive(Debug, Clone)]
pub struct ControllerBuilder {
    database: String,
    listen: SocketAddr,
    time_scale: f64,
    sync_timeout: Duration,
    task_deadline: Duration,
    usage_interval: Duration,
    webhook_secret: Option<Secret>,
    routers: HashMap<String, Router>,
    data_dir: Option<PathBuf>,
    tls: bool,
    tls_names: Vec<String>,
    endpoint_ca: Option<PathBuf>,
    callback_hosts: Option<Vec<String>>,
    max_requests: usize,
    max_waiting: usize,
    header_read_timeout: Duration,
    connections: crate::serve::Connections,
    paused_clock: bool,
    client_ca: Option<(PathBuf, Scope)>,
    metrics_listen: Option<SocketAddr>,
}

impl Default for ControllerBuilder {
    fn default() -> Self {
        Self {
            database: "sqlite://aps-controller.db".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 6308)),
            time_scale: 1.0,
            sync_timeout: Duration::from_secs(30),
            task_deadline: Duration::from_secs(7 * 24 * 3600),
            usage_interval: Duration::from_secs(3600),
            webhook_secret: None,
            routers: HashMap::new(),
            data_dir: None,
            tls: false,
            tls_names: Vec::new(),
            endpoint_ca: None,
            callback_hosts: None,
            max_requests: api::DEFAULT_MAX_REQUESTS,
            max_waiting: api::DEFAULT_MAX_WAITING,
            header_read_timeout: crate::serve::DEFAULT_HEADER_READ_TIMEOUT,
            connections: crate::serve::Connections::default(),
            paused_clock: false,
            client_ca: None,
            metrics_listen: None,
        }
    }
}

impl ControllerBuilder {
    /// The SQLite database: an `sqlite://PATH` URL or a plain path (created when missing).
    /// Default: `aps-controller.db` in the working directory.
    pub fn database(mut self, url_or_path: impl AsRef<str>) -> Self {
        let text = url_or_path.as_ref();
        self.database = if text.starts_with("sqlite:") {
            text.to_owned()
        } else {
            format!("sqlite://{text}")
        };
        self
    }

    /// Where the API listens. Default `127.0.0.1:6308`; port 0 picks a free port.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Divides every recheck and retry delay by `factor` (default 1).
    pub fn time_scale(mut self, factor: f64) -> Self {
        self.time_scale = factor;
        self
    }

    /// What `timeout: -1` waits (default 30 s).
    pub fn sync_timeout(mut self, timeout: Duration) -> Self {
        self.sync_timeout = timeout;
        self
    }

    /// How long a task may run before it fails (default 7 days).
    pub fn task_deadline(mut self, deadline: Duration) -> Self {
        self.task_deadline = deadline;
        self
    }

    /// How often resources with usage counters are synchronized from their endpoint (default
    /// 1 h, divided by the time scale like every delay).
    pub fn usage_interval(mut self, interval: Duration) -> Self {
        self.usage_interval = interval;
        self
    }

    /// The Standard Webhooks secret; without it, one is made on first start, kept in the
    /// database, and copied to `{data dir}/webhook-secret` (readable by its owner only) for the
    /// operator: see [`Controller::webhook_secret_file`].
    pub fn webhook_secret(mut self, secret: Secret) -> Self {
        self.webhook_secret = Some(secret);
        self
    }

    /// Reaches the endpoint with base URL `base_url` by calling `router` in-process instead of
    /// over HTTP (the endpoint's routes at `/{service}/…`).
    pub fn endpoint_router(mut self, base_url: impl Into<String>, router: Router) -> Self {
        self.routers.insert(base_url.into(), router);
        self
    }

    /// Where the certificates are kept (`tls/` below it). Default: the database's directory.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Serves the API over TLS with the controller's certificate. Over TLS, `/aps/2` is open
    /// only to the instance certificates it issued, and instances are installed only on https
    /// endpoints (an install onto `http://` fails with 400), so their keys never travel in clear.
    ///
    /// **The default is plain HTTP**, for tests and the framework's `dev` command on loopback:
    /// then `/aps/2` believes the caller's `APS-Instance-ID`, so anyone who reaches the port can
    /// act for any instance, and the controller warns at start-up. Anything reachable by others
    /// must call `.tls(true)`; the `aps-controller serve` command makes this choice explicit
    /// (`--tls` or `--insecure-http`).
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Names (DNS names or IP addresses) the controller's certificate is made for besides
    /// `localhost`, `127.0.0.1` and `::1`; used when the certificate is first made.
    pub fn tls_names(mut self, names: Vec<String>) -> Self {
        self.tls_names = names;
        self
    }

    /// A PEM file of CA certificates that https endpoints' certificates must be signed by.
    /// Without it, any endpoint certificate is accepted (endpoints are usually self-signed) and
    /// the controller warns once per endpoint.
    pub fn endpoint_ca(mut self, pem_file: impl Into<PathBuf>) -> Self {
        self.endpoint_ca = Some(pem_file.into());
        self
    }

    /// The only hosts a `callbackURL` may name (default: any).
    pub fn callback_hosts(mut self, hosts: Vec<String>) -> Self {
        self.callback_hosts = Some(hosts);
        self
    }

    /// How many API requests are served at once; more are answered 503 with `Retry-After`
    /// (default 1024).
    pub fn max_requests(mut self, requests: usize) -> Self {
        self.max_requests = requests;
        self
    }

    /// How many requests may wait at once: long polls, and operations waiting for their task
    /// (`timeout` other than 0). A waiting request gives its [`max_requests`](Self::max_requests)
    /// slot back. Past this, a long poll is answered 503 and an operation answers 202 at once
    /// (default 65,536).
    pub fn max_waiting(mut self, requests: usize) -> Self {
        self.max_waiting = requests;
        self
    }

    /// How long a client may take to send a request's head, and to finish a TLS handshake,
    /// before its connection is closed (default 10 s).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How many connections the API holds at once (default: three quarters of the process's
    /// descriptor limit, which is raised to the hard limit at start); more are answered 503.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.connections.max = Some(connections);
        self
    }

    /// How many connections one peer address may hold at once (default: a quarter of
    /// [`max_connections`](Self::max_connections)); more are answered 429, so that one client
    /// (thousands of long polls) cannot shut others out.
    pub fn max_connections_per_client(mut self, connections: usize) -> Self {
        self.connections.per_client = Some(connections);
        self
    }

    /// Says the runtime's tokio clock is paused (tests): database calls then keep it from
    /// auto-advancing while SQLite works on its own thread. Default off; the [paused test
    /// kit](crate::testkit::TestController::start_paused) turns it on.
    pub fn paused_clock(mut self, paused: bool) -> Self {
        self.paused_clock = paused;
        self
    }

    /// Accepts client certificates signed by the CA certificates in `pem_file` as API
    /// credentials of `scope` (on a TLS controller). Never name the controller's own CA: its
    /// certificates are the instances'.
    pub fn client_ca(mut self, pem_file: impl Into<PathBuf>, scope: Scope) -> Self {
        self.client_ca = Some((pem_file.into(), scope));
        self
    }

    /// Also serves `/metrics` on `addr`, over plain HTTP and without credentials (for a
    /// Prometheus on a private network); on the API's address it needs the `read` scope.
    pub fn metrics_listen(mut self, addr: SocketAddr) -> Self {
        self.metrics_listen = Some(addr);
        self
    }

    /// The data directory: the one given, else the database file's directory.
    fn resolved_data_dir(&self) -> PathBuf {
        if let Some(dir) = &self.data_dir {
            return dir.clone();
        }
        let path = self
            .database
            .trim_start_matches("sqlite:")
            .trim_start_matches("//");
        let path = path.split('?').next().unwrap_or_default();
        match Path::new(path).parent() {
            Some(parent) if !path.contains(":memory:") && !parent.as_os_str().is_empty() => {
                parent.to_owned()
            }
            _ => PathBuf::from("."),
        }
    }

    /// Opens the database, resumes unfinished tasks and callbacks, and starts serving.
    ///
    /// A controller serving plain HTTP must listen on a loopback address: without TLS it asks
    /// no credentials (see `auth`), so anywhere else it refuses to start.
    pub async fn start(self) -> Result<Controller, Error> {
        if !self.tls && !self.listen.ip().is_loopback() {
            return Err(Error::Settings(format!(
                "plain HTTP asks no credentials, so it is served on loopback only, not on {}: \
                 serve TLS (--tls) to listen there",
                self.listen
            )));
        }
        let client_ca = self
            .client_ca
            .as_ref()
            .map(|(path, scope)| ClientCa::load(path, *scope))
            .transpose()?;
        let data_dir = self.resolved_data_dir();
        let authority = Arc::new(Authority::open(&data_dir, &self.tls_names)?);
        let endpoint_ca = match &self.endpoint_ca {
            Some(path) => {
                Some(
                    std::fs::read(path).map_err(|source| crate::tls::TlsError::File {
                        path: path.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        let paused = PausedClock(self.paused_clock);
        let store = {
            let _held = paused.hold();
            Store::open(&self.database).await?.holding(paused)
        };
        let (secret, secret_file) = match self.webhook_secret {
            Some(secret) => (secret, None),
            None => first_secret(&store, &data_dir).await?,
        };
        let listener = TcpListener::bind(self.listen).await?;
        let metrics_listener = match self.metrics_listen {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let addr = listener.local_addr()?;
        let scale = TimeScale::new(self.time_scale);
        if scale.factor() != 1.0 {
            tracing::warn!(
                "time scale {}: every recheck and retry delay is divided by it",
                scale.factor()
            );
        }
        let scheme = if self.tls { "https" } else { "http" };
        let url = format!("{scheme}://{addr}");
        let endpoints = Endpoints::new(
            &url,
            self.routers,
            authority.clone(),
            endpoint_ca.as_deref(),
        )?
        .credentials_only_over_https(self.tls);
        let callbacks = Callbacks::start(store.clone(), secret.clone(), scale)?;
        let config = Config {
            time_scale: scale,
            task_deadline: self.task_deadline,
            usage_interval: self.usage_interval,
        };
        let auth = Arc::new(Auth::new(
            self.tls,
            Tokens::new(store.clone()),
            client_ca.clone(),
        ));
        let engine = Engine::start(store, endpoints, callbacks.clone(), config);
        let tasks = engine.resume().await?;
        let owed = callbacks.resume().await?;
        tracing::info!(%url, resumed_tasks = tasks, owed_callbacks = owed, "controller started");
        if !self.tls {
            tracing::warn!(
                "serving plain HTTP: no TLS, and /aps/2 believes the caller's APS-Instance-ID, so \
                 anyone who reaches {addr} can act for any instance; for local development only"
            );
        }
        let limits = Limits::new(self.max_requests, self.max_waiting);
        let metrics = Arc::new(Metrics::new(Parts {
            engine: engine.metrics().clone(),
            commits: engine.store().commit_histogram(),
            callback_failures: callbacks.failure_counter(),
            auth_failures: auth.refusal_counter(),
            callbacks: callbacks.clone(),
            limits: limits.clone(),
        }));
        let app = api::router(
            Api {
                engine: engine.clone(),
                sync_timeout: self.sync_timeout,
                authority: authority.clone(),
                callback_hosts: self.callback_hosts.map(Arc::new),
                auth: auth.clone(),
                metrics: metrics.clone(),
            },
            limits.clone(),
        );
        let tls = match self.tls {
            true => Some(
                authority.server_config(client_ca.as_ref().map_or(&[], |ca| ca.certificates()))?,
            ),
            false => None,
        };
        let server = Server::spawn(
            listener.into_std()?,
            app.clone(),
            tls,
            self.header_read_timeout,
            self.connections,
        );
        let metrics_server = match metrics_listener {
            Some(listener) => {
                let addr = listener.local_addr()?;
                tracing::info!(%addr, "serving /metrics without credentials");
                let router = crate::observe::metrics_router(metrics);
                let server = Server::spawn(
                    listener.into_std()?,
                    router,
                    None,
                    self.header_read_timeout,
                    self.connections,
                );
                Some((addr, server))
            }
            None => None,
        };
        Ok(Controller {
            metrics_server,
            router: app,
            limits,
            addr,
            url,
            authority,
            engine,
            secret,
            secret_file,
            server,
            auth,
        })
    }
}

/// The stored webhook secret, made first when there is none; a new one is also copied to
/// `{data dir}/webhook-secret` (0600), whose path comes back. The copy is written aside before
/// the secret is stored, so a data directory that cannot take it stops the start while the
/// database still has no secret that nobody was shown.
async fn first_secret(store: &Store, data_dir: &Path) -> Result<(Secret, Option<PathBuf>), Error> {
    let fresh = Secret::generate().to_string();
    let path = data_dir.join(WEBHOOK_SECRET_FILE);
    // Absolute, so the path printed for the operator means something outside the working dir.
    let path = std::path::absolute(&path).unwrap_or(path);
    let staged = files::stage(&path, format!("{fresh}\n").as_bytes(), Readers::Owner)?;
    let stored = store.setting_or_insert("webhook_secret", &fresh).await?;
    let secret = Secret::parse(&stored)?;
    if stored != fresh {
        return Ok((secret, None));
    }
    staged.replace()?;
    Ok((secret, Some(path)))
}

/// The file, in the data directory, that a webhook secret made by the controller is copied to.
const WEBHOOK_SECRET_FILE: &str = "webhook-secret";
