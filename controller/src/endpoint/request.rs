//! What a call to an endpoint sends: the APS request headers and the resource.

use aps_protocol::headers::{self, Phase, header_text};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use serde_json::Value;
use uuid::Uuid;

use super::{Endpoints, Unreachable};

/// The APS version the controller speaks.
const APS_VERSION: &str = "2.0";

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

impl Endpoints {
    /// The headers and body of a call as sent.
    pub(super) fn request(&self, call: &Call<'_>) -> Result<(HeaderMap, Bytes), Unreachable> {
        let mut headers = HeaderMap::new();
        headers.insert(headers::CONTROLLER_URI, self.controller_uri.clone());
        headers.insert(
            headers::INSTANCE_ID,
            header_text(&call.instance.to_string()),
        );
        headers.insert(
            headers::TRANSACTION_ID,
            header_text(&call.transaction.to_string()),
        );
        headers.insert(
            headers::REQUEST_PHASE,
            HeaderValue::from_static(call.phase.as_str()),
        );
        headers.insert(headers::VERSION, HeaderValue::from_static(APS_VERSION));
        let body = match call.body {
            Some(resource) => {
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                self.body_of(call, resource)?
            }
            None => Bytes::new(),
        };
        Ok((headers, body))
    }
}
