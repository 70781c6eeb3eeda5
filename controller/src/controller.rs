//! Starting a controller: the builder, and the handle of a running one.
//!
//! ```no_run
//! # async fn demo() -> Result<(), aps_controller::Error> {
//! use aps_controller::Controller;
//!
//! let controller = Controller::builder()
//!     .database("/tmp/aps/controller.db")
//!     .listen("127.0.0.1:0".parse().unwrap())
//!     .time_scale(1000.0)
//!     .start()
//!     .await?;
//! println!("API at {}/api/v1", controller.url());
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::Error;
use crate::api::{self, Api};
use crate::backoff::TimeScale;
use crate::callback::{Callbacks, Secret};
use crate::client::Client;
use crate::endpoint::Endpoints;
use crate::engine::{Config, Engine};
use crate::package::{PackageInfo, PackageModel};
use crate::store::Store;

/// Settings of a controller to start; every one has a default.
#[derive(Debug, Clone)]
pub struct ControllerBuilder {
    database: String,
    listen: SocketAddr,
    time_scale: f64,
    sync_timeout: Duration,
    task_deadline: Duration,
    webhook_secret: Option<Secret>,
    routers: HashMap<String, Router>,
}

impl Default for ControllerBuilder {
    fn default() -> Self {
        Self {
            database: "sqlite://aps-controller.db".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 6308)),
            time_scale: 1.0,
            sync_timeout: Duration::from_secs(30),
            task_deadline: Duration::from_secs(7 * 24 * 3600),
            webhook_secret: None,
            routers: HashMap::new(),
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

    /// The Standard Webhooks secret; without it, one is made on first start and kept in the
    /// database.
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

    /// Opens the database, resumes unfinished tasks and callbacks, and starts serving.
    pub async fn start(self) -> Result<Controller, Error> {
        let store = Store::open(&self.database).await?;
        let fresh = Secret::generate().to_string();
        let (secret, secret_is_new) = match self.webhook_secret {
            Some(secret) => (secret, false),
            None => {
                let stored = store.setting_or_insert("webhook_secret", &fresh).await?;
                (Secret::parse(&stored)?, stored == fresh)
            }
        };
        let listener = TcpListener::bind(self.listen).await?;
        let addr = listener.local_addr()?;
        let scale = TimeScale::new(self.time_scale);
        if scale.factor() != 1.0 {
            tracing::warn!(
                "time scale {}: every recheck and retry delay is divided by it",
                scale.factor()
            );
        }
        let endpoints = Endpoints::new(&format!("http://{addr}"), self.routers)?;
        let callbacks = Callbacks::start(store.clone(), secret.clone(), scale)?;
        let config = Config {
            time_scale: scale,
            task_deadline: self.task_deadline,
        };
        let engine = Engine::start(store, endpoints, callbacks.clone(), config);
        let tasks = engine.resume().await?;
        let owed = callbacks.resume().await?;
        tracing::info!(%addr, resumed_tasks = tasks, owed_callbacks = owed, "controller started");
        let app = api::router(Api {
            engine: engine.clone(),
            sync_timeout: self.sync_timeout,
        });
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the API server stopped");
            }
        });
        Ok(Controller {
            addr,
            engine,
            secret,
            secret_is_new,
            server,
        })
    }
}

/// A running controller. Dropping it stops the API server and the schedulers.
pub struct Controller {
    addr: SocketAddr,
    engine: Arc<Engine>,
    secret: Secret,
    secret_is_new: bool,
    server: JoinHandle<()>,
}

impl Controller {
    /// The settings of a new controller.
    pub fn builder() -> ControllerBuilder {
        ControllerBuilder::default()
    }

    /// The address the API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, e.g. `http://127.0.0.1:6308` (the API is under `/api/v1`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client of this controller's API.
    pub fn client(&self) -> Client {
        Client::new(&self.url())
    }

    /// The webhook secret that signs callbacks.
    pub fn webhook_secret(&self) -> &Secret {
        &self.secret
    }

    /// Whether the webhook secret was made by this start (so it should be shown once).
    pub fn webhook_secret_is_new(&self) -> bool {
        self.secret_is_new
    }

    /// Imports a package model (as the framework produces it, without a zip).
    pub async fn import(&self, model: &PackageModel) -> Result<PackageInfo, Error> {
        Ok(self.engine.import(model).await?)
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.server.abort();
        self.engine.stop();
    }
}
