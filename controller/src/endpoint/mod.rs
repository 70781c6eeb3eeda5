//! Calling endpoints: one [`Call`] in, one [`Reply`] (or [`Unreachable`]) out.
//!
//! * `request`: the call and the APS request headers it carries.
//! * `credentials`: an install's instance credentials, added on the way out and never let back
//!   in, and the refusal to send them over plain http.
//! * `transport`: the two ways to reach an endpoint, over HTTP(S) with `reqwest`, or, for
//!   endpoints registered with
//!   [`ControllerBuilder::endpoint_router`](crate::ControllerBuilder::endpoint_router), by
//!   handing the request to an in-process `axum::Router` (the test kit does this: no socket,
//!   no port).
//! * `reply`: what the engine sees of an answer, the same either way.
//!
//! A transport failure is an [`Unreachable`] error, which the engine retries, never an answer.

mod credentials;
mod reply;
mod request;
mod transport;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aps_protocol::headers;
use axum::Router;
use http::HeaderValue;

use crate::tls::Authority;

pub(crate) use reply::Reply;
pub(crate) use request::Call;
pub(crate) use transport::{Unreachable, describe};

/// The ways to reach endpoints, with the controller's own URI that every call carries.
#[derive(Clone)]
pub(crate) struct Endpoints {
    http: reqwest::Client,
    routers: HashMap<String, Router>,
    controller_uri: HeaderValue,
    authority: Arc<Authority>,
    /// Whether endpoint certificates are checked against a configured CA.
    verified: bool,
    /// The https endpoints already warned about (their certificates are not checked).
    warned: Arc<Mutex<HashSet<String>>>,
    /// Whether installs (which carry an instance's key) go to https endpoints only.
    https_installs_only: bool,
}

/// An endpoint's base URL as the routers are keyed: without trailing slashes.
fn base_key(base: &str) -> &str {
    base.trim_end_matches('/')
}

impl Endpoints {
    /// Endpoints reached over HTTP(S), except the in-process `routers` (by base URL). Over
    /// https the controller presents the `authority`'s certificate; `endpoint_ca` (PEM) is what
    /// endpoint certificates must be signed by, or `None` to accept any (with a warning).
    pub(crate) fn new(
        controller_uri: &str,
        routers: HashMap<String, Router>,
        authority: Arc<Authority>,
        endpoint_ca: Option<&[u8]>,
    ) -> Result<Self, reqwest::Error> {
        let routers = routers
            .into_iter()
            .map(|(k, v)| (base_key(&k).to_owned(), v))
            .collect();
        Ok(Self {
            http: transport::client(&authority, endpoint_ca)?,
            routers,
            controller_uri: headers::header_text(controller_uri.trim_end_matches('/')),
            authority,
            verified: endpoint_ca.is_some(),
            warned: Arc::default(),
            https_installs_only: false,
        })
    }

    /// Sends one call.
    pub(crate) async fn call(&self, call: &Call<'_>) -> Result<Reply, Unreachable> {
        if let Some(refused) = self.refused_install(call) {
            return Ok(refused);
        }
        let (headers, body) = self.request(call)?;
        match self.routers.get(base_key(call.base)) {
            Some(router) => transport::in_process(router, call, headers, body).await,
            None => self.over_http(call, headers, body).await,
        }
    }
}

#[cfg(test)]
mod tests;
