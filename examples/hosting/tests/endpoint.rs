//! The hosting endpoint over real HTTP on loopback, with a small controller that serves the
//! stored websites and domain and records the changes the endpoint asks for: the operations,
//! their phases, the link handler, the notification handler and the usage counter.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use reqwest::Method;
use serde_json::{Value, json};

const INSTANCE: &str = "5bb7e1a0-7f8c-4e0a-9d3f-2a9c0b1d4e55";
// Resource ids: the endpoint takes only UUIDs in its routes.
const BASIC: &str = "0b5e0000-0000-4000-8000-000000000001";
const PRO: &str = "0b5e0000-0000-4000-8000-000000000002";
const D1: &str = "0d1d0000-0000-4000-8000-000000000001";
const D2: &str = "0d1d0000-0000-4000-8000-000000000002";
const G1: &str = "091b0000-0000-4000-8000-000000000001";

fn link(kind: &str, id: &str) -> Value {
    json!({"aps": {"link": kind, "id": id, "href": format!("/aps/2/resources/{id}")}})
}

/// A website as the controller stores it; `plan` absent when `None` (the default applies).
fn website(id: &str, plan: Option<&str>) -> Value {
    let mut site = json!({
        "aps": {"id": id, "type": "http://example.com/hosting/websites/1.0", "status": "aps:ready"},
        "name": "shop",
        "globals": link("strong", G1),
        "domains": [link("collection", D1)]
    });
    if let Some(plan) = plan {
        site["plan"] = json!(plan);
    }
    site
}

/// Serves `router` on a free loopback port and answers its URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// The domain `D1` as the controller stores it, having handled notification 3.
fn domain() -> Value {
    json!({
        "aps": {"id": D1, "type": "http://example.com/hosting/domains/1.0", "status": "aps:ready"},
        "fqdn": "shop.test", "lastSerial": 3
    })
}

/// What the controller was asked to change: `(id, properties)` of each `PUT`.
type Puts = Arc<Mutex<Vec<(String, Value)>>>;

/// The hosting endpoint and a controller that knows websites `BASIC` and `PRO` and domain
/// `D1`, and records each `PUT`.
struct Rig {
    endpoint: String,
    controller: String,
    puts: Puts,
}

impl Rig {
    async fn start() -> Self {
        let puts = Puts::default();
        let resources =
            axum::Router::new()
                .route(
                    "/aps/2/resources/{id}",
                    get(|Path(id): Path<String>| async move {
                        match id.as_str() {
                            BASIC => (StatusCode::OK, Json(website(BASIC, None))),
                            PRO => (StatusCode::OK, Json(website(PRO, Some("pro")))),
                            D1 => (StatusCode::OK, Json(domain())),
                            _ => (
                                StatusCode::NOT_FOUND,
                                Json(json!({"code": 404, "error": "NotFound", "message": id})),
                            ),
                        }
                    })
                    .put(
                        |State(puts): State<Puts>,
                         Path(id): Path<String>,
                         Json(body): Json<Value>| async move {
                            puts.lock().unwrap().push((id, body.clone()));
                            Json(body)
                        },
                    ),
                )
                .with_state(puts.clone());
        Self {
            controller: serve(resources).await,
            endpoint: serve(hosting::app().router()).await,
            puts,
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        phase: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.endpoint))
            .header("APS-Instance-ID", INSTANCE)
            .header("APS-Controller-URI", &self.controller)
            .header("APS-Request-Phase", phase);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }
}

#[tokio::test]
async fn restart_goes_on_in_the_background_and_is_done_on_the_recheck() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::POST,
            "/websites/0b5e0000-0000-4000-8000-000000000001/restart",
            "sync",
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.headers()["aps-info"], "Restarting");
    assert_eq!(r.headers()["aps-retry-timeout"], "5");
    let r = rig
        .send(
            Method::POST,
            "/websites/0b5e0000-0000-4000-8000-000000000001/restart",
            "async",
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn stats_counts_the_requests_of_the_days_asked_for_by_plan() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::GET,
            "/websites/0b5e0000-0000-4000-8000-000000000001/stats?days=3",
            "sync",
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"days": 3, "requests": 3000})
    );
    let r = rig
        .send(
            Method::GET,
            "/websites/0b5e0000-0000-4000-8000-000000000002/stats?days=3",
            "sync",
            None,
        )
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"days": 3, "requests": 30000})
    );
}

#[tokio::test]
async fn stats_without_days_is_400_naming_it() {
    let rig = Rig::start().await;
    for path in [
        "/websites/0b5e0000-0000-4000-8000-000000000001/stats",
        "/websites/0b5e0000-0000-4000-8000-000000000001/stats?days=many",
    ] {
        let r = rig.send(Method::GET, path, "sync", None).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], 400);
        assert!(
            body["message"].as_str().unwrap().contains("`days`"),
            "{body}"
        );
    }
    let r = rig
        .send(
            Method::POST,
            "/websites/0b5e0000-0000-4000-8000-000000000001/stats?days=1",
            "sync",
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "GET");
}

#[tokio::test]
async fn linking_a_domain_is_refused_unless_it_is_a_test_or_example_name() {
    let rig = Rig::start().await;
    let domain = |fqdn: &str| json!({"aps": {"id": D2, "type": "http://example.com/hosting/domains/1.0"}, "fqdn": fqdn});
    for fqdn in ["shop.test", "shop.example"] {
        let r = rig
            .send(
                Method::POST,
                "/websites/0b5e0000-0000-4000-8000-000000000001/domains",
                "sync",
                Some(domain(fqdn)),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{fqdn}");
    }
    let r = rig
        .send(
            Method::POST,
            "/websites/0b5e0000-0000-4000-8000-000000000001/domains",
            "sync",
            Some(domain("shop.com")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "shop cannot serve shop.com: only .test and .example domains are hosted"
    );
    // Unlinking has no handler: accepted.
    let r = rig
        .send(Method::DELETE, "/websites/0b5e0000-0000-4000-8000-000000000001/domains/0d1d0000-0000-4000-8000-000000000001", "sync", None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_website_reads_its_links_and_plan_default_and_writes_them_back() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::GET,
            "/websites/0b5e0000-0000-4000-8000-000000000001",
            "sync",
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut expected = website(BASIC, None);
    expected["plan"] = json!("basic");
    expected["diskUsage"] = json!({"usage": 10, "limit": 1024, "unit": "MB"});
    if cfg!(feature = "v2") {
        expected["tier"] = json!("standard");
    }
    assert_eq!(r.json::<Value>().await.unwrap(), expected);
}

#[tokio::test]
async fn retrieving_a_website_grows_its_disk_usage_by_plan_up_to_the_limit() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::GET,
            "/websites/0b5e0000-0000-4000-8000-000000000002",
            "sync",
            None,
        )
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["diskUsage"],
        json!({"usage": 100, "limit": 10240, "unit": "MB"})
    );
    // Retrieve gets the resource as the controller stored it, so the usage grows from there.
    for (stored, grown) in [(500, 510), (1020, 1024), (1024, 1024)] {
        let mut site = website(BASIC, None);
        site["diskUsage"] = json!({"usage": stored});
        assert_eq!(retrieve_stored(&rig, site).await, grown, "from {stored}");
    }
}

/// What `retrieve` answers for a website stored as `site`, served by a controller of its own.
async fn retrieve_stored(rig: &Rig, site: Value) -> i64 {
    let stored = site.clone();
    let controller = axum::Router::new().route(
        "/aps/2/resources/{id}",
        get(move || {
            let stored = stored.clone();
            async move { Json(stored) }
        }),
    );
    let controller = serve(controller).await;
    let r = reqwest::Client::new()
        .get(format!(
            "{}/websites/0b5e0000-0000-4000-8000-000000000001",
            rig.endpoint
        ))
        .header("APS-Instance-ID", INSTANCE)
        .header("APS-Controller-URI", controller)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["diskUsage"]["usage"]
        .as_i64()
        .unwrap()
}

fn notification(serial: u64) -> Value {
    json!({"event": "http://aps-standard.org/core/events/changed", "time": "2026-12-05T07:00:00Z",
           "serial": serial, "subscription": "6c1e2f4a-0000-4000-8000-000000000001",
           "source": {"type": "http://example.com/hosting/websites/1.0", "id": BASIC}})
}

#[tokio::test]
async fn a_domain_notes_the_serial_of_a_new_website_change_and_ignores_a_repeat() {
    let rig = Rig::start().await;
    for serial in [3, 2] {
        let r = rig
            .send(
                Method::POST,
                "/domains/0d1d0000-0000-4000-8000-000000000001/website-changed",
                "sync",
                Some(notification(serial)),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{serial}");
    }
    assert!(rig.puts.lock().unwrap().is_empty());
    let r = rig
        .send(
            Method::POST,
            "/domains/0d1d0000-0000-4000-8000-000000000001/website-changed",
            "sync",
            Some(notification(4)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        *rig.puts.lock().unwrap(),
        [(D1.to_owned(), json!({"lastSerial": 4}))]
    );
    let r = rig
        .send(
            Method::POST,
            "/domains/0d1d0000-0000-4000-8000-000000000001/website-changed",
            "sync",
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_schemas_declare_the_subscription_the_counter_and_the_version() {
    let app = hosting::app();
    let schemas = app.schemas();
    let schema = |service: &str| {
        let (_, schema) = schemas.iter().find(|(s, _)| s == service).unwrap();
        serde_json::to_value(schema).unwrap()
    };
    assert_eq!(
        schema("domains")["subscriptions"],
        json!([{"event": "http://aps-standard.org/core/events/changed",
                "source": {"type": "http://example.com/hosting/websites/1.0"},
                "handler": "website_changed"}])
    );
    assert_eq!(
        schema("domains")["properties"]["lastSerial"]["type"],
        "integer"
    );
    let websites = schema("websites");
    assert_eq!(
        websites["properties"]["diskUsage"]["type"],
        "http://aps-standard.org/types/core/resource/1.0#Counter"
    );
    let meta = app.meta();
    if cfg!(feature = "v2") {
        assert_eq!(meta.version, "0.2");
        assert_eq!(websites["properties"]["tier"]["default"], "standard");
    } else {
        assert_eq!(meta.version, "0.1");
        assert!(websites["properties"].get("tier").is_none());
    }
}

#[tokio::test]
async fn upgrading_the_root_succeeds_with_the_root_as_sent() {
    let rig = Rig::start().await;
    let globals = json!({"aps": {"id": G1, "type": "http://example.com/hosting/globals/1.0"},
                         "websites": []});
    let r = rig
        .send(
            Method::POST,
            "/globals/091b0000-0000-4000-8000-000000000001/upgrade?version=0.1-0",
            "sync",
            Some(globals.clone()),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), globals);
}
