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
//! * `store` keeps all SQL; `engine` drives tasks (an in-memory timer heap schedules rechecks,
//!   in-memory watch channels wake long polls); `endpoint` calls endpoints over HTTP or
//!   in-process; `callback` delivers the outbox; `api` is the HTTP surface.
//! * [`Client`] talks to a running controller; [`dev`] is the framework's `dev` command;
//!   [`testkit`] runs a controller inside a test.
#![warn(missing_docs)]

mod api;
mod backoff;
mod callback;
mod client;
mod clock;
mod controller;
pub mod dev;
mod endpoint;
mod engine;
mod error;
mod package;
mod serve;
mod store;
mod task;
pub mod testkit;
mod tls;
mod ui;

pub use backoff::{MAX_SCALE, MIN_SCALE};
pub use callback::{BadSecret, Secret};
pub use client::{Answer, Client};
pub use clock::Timestamp;
pub use controller::{Controller, ControllerBuilder};
pub use error::Error;
pub use package::{ModelError, PackageInfo, PackageModel, ServiceInfo};
pub use store::{StoreError, StoreStats};
pub use task::{Operation, State, Task, TaskResource, TaskStatus};
pub use tls::TlsError;
