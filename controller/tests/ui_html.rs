//! The panel's HTML without a browser: escaping, CSRF, security headers, form errors.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod ui_support;

use serde_json::json;
use ui_support::{NOTE, Visitor, note, notes_controller};

const HOSTILE: &str = r#"<script>alert("x")</script>"#;

#[tokio::test]
async fn properties_and_messages_are_shown_as_text() {
    let c = notes_controller().await;
    let id = note(&c, json!({"title": HOSTILE, "tags": [HOSTILE]})).await;
    let mut visitor = Visitor::new(&c);
    for path in [
        format!("/ui/resources/{id}"),
        format!("/ui/resources/{id}/edit"),
    ] {
        let page = visitor.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            !page.body.contains("<script>alert"),
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains("&#60;script&#62;alert("), "{path}");
    }
    // In an attribute, a quote cannot end the value.
    let quoted = note(&c, json!({"title": "\" autofocus onfocus=\"alert(1)"})).await;
    let page = visitor.get(&format!("/ui/resources/{quoted}/edit")).await;
    assert!(!page.body.contains("\" autofocus"), "{}", page.body);
}

#[tokio::test]
async fn a_form_without_the_right_token_is_refused() {
    let c = notes_controller().await;
    let id = note(&c, json!({"title": "kept"})).await;
    let mut visitor = Visitor::new(&c);
    let form = visitor.get(&format!("/ui/resources/{id}/edit")).await;
    let token = form.csrf();
    let path = format!("/ui/resources/{id}/unprovision");
    assert_eq!(visitor.post(&path, &[]).await.status, 403);
    assert_eq!(visitor.post(&path, &[("csrf", "forged")]).await.status, 403);
    let first = if token.starts_with('A') { "B" } else { "A" };
    let other = format!("{first}{}", &token[1..]);
    assert_eq!(visitor.post(&path, &[("csrf", &other)]).await.status, 403);
    // Another browser (another cookie) cannot use this one's token.
    let mut stranger = Visitor::new(&c);
    let refused = stranger.post(&path, &[("csrf", &token)]).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("security token"));
    let resource = c
        .client()
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/resources/{id}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        resource.body["aps"]["status"], "aps:ready",
        "nothing happened"
    );
    // The right token goes through, to the task.
    let done = visitor.post(&path, &[("csrf", &token)]).await;
    assert_eq!(done.status, 303);
    assert!(
        done.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/ui/tasks/")
    );
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let c = notes_controller().await;
    let id = note(&c, json!({"title": "a"})).await;
    let task = c.client().tasks("").await.unwrap()[0].id;
    let app = c.application();
    let mut visitor = Visitor::new(&c);
    let pages = [
        "/ui/".to_owned(),
        format!("/ui/applications/{app}"),
        format!("/ui/applications/{app}/create/note"),
        format!("/ui/resources/{id}"),
        format!("/ui/resources/{id}/edit"),
        "/ui/tasks".into(),
        "/ui/tasks?state=success".into(),
        format!("/ui/tasks/{task}"),
        "/ui/assets/panel.js".into(),
        "/ui/assets/panel.css".into(),
        "/ui/no/such/page".into(),
        format!("/ui/tasks/{}", uuid::Uuid::new_v4()),
    ];
    for path in pages {
        let page = visitor.get(&path).await;
        let header = |name: &str| {
            page.headers
                .get(name)
                .unwrap_or_else(|| panic!("{path} has no {name}"))
                .to_str()
                .unwrap()
                .to_owned()
        };
        let policy = header("content-security-policy");
        assert!(policy.contains("default-src 'none'"), "{path}: {policy}");
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        // No inline script for the policy to block: the only script is a file.
        assert!(!page.body.contains("<script>"), "{path}");
    }
    let missing = visitor.get("/ui/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn the_cookie_is_http_only_and_same_site_strict() {
    let c = notes_controller().await;
    let page = Visitor::new(&c).get("/ui/").await;
    let cookie = page.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("aps_csrf="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}

#[tokio::test]
async fn wrong_values_are_refused_beside_their_fields() {
    let c = notes_controller().await;
    let mut visitor = Visitor::new(&c);
    let path = format!("/ui/applications/{}/create/note", c.application());
    let token = visitor.get(&path).await.csrf();
    let refused = visitor
        .post(
            &path,
            &[
                ("csrf", &token),
                ("p.title", ""),
                ("p.pages", "many"),
                ("p.color", "red"),
                ("p.tags", "{}"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    for (field, error) in [
        ("field-3", "title is required"),
        (
            "field-1",
            "pages must be a whole number (integer), not “many”",
        ),
        ("field-0", "color must be one of: yellow, blue"),
        ("field-2", "tags must be a JSON array"),
    ] {
        let beside = format!(r#"<p class="error" id="{field}-error">{error}</p>"#);
        assert!(
            refused.body.contains(&beside),
            "{beside} in {}",
            refused.body
        );
    }
    assert!(
        refused.body.contains(r#"value="many""#),
        "what was typed stays"
    );
    assert!(
        c.client().tasks("").await.unwrap().len() == 1,
        "only the install ran"
    );
    let made = visitor
        .post(
            &path,
            &[
                ("csrf", &token),
                ("p.title", "fine"),
                ("p.pages", " 3 "),
                ("p.color", "blue"),
                ("p.tags", "[\"a\"]"),
            ],
        )
        .await;
    assert_eq!(made.status, 303);
    let tasks = c.client().tasks("").await.unwrap();
    let task = c.wait(&tasks[0]).await.unwrap();
    let resource = c
        .client()
        .send(reqwest::Method::GET, &task.resource.href, None)
        .await
        .unwrap();
    assert_eq!(resource.body["pages"], 3);
    assert_eq!(resource.body["tags"], json!(["a"]));
    assert_eq!(resource.body["aps"]["type"], NOTE);
}

#[tokio::test]
async fn the_event_stream_begins_with_the_task_as_it_is() {
    let c = notes_controller().await;
    let task = c.client().tasks("").await.unwrap()[0].clone();
    let url = format!("{}/ui/events?task={}", c.controller().url(), task.id);
    let mut response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = response.chunk().await.unwrap().expect("an event");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    assert!(text.starts_with("event: task\n"), "{text}");
    let sent: aps_controller::Task = serde_json::from_str(data).unwrap();
    assert_eq!(sent, task);
    let bad = reqwest::get(format!("{}/ui/events?state=sleeping", c.controller().url()))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
