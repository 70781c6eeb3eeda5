//! `endpoint.sh` run for real: the demo package deployed on loopback, provisioned over HTTP,
//! upgraded, refused when corrupt, rolled back when broken, inspected and removed; served over
//! HTTPS with given certificate files or a self-signed one.
//!
//! One test binary, so the demo is built once for all of them (`harness::demo_package`).
#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;
mod harness;
mod lifecycle;
mod refusals;
mod tls;
