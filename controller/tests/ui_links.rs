//! The panel's resource page for a type with relations and operations: the links shown (each
//! to its resource's page), an operation without parameters as a button that starts its call,
//! and one with parameters named without a button.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;
mod ui_support;

use common::{link_to, linked, made};
use serde_json::json;
use ui_support::Visitor;

#[tokio::test]
async fn the_resource_page_shows_links_and_calls_operations() {
    let (c, endpoint) = linked().await;
    let thing = made(&c, "thing", json!({"label": "box"})).await;
    let part = made(
        &c,
        "part",
        json!({"serial": "a1", "thing": link_to(&thing)}),
    )
    .await;
    let mut visitor = Visitor::new(&c);
    let page = visitor.get(&format!("/ui/resources/{thing}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h2>Links</h2>"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("href=\"/ui/resources/{part}\""))
    );
    assert!(
        page.body
            .contains(&format!("action=\"/ui/resources/{thing}/call/restart\""))
    );
    assert!(
        !page
            .body
            .contains(&format!("/ui/resources/{thing}/call/stats"))
    );
    assert!(page.body.contains("takes parameters"));
    let token = page.csrf();
    let started = visitor
        .post(
            &format!("/ui/resources/{thing}/call/restart"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(started.status, 303);
    let location = started.headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/ui/tasks/"), "{location}");
    let id = location.trim_start_matches("/ui/tasks/").parse().unwrap();
    let done = c.client().wait(id, |_| {}).await.unwrap();
    assert_eq!(done.state, aps_controller::State::Success);
    assert!(
        endpoint
            .calls()
            .iter()
            .any(|s| s.path == format!("/thing/{thing}/restart"))
    );
    // An operation with parameters has no button, and posting to it anyway is refused.
    let refused = visitor
        .post(
            &format!("/ui/resources/{thing}/call/stats"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(refused.status, 404);
}
