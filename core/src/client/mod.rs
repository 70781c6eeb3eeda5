//! The endpoint's client for calling the controller back, over a transport the framework gives.

use std::fmt;
use std::sync::Arc;

use aps_protocol::{ErrorBody, headers};
use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::{Error, Result};

mod links;
mod subscriptions;

/// Any error a [`Transport`] fails with (the shape tower uses).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How a [`ControllerClient`] reaches the controller: one request in, one response out.
///
/// The framework (`aps`) sends over HTTP(S), presenting the instance's certificate; a test or
/// an in-process controller can answer directly. Whatever a transport fails with counts as the
/// controller being unreachable (a 502).
///
/// ```
/// use aps_core::{BoxError, ControllerClient, Transport};
/// use bytes::Bytes;
/// use http::{Request, Response};
///
/// /// A controller that knows one resource.
/// #[derive(Debug)]
/// struct One;
///
/// #[aps_core::async_trait]
/// impl Transport for One {
///     async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, BoxError> {
///         assert_eq!(request.uri(), "http://controller.example/aps/2/resources/6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e");
///         Ok(Response::new(Bytes::from_static(br#"{"quota": 5}"#)))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> aps_core::Result<()> {
/// let client = ControllerClient::new(One, "http://controller.example/", uuid::Uuid::nil());
/// let resource = client.resource("6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e").await?;
/// assert_eq!(resource["quota"], 5);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait Transport: fmt::Debug + Send + Sync + 'static {
    /// Sends `request` (an absolute URI) and answers the controller's response, whatever its
    /// status.
    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, BoxError>;
}

/// What a URL path segment must escape (the `url` crate's path segment set).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

/// Calls the controller that sent the current request (its `APS-Controller-URI`), as the
/// current application instance.
///
/// The framework uses it to load the resource for `GET` and `DELETE`, which carry no body;
/// operations reach it through [`Context::controller`](crate::Context::controller) to read or
/// update other resources. Failures are already [`Error`]s with the status to answer: the
/// controller's own 4xx passes through, and an unreachable controller is a 502.
#[derive(Debug, Clone)]
pub struct ControllerClient {
    transport: Arc<dyn Transport>,
    base: Arc<str>,
    instance_id: Uuid,
}

impl ControllerClient {
    /// A client of the controller at `base` (an http(s) URL without query), calling as
    /// `instance_id` through `transport`.
    pub fn new(transport: impl Transport, base: impl Into<Arc<str>>, instance_id: Uuid) -> Self {
        Self::shared(Arc::new(transport), base, instance_id)
    }

    /// Like [`new`](Self::new), with a transport shared by several clients.
    pub fn shared(
        transport: Arc<dyn Transport>,
        base: impl Into<Arc<str>>,
        instance_id: Uuid,
    ) -> Self {
        Self {
            transport,
            base: base.into(),
            instance_id,
        }
    }

    /// The controller's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET /aps/2/resources/{id}`: a resource as the controller stores it.
    pub async fn resource(&self, id: &str) -> Result<Value> {
        let json = self.fetch(id).await?;
        serde_json::from_slice(&json).map_err(|e| not_json(StatusCode::OK, &e))
    }

    /// `GET /aps/2/resources/{id}` unparsed: the resource's JSON as the controller sent it.
    pub async fn fetch(&self, id: &str) -> Result<Bytes> {
        let url = self.resource_url(id, &[])?;
        self.call(Method::GET, url, Bytes::new()).await
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
        let body = serde_json::to_vec(properties)?;
        let url = self.resource_url(id, &[])?;
        let json = self.call(Method::PUT, url, Bytes::from(body)).await?;
        serde_json::from_slice(&json).map_err(|e| not_json(StatusCode::OK, &e))
    }

    /// `{base}/aps/2/resources/{id}` and then `more` segments, each escaped as one path
    /// segment.
    pub(crate) fn resource_url(&self, id: &str, more: &[&str]) -> Result<String> {
        // Only a UUID: `.`, `..` or `a/b` would name another path once the URL is resolved.
        aps_protocol::id::parse(id).map_err(|e| Error::bad_request(e.to_string()))?;
        let base = self.base.trim_end_matches('/');
        let mut url = format!("{base}/aps/2/resources");
        for segment in std::iter::once(&id).chain(more) {
            // `.` and `..` would name another path once the URL is resolved.
            if matches!(*segment, "" | "." | "..") {
                return Err(Error::bad_request(format!(
                    "`{segment}` is not a resource id or relation"
                )));
            }
            url.push('/');
            url.extend(utf8_percent_encode(segment, SEGMENT));
        }
        Ok(url)
    }

    /// Sends a call and answers the body of a 2xx; errors carry the status to answer.
    pub(crate) async fn call(&self, method: Method, url: String, body: Bytes) -> Result<Bytes> {
        let mut request = Request::builder()
            .method(method)
            .uri(url)
            .header(headers::INSTANCE_ID, self.instance_id.to_string());
        if !body.is_empty() {
            request = request.header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let request = request.body(body).map_err(|e| {
            Error::bad_request(format!("cannot call the controller at {}: {e}", self.base))
        })?;
        let response = self
            .transport
            .send(request)
            .await
            .map_err(|e| unreachable(&self.base, &*e))?;
        let status = response.status();
        let bytes = response.into_body();
        if status.is_success() {
            return Ok(bytes);
        }
        Err(match ErrorBody::from_peer(status.as_u16(), &bytes) {
            Some(body) if status.is_client_error() => {
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

pub(crate) fn not_json(status: StatusCode, error: &serde_json::Error) -> Error {
    Error::with(
        StatusCode::BAD_GATEWAY,
        "InvalidControllerResponse",
        format!("the controller answered {status} with a body that is not JSON: {error}"),
    )
}

fn unreachable(base: &str, error: &(dyn std::error::Error + Send + Sync)) -> Error {
    Error::with(
        StatusCode::BAD_GATEWAY,
        "ControllerUnreachable",
        format!("cannot reach the controller at {base}: {error}"),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Answers `status` with `body`, keeping the request it got.
    #[derive(Debug, Default)]
    pub(super) struct Scripted {
        status: StatusCode,
        body: &'static str,
        pub(super) seen: Mutex<Vec<Request<Bytes>>>,
    }

    #[async_trait]
    impl Transport for Scripted {
        async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, BoxError> {
            self.seen.lock().map_err(|e| e.to_string())?.push(request);
            let mut response = Response::new(Bytes::from_static(self.body.as_bytes()));
            *response.status_mut() = self.status;
            Ok(response)
        }
    }

    pub(super) fn scripted(
        status: StatusCode,
        body: &'static str,
    ) -> (ControllerClient, Arc<Scripted>) {
        let scripted = Arc::new(Scripted {
            status,
            body,
            ..Scripted::default()
        });
        let base = "http://controller.example:6308/prefix/";
        let instance = Uuid::from_u128(7);
        (
            ControllerClient::shared(scripted.clone(), base, instance),
            scripted,
        )
    }

    #[tokio::test]
    async fn an_update_puts_json_to_the_resource_url_as_the_instance() {
        let (client, seen) = scripted(StatusCode::OK, r#"{"quota": 6}"#);
        let stored = client
            .update(
                "6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e",
                &serde_json::json!({"quota": 6}),
            )
            .await;
        assert_eq!(stored.expect("stored")["quota"], 6);
        let seen = seen.seen.lock().expect("lock");
        let request = &seen[0];
        assert_eq!(request.method(), Method::PUT);
        assert_eq!(
            request.uri(),
            "http://controller.example:6308/prefix/aps/2/resources/6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e"
        );
        assert_eq!(
            request.headers()[headers::INSTANCE_ID],
            Uuid::from_u128(7).to_string()
        );
        assert_eq!(request.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(request.body().as_ref(), br#"{"quota":6}"#);
    }

    #[tokio::test]
    async fn the_controllers_4xx_passes_through_and_anything_else_is_a_502() {
        let body = r#"{"code": 404, "error": "NotFound", "message": "no such resource"}"#;
        let (client, _) = scripted(StatusCode::NOT_FOUND, body);
        let error = client
            .resource("6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e")
            .await
            .expect_err("404");
        assert_eq!(
            (error.status(), error.name()),
            (StatusCode::NOT_FOUND, "NotFound")
        );
        assert_eq!(error.message(), "controller: no such resource");
        let (client, _) = scripted(StatusCode::INTERNAL_SERVER_ERROR, body);
        let error = client
            .resource("6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e")
            .await
            .expect_err("500");
        assert_eq!(error.status(), StatusCode::BAD_GATEWAY);
        let (client, _) = scripted(StatusCode::OK, "<html>");
        let error = client
            .resource("6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e")
            .await
            .expect_err("not JSON");
        assert_eq!(error.name(), "InvalidControllerResponse");
    }

    #[tokio::test]
    async fn ids_that_are_not_uuids_are_refused_before_any_call() {
        let (client, seen) = scripted(StatusCode::OK, "{}");
        for id in ["", ".", "..", "a b/c", "../../etc/passwd"] {
            let error = client.fetch(id).await.expect_err(id);
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{id}");
            let error = client.unlink("r1", "domains", id).await.expect_err(id);
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{id}");
        }
        assert!(seen.seen.lock().expect("lock").is_empty());
    }
}
