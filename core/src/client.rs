//! The endpoint's client for calling the controller back, over a transport the framework gives.

use std::fmt;
use std::sync::Arc;

use aps_protocol::relation::Link;
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
///         assert_eq!(request.uri(), "http://controller.example/aps/2/resources/r1");
///         Ok(Response::new(Bytes::from_static(br#"{"quota": 5}"#)))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> aps_core::Result<()> {
/// let client = ControllerClient::new(One, "http://controller.example/", uuid::Uuid::nil());
/// let resource = client.resource("r1").await?;
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

    /// `GET /aps/2/resources/{id}/{relation}`: the resources linked to `id` through
    /// `relation`, each read into `T` (`serde_json::Value` for them as they are).
    ///
    /// ```
    /// # async fn f(ctx: &aps_core::Context, website: &str) -> aps_core::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Domain { fqdn: String }
    ///
    /// let domains: Vec<Domain> = ctx.controller().linked(website, "domains").await?;
    /// # let _ = domains.iter().map(|d| &d.fqdn); Ok(()) }
    /// ```
    pub async fn linked<T: DeserializeOwned>(&self, id: &str, relation: &str) -> Result<Vec<T>> {
        let url = self.resource_url(id, &[relation])?;
        let json = self.call(Method::GET, url, Bytes::new()).await?;
        serde_json::from_slice(&json).map_err(|e| {
            Error::with(
                StatusCode::BAD_GATEWAY,
                "InvalidControllerResponse",
                format!(
                    "the resources linked to {id} through `{relation}` do not fit the type: {e}"
                ),
            )
        })
    }

    /// `POST /aps/2/resources/{id}/{relation}`: links the resource `other` to `id` through
    /// `relation` and answers the new link. The controller checks the relation (declared,
    /// target type, cardinality) and does not notify this endpoint, which asked for it.
    pub async fn link(&self, id: &str, relation: &str, other: &str) -> Result<Link> {
        let url = self.resource_url(id, &[relation])?;
        let body = serde_json::to_vec(&serde_json::json!({"aps": {"id": other}}))?;
        let json = self.call(Method::POST, url, Bytes::from(body)).await?;
        serde_json::from_slice(&json).map_err(|e| not_json(StatusCode::CREATED, &e))
    }

    /// `DELETE /aps/2/resources/{id}/{relation}/{other}`: removes the link to `other`; a 404
    /// when it is not linked.
    pub async fn unlink(&self, id: &str, relation: &str, other: &str) -> Result<()> {
        let url = self.resource_url(id, &[relation, other])?;
        self.call(Method::DELETE, url, Bytes::new()).await?;
        Ok(())
    }

    /// `{base}/aps/2/resources/{id}` and then `more` segments, each escaped as one path
    /// segment.
    fn resource_url(&self, id: &str, more: &[&str]) -> Result<String> {
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
    async fn call(&self, method: Method, url: String, body: Bytes) -> Result<Bytes> {
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

fn not_json(status: StatusCode, error: &serde_json::Error) -> Error {
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
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Answers `status` with `body`, keeping the request it got.
    #[derive(Debug, Default)]
    struct Scripted {
        status: StatusCode,
        body: &'static str,
        seen: Mutex<Vec<Request<Bytes>>>,
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

    fn scripted(status: StatusCode, body: &'static str) -> (ControllerClient, Arc<Scripted>) {
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
    async fn an_update_puts_json_to_the_escaped_resource_url_as_the_instance() {
        let (client, seen) = scripted(StatusCode::OK, r#"{"quota": 6}"#);
        let stored = client
            .update("a b/c", &serde_json::json!({"quota": 6}))
            .await;
        assert_eq!(stored.expect("stored")["quota"], 6);
        let seen = seen.seen.lock().expect("lock");
        let request = &seen[0];
        assert_eq!(request.method(), Method::PUT);
        assert_eq!(
            request.uri(),
            "http://controller.example:6308/prefix/aps/2/resources/a%20b%2Fc"
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
        let error = client.resource("r1").await.expect_err("404");
        assert_eq!(
            (error.status(), error.name()),
            (StatusCode::NOT_FOUND, "NotFound")
        );
        assert_eq!(error.message(), "controller: no such resource");
        let (client, _) = scripted(StatusCode::INTERNAL_SERVER_ERROR, body);
        let error = client.resource("r1").await.expect_err("500");
        assert_eq!(error.status(), StatusCode::BAD_GATEWAY);
        let (client, _) = scripted(StatusCode::OK, "<html>");
        let error = client.resource("r1").await.expect_err("not JSON");
        assert_eq!(error.name(), "InvalidControllerResponse");
    }

    #[tokio::test]
    async fn links_are_listed_typed_made_and_removed_under_the_resource_as_the_instance() {
        #[derive(Debug, serde::Deserialize)]
        struct Domain {
            fqdn: String,
        }
        let (client, seen) = scripted(StatusCode::OK, r#"[{"fqdn": "a.test"}]"#);
        let domains: Vec<Domain> = client.linked("w 1", "domains").await.expect("linked");
        assert_eq!(domains[0].fqdn, "a.test");
        let link = r#"{"aps": {"link": "collection", "id": "d1", "href": "/aps/2/resources/d1"}}"#;
        let (linker, made) = scripted(StatusCode::CREATED, link);
        let made_link = linker.link("w1", "domains", "d1").await.expect("link");
        assert_eq!(made_link.id(), "d1");
        let (unlinker, removed) = scripted(StatusCode::NO_CONTENT, "");
        unlinker
            .unlink("w1", "domains", "d/1")
            .await
            .expect("unlink");
        let base = "http://controller.example:6308/prefix/aps/2/resources";
        let calls = [
            (&seen, Method::GET, format!("{base}/w%201/domains"), ""),
            (
                &made,
                Method::POST,
                format!("{base}/w1/domains"),
                r#"{"aps":{"id":"d1"}}"#,
            ),
            (
                &removed,
                Method::DELETE,
                format!("{base}/w1/domains/d%2F1"),
                "",
            ),
        ];
        for (scripted, method, uri, body) in calls {
            let seen = scripted.seen.lock().expect("lock");
            let request = &seen[0];
            assert_eq!(
                (request.method(), request.uri()),
                (&method, &uri.parse::<http::Uri>().expect("uri"))
            );
            assert_eq!(request.body().as_ref(), body.as_bytes());
            assert_eq!(
                request.headers()[headers::INSTANCE_ID],
                Uuid::from_u128(7).to_string()
            );
        }
        let (refusing, _) = scripted(
            StatusCode::NOT_FOUND,
            r#"{"code": 404, "error": "NotFound", "message": "not linked"}"#,
        );
        let error = refusing
            .unlink("w1", "domains", "d9")
            .await
            .expect_err("404");
        assert_eq!(error.status(), StatusCode::NOT_FOUND);
        let (typo, _) = scripted(StatusCode::OK, r#"[{"name": "x"}]"#);
        let error = typo
            .linked::<Domain>("w1", "domains")
            .await
            .expect_err("unfit");
        assert_eq!(error.name(), "InvalidControllerResponse");
    }

    #[tokio::test]
    async fn ids_that_would_name_another_path_are_refused_before_any_call() {
        let (client, seen) = scripted(StatusCode::OK, "{}");
        for id in ["", ".", ".."] {
            let error = client.fetch(id).await.expect_err(id);
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{id}");
            let error = client.unlink("r1", "domains", id).await.expect_err(id);
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{id}");
        }
        assert!(seen.seen.lock().expect("lock").is_empty());
    }
}
