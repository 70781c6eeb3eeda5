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
//! Time runs scaled, not paused: the controller and the test talk over a real socket, which a
//! paused tokio clock does not mix with. Use [`TestController::start_with`] for another scale.

use std::net::SocketAddr;

use axum::Router;
use serde_json::{Value, json};
use tempfile::TempDir;
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

/// A running controller with an installed instance, for one test.
pub struct TestController {
    controller: Controller,
    client: Client,
    application: Uuid,
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
        let dir = tempfile::tempdir()?;
        let mut builder = builder
            .database(dir.path().join("controller.db").to_string_lossy())
            .listen(SocketAddr::from(([127, 0, 0, 1], 0)));
        let url = match endpoint.into() {
            TestEndpoint::Router(router) => {
                builder = builder.endpoint_router(IN_PROCESS, router);
                IN_PROCESS.to_owned()
            }
            TestEndpoint::Url(url) => url,
        };
        let controller = builder.start().await?;
        let client = controller.client();
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
            _dir: dir,
        })
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
