//! Starting a controller: the builder (`builder`), and the handle of a running one.
//!
//! ```no_run
//! # async fn demo() -> Result<(), aps_controller::Error> {
//! use aps_controller::Controller;
//!
//! let controller = Controller::builder()
//!     .database("/tmp/aps/controller.db")
//!     .listen("127.0.0.1:0".parse().unwrap())
//!     .tls(true)
//!     .time_scale(1000.0)
//!     .start()
//!     .await?;
//! println!("API at {}/api/v1", controller.url());
//! # Ok(()) }
//! ```

mod builder;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;

use crate::Error;
use crate::api::{ApiLoad, Limits};
use crate::auth::{Auth, Tokens};
use crate::callback::Secret;
use crate::client::Client;
use crate::engine::Engine;
use crate::package::{PackageInfo, PackageModel};
use crate::serve::Server;
use crate::store::StoreStats;
use crate::tls::Authority;

pub use builder::ControllerBuilder;

/// A running controller. Dropping it stops the API server and the schedulers.
pub struct Controller {
    addr: SocketAddr,
    url: String,
    authority: Arc<Authority>,
    engine: Arc<Engine>,
    secret: Secret,
    secret_file: Option<PathBuf>,
    server: Server,
    router: Router,
    limits: Limits,
    auth: Arc<Auth>,
    /// The address and server of `/metrics` alone, when asked for.
    metrics_server: Option<(SocketAddr, Server)>,
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

    /// The address `/metrics` is also served on without credentials
    /// ([`ControllerBuilder::metrics_listen`]).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_server.as_ref().map(|(addr, _)| *addr)
    }

    /// The base URL, e.g. `http://127.0.0.1:6308`, or `https://…` over TLS (the API is
    /// under `/api/v1`).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The controller's CA certificate (PEM): what clients of the TLS API trust, and what
    /// signed every certificate the controller issued.
    pub fn ca_pem(&self) -> &str {
        self.authority.ca_pem()
    }

    /// A client of this controller's API (trusting its CA), with an `admin` credential that
    /// lives as long as this controller, in memory only: the program that runs the controller
    /// may do anything with it.
    pub fn client(&self) -> Client {
        Client::trusting(&self.url(), self.ca_pem()).with_token(self.auth.internal_token())
    }

    /// The API tokens of this controller's database (see [`Tokens`]).
    pub fn tokens(&self) -> Tokens {
        self.auth.tokens().clone()
    }

    /// The webhook secret that signs callbacks.
    pub fn webhook_secret(&self) -> &Secret {
        &self.secret
    }

    /// Whether the webhook secret was made by this start (so the operator should be told once).
    pub fn webhook_secret_is_new(&self) -> bool {
        self.secret_file.is_some()
    }

    /// Where the webhook secret made by this start was copied (`{data dir}/webhook-secret`,
    /// readable by its owner only); `None` when it was given or made by an earlier start. The
    /// secret itself is never printed or logged.
    pub fn webhook_secret_file(&self) -> Option<&Path> {
        self.secret_file.as_deref()
    }

    /// Imports a package model (as the framework produces it, without a zip).
    pub async fn import(&self, model: &PackageModel) -> Result<PackageInfo, Error> {
        Ok(self.engine.import(model).await?)
    }

    /// The API's routes, to call in-process (e.g. with `tower::ServiceExt::oneshot`) as well
    /// as over [`url`](Self::url): the same handlers, limits and engine.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// How many API requests are being served and waiting at this moment.
    pub fn api_load(&self) -> ApiLoad {
        self.limits.load()
    }

    /// What the store has done since this start: reads, task changes written, commits.
    pub fn store_stats(&self) -> StoreStats {
        self.engine.store().stats()
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.server.stop();
        if let Some((_, server)) = &self.metrics_server {
            server.stop();
        }
        self.engine.stop();
    }
}
