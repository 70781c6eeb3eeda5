//! Events (controller-api.md, "Events"): subscriptions declared by a type schema and made by
//! endpoints under `/aps/2/…/aps/subscriptions`, notifications written with their change and
//! delivered at least once, in order per subscription, with growing serials, through an
//! endpoint that fails for a while, and across a kill -9 of the controller.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aps_controller::testkit::TestController;
use aps_controller::{Client, Controller, PackageModel};
use aps_test_support::wait::until;
use axum::Router;
use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use common::{Binary, Scripted, THING, eventually, get, http, link_to, made, serve, zip_of};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// What the subscriber's handler saw, and how many more calls it fails.
#[derive(Clone, Default)]
struct Handler {
    seen: Arc<Mutex<Vec<(Value, bool)>>>,
    failures: Arc<Mutex<u32>>,
    /// Subscribers whose handler always fails (503).
    broken: Arc<Mutex<Vec<String>>>,
}

impl Handler {
    /// The notifications accepted, in order.
    fn accepted(&self) -> Vec<Value> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|(_, ok)| *ok)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The serials of every call, accepted or not.
    fn serials(&self) -> Vec<u64> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .map(|(n, _)| n["serial"].as_u64().unwrap())
            .collect()
    }
}

async fn on_event(
    State(handler): State<Handler>,
    Path(subscriber): Path<String>,
    Json(body): Json<Value>,
) -> StatusCode {
    if handler.broken.lock().unwrap().contains(&subscriber) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let mut failures = handler.failures.lock().unwrap();
    let ok = *failures == 0;
    *failures = failures.saturating_sub(1);
    handler.seen.lock().unwrap().push((body, ok));
    if ok {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// The linked package, where a `part` has the handler `onEvent` (`POST /onEvent`) and
/// subscribes to `changed` of every `thing` by its schema.
fn package() -> PackageModel {
    let mut model = Scripted::linked_model();
    for (service, schema) in &mut model.schemas {
        if service == "part" {
            schema.operations.insert(
                "onEvent".into(),
                serde_json::from_value(json!({"verb": "POST", "path": "/onEvent"})).unwrap(),
            );
            schema.other.insert(
                "subscriptions".into(),
                json!([{"event": "changed", "source": {"type": THING}, "handler": "onEvent"}]),
            );
        }
    }
    model
}

async fn start(failures: u32) -> (TestController, Handler) {
    let handler = Handler::default();
    *handler.failures.lock().unwrap() = failures;
    let router = Router::new()
        .route("/part/{id}/onEvent", post(on_event))
        .with_state(handler.clone())
        .merge(Scripted::default().router());
    let builder = Controller::builder().time_scale(1000.0);
    let c = TestController::start_with(router, package(), builder)
        .await
        .unwrap();
    (c, handler)
}

async fn configure(c: &TestController, id: &str, label: &str) {
    let path = format!("/api/v1/resources/{id}");
    let (status, _, body) = http(
        c,
        Method::PUT,
        &path,
        Some(json!({"resource": {"label": label}})),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn every_change_is_one_notification_per_subscription_with_growing_serials() {
    let (c, handler) = start(0).await;
    let part = made(&c, "part", json!({"serial": "p1"})).await;
    let thing = made(&c, "thing", json!({})).await;
    // The declared subscription of the part, made when it was provisioned.
    let (status, _, listed) = get(&c, &format!("/api/v1/subscriptions?resource={part}")).await;
    assert_eq!(status, 200, "{listed}");
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(
        items[0]["event"],
        "http://aps-standard.org/core/events/changed"
    );
    assert_eq!(items[0]["subscriber"], part.as_str());
    let sid = items[0]["id"].as_str().unwrap().to_owned();

    configure(&c, &thing, "one").await;
    configure(&c, &thing, "two").await;
    // The endpoint changing the thing itself is a change too.
    let instance = c.application().to_string();
    let (status, _, body) = http(
        &c,
        Method::PUT,
        &format!("/aps/2/resources/{thing}"),
        Some(json!({"label": "three"})),
        &[("aps-instance-id", instance.as_str())],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    eventually(30, || handler.accepted().len() >= 3).await;
    let accepted = handler.accepted();
    assert_eq!(handler.serials(), [1, 2, 3]);
    for notification in &accepted {
        assert_eq!(
            notification["event"],
            "http://aps-standard.org/core/events/changed"
        );
        assert_eq!(notification["subscription"], sid.as_str());
        assert_eq!(notification["source"]["id"], thing.as_str());
        assert_eq!(notification["source"]["type"], THING);
    }
    // The provisioning of the thing was `available`, which nobody subscribed to. The store
    // records a delivery just after the handler accepted it.
    let path = format!("/api/v1/subscriptions/{sid}/deliveries");
    let c = &c;
    until("every delivery recorded", Duration::from_secs(30), || {
        let path = path.clone();
        async move {
            let (_, _, deliveries) = get(c, &path).await;
            let items = deliveries["items"].as_array().unwrap().clone();
            items.len() == 3 && items.iter().all(|d| !d["delivered"].is_null())
        }
    })
    .await;
    let (_, _, deliveries) = get(c, &path).await;
    let serials: Vec<&Value> = deliveries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["serial"])
        .collect();
    assert_eq!(serials, [1, 2, 3]);
}

#[tokio::test]
async fn a_failing_handler_gets_each_notification_once_accepted_in_order() {
    let (c, handler) = start(3).await;
    let _part = made(&c, "part", json!({"serial": "p1"})).await;
    let thing = made(&c, "thing", json!({})).await;
    configure(&c, &thing, "one").await;
    configure(&c, &thing, "two").await;
    eventually(60, || handler.accepted().len() >= 2).await;
    let accepted: Vec<u64> = handler
        .accepted()
        .iter()
        .map(|n| n["serial"].as_u64().unwrap())
        .collect();
    assert_eq!(accepted, [1, 2]);
    // Three failures of the first, then each once: the second never before the first.
    assert_eq!(handler.serials(), [1, 1, 1, 1, 2]);
}

#[tokio::test]
async fn a_subscriber_that_keeps_failing_holds_back_only_its_own_notifications() {
    let (c, handler) = start(0).await;
    let broken = made(&c, "part", json!({"serial": "broken"})).await;
    handler.broken.lock().unwrap().push(broken.clone());
    let _working = made(&c, "part", json!({"serial": "working"})).await;
    let thing = made(&c, "thing", json!({})).await;
    configure(&c, &thing, "one").await;
    configure(&c, &thing, "two").await;
    eventually(30, || handler.accepted().len() >= 2).await;
    assert_eq!(handler.serials(), [1, 2]);
    // The broken one still owes its first, retried, and its second waits behind it.
    let (_, _, listed) = get(&c, &format!("/api/v1/subscriptions?resource={broken}")).await;
    let sid = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/subscriptions/{sid}/deliveries");
    let c = &c;
    until(
        "the broken subscriber's retries",
        Duration::from_secs(30),
        || {
            let path = path.clone();
            async move {
                let (_, _, deliveries) = get(c, &path).await;
                deliveries["items"][0]["attempts"].as_u64() >= Some(2)
            }
        },
    )
    .await;
    let (_, _, deliveries) = get(c, &path).await;
    let items = deliveries["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{deliveries}");
    assert!(
        items.iter().all(|d| d["delivered"].is_null()),
        "{deliveries}"
    );
    assert_eq!(items[0]["lastError"], "answered 503");
    assert_eq!(items[1]["attempts"], 0, "{deliveries}");
}

#[tokio::test]
async fn endpoints_subscribe_at_run_time_with_their_instance_credentials() {
    let (c, handler) = start(0).await;
    let part = made(&c, "part", json!({"serial": "p1"})).await;
    let thing = made(&c, "thing", json!({})).await;
    let instance = c.application().to_string();
    let own = [("aps-instance-id", instance.as_str())];
    let path = format!("/aps/2/resources/{part}/aps/subscriptions");
    let request = json!({
        "event": "linked", "source": {"id": thing}, "relation": "parts", "handler": "onEvent"
    });
    // Only the owning instance may.
    let (status, _, _) = http(&c, Method::POST, &path, Some(request.clone()), &[]).await;
    assert_eq!(status, 403);
    let bad = json!({"event": "linked", "source": {"id": thing}, "handler": "nothing"});
    let (status, _, body) = http(&c, Method::POST, &path, Some(bad), &own).await;
    assert_eq!(status, 400, "{body}");
    let bad = json!({"event": "moved", "source": {"id": thing}, "handler": "onEvent"});
    let (status, _, body) = http(&c, Method::POST, &path, Some(bad), &own).await;
    assert_eq!(status, 400, "{body}");

    let (status, _, made_one) = http(&c, Method::POST, &path, Some(request), &own).await;
    assert_eq!(status, 201, "{made_one}");
    assert_eq!(
        made_one["event"],
        "http://aps-standard.org/core/events/linked"
    );
    let sid = made_one["id"].as_str().unwrap().to_owned();
    let (status, _, listed) = http(&c, Method::GET, &path, None, &own).await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");

    let parts = format!("/api/v1/resources/{thing}/parts");
    let (status, _, _) = http(&c, Method::POST, &parts, Some(link_to(&part)), &[]).await;
    assert_eq!(status, 201);
    eventually(30, || !handler.accepted().is_empty()).await;
    let notification = &handler.accepted()[0];
    assert_eq!(
        notification["event"],
        "http://aps-standard.org/core/events/linked"
    );
    assert_eq!(notification["subscription"], sid.as_str());
    assert_eq!(notification["serial"], 1);

    let one = format!("{path}/{sid}");
    let (status, _, shown) = http(&c, Method::GET, &one, None, &own).await;
    assert_eq!((status, &shown["id"]), (200, &json!(sid)));
    let (status, _, _) = http(&c, Method::DELETE, &one, None, &own).await;
    assert_eq!(status, 204);
    let (status, _, body) = http(&c, Method::GET, &one, None, &own).await;
    assert_eq!(status, 404, "{body}");
}

/// Provisions through a client and waits; answers the resource id.
async fn provisioned(client: &Client, app: Uuid, service: &str, properties: Value) -> Uuid {
    let task = client.provision(app, service, properties).await.unwrap();
    let task = client.wait(task.id, |_| {}).await.unwrap();
    assert_eq!(task.state, aps_controller::State::Success, "{task:?}");
    task.resource.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_owed_when_the_controller_is_killed_are_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("events.db").display());
    let handler = Handler::default();
    // The handler fails until the controller has been killed.
    *handler.failures.lock().unwrap() = u32::MAX;
    let router = Router::new()
        .route("/part/{id}/onEvent", post(on_event))
        .with_state(handler.clone())
        .merge(Scripted::default().router());
    let endpoint = serve(router).await;
    let args = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--insecure-http",
        "--time-scale",
        "1000",
        "--db",
        db.as_str(),
    ];
    let mut first = Binary::start(dir.path(), &args, &[]);
    let client = Client::new(&first.listening().await);
    let package: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/packages", first.listening().await))
        .body(zip_of(&package()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let package: Uuid = package["id"].as_str().unwrap().parse().unwrap();
    let install = client.install(package, &endpoint, json!({})).await.unwrap();
    let app = client.wait(install.id, |_| {}).await.unwrap().application;
    let part = provisioned(&client, app, "part", json!({"serial": "p1"})).await;
    let thing = provisioned(&client, app, "thing", json!({})).await;
    for label in ["one", "two"] {
        let body = json!({"resource": {"label": label}});
        let path = format!("/api/v1/resources/{thing}");
        let answer = client.send(Method::PUT, &path, Some(&body)).await.unwrap();
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    // Both are owed (the first tried at least once) when the process dies.
    eventually(30, || !handler.serials().is_empty()).await;
    let listed = client
        .send(
            Method::GET,
            &format!("/api/v1/subscriptions?resource={part}"),
            None,
        )
        .await
        .unwrap();
    let sid = listed.body["items"][0]["id"].as_str().unwrap().to_owned();
    first.kill().await;
    assert!(handler.accepted().is_empty());

    *handler.failures.lock().unwrap() = 0;
    let mut second = Binary::start(dir.path(), &args, &[]);
    let client = Client::new(&second.listening().await);
    eventually(30, || handler.accepted().len() >= 2).await;
    let accepted: Vec<(u64, String)> = handler
        .accepted()
        .iter()
        .map(|n| {
            let serial = n["serial"].as_u64().unwrap();
            (serial, n["subscription"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(accepted, [(1, sid.clone()), (2, sid)]);
    // Every call before the kill carried serial 1 (the second waited behind it).
    let serials = handler.serials();
    assert_eq!(
        serials.iter().filter(|s| **s == 2).count(),
        1,
        "{serials:?}"
    );
    // The restarted controller records both as delivered.
    let path = format!("/api/v1/subscriptions/{}/deliveries", accepted[0].1);
    let client = &client;
    until("both deliveries recorded", Duration::from_secs(30), || {
        let path = path.clone();
        async move {
            let answer = client.send(Method::GET, &path, None).await.unwrap();
            let items = answer.body["items"].as_array().unwrap().clone();
            items.len() == 2 && items.iter().all(|d| !d["delivered"].is_null())
        }
    })
    .await;
}
