//! Reaching an endpoint: over HTTP(S), or in process.
//!
//! Over https the controller presents its own certificate as client certificate. It trusts the
//! endpoint's certificate when the configured CA file (`--endpoint-ca`) signed it; without one
//! it accepts any certificate (endpoints are usually self-signed) and warns once per endpoint.
//! Redirects are never followed.

use std::sync::PoisonError;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Request};
use tower::ServiceExt;

use super::reply::MAX_BODY;
use super::request::url_of;
use super::{Call, Endpoints, Reply, base_key};
use crate::tls::Authority;

/// How long one call may take before it counts as a connection failure.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The endpoint could not be reached, or did not answer in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Unreachable(pub String);

/// The HTTP client for endpoints: the `authority`'s certificate as client certificate, and
/// endpoint certificates checked against `endpoint_ca` (PEM), or not at all without one.
pub(super) fn client(
    authority: &Authority,
    endpoint_ca: Option<&[u8]>,
) -> Result<reqwest::Client, reqwest::Error> {
    let identity = reqwest::Identity::from_pem(authority.identity_pem().as_bytes())?;
    let mut http = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
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
    http.build()
}

impl Endpoints {
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

    /// Sends a call over HTTP(S), reading at most [`MAX_BODY`] bytes of the answer.
    pub(super) async fn over_http(
        &self,
        call: &Call<'_>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Reply, Unreachable> {
        let url = url_of(call.base, &call.path, call.query)?;
        self.warn_unverified(base_key(call.base));
        let mut response = self
            .http
            .request(call.method.clone(), url)
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
            return Ok(Reply::too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Unreachable(describe(&e)))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Ok(Reply::too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply::read(status, &head, Bytes::from(body)))
    }
}

/// Hands a call to an in-process router, reading at most [`MAX_BODY`] bytes of the answer.
pub(super) async fn in_process(
    router: &Router,
    call: &Call<'_>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Reply, Unreachable> {
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = call.method.clone();
    // Escaped the same way as over HTTP; the router sees only the path.
    let url = url_of("http://in-process/", &call.path, call.query)?;
    *request.uri_mut() = url[url::Position::BeforePath..url::Position::AfterQuery]
        .parse()
        .map_err(|_| Unreachable("the call's path is not a URI".into()))?;
    *request.headers_mut() = headers;
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let head = response.headers().clone();
    match axum::body::to_bytes(response.into_body(), MAX_BODY).await {
        Ok(body) => Ok(Reply::read(status, &head, body)),
        Err(_) => Ok(Reply::too_large()),
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
