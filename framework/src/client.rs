//! The endpoint's client for calling the controller back.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use aps_protocol::{ErrorBody, headers};
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;
use uuid::Uuid;

use crate::{Error, Result};

/// How long a call to the controller may take before it counts as unreachable.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How many distinct `APS-Controller-URI` values [`ControllerUrls`] keeps parsed.
const KEPT_URLS: usize = 64;

/// The controllers' URLs as requests name them, parsed once: an endpoint hears from one or a
/// few controllers, and parsing a URL (with its IDNA host rules) costs more than finding it.
#[derive(Debug, Default)]
pub(crate) struct ControllerUrls(RwLock<HashMap<HeaderValue, Url>>);

impl ControllerUrls {
    /// The http(s) URL with a host that `value` holds, or `None`.
    pub(crate) fn parse(&self, value: &HeaderValue) -> Option<Url> {
        let known = self.0.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(url) = known.get(value) {
            return Some(url.clone());
        }
        drop(known);
        let url = Url::parse(headers::text_of(value).trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())?;
        let mut known = self.0.write().unwrap_or_else(PoisonError::into_inner);
        // Many distinct values mean someone is making them up: start over rather than grow.
        if known.len() >= KEPT_URLS {
            known.clear();
        }
        known.insert(value.clone(), url.clone());
        Some(url)
    }
}

/// Calls the controller that sent the current request (its `APS-Controller-URI`), as the
/// current application instance.
///
/// The framework uses it to load the resource for `GET` and `DELETE`, which carry no body;
/// operations reach it through [`Context::controller`](crate::Context::controller) to read or
/// update other resources. Failures are already [`Error`]s with the status to answer: the
/// controller's own 4xx passes through, and an unreachable controller is a 502.
#[derive(Debug, Clone)]
pub struct ControllerClient {
    http: reqwest::Client,
    base: Url,
    instance_id: Uuid,
}

impl ControllerClient {
    pub(crate) fn new(http: reqwest::Client, base: Url, instance_id: Uuid) -> Self {
        Self {
            http,
            base,
            instance_id,
        }
    }

    /// An HTTP client with the framework's time-outs, for instances without credentials.
    pub(crate) fn http() -> reqwest::Client {
        Self::builder().build().unwrap_or_default()
    }

    /// The settings every client for the controller shares: time-outs, no redirects.
    pub(crate) fn builder() -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
    }

    /// The controller's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `GET /aps/2/resources/{id}`: a resource as the controller stores it.
    pub async fn resource(&self, id: &str) -> Result<Value> {
        let json = self.fetch(id).await?;
        serde_json::from_slice(&json).map_err(|e| not_json(StatusCode::OK, &e))
    }

    /// The JSON of a resource, unparsed, for the framework to read into its type.
    pub(crate) async fn fetch(&self, id: &str) -> Result<Bytes> {
        self.call(self.http.get(self.resource_url(id)?)).await
    }

    /// Like [`resource`](Self::resource), read into a type.
    pub async fn resource_as<T: DeserializeOwned>(&self, id: &str) -> Result<T> {
        let value = self.resource(id).await?;
        serde_json::from_value(value).map_err(|e| {
            Error::with(
                StatusCode::BAD_GATEWAY,
                "InvalidControllerResponse",
                format!("resource {id} from the controller does not fit the type: {e}"),
            )
        })
    }

    /// `PUT /aps/2/resources/{id}`: changes properties of one of the instance's resources and
    /// answers the stored result.
    pub async fn update(&self, id: &str, properties: &impl Serialize) -> Result<Value> {
        let request = self.http.put(self.resource_url(id)?).json(properties);
        let json = self.call(request).await?;
        serde_json::from_slice(&json).map_err(|e| not_json(StatusCode::OK, &e))
    }

    fn resource_url(&self, id: &str) -> Result<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::bad_request("APS-Controller-URI cannot be a base URL"))?
            .pop_if_empty()
            .extend(["aps", "2", "resources", id]);
        Ok(url)
    }

    /// Sends a call and answers the body of a 2xx; errors carry the status to answer.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Bytes> {
        let response = request
            .header(headers::INSTANCE_ID, self.instance_id.to_string())
            .send()
            .await
            .map_err(|e| unreachable(&self.base, &e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unreachable(&self.base, &e))?;
        if status.is_success() {
            return Ok(bytes);
        }
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) if status.is_client_error() => {
                Error::with(status, body.error, format!("controller: {}", body.message))
            }
            _ => Error::with(
                StatusCode::BAD_GATEWAY,
                "ControllerError",
                format!("the controller answered {status}"),
            ),
        })
    }
}

fn not_json(status: StatusCode, error: &serde_json::Error) -> Error {
    Error::with(
        StatusCode::BAD_GATEWAY,
        "InvalidControllerResponse",
        format!("the controller answered {status} with a body that is not JSON: {error}"),
    )
}

fn unreachable(base: &Url, error: &reqwest::Error) -> Error {
    Error::with(
        StatusCode::BAD_GATEWAY,
        "ControllerUnreachable",
        format!("cannot reach the controller at {base}: {error}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_urls_are_parsed_once_checked_every_time_and_bounded() {
        let urls = ControllerUrls::default();
        let value = HeaderValue::from_static(" http://controller.example:6308/ ");
        let first = urls.parse(&value).expect("valid");
        assert_eq!(first.as_str(), "http://controller.example:6308/");
        assert_eq!(urls.parse(&value), Some(first));
        for bad in ["ftp://x/", "not a url", "http://", "file:///etc/passwd"] {
            assert_eq!(urls.parse(&HeaderValue::from_static(bad)), None, "{bad}");
        }
        for i in 0..KEPT_URLS * 3 {
            let value = HeaderValue::from_str(&format!("https://c{i}.example/")).expect("value");
            assert!(urls.parse(&value).is_some());
            assert!(urls.0.read().expect("lock").len() <= KEPT_URLS);
        }
    }
}
