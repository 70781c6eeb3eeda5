//! A client of the controller's API, for the command line, the `dev` command and the test kit.
//!
//! ```no_run
//! # async fn demo() -> Result<(), aps_controller::Error> {
//! use aps_controller::Client;
//! use serde_json::json;
//!
//! let client = Client::new("http://127.0.0.1:6308");
//! let app = "6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e".parse().unwrap();
//! let task = client.provision(app, "provisionable", json!({})).await?;
//! let task = client.wait(task.id, |t| println!("{:?}", t.output)).await?;
//! println!("{}: {:?}", task.name, task.state);
//! # Ok(()) }
//! ```

use std::str::FromStr;

use aps_protocol::ErrorBody;
use aps_protocol::operation::OperationDecl;
use aps_protocol::relation::Link;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Error;
use crate::task::Task;

/// The longest long poll the API allows, in seconds.
const POLL_SECS: u64 = 120;

/// Talks to a controller's `/api/v1`.
#[derive(Clone)]
pub struct Client {
    base: String,
    transport: Transport,
    /// Sent as `Authorization: Bearer`.
    token: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token: a client may well end up in a log line.
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("transport", &self.transport)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish()
    }
}

/// How requests reach the controller.
#[derive(Debug, Clone)]
enum Transport {
    Http(reqwest::Client),
    /// The controller's routes, called in-process (no socket: what a paused clock needs).
    #[cfg(feature = "engine")]
    InProcess(axum::Router),
}

/// An answer: its HTTP status and JSON body (`null` when empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Answer {
    /// The body as `T` when the status is 2xx, else the APS error.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, Error> {
        if !(200..300).contains(&self.status) {
            return Err(Error::Api(
                serde_json::from_value(self.body.clone()).unwrap_or_else(|_| {
                    ErrorBody::new(self.status, "Unexpected", self.body.to_string())
                }),
            ));
        }
        serde_json::from_value(self.body).map_err(|e| Error::Unexpected(e.to_string()))
    }
}

impl Client {
    /// A client of the controller at `base`, e.g. `http://127.0.0.1:6308`.
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            transport: Transport::Http(reqwest::Client::new()),
            token: None,
        }
    }

    /// A client that calls the controller's routes (see
    /// [`Controller::router`](crate::Controller::router)) in-process, without a socket.
    #[cfg(feature = "engine")]
    pub fn in_process(router: axum::Router) -> Self {
        Self {
            base: String::new(),
            transport: Transport::InProcess(router),
            token: None,
        }
    }

    /// A client of the controller at `base` that also trusts the CA certificates in `ca_pem`
    /// (the controller's own CA, for its TLS API). Unusable PEM is ignored with a warning.
    pub fn trusting(base: &str, ca_pem: &str) -> Self {
        let mut builder = reqwest::Client::builder();
        match reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes()) {
            Ok(certs) => {
                for cert in certs {
                    builder = builder.add_root_certificate(cert);
                }
            }
            Err(error) => tracing::warn!(%error, "the CA certificate is not usable"),
        }
        Self {
            base: base.trim_end_matches('/').to_owned(),
            transport: Transport::Http(builder.build().unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot build a client trusting the CA; using the defaults");
                reqwest::Client::new()
            })),
            token: None,
        }
    }

    /// The same client, sending `token` (an API token) as `Authorization: Bearer`.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sends a request to a path of the controller (e.g. `/api/v1/tasks`).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Error> {
        self.send_preferring(method, path, body, None).await
    }

    /// Sends a request with a `Prefer` header (`respond-async`, `wait=N`), when given.
    async fn send_preferring(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        prefer: Option<&str>,
    ) -> Result<Answer, Error> {
        let (status, bytes) = match &self.transport {
            Transport::Http(http) => {
                let mut request = http.request(method, format!("{}{path}", self.base));
                if let Some(token) = &self.token {
                    request = request.bearer_auth(token);
                }
                if let Some(body) = body {
                    request = request.json(body);
                }
                if let Some(prefer) = prefer {
                    request = request.header("prefer", prefer);
                }
                let response = request.send().await?;
                (response.status().as_u16(), response.bytes().await?)
            }
            #[cfg(feature = "engine")]
            Transport::InProcess(router) => {
                let token = self.token.as_deref();
                in_process(router, method, path, body, prefer, token).await?
            }
        };
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| Error::Unexpected(format!("{status}: {e}")))?
        };
        Ok(Answer { status, body })
    }

    /// Installs an instance of an imported package on an endpoint; answers at once with the task.
    pub async fn install(
        &self,
        package: Uuid,
        endpoint: &str,
        settings: Value,
    ) -> Result<Task, Error> {
        let body =
            json!({"package": package, "endpoint": endpoint, "settings": settings, "timeout": 0});
        self.send(Method::POST, "/api/v1/applications", Some(&body))
            .await?
            .parse()
    }

    /// Provisions a resource of a type (type id or service id); answers at once with the task.
    pub async fn provision(
        &self,
        application: Uuid,
        type_id: &str,
        properties: Value,
    ) -> Result<Task, Error> {
        let mut resource = if properties.is_object() {
            properties
        } else {
            json!({})
        };
        resource["aps"] = json!({"type": type_id});
        let body = json!({"application": application, "resource": resource, "timeout": 0});
        self.send(Method::POST, "/api/v1/resources", Some(&body))
            .await?
            .parse()
    }

    /// The task now.
    pub async fn task(&self, id: Uuid) -> Result<Task, Error> {
        self.send(Method::GET, &format!("/api/v1/tasks/{id}"), None)
            .await?
            .parse()
    }

    /// Long-polls a task: answers once its revision is past `revision`, or after `secs`.
    pub async fn poll(&self, id: Uuid, revision: u64, secs: u64) -> Result<Task, Error> {
        let path = format!("/api/v1/tasks/{id}?poll_timeout={secs}&since_revision={revision}");
        self.send(Method::GET, &path, None).await?.parse()
    }

    /// Long-polls a task until it ends, calling `progress` with every change seen.
    pub async fn wait(&self, id: Uuid, mut progress: impl FnMut(&Task)) -> Result<Task, Error> {
        let mut task = self.task(id).await?;
        progress(&task);
        while !task.state.is_terminal() {
            let next = self.poll(id, task.revision, POLL_SECS).await?;
            if next.revision != task.revision {
                progress(&next);
            }
            task = next;
        }
        Ok(task)
    }

    /// The declaration of a resource's custom operation, from the package its type is in.
    pub async fn operation(&self, resource: Uuid, name: &str) -> Result<OperationDecl, Error> {
        let shown: Value = self
            .send(Method::GET, &format!("/api/v1/resources/{resource}"), None)
            .await?
            .parse()?;
        let type_id = shown.pointer("/aps/type").and_then(Value::as_str);
        let packages: Items<Value> = self
            .send(Method::GET, "/api/v1/packages", None)
            .await?
            .parse()?;
        // The newest package with the type that declares the operation.
        let declared = packages
            .items
            .iter()
            .rev()
            .filter_map(|p| p["services"].as_array())
            .flatten()
            .filter(|s| s["type"].as_str() == type_id)
            .find_map(|s| s["operations"].get(name).cloned());
        let declared = declared.ok_or_else(|| {
            Error::Api(ErrorBody::new(
                404,
                "NotFound",
                format!("Resource {resource} has no operation `{name}`"),
            ))
        })?;
        serde_json::from_value(declared).map_err(|e| Error::Unexpected(e.to_string()))
    }

    /// Calls a resource's custom operation (its verb and path looked up with
    /// [`Client::operation`]) with query parameters and a JSON body. `wait` is how long the
    /// controller may wait for the answer: `Some(0)` answers 202 with the task at once, `None`
    /// waits the controller's default. The answer is the endpoint's (200 with its body, 204),
    /// a 202 with the task, or the error.
    pub async fn call(
        &self,
        resource: Uuid,
        operation: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        wait: Option<u64>,
    ) -> Result<Answer, Error> {
        let declared = self.operation(resource, operation).await?;
        let mut path = format!("/api/v1/resources/{resource}{}", declared.path);
        if !query.is_empty() {
            // `url` comes with the engine only; reqwest's `Url` encodes the same way.
            let mut encoded = reqwest::Url::from_str("http://query.invalid/")
                .map_err(|e| Error::Unexpected(e.to_string()))?;
            encoded.query_pairs_mut().extend_pairs(query);
            path = format!("{path}?{}", encoded.query().unwrap_or_default());
        }
        let prefer = wait.map(|secs| match secs {
            0 => "respond-async".to_owned(),
            n => format!("wait={n}"),
        });
        self.send_preferring(declared.verb, &path, body, prefer.as_deref())
            .await
    }

    /// Links `relation` of a resource to `other`; answers the link.
    pub async fn link(&self, resource: Uuid, relation: &str, other: Uuid) -> Result<Link, Error> {
        let body = json!({"aps": {"id": other}});
        self.send(
            Method::POST,
            &format!("/api/v1/resources/{resource}/{relation}"),
            Some(&body),
        )
        .await?
        .parse()
    }

    /// Removes the link of `relation` of a resource to `other`.
    pub async fn unlink(&self, resource: Uuid, relation: &str, other: Uuid) -> Result<(), Error> {
        let path = format!("/api/v1/resources/{resource}/{relation}/{other}");
        self.send(Method::DELETE, &path, None).await?.parse()
    }

    /// The resources linked to a resource by `relation`.
    pub async fn links(&self, resource: Uuid, relation: &str) -> Result<Vec<Value>, Error> {
        let path = format!("/api/v1/resources/{resource}/{relation}");
        let linked: Items<Value> = self.send(Method::GET, &path, None).await?.parse()?;
        Ok(linked.items)
    }

    /// Tasks, newest first; `query` is the query string without `?` (e.g. `state=running`).
    pub async fn tasks(&self, query: &str) -> Result<Vec<Task>, Error> {
        let path = format!("/api/v1/tasks?{query}");
        Ok(self
            .send(Method::GET, &path, None)
            .await?
            .parse::<Items<Task>>()?
            .items)
    }
}

/// A listing: `{"items": […]}`.
#[derive(serde::Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

/// One request through the controller's routes, in-process.
#[cfg(feature = "engine")]
async fn in_process(
    router: &axum::Router,
    method: Method,
    path: &str,
    body: Option<&Value>,
    prefer: Option<&str>,
    token: Option<&str>,
) -> Result<(u16, bytes::Bytes), Error> {
    use tower::ServiceExt;
    let mut request = http::Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header(http::header::CONTENT_TYPE, "application/json");
    }
    if let Some(prefer) = prefer {
        request = request.header("prefer", prefer);
    }
    let request = request
        .body(axum::body::Body::from(
            body.map(Value::to_string).unwrap_or_default(),
        ))
        .map_err(|e| Error::Unexpected(e.to_string()))?;
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|e| Error::Unexpected(e.to_string()))?;
    Ok((status, bytes))
}
