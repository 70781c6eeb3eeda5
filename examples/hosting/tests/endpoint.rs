//! The hosting endpoint over real HTTP on loopback, with a small controller that serves the
//! stored website: its operations, their phases and its link handler.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use reqwest::Method;
use serde_json::{Value, json};

const INSTANCE: &str = "5bb7e1a0-7f8c-4e0a-9d3f-2a9c0b1d4e55";

fn link(kind: &str, id: &str) -> Value {
    json!({"aps": {"link": kind, "id": id, "href": format!("/aps/2/resources/{id}")}})
}

/// A website as the controller stores it; `plan` absent when `None` (the default applies).
fn website(id: &str, plan: Option<&str>) -> Value {
    let mut site = json!({
        "aps": {"id": id, "type": "http://example.com/hosting/websites/1.0", "status": "aps:ready"},
        "name": "shop",
        "globals": link("strong", "g1"),
        "domains": [link("collection", "d1")]
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

/// The hosting endpoint and a controller that knows websites `basic` and `pro`.
struct Rig {
    endpoint: String,
    controller: String,
}

impl Rig {
    async fn start() -> Self {
        let resources = axum::Router::new().route(
            "/aps/2/resources/{id}",
            get(|Path(id): Path<String>| async move {
                match id.as_str() {
                    "basic" => (StatusCode::OK, Json(website("basic", None))),
                    "pro" => (StatusCode::OK, Json(website("pro", Some("pro")))),
                    _ => (
                        StatusCode::NOT_FOUND,
                        Json(json!({"code": 404, "error": "NotFound", "message": id})),
                    ),
                }
            }),
        );
        Self {
            controller: serve(resources).await,
            endpoint: serve(hosting::app().router()).await,
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
        .send(Method::POST, "/websites/basic/restart", "sync", None)
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.headers()["aps-info"], "Restarting");
    assert_eq!(r.headers()["aps-retry-timeout"], "5");
    let r = rig
        .send(Method::POST, "/websites/basic/restart", "async", None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn stats_counts_the_requests_of_the_days_asked_for_by_plan() {
    let rig = Rig::start().await;
    let r = rig
        .send(Method::GET, "/websites/basic/stats?days=3", "sync", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"days": 3, "requests": 3000})
    );
    let r = rig
        .send(Method::GET, "/websites/pro/stats?days=3", "sync", None)
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"days": 3, "requests": 30000})
    );
}

#[tokio::test]
async fn stats_without_days_is_400_naming_it() {
    let rig = Rig::start().await;
    for path in ["/websites/basic/stats", "/websites/basic/stats?days=many"] {
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
        .send(Method::POST, "/websites/basic/stats?days=1", "sync", None)
        .await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "GET");
}

#[tokio::test]
async fn linking_a_domain_is_refused_unless_it_is_a_test_or_example_name() {
    let rig = Rig::start().await;
    let domain = |fqdn: &str| json!({"aps": {"id": "d2", "type": "http://example.com/hosting/domains/1.0"}, "fqdn": fqdn});
    for fqdn in ["shop.test", "shop.example"] {
        let r = rig
            .send(
                Method::POST,
                "/websites/basic/domains",
                "sync",
                Some(domain(fqdn)),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{fqdn}");
    }
    let r = rig
        .send(
            Method::POST,
            "/websites/basic/domains",
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
        .send(Method::DELETE, "/websites/basic/domains/d1", "sync", None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_website_reads_its_links_and_plan_default_and_writes_them_back() {
    let rig = Rig::start().await;
    let r = rig.send(Method::GET, "/websites/basic", "sync", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut expected = website("basic", None);
    expected["plan"] = json!("basic");
    assert_eq!(r.json::<Value>().await.unwrap(), expected);
}
