//! Calling endpoints: the APS request headers, and two ways to reach an endpoint.
//!
//! An endpoint is reached over HTTP(S) with `reqwest`, or, for endpoints registered with
//! [`ControllerBuilder::endpoint_router`](crate::ControllerBuilder::endpoint_router), by handing
//! the request to an in-process `axum::Router` (the test kit does this: no socket, no port). The
//! engine sees the same [`Reply`] either way, and a transport failure is an
//! [`Unreachable`] error, which the engine retries, never an answer.

use std::collections::HashMap;
use std::time::Duration;

use aps_protocol::headers::{self, Phase, text_of};
use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request};
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;

/// The delay a 202 without a usable `APS-Retry-Timeout` gets, in seconds.
pub(crate) const DEFAULT_RETRY_SECS: u64 = 30;
/// The largest answer body read from an endpoint.
const MAX_BODY: usize = 16 * 1024 * 1024;
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
}

/// What an endpoint answered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    /// `APS-Info`, when sent.
    pub info: Option<String>,
    /// `APS-Retry-Timeout` in seconds, [`DEFAULT_RETRY_SECS`] when absent or unusable.
    pub retry_secs: u64,
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
}

fn base_key(base: &str) -> &str {
    base.trim_end_matches('/')
}

impl Endpoints {
    /// Endpoints reached over HTTP, except the in-process `routers` (by base URL).
    pub(crate) fn new(
        controller_uri: &str,
        routers: HashMap<String, Router>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let routers = routers
            .into_iter()
            .map(|(k, v)| (base_key(&k).to_owned(), v))
            .collect();
        let controller_uri = headers::header_text(controller_uri.trim_end_matches('/'));
        Ok(Self {
            http,
            routers,
            controller_uri,
        })
    }

    /// Sends one call.
    pub(crate) async fn call(&self, call: &Call<'_>) -> Result<Reply, Unreachable> {
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
        let body = match call.body {
            Some(value) => {
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                Bytes::from(value.to_string())
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
        let response = self
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
            return Err(Unreachable(format!("answer larger than {MAX_BODY} bytes")));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| Unreachable(describe(&e)))?;
        Ok(reply(status, &head, body))
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
    let body = axum::body::to_bytes(response.into_body(), MAX_BODY)
        .await
        .map_err(|e| Unreachable(e.to_string()))?;
    Ok(reply(status, &head, body))
}

fn reply(status: u16, head: &HeaderMap, body: Bytes) -> Reply {
    let info = head
        .get(headers::INFO)
        .map(text_of)
        .filter(|s| !s.is_empty());
    let retry_secs = head
        .get(headers::RETRY_TIMEOUT)
        .and_then(|v| text_of(v).trim().parse::<u64>().ok())
        .map_or(DEFAULT_RETRY_SECS, |s| s.max(1));
    Reply {
        status,
        info,
        retry_secs,
        body,
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
mod tests {
    use super::*;

    #[test]
    fn retry_timeout_is_read_and_clamped() {
        let mut head = HeaderMap::new();
        assert_eq!(
            reply(202, &head, Bytes::new()).retry_secs,
            DEFAULT_RETRY_SECS
        );
        head.insert(headers::RETRY_TIMEOUT, HeaderValue::from_static("soon"));
        assert_eq!(
            reply(202, &head, Bytes::new()).retry_secs,
            DEFAULT_RETRY_SECS
        );
        head.insert(headers::RETRY_TIMEOUT, HeaderValue::from_static("0"));
        assert_eq!(reply(202, &head, Bytes::new()).retry_secs, 1);
        head.insert(headers::RETRY_TIMEOUT, HeaderValue::from_static(" 7 "));
        assert_eq!(reply(202, &head, Bytes::new()).retry_secs, 7);
    }
}
