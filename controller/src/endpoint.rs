//! Calling endpoints: the APS request headers, and two ways to reach an endpoint.
//!
//! An endpoint is reached over HTTP(S) with `reqwest`, or, for endpoints registered with
//! [`ControllerBuilder::endpoint_router`](crate::ControllerBuilder::endpoint_router), by handing
//! the request to an in-process `axum::Router` (the test kit does this: no socket, no port). The
//! engine sees the same [`Reply`] either way, and a transport failure is an
//! [`Unreachable`] error, which the engine retries, never an answer.
//!
//! An install carries the instance's credentials in `aps.x509` (see [`crate::tls`]); they are
//! added here, on the way out, so they are never part of a stored task or resource, and an
//! `aps.x509` an endpoint echoes back is dropped from its answer. A controller serving TLS
//! sends them only over https: an install onto an `http://` endpoint is answered here with a
//! 400 and never sent, so an instance's key never travels in clear. Over https the controller
//! presents its own certificate as client certificate. It trusts the endpoint's certificate
//! when the configured CA file (`--endpoint-ca`) signed it; without one it accepts any
//! certificate (endpoints are usually self-signed) and warns once per endpoint. Redirects are
//! never followed and an answer body is read up to [`MAX_BODY`] bytes, with or without
//! `Content-Length`: a longer one fails the operation (502 `AnswerTooLarge`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aps_protocol::headers::{self, Phase};
use aps_protocol::{Accepted, ErrorBody, RetryTimeout};
use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request};
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

use crate::tls::Authority;

/// The largest answer body read from an endpoint; a longer one counts as a failed call.
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;
/// How long one call may take before it counts as a connection failure.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// One call to an endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Call<'a> {
    pub method: Method,
    /// The endpoint's base URL.
    pub base: &'a str,
    /// The path below the base, e.g. `/provisionable/` or `/provisionable/{id}`.
    pub path: String,
    pub phase: Phase,
    pub instance: Uuid,
    pub transaction: Uuid,
    pub body: Option<&'a Value>,
    /// Whether this is an instance install, whose body carries the instance's credentials.
    pub install: bool,
}

/// What an endpoint answered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    /// `APS-Info`, when sent.
    pub info: Option<String>,
    /// `APS-Retry-Timeout`, [`RetryTimeout::DEFAULT`] when absent or unusable.
    pub retry: RetryTimeout,
    pub body: Bytes,
}

/// The endpoint could not be reached, or did not answer in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Unreachable(pub String);

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
        let identity = reqwest::Identity::from_pem(authority.identity_pem().as_bytes())?;
        let mut http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .identity(identity);
        http = match endpoint_ca {
            Some(pem) => {
                let mut http = http.tls_built_in_root_certs(false);
                for cert in reqwest::Certificate::from_pem_bundle(pem)? {
                    http = http.add_root_certificate(cert);
                }
                http
            }
            None => http.danger_accept_invalid_certs(true),
        };
        let routers = routers
            .into_iter()
            .map(|(k, v)| (base_key(&k).to_owned(), v))
            .collect();
        let controller_uri = headers::header_text(controller_uri.trim_end_matches('/'));
        Ok(Self {
            http: http.build()?,
            routers,
            controller_uri,
            authority,
            verified: endpoint_ca.is_some(),
            warned: Arc::default(),
            https_installs_only: false,
        })
    }

    /// With `on`, an install (which carries an instance's private key) is sent only to an
    /// https endpoint, or an in-process one; one onto `http://` gets [`Self::install_refusal`].
    pub(crate) fn credentials_only_over_https(mut self, on: bool) -> Self {
        self.https_installs_only = on;
        self
    }

    /// Why an install may not be sent to the endpoint at `base`, if it may not.
    pub(crate) fn install_refusal(&self, base: &str) -> Option<String> {
        let https = url::Url::parse(base).is_ok_and(|u| u.scheme() == "https");
        if !self.https_installs_only || https || self.routers.contains_key(base_key(base)) {
            return None;
        }
        Some(format!(
            "The endpoint {} is not https: this controller serves TLS and sends each instance \
             its private key (aps.x509) with the install, which must not travel in clear. \
             Install on the endpoint's https URL.",
            crate::callback::redact(base)
        ))
    }

    /// The answer an install refused by [`Self::install_refusal`] gets, as if the endpoint had
    /// given it: a 400 that fails the task (never a connection failure, which would be retried).
    fn refused_install(&self, call: &Call<'_>) -> Option<Reply> {
        if !call.install {
            return None;
        }
        let why = self.install_refusal(call.base)?;
        Some(Reply::from(
            ErrorBody::new(400, "InsecureEndpoint", why).response(),
        ))
    }

    /// The body of a call as sent: an install's gets the instance's credentials.
    fn body_of(&self, call: &Call<'_>) -> Result<Option<Bytes>, Unreachable> {
        let Some(value) = call.body else {
            return Ok(None);
        };
        if !call.install {
            return Ok(Some(Bytes::from(value.to_string())));
        }
        let credentials = self
            .authority
            .instance(call.instance)
            .map_err(|e| Unreachable(format!("cannot issue the instance's certificate: {e}")))?;
        let mut value = value.clone();
        if !value["aps"].is_object() {
            value["aps"] = json!({});
        }
        value["aps"]["x509"] = json!({
            "self": credentials.self_pem,
            "controller": credentials.controller_pem,
        });
        Ok(Some(Bytes::from(value.to_string())))
    }

    /// Warns, once per endpoint, that an https endpoint's certificate is not checked.
    fn warn_unverified(&self, base: &str) {
        if self.verified || !base.starts_with("https:") {
            return;
        }
        let mut warned = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
        if warned.insert(base.to_owned()) {
            tracing::warn!(
                endpoint = %crate::callback::redact(base),
                "the endpoint's TLS certificate is accepted without checking it (no --endpoint-ca)"
            );
        }
    }

    /// Sends one call.
    pub(crate) async fn call(&self, call: &Call<'_>) -> Result<Reply, Unreachable> {
        if let Some(refused) = self.refused_install(call) {
            return Ok(refused);
        }
        let mut headers = HeaderMap::new();
        headers.insert(headers::CONTROLLER_URI, self.controller_uri.clone());
        headers.insert(
            headers::INSTANCE_ID,
            headers::header_text(&call.instance.to_string()),
        );
        headers.insert(
            headers::TRANSACTION_ID,
            headers::header_text(&call.transaction.to_string()),
        );
        headers.insert(
            headers::REQUEST_PHASE,
            HeaderValue::from_static(call.phase.as_str()),
        );
        headers.insert(headers::VERSION, HeaderValue::from_static("2.0"));
        let body = match self.body_of(call)? {
            Some(body) => {
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                body
            }
            None => Bytes::new(),
        };
        match self.routers.get(base_key(call.base)) {
            Some(router) => in_process(router, call, headers, body).await,
            None => self.over_http(call, headers, body).await,
        }
    }

    async fn over_http(
        &self,
        call: &Call<'_>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Reply, Unreachable> {
        let url = format!("{}{}", base_key(call.base), call.path);
        self.warn_unverified(base_key(call.base));
        let mut response = self
            .http
            .request(call.method.clone(), &url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| Unreachable(describe(&e)))?;
        let status = response.status().as_u16();
        let head = response.headers().clone();
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY as u64)
        {
            return Ok(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Unreachable(describe(&e)))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Ok(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(reply(status, &head, Bytes::from(body)))
    }
}

async fn in_process(
    router: &Router,
    call: &Call<'_>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Reply, Unreachable> {
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = call.method.clone();
    *request.uri_mut() = call
        .path
        .parse()
        .map_err(|_| Unreachable(format!("bad path {}", call.path)))?;
    *request.headers_mut() = headers;
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let head = response.headers().clone();
    match axum::body::to_bytes(response.into_body(), MAX_BODY).await {
        Ok(body) => Ok(reply(status, &head, body)),
        Err(_) => Ok(too_large()),
    }
}

/// The answer an endpoint is taken to have given when its body is over [`MAX_BODY`]: a broken
/// endpoint, not a passing network fault, so the operation fails (502) instead of being retried.
fn too_large() -> Reply {
    let error = ErrorBody::new(
        502,
        "AnswerTooLarge",
        format!("The endpoint's answer is larger than {MAX_BODY} bytes"),
    );
    Reply::from(error.response())
}

fn reply(status: u16, head: &HeaderMap, body: Bytes) -> Reply {
    let Accepted { info, retry } = Accepted::from_headers(head);
    Reply {
        status,
        info,
        retry,
        body: without_credentials(body),
    }
}

impl From<http::Response<Vec<u8>>> for Reply {
    /// An answer the controller gives in the endpoint's place.
    fn from(response: http::Response<Vec<u8>>) -> Self {
        let (head, body) = response.into_parts();
        reply(head.status.as_u16(), &head.headers, Bytes::from(body))
    }
}

/// The body without an `aps.x509` the endpoint echoed back: credentials are never stored or
/// shown. Bodies that do not mention `x509` are passed through untouched.
fn without_credentials(body: Bytes) -> Bytes {
    if !body.windows(4).any(|w| w == b"x509") {
        return body;
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(mut value) => {
            let removed = value
                .get_mut("aps")
                .and_then(Value::as_object_mut)
                .and_then(|aps| aps.remove("x509"));
            match removed {
                Some(_) => Bytes::from(value.to_string()),
                None => body,
            }
        }
        Err(_) => body,
    }
}

/// A transport error with its causes, without the URL (which may carry a token).
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
