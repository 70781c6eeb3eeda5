//! Test an application against a real controller, inside a test. Behind the `dev` feature.
//!
//! [`start`] runs an `aps-controller` in the test's process with a temporary database and a
//! time scale of 1000 (a 30 s recheck takes 30 ms), imports the application, installs an
//! instance on its router (called in-process, without a socket), and hands back a
//! [`TestController`] that provisions, waits for tasks and inspects them:
//!
//! ```no_run
//! # async fn demo(app: aps::App) -> Result<(), aps::testkit::Error> {
//! use aps::testkit::State;
//! use serde_json::json;
//!
//! let controller = aps::testkit::start(&app).await?;
//! let task = controller.provision("provisionable", json!({})).await?;
//! let task = controller.wait(&task).await?;
//! assert_eq!(task.state, State::Success);
//! assert_eq!(task.description.as_deref(), Some("Provisioning the resource"));
//! # Ok(()) }
//! ```
//!
//! [`start_paused`] runs the same on a paused tokio clock (`#[tokio::test(start_paused =
//! true)]`), with real delays that take no wall time: a 30 s recheck comes exactly 30 s of
//! paused time later ([`TestController::calls`] shows when). What it guarantees is said in
//! [`aps_controller::testkit`].

pub use aps_controller::testkit::{EndpointCall, TestController, TestEndpoint};
pub use aps_controller::{ControllerBuilder, Error, State, Task};

use crate::App;

/// A controller with an instance of `app` installed, time scaled by 1000.
pub async fn start(app: &App) -> Result<TestController, Error> {
    TestController::start(app.router(), app.package_model()?).await
}

/// Like [`start`], with the controller configured by `builder` (e.g. another time scale).
pub async fn start_with(app: &App, builder: ControllerBuilder) -> Result<TestController, Error> {
    TestController::start_with(app.router(), app.package_model()?, builder).await
}

/// Like [`start`], on the runtime's paused clock, with real delays (see the module).
pub async fn start_paused(app: &App) -> Result<TestController, Error> {
    TestController::start_paused(app.router(), app.package_model()?).await
}
