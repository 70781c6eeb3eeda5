//! Hosting's events and usage through a real controller (the framework's test kit): a website
//! configured through `/api/v1` notifies every domain, whose handler notes the serial in
//! `lastSerial` through the controller; a refresh of a website synchronizes its growing
//! `diskUsage` as a task.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::time::Duration;

use aps::testkit::{ControllerBuilder, State, TestController};
use aps_test_support::wait::until;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// A controller at the test kit's time scale whose periodic usage refresh stays out of the way
/// (its `changed` events would add notifications the tests do not expect).
async fn start() -> TestController {
    let builder = ControllerBuilder::default()
        .time_scale(1000.0)
        .usage_interval(Duration::from_secs(30 * 24 * 3600));
    aps::testkit::start_with(&hosting::app(), builder)
        .await
        .unwrap()
}

/// Provisions a resource and waits for it; answers its id.
async fn provisioned(c: &TestController, service: &str, properties: Value) -> Uuid {
    let task = c.provision(service, properties).await.unwrap();
    let task = c.wait(&task).await.unwrap();
    assert_eq!(task.state, State::Success, "{task:?}");
    task.resource.id
}

/// What `GET path` answers, which must be 200.
async fn got(c: &TestController, path: &str) -> Value {
    let answer = c.client().send(Method::GET, path, None).await.unwrap();
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    answer.body
}

/// Configures `site` with `properties`, waiting for the endpoint's answer.
async fn configure(c: &TestController, site: Uuid, properties: Value) {
    let path = format!("/api/v1/resources/{site}");
    let body = json!({"resource": properties, "timeout": -1});
    let answer = c
        .client()
        .send(Method::PUT, &path, Some(&body))
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// Waits until the domain's stored `lastSerial` is `serial`.
async fn last_serial_becomes(c: &TestController, domain: Uuid, serial: u64) {
    let path = format!("/api/v1/resources/{domain}");
    until(
        &format!("lastSerial {serial}"),
        Duration::from_secs(30),
        || {
            let path = path.clone();
            async move { got(c, &path).await["lastSerial"] == serial }
        },
    )
    .await;
}

#[tokio::test]
async fn a_changed_website_reaches_every_domain_once() {
    let c = start().await;
    let site = provisioned(&c, "websites", json!({"name": "shop"})).await;
    let domain = provisioned(&c, "domains", json!({"fqdn": "shop.example"})).await;
    assert_eq!(
        got(&c, &format!("/api/v1/resources/{domain}")).await["lastSerial"],
        0
    );

    // The domain's schema subscribes it to `changed` of websites, with its handler.
    let subscriptions = got(&c, &format!("/api/v1/subscriptions?resource={domain}")).await;
    let items = subscriptions["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{subscriptions}");
    let subscription = &items[0];
    assert_eq!(
        subscription["event"],
        "http://aps-standard.org/core/events/changed"
    );
    assert_eq!(subscription["subscriber"], domain.to_string());
    let id = subscription["id"].as_str().unwrap().to_owned();

    configure(&c, site, json!({"plan": "pro"})).await;
    last_serial_becomes(&c, domain, 1).await;
    configure(&c, site, json!({"plan": "basic"})).await;
    last_serial_becomes(&c, domain, 2).await;

    let deliveries = got(&c, &format!("/api/v1/subscriptions/{id}/deliveries")).await;
    let items = deliveries["items"].as_array().unwrap();
    let serials: Vec<_> = items.iter().map(|d| d["serial"].as_u64()).collect();
    assert_eq!(serials, [Some(1), Some(2)], "{deliveries}");
    for delivery in items {
        assert!(delivery["delivered"].is_string(), "{delivery}");
        assert_eq!(delivery["notification"]["source"]["id"], site.to_string());
    }
    let handled = c
        .calls()
        .iter()
        .filter(|call| call.path == format!("/domains/{domain}/website-changed"))
        .count();
    assert_eq!(handled, 2, "each notification reached the handler once");
}

#[tokio::test]
async fn a_refresh_synchronizes_the_growing_disk_usage() {
    let c = start().await;
    let site = provisioned(&c, "websites", json!({"name": "shop"})).await;
    let refresh = format!("/api/v1/resources/{site}/refresh");
    let usage = |resource: &Value| resource["diskUsage"]["usage"].as_i64().unwrap();

    let first = c
        .client()
        .send(Method::POST, &refresh, Some(&json!({"timeout": -1})))
        .await
        .unwrap();
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["diskUsage"]["limit"], 1_024);
    assert_eq!(first.body["diskUsage"]["unit"], "MB");
    let stored = got(&c, &format!("/api/v1/resources/{site}")).await;
    assert!(usage(&stored) >= usage(&first.body), "{stored}");

    let second = c
        .client()
        .send(Method::POST, &refresh, Some(&json!({"timeout": -1})))
        .await
        .unwrap();
    assert_eq!(second.status, 200, "{}", second.body);
    assert!(usage(&second.body) > usage(&first.body), "{}", second.body);
    assert_eq!(second.body["aps"]["status"], "aps:ready");

    let tasks = c.client().tasks(&format!("resource={site}")).await.unwrap();
    let syncs: Vec<_> = tasks
        .iter()
        .filter(|t| t.name.starts_with("Synchronizing resource usage"))
        .collect();
    assert!(syncs.len() >= 2, "{tasks:?}");
    assert!(syncs.iter().all(|t| t.state == State::Success), "{syncs:?}");
}
