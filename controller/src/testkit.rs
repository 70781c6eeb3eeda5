//! A controller inside a test: drive an endpoint the way the APS controller does, in well under
//! a second of wall time.
//!
//! [`TestController::start`] starts a controller on a loopback port with a database in a
//! temporary directory and a time scale of 1000 (a 30 s recheck takes 30 ms), imports the
//! package, and installs an instance on the endpoint, which is either an in-process
//! `axum::Router` (called without a socket) or the URL of a running endpoint. The test then
//! provisions, waits (by long polling) and inspects tasks.
//!
//! ```no_run
//! # async fn demo(router: axum::Router, package: aps_controller::PackageModel)
//! # -> Result<(), aps_controller::Error> {
//! use aps_controller::testkit::TestController;
//! use aps_controller::State;
//! use serde_json::json;
//!
//! let c = TestController::start(router, package).await?;
//! let task = c.provision("provisionable", json!({})).await?;
//! let task = c.wait(&task).await?;
//! assert_eq!(task.state, State::Success);
//! assert_eq!(task.description.as_deref(), Some("Provisioning the resource"));
//! # Ok(()) }
//! ```
//!
//! Time runs scaled: the controller and the test talk over a real socket. Use
//! [`TestController::start_with`] for another scale.
//!
//! # On a paused clock
//!
//! [`TestController::start_paused`] runs in paused time instead, for tests on
//! `#[tokio::test(start_paused = true)]`: the test talks to the controller through its routes
//! in-process ([`Controller::router`]), the controller calls the endpoint's router in-process,
//! and delays are real (time scale 1), so a 30 s recheck comes exactly 30 s of paused time
//! later, and takes no wall time. What the kit guarantees there:
//!
//! * The clock moves only when every task of the test waits for time: each database call holds
//!   it ([`ControllerBuilder::paused_clock`]), since SQLite works on a thread of its own and
//!   would otherwise let tokio's auto-advance jump past due timers (and the pool's acquire
//!   timeout) while a commit is in flight.
//! * So every recheck happens at the paused instant the endpoint asked for, counted from the
//!   call that asked, and [`TestController::calls`] shows it.
//!
//! What it does not cover: an endpoint that calls the controller back over the network
//! (`/aps/2`), and callbacks, go through real sockets, which paused time does not wait for;
//! task timestamps (`nextCheck`, `lastModified`) and deadlines follow the wall clock, which
//! pausing does not stop.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::time::Instant;
use uuid::Uuid;

use crate::{Client, Controller, ControllerBuilder, Error, PackageModel, State, Task};

/// The base URL under which an in-process router is reached.
const IN_PROCESS: &str = "http://endpoint.in-process";

/// The endpoint a test controller drives.
#[derive(Debug, Clone)]
pub enum TestEndpoint {
    /// The endpoint's routes, called in-process.
    Router(Router),
    /// The base URL of an endpoint that is already serving.
    Url(String),
}

impl From<Router> for TestEndpoint {
    fn from(router: Router) -> Self {
        Self::Router(router)
    }
}

impl From<&str> for TestEndpoint {
    fn from(url: &str) -> Self {
        Self::Url(url.to_owned())
    }
}

impl From<String> for TestEndpoint {
    fn from(url: String) -> Self {
        Self::Url(url)
    }
}

/// One call of the controller to an in-process endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointCall {
    /// When it came, since the test controller started (paused time on a paused clock).
    pub at: Duration,
    /// The method.
    pub method: Method,
    /// The path, e.g. `/provisionable/`.
    pub path: String,
    /// The `APS-Request-Phase` header (`sync` or `async`), when there was one.
    pub phase: Option<String>,
}

type Calls = Arc<Mutex<Vec<EndpointCall>>>;

/// A running controller with an installed instance, for one test.
pub struct TestController {
    controller: Controller,
    client: Client,
    application: Uuid,
    calls: Calls,
    _dir: TempDir,
}

impl TestController {
    /// Starts a controller with time scale 1000 and installs an instance of `package` on
    /// `endpoint`.
    pub async fn start(
        endpoint: impl Into<TestEndpoint>,
        package: PackageModel,
    ) -> Result<Self, Error> {
        Self::start_with(endpoint, package, Controller::builder().time_scale(1000.0)).await
    }

    /// Like [`start`](Self::start), with the controller's settings from `builder` (its
    /// database and address are replaced by a temporary file and a free loopback port).
    pub async fn start_with(
        endpoint: impl Into<TestEndpoint>,
        package: PackageModel,
        builder: ControllerBuilder,
    ) -> Result<Self, Error> {
        Self::launch(endpoint.into(), package, builder, false).await
    }

    /// A controller on the runtime's paused clock (see [the module](self)), driven in-process
    /// with real delays; for tests on `#[tokio::test(start_paused = true)]`.
    pub async fn start_paused(router: Router, package: PackageModel) -> Result<Self, Error> {
        let builder = Controller::builder().paused_clock(true);
        Self::launch(TestEndpoint::Router(router), package, builder, true).await
    }

    async fn launch(
        endpoint: TestEndpoint,
        package: PackageModel,
        builder: ControllerBuilder,
        in_process: bool,
    ) -> Result<Self, Error> {
        let dir = tempfile::tempdir()?;
        let calls = Calls::default();
        let mut builder = builder
            .database(dir.path().join("controller.db").to_string_lossy())
            .listen(SocketAddr::from(([127, 0, 0, 1], 0)));
        let url = match endpoint {
            TestEndpoint::Router(router) => {
                let router = recorded(router, calls.clone(), Instant::now());
                builder = builder.endpoint_router(IN_PROCESS, router);
                IN_PROCESS.to_owned()
            }
            TestEndpoint::Url(url) => url,
        };
        let controller = builder.start().await?;
        let client = match in_process {
            true => Client::in_process(controller.router()),
            false => controller.client(),
        };
        let info = controller.import(&package).await?;
        let install = client.install(info.id, &url, json!({})).await?;
        let install = client.wait(install.id, |_| {}).await?;
        if install.state != State::Success {
            return Err(Error::Unexpected(format!(
                "installing the instance ended {}: {:?}",
                install.state.as_str(),
                install.output
            )));
        }
        Ok(Self {
            controller,
            client,
            application: install.application,
            calls,
            _dir: dir,
        })
    }

    /// The controller's calls to an in-process endpoint so far, in order (none for an
    /// endpoint reached by URL).
    pub fn calls(&self) -> Vec<EndpointCall> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Provisions a resource of a type (type id or service id); answers the new task at once.
    pub async fn provision(&self, type_id: &str, properties: Value) -> Result<Task, Error> {
        self.client
            .provision(self.application, type_id, properties)
            .await
    }

    /// Waits (long polling) until the task ends.
    pub async fn wait(&self, task: &Task) -> Result<Task, Error> {
        self.client.wait(task.id, |_| {}).await
    }

    /// The task now.
    pub async fn task(&self, id: Uuid) -> Result<Task, Error> {
        self.client.task(id).await
    }

    /// The installed application instance.
    pub fn application(&self) -> Uuid {
        self.application
    }

    /// A client of the controller's API, for everything else.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The controller.
    pub fn controller(&self) -> &Controller {
        &self.controller
    }
}

/// `router`, noting every call in `calls` with its time since `started`.
fn recorded(router: Router, calls: Calls, started: Instant) -> Router {
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let call = EndpointCall {
                at: started.elapsed(),
                method: request.method().clone(),
                path: request.uri().path().to_owned(),
                phase: request
                    .headers()
                    .get(aps_protocol::headers::REQUEST_PHASE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            };
            calls
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(call);
            next.run(request)
        },
    ))
}
