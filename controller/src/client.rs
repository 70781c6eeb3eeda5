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

use aps_protocol::ErrorBody;
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
        let (status, bytes) = match &self.transport {
            Transport::Http(http) => {
                let mut request = http.request(method, format!("{}{path}", self.base));
                if let Some(token) = &self.token {
                    request = request.bearer_auth(token);
                }
                if let Some(body) = body {
                    request = request.json(body);
                }
                let response = request.send().await?;
                (response.status().as_u16(), response.bytes().await?)
            }
            #[cfg(feature = "engine")]
            Transport::InProcess(router) => {
                in_process(router, method, path, body, self.token.as_deref()).await?
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

    /// Tasks, newest first; `query` is the query string without `?` (e.g. `state=running`).
    pub async fn tasks(&self, query: &str) -> Result<Vec<Task>, Error> {
        #[derive(serde::Deserialize)]
        struct Items {
            items: Vec<Task>,
        }
        let path = format!("/api/v1/tasks?{query}");
        Ok(self
            .send(Method::GET, &path, None)
            .await?
            .parse::<Items>()?
            .items)
    }
}

/// One request through the controller's routes, in-process.
#[cfg(feature = "engine")]
async fn in_process(
    router: &axum::Router,
    method: Method,
    path: &str,
    body: Option<&Value>,
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
