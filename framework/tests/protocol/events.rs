//! Events, upgrades and usage: notifications delivered to declared handlers, subscriptions in
//! the schema and through the controller client, the root's upgrade and its phases, and usage
//! properties.

use aps::{
    Context, Counter, Limit, Notification, Outcome, Provisionable, Reply, Resource, ResourceType,
    Result, Subscription, Usage,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// The root: an upgrade from a `0.x` version migrates in the background.
#[derive(Serialize, Deserialize, JsonSchema)]
struct Root {
    #[serde(
        default,
        rename = "migratedFrom",
        skip_serializing_if = "Option::is_none"
    )]
    migrated_from: Option<String>,
    #[serde(flatten)]
    resource: Resource,
}

#[aps::async_trait]
impl Provisionable for Root {
    async fn upgrade(&mut self, _ctx: &Context, from_version: &str) -> Result<Outcome> {
        if from_version.starts_with("0.") {
            return Ok(Outcome::accepted("Migrating", 0));
        }
        self.migrated_from = Some(from_version.to_owned());
        Ok(Outcome::done())
    }

    async fn upgrade_async(&mut self, _ctx: &Context, from_version: &str) -> Result<Outcome> {
        self.migrated_from = Some(format!("{from_version} in the background"));
        Ok(Outcome::done())
    }
}

/// What the watcher watches.
#[derive(Serialize, Deserialize, JsonSchema)]
struct Watched {
    #[serde(flatten)]
    resource: Resource,
}

impl Provisionable for Watched {}

impl ResourceType for Watched {
    const TYPE_ID: &'static str = "watched/1.0";
}

/// Follows `watched` resources by declaration and others at run time; reports usage.
#[derive(Serialize, Deserialize, JsonSchema)]
struct Watcher {
    #[serde(default, rename = "lastSerial")]
    last_serial: u64,
    /// Disk space.
    #[serde(default)]
    disk: Counter,
    quota: Option<Limit>,
    #[serde(default)]
    traffic: Usage,
    #[serde(flatten)]
    resource: Resource,
}

#[aps::operations]
impl Provisionable for Watcher {
    async fn retrieve(&mut self, _ctx: &Context) -> Result<()> {
        self.disk = Counter::new(self.disk.usage + 5)
            .with_limit(100)
            .with_unit("MB");
        Ok(())
    }

    /// Stores the serial of each new notification; answers what it read.
    #[operation(POST, "/changed")]
    #[subscribe(changed, Watched)]
    #[subscribe("http://aps-standard.org/core/events/removed", "http://other.example/t/1.0", relation = peer)]
    async fn on_change(&self, ctx: &Context, #[body] event: Notification) -> Result<Reply<Value>> {
        let fresh = event.serial > self.last_serial;
        if fresh {
            let id = self.resource.id().unwrap_or_default();
            let serial = json!({"lastSerial": event.serial});
            ctx.controller().update(id, &serial).await?;
        }
        Ok(Reply::json(json!({
            "fresh": fresh, "changed": event.is("changed"), "source": event.source.id,
            "type": event.source.type_id, "subscription": event.subscription,
        })))
    }

    /// Subscribes to `changed` of the resource `source` at run time.
    #[operation(POST, "/follow")]
    async fn follow(&self, ctx: &Context, #[query] source: String) -> Result<Reply<Subscription>> {
        let id = self.resource.id().unwrap_or_default();
        let wanted = Subscription::to_resource("changed", source, "on_change");
        Ok(Reply::json(ctx.controller().subscribe(id, &wanted).await?))
    }

    /// The subscriptions, or the one `id`.
    #[operation(GET, "/following")]
    async fn following(
        &self,
        ctx: &Context,
        #[query] id: Option<String>,
    ) -> Result<Reply<Vec<Subscription>>> {
        let me = self.resource.id().unwrap_or_default();
        Ok(Reply::json(match id {
            Some(id) => vec![ctx.controller().subscription(me, &id).await?],
            None => ctx.controller().subscriptions(me).await?,
        }))
    }

    /// Ends the subscription `id`.
    #[operation(DELETE, "/following")]
    async fn unfollow(&self, ctx: &Context, #[query] id: String) -> Result<Reply> {
        let me = self.resource.id().unwrap_or_default();
        ctx.controller().unsubscribe(me, &id).await?;
        Ok(Reply::done())
    }
}

fn app() -> aps::App {
    aps::App::new("watch")
        .id("http://example.com/watch")
        .root_service::<Root>("root", "root/1.0")
        .service::<Watched>("watched", "watched/1.0")
        .service::<Watcher>("watcher", "watcher/1.0")
}

async fn rig() -> Rig {
    let rig = Rig::with(app()).await;
    let watcher = json!({"aps": {"id": "00000000-0000-4000-8000-0000000000e1", "type": "http://example.com/watch/watcher/1.0"},
                         "lastSerial": 4, "quota": {"limit": 10}});
    rig.controller
        .store("00000000-0000-4000-8000-0000000000e1", watcher);
    rig
}

fn notification(serial: u64) -> Value {
    json!({"event": "http://aps-standard.org/core/events/changed", "time": "2026-12-05T07:00:00Z",
           "serial": serial, "subscription": "sub-1",
           "source": {"type": "http://example.com/watch/watched/1.0", "id": "00000000-0000-4000-8000-0000000000b1"}})
}

#[tokio::test]
async fn a_notification_reaches_its_handler_typed_and_an_old_serial_is_ignored() {
    let rig = rig().await;
    let r = rig
        .send(
            Method::POST,
            "/watcher/00000000-0000-4000-8000-0000000000e1/changed",
            None,
            Some(notification(5)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let expected = json!({"fresh": true, "changed": true, "source": "00000000-0000-4000-8000-0000000000b1",
                          "type": "http://example.com/watch/watched/1.0", "subscription": "sub-1"});
    assert_eq!(r.json::<Value>().await.unwrap(), expected);
    assert_eq!(
        rig.controller.resources.lock().unwrap()["00000000-0000-4000-8000-0000000000e1"]["lastSerial"],
        5
    );
    for serial in [5, 3] {
        let r = rig
            .send(
                Method::POST,
                "/watcher/00000000-0000-4000-8000-0000000000e1/changed",
                None,
                Some(notification(serial)),
            )
            .await;
        assert_eq!(r.json::<Value>().await.unwrap()["fresh"], false, "{serial}");
    }
    assert_eq!(
        rig.controller.resources.lock().unwrap()["00000000-0000-4000-8000-0000000000e1"]["lastSerial"],
        5
    );
    let mut odd = notification(6);
    odd["serial"] = json!("six");
    let r = rig
        .send(
            Method::POST,
            "/watcher/00000000-0000-4000-8000-0000000000e1/changed",
            None,
            Some(odd),
        )
        .await;
    let body = error(r, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    assert!(
        body["message"].as_str().unwrap().contains("`event`"),
        "{body}"
    );
}

#[tokio::test]
async fn the_schema_declares_subscriptions_and_usage_properties_by_core_structure() {
    let schemas = app().schemas();
    let (_, watcher) = schemas.iter().find(|(s, _)| s == "watcher").unwrap();
    let declared = serde_json::to_value(&watcher.subscriptions).unwrap();
    assert_eq!(
        declared,
        json!([
            {"event": "http://aps-standard.org/core/events/changed",
             "source": {"type": "http://example.com/watch/watched/1.0"}, "handler": "on_change"},
            {"event": "http://aps-standard.org/core/events/removed",
             "source": {"type": "http://other.example/t/1.0"}, "relation": "peer", "handler": "on_change"},
        ])
    );
    let core = "http://aps-standard.org/types/core/resource/1.0";
    for (property, structure, required) in [
        ("disk", "Counter", false),
        ("quota", "Limit", false),
        ("traffic", "Usage", false),
    ] {
        let declared = &watcher.properties[property];
        assert_eq!(declared.kind, format!("{core}#{structure}"), "{property}");
        assert_eq!(declared.required, required, "{property}");
    }
    assert_eq!(
        watcher.properties["disk"].description.as_deref(),
        Some("Disk space.")
    );
    let (_, watched) = schemas.iter().find(|(s, _)| s == "watched").unwrap();
    assert!(watched.subscriptions.is_empty());
    assert!(!watched.to_pretty_json().contains("subscriptions"));
}

#[tokio::test]
async fn retrieve_fills_a_counter_that_the_controller_stores() {
    let rig = rig().await;
    let r = rig
        .send(
            Method::GET,
            "/watcher/00000000-0000-4000-8000-0000000000e1",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["disk"],
        json!({"usage": 5, "limit": 100, "unit": "MB"})
    );
    assert_eq!(body["quota"], json!({"limit": 10}));
}

#[tokio::test]
async fn the_client_subscribes_lists_reads_and_unsubscribes_as_the_instance() {
    let rig = rig().await;
    let r = rig
        .send(Method::POST, "/watcher/00000000-0000-4000-8000-0000000000e1/follow?source=00000000-0000-4000-8000-0000000000b1", None, None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let made: Value = r.json().await.unwrap();
    let expected = json!({"id": "sub-1", "event": "http://aps-standard.org/core/events/changed",
                          "source": {"id": "00000000-0000-4000-8000-0000000000b1"}, "handler": "on_change"});
    assert_eq!(made, expected);
    let stored = rig.controller.subscriptions.lock().unwrap().clone();
    assert_eq!(
        stored,
        [(
            "00000000-0000-4000-8000-0000000000e1".to_owned(),
            expected.clone()
        )]
    );
    let listed = rig
        .send(
            Method::GET,
            "/watcher/00000000-0000-4000-8000-0000000000e1/following",
            None,
            None,
        )
        .await;
    assert_eq!(listed.json::<Value>().await.unwrap(), json!([expected]));
    let one = rig
        .send(
            Method::GET,
            "/watcher/00000000-0000-4000-8000-0000000000e1/following?id=sub-1",
            None,
            None,
        )
        .await;
    assert_eq!(one.json::<Value>().await.unwrap(), json!([expected]));
    let r = rig
        .send(
            Method::DELETE,
            "/watcher/00000000-0000-4000-8000-0000000000e1/following?id=sub-1",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(rig.controller.subscriptions.lock().unwrap().is_empty());
    // The controller's 404 passes through.
    let r = rig
        .send(
            Method::DELETE,
            "/watcher/00000000-0000-4000-8000-0000000000e1/following?id=sub-1",
            None,
            None,
        )
        .await;
    error(r, StatusCode::NOT_FOUND, "NotFound").await;
    let callers = rig.controller.callers.lock().unwrap().clone();
    assert!(!callers.is_empty());
}

fn root(id: &str) -> Value {
    json!({"aps": {"id": id, "type": "http://example.com/watch/root/1.0"}, "kept": [1]})
}

#[tokio::test]
async fn an_upgrade_answers_200_with_the_changed_root() {
    let rig = rig().await;
    let r = rig
        .send(
            Method::POST,
            "/root/00000000-0000-4000-8000-0000000000f1/upgrade?version=1.0-3",
            None,
            Some(root("00000000-0000-4000-8000-0000000000f1")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut expected = root("00000000-0000-4000-8000-0000000000f1");
    expected["migratedFrom"] = json!("1.0-3");
    assert_eq!(r.json::<Value>().await.unwrap(), expected);
}

#[tokio::test]
async fn a_long_upgrade_answers_202_then_done_in_the_async_phase() {
    let rig = rig().await;
    let path = "/root/00000000-0000-4000-8000-0000000000f1/upgrade?version=0.9-1";
    let r = rig
        .send(
            Method::POST,
            path,
            None,
            Some(root("00000000-0000-4000-8000-0000000000f1")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&r, "aps-info"), "Migrating");
    let r = rig
        .send(
            Method::POST,
            path,
            Some("async"),
            Some(root("00000000-0000-4000-8000-0000000000f1")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["migratedFrom"], "0.9-1 in the background");
}

#[tokio::test]
async fn the_default_upgrade_succeeds_with_the_root_as_sent() {
    let rig = Rig::start().await;
    let globals = json!({"aps": {"id": "00000000-0000-4000-8000-0000000000a9", "type": "http://example.com/mail/globals/1.0"}, "x": 1});
    let r = rig
        .send(
            Method::POST,
            "/globals/00000000-0000-4000-8000-0000000000a9/upgrade?version=2.0-6",
            None,
            Some(globals.clone()),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), globals);
}

#[tokio::test]
async fn an_upgrade_is_refused_below_another_service_without_a_version_or_with_another_verb() {
    let rig = rig().await;
    let r = rig
        .send(
            Method::POST,
            "/watcher/00000000-0000-4000-8000-0000000000e1/upgrade?version=1.0-1",
            None,
            Some(root("00000000-0000-4000-8000-0000000000e1")),
        )
        .await;
    error(r, StatusCode::NOT_FOUND, "NotFound").await;
    for query in ["", "?version=", "?version=1.0-1&version=1.0-2"] {
        let r = rig
            .send(
                Method::POST,
                &format!("/root/00000000-0000-4000-8000-0000000000f1/upgrade{query}"),
                None,
                Some(root("00000000-0000-4000-8000-0000000000f1")),
            )
            .await;
        let body = error(
            r,
            StatusCode::BAD_REQUEST,
            if query.is_empty() {
                "MissingParameter"
            } else {
                "InvalidParameter"
            },
        )
        .await;
        assert!(
            body["message"].as_str().unwrap().contains("`version`"),
            "{body}"
        );
    }
    let r = rig
        .send(
            Method::GET,
            "/root/00000000-0000-4000-8000-0000000000f1/upgrade?version=1.0-1",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&r, "allow"), "POST");
    let r = rig
        .send(
            Method::POST,
            "/root/00000000-0000-4000-8000-0000000000f2/upgrade?version=1.0-1",
            None,
            Some(root("00000000-0000-4000-8000-0000000000f1")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// A root with an operation at `/upgrade`, where its upgrade is served.
#[derive(Serialize, Deserialize, JsonSchema)]
struct Clashing {
    #[serde(flatten)]
    resource: Resource,
}

#[aps::operations]
impl Provisionable for Clashing {
    #[operation(GET, "/upgrade")]
    async fn upgrade_status(&self, _ctx: &Context) -> Result<Reply> {
        Ok(Reply::done())
    }
}

#[tokio::test]
async fn a_root_operation_at_the_upgrade_path_is_refused_at_startup() {
    let clashing = aps::App::new("clash").root_service::<Clashing>("root", "root/1.0");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let error = clashing.serve(listener, "/").await.expect_err("refused");
    let text = error.to_string();
    assert!(text.contains("`upgrade_status` at GET /upgrade"), "{text}");
    // Below another service it is an ordinary operation.
    let fine = aps::App::new("fine")
        .root_service::<Root>("root", "root/1.0")
        .service::<Clashing>("other", "other/1.0");
    let rig = Rig::with(fine).await;
    rig.controller.store(
        "00000000-0000-4000-8000-0000000000c1",
        json!({"aps": {"id": "00000000-0000-4000-8000-0000000000c1"}}),
    );
    let r = rig
        .send(
            Method::GET,
            "/other/00000000-0000-4000-8000-0000000000c1/upgrade",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}
