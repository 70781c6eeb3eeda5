//! Hosting driven by a real controller (the framework's test kit, the controller's client):
//! websites get their instance linked in, domains are linked and unlinked with the endpoint's
//! say, a domain serves one website, `restart` runs as a task and `stats` is checked for its
//! `days` before the endpoint hears of it.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use aps::testkit::{State, Task, TestController};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// Provisions a resource and waits for it; answers its id and JSON.
async fn provisioned(c: &TestController, service: &str, properties: Value) -> (Uuid, Value) {
    let task = c.provision(service, properties).await.unwrap();
    let task = c.wait(&task).await.unwrap();
    assert_eq!(task.state, State::Success, "{task:?}");
    (task.resource.id, shown(c, task.resource.id).await)
}

/// The resource as the controller shows it.
async fn shown(c: &TestController, id: Uuid) -> Value {
    let path = format!("/api/v1/resources/{id}");
    c.client()
        .send(Method::GET, &path, None)
        .await
        .unwrap()
        .body
}

fn linked_ids(links: &Value) -> Vec<String> {
    links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["aps"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn websites_and_domains_are_linked_as_the_endpoint_allows() {
    let c = aps::testkit::start(&hosting::app()).await.unwrap();
    let client = c.client();
    // A website needs its name (the controller checks before the endpoint hears of it); its
    // instance is linked in by the controller.
    let nameless =
        json!({"application": c.application(), "resource": {"aps": {"type": "websites"}}});
    let refused = client
        .send(Method::POST, "/api/v1/resources", Some(&nameless))
        .await
        .unwrap();
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["details"]["property"], "name");
    let (shop, site) = provisioned(&c, "websites", json!({"name": "shop"})).await;
    assert_eq!(site["plan"], "basic");
    assert_eq!(site["globals"]["aps"]["link"], "strong");
    assert_eq!(site["domains"], json!([]));
    let root = site["globals"]["aps"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        linked_ids(&shown(&c, root).await["websites"]),
        [shop.to_string()]
    );

    let (good, _) = provisioned(&c, "domains", json!({"fqdn": "shop.example"})).await;
    let (bad, _) = provisioned(&c, "domains", json!({"fqdn": "shop.com"})).await;
    let link = client.link(shop, "domains", good).await.unwrap();
    assert_eq!(link.id(), good.to_string());
    assert_eq!(
        shown(&c, good).await["website"]["aps"]["id"],
        shop.to_string()
    );
    let error = client
        .link(shop, "domains", bad)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("only .test and .example"), "{error}");
    let listed = client.links(shop, "domains").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["fqdn"], "shop.example");

    // A domain serves one website.
    let (blog, _) = provisioned(&c, "websites", json!({"name": "blog"})).await;
    let error = client
        .link(blog, "domains", good)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("holds one link"), "{error}");
    client.unlink(shop, "domains", good).await.unwrap();
    assert!(shown(&c, good).await.get("website").is_none());
    client.link(blog, "domains", good).await.unwrap();
    assert_eq!(
        linked_ids(&shown(&c, blog).await["domains"]),
        [good.to_string()]
    );
}

#[tokio::test]
async fn restart_runs_as_a_task_and_stats_wants_its_days() {
    let c = aps::testkit::start(&hosting::app()).await.unwrap();
    let client = c.client();
    let (site, _) = provisioned(&c, "websites", json!({"name": "shop", "plan": "pro"})).await;

    let started = client
        .call(site, "restart", &[], None, Some(0))
        .await
        .unwrap();
    assert_eq!(started.status, 202);
    let task: Task = serde_json::from_value(started.body).unwrap();
    assert_eq!(
        task.name,
        format!("Calling restart on \"websites\" {site} for APS application hosting")
    );
    let done = client.wait(task.id, |_| {}).await.unwrap();
    assert_eq!(done.state, State::Success, "{done:?}");
    assert_eq!(done.description.as_deref(), Some("Restarting"));
    assert_eq!(done.retry_after, Some(5));
    let phases: Vec<_> = c
        .calls()
        .into_iter()
        .filter(|call| call.path.ends_with("/restart"))
        .map(|call| call.phase.unwrap_or_default())
        .collect();
    assert_eq!(phases, ["sync", "async"]);
    // Waiting for it answers the endpoint's final 204.
    let waited = client.call(site, "restart", &[], None, None).await.unwrap();
    assert_eq!(waited.status, 204);

    let days = |d: &str| vec![("days".to_owned(), d.to_owned())];
    let stats = client
        .call(site, "stats", &days("7"), None, None)
        .await
        .unwrap();
    assert_eq!(
        (stats.status, stats.body),
        (200, json!({"days": 7, "requests": 70_000}))
    );
    for query in [vec![], days("seven")] {
        let refused = client
            .call(site, "stats", &query, None, None)
            .await
            .unwrap();
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(refused.body["details"]["parameter"], "days");
    }
    let stats_calls = c
        .calls()
        .iter()
        .filter(|call| call.path.contains("/stats"))
        .count();
    assert_eq!(stats_calls, 1, "refused calls never reach the endpoint");
}
