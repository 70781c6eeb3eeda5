//! Resource types and a small fake controller for the protocol tests.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aps::{App, Context, Error, Outcome, Provisionable, Reply, Resource, Result};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The application root.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Globals {
    #[serde(flatten)]
    resource: Resource,
}

impl Provisionable for Globals {}

/// A mailbox whose creation and removal run in the background.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Mailbox {
    /// Quota in MiB.
    pub quota: u64,
    #[serde(default)]
    pub job: Option<String>,
    #[serde(default)]
    pub usage: Option<u64>,
    /// A fraction: read through the flattened `Resource` with exact numbers on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    #[serde(flatten)]
    pub resource: Resource,
}

#[aps::operations]
impl Provisionable for Mailbox {
    /// A custom operation: the usage over the last days, in MiB.
    #[operation(GET, "/usage")]
    async fn usage_over(&self, _ctx: &Context, #[query] days: u32) -> Result<Reply<u64>> {
        tracing::info!("counting {days} days");
        Ok(Reply::json(
            self.usage.unwrap_or_default() * u64::from(days),
        ))
    }

    async fn provision(&mut self, ctx: &Context) -> Result<Outcome> {
        tracing::info!("creating the mailbox");
        match self.quota {
            0 => Err(Error::bad_request("quota must be positive")),
            13 => {
                let n: u64 = "thirteen".parse()?;
                Ok(Outcome::accepted(format!("{n}"), 1))
            }
            666 => Ok(Outcome::accepted(
                "line one\r\nX-Injected: yes\0".repeat(1000),
                0,
            )),
            99 => panic!("the quota table is empty"),
            q if q > 1000 => {
                tracing::warn!("a mailbox of {q} MiB");
                Ok(Outcome::accepted("Creating a large mailbox", 60))
            }
            _ => {
                self.job = Some(format!("job-for-{}", ctx.instance_id()));
                Ok(Outcome::accepted("Creating the mailbox", 0))
            }
        }
    }

    async fn provision_async(&mut self, ctx: &Context) -> Result<Outcome> {
        assert_eq!(ctx.phase(), aps::Phase::Async);
        Ok(Outcome::done())
    }

    /// Growing past 1000 MiB runs in the background; the async phase checks the controller's
    /// copy and notes the old quota there.
    async fn configure(&mut self, _ctx: &Context) -> Result<Outcome> {
        if self.quota > 1000 {
            return Ok(Outcome::accepted("Growing the mailbox", 2));
        }
        Ok(Outcome::done())
    }

    async fn configure_async(&mut self, ctx: &Context) -> Result<Outcome> {
        let id = self.resource.id().unwrap_or_default().to_owned();
        let stored: Mailbox = ctx.controller().resource_as(&id).await?;
        let noted = ctx
            .controller()
            .update(&id, &json!({"grownFrom": stored.quota}))
            .await?;
        self.resource
            .unknown
            .insert("grownFrom".into(), noted["grownFrom"].clone());
        Ok(Outcome::done())
    }

    async fn unprovision(&mut self, _ctx: &Context) -> Result<Outcome> {
        Ok(Outcome::accepted("Removing the mailbox", 5))
    }

    async fn unprovision_async(&mut self, _ctx: &Context) -> Result<Outcome> {
        Ok(Outcome::done())
    }

    async fn retrieve(&mut self, _ctx: &Context) -> Result<()> {
        self.usage = Some(42);
        Ok(())
    }
}

/// Answers 202 but forgot its async twin.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Forgetful {
    #[serde(flatten)]
    resource: Resource,
}

#[aps::async_trait]
impl Provisionable for Forgetful {
    async fn provision(&mut self, _ctx: &Context) -> Result<Outcome> {
        Ok(Outcome::accepted("started", 10))
    }
}

pub fn app() -> App {
    App::new("mail")
        .id("http://example.com/mail")
        .version("2.1", "7")
        .root_service::<Globals>("globals", "globals/1.0")
        .service::<Mailbox>("mailbox", "mailbox/1.0")
        .service::<Forgetful>("forgetful", "http://example.com/other/forgetful/1.0")
}

/// Serves `router` on a free loopback port.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A controller that serves stored resources at `/aps/2/resources/{id}` (GET and PUT) and their
/// subscriptions at `/aps/2/resources/{id}/aps/subscriptions`, and remembers the
/// `APS-Instance-ID` of each call.
#[derive(Clone, Default)]
pub struct FakeController {
    pub resources: Arc<Mutex<HashMap<String, Value>>>,
    pub callers: Arc<Mutex<Vec<String>>>,
    /// Subscriptions, each with its subscriber's id, in the order they were made.
    pub subscriptions: Arc<Mutex<Vec<(String, Value)>>>,
}

impl FakeController {
    pub async fn start(self) -> String {
        let router = Router::new()
            .route("/aps/2/resources/{id}", get(load).put(update))
            .route(
                "/aps/2/resources/{id}/aps/subscriptions",
                get(subscriptions).post(subscribe),
            )
            .route(
                "/aps/2/resources/{id}/aps/subscriptions/{sid}",
                get(subscription).delete(unsubscribe),
            )
            .with_state(self);
        format!("http://{}", serve(router).await)
    }

    pub fn store(&self, id: &str, resource: Value) {
        self.resources.lock().unwrap().insert(id.into(), resource);
    }
}

async fn load(
    State(c): State<FakeController>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> (StatusCode, Json<Value>) {
    c.callers.lock().unwrap().push(caller(&headers));
    match c.resources.lock().unwrap().get(&id) {
        Some(resource) => (StatusCode::OK, Json(resource.clone())),
        None => (
            StatusCode::NOT_FOUND,
            Json(
                json!({"code": 404, "error": "ResourceNotFound", "message": format!("no resource {id}")}),
            ),
        ),
    }
}

fn caller(headers: &HeaderMap) -> String {
    headers
        .get("aps-instance-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Merges the body's properties into the stored resource and answers the result.
async fn update(
    State(c): State<FakeController>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(properties): Json<Value>,
) -> (StatusCode, Json<Value>) {
    c.callers.lock().unwrap().push(caller(&headers));
    let mut resources = c.resources.lock().unwrap();
    let Some(Value::Object(stored)) = resources.get_mut(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"code": 404, "error": "ResourceNotFound", "message": id})),
        );
    };
    if let Value::Object(properties) = properties {
        stored.extend(properties);
    }
    (StatusCode::OK, Json(Value::Object(stored.clone())))
}

fn not_found(what: String) -> (StatusCode, Json<Value>) {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"code": 404, "error": "NotFound", "message": what})),
    )
}

/// Gives the subscription an id and keeps it: 201 with it.
async fn subscribe(
    State(c): State<FakeController>,
    Path(id): Path<String>,
    Json(mut wanted): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !c.resources.lock().unwrap().contains_key(&id) {
        return not_found(format!("no resource {id}"));
    }
    let mut subscriptions = c.subscriptions.lock().unwrap();
    wanted["id"] = json!(format!("sub-{}", subscriptions.len() + 1));
    subscriptions.push((id, wanted.clone()));
    (StatusCode::CREATED, Json(wanted))
}

async fn subscriptions(State(c): State<FakeController>, Path(id): Path<String>) -> Json<Value> {
    let subscriptions = c.subscriptions.lock().unwrap();
    let of: Vec<Value> = subscriptions
        .iter()
        .filter(|(subscriber, _)| *subscriber == id)
        .map(|(_, s)| s.clone())
        .collect();
    Json(Value::Array(of))
}

async fn subscription(
    State(c): State<FakeController>,
    Path((id, sid)): Path<(String, String)>,
) -> (StatusCode, Json<Value>) {
    let subscriptions = c.subscriptions.lock().unwrap();
    subscriptions
        .iter()
        .find(|(subscriber, s)| *subscriber == id && s["id"] == sid)
        .map_or_else(
            || not_found(format!("no subscription {sid}")),
            |(_, s)| (StatusCode::OK, Json(s.clone())),
        )
}

async fn unsubscribe(
    State(c): State<FakeController>,
    Path((id, sid)): Path<(String, String)>,
) -> (StatusCode, Json<Value>) {
    let mut subscriptions = c.subscriptions.lock().unwrap();
    let before = subscriptions.len();
    subscriptions.retain(|(subscriber, s)| !(*subscriber == id && s["id"] == sid));
    if subscriptions.len() == before {
        return not_found(format!("no subscription {sid}"));
    }
    (StatusCode::NO_CONTENT, Json(Value::Null))
}
