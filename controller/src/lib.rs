//! `aps-controller`: an APS controller and task manager for running and testing APS endpoints.
//!
//! It plays the part of the APS controller (CloudBlue/Odin APS 2) towards an endpoint: it imports
//! application packages, installs application instances, keeps resources, and drives every
//! operation through the endpoint's sync phase and its async rechecks. Towards clients it offers
//! a task API: a `timeout` envelope, tasks with status and result URIs, long polling, and signed
//! callbacks; `docs/controller-api.md` in the repository is its contract, and
//! `docs/aps-protocol.md` describes the wire protocol towards endpoints. Everything is stored in
//! SQLite before it is acknowledged, so a killed controller resumes where it was.
//!
//! How the pieces fit:
//!
//! * [`Controller`] (built with [`Controller::builder`]) opens the store, resumes unfinished
//!   tasks and callbacks, and serves the API (plain HTTP, or TLS with the controller's own CA:
//!   `tls` keeps the certificates, `serve` the connections).
//! * `store` keeps all SQL; `engine` drives tasks (in-memory watch channels wake long polls);
//!   `schedule` holds the timer heap that rechecks run on, the backoff and the time scale;
//!   `endpoint` calls endpoints over HTTP or in-process; `callback` delivers the outbox; `api`
//!   is the HTTP surface.
//! * [`Client`] talks to a running controller; [`dev`] is the framework's `dev` command;
//!   [`testkit`] runs a controller inside a test.
//!
//! Features: `engine` (default) is the controller itself (engine, SQLite store, API, serving,
//! TLS, `dev`, the test kit); without it the crate is only the typed [`Client`] and the task
//! types it answers with. `cli` (default) adds what the `aps-controller` program needs.
#![warn(missing_docs)]

#[cfg(feature = "engine")]
mod api;
#[cfg(feature = "engine")]
pub mod auth;
#[cfg(feature = "engine")]
mod callback;
mod client;
#[cfg(feature = "engine")]
mod controller;
#[cfg(feature = "engine")]
pub mod dev;
#[cfg(feature = "engine")]
mod endpoint;
#[cfg(feature = "engine")]
mod engine;
mod error;
#[cfg(feature = "engine")]
mod observe;
#[cfg(feature = "engine")]
mod package;
#[cfg(feature = "engine")]
mod schedule;
#[cfg(feature = "engine")]
mod serve;
#[cfg(feature = "engine")]
mod store;
// Without the engine, only the task types the client answers with are used.
#[cfg_attr(not(feature = "engine"), allow(dead_code))]
mod task;
#[cfg(feature = "engine")]
pub mod testkit;
mod timestamp;
#[cfg(feature = "engine")]
mod tls;
#[cfg(feature = "engine")]
mod ui;

#[cfg(feature = "engine")]
pub use api::{ApiLoad, openapi_json};
#[cfg(feature = "engine")]
pub use callback::{BadSecret, Secret};
pub use client::{Answer, Client};
#[cfg(feature = "engine")]
pub use controller::{Controller, ControllerBuilder};
pub use error::Error;
#[cfg(feature = "engine")]
pub use package::{ModelError, PackageInfo, PackageModel, ServiceInfo};
#[cfg(feature = "engine")]
pub use schedule::{MAX_SCALE, MIN_SCALE};
#[cfg(feature = "engine")]
pub use store::{StoreError, StoreStats};
pub use task::{Operation, State, Task, TaskResource, TaskStatus};
pub use timestamp::Timestamp;
#[cfg(feature = "engine")]
pub use tls::TlsError;
