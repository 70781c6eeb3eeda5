//! A task's `APS-Info` messages are stored with the task: the latest comes back in the output
//! after an outage that a restart fell into, and the panel's task page lists them all.

mod common;

use aps_controller::{Controller, State};
use aps_test_support::scripted::{BASE_URL, Scripted, THING};
use serde_json::json;

#[tokio::test]
async fn the_latest_info_and_the_history_outlive_a_restart_during_an_outage() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("controller.db");
    // Both controllers reach the same endpoint, which counts the calls across the restart.
    let endpoint = Scripted::default();
    let start = |scale: f64| {
        Controller::builder()
            .database(db.to_string_lossy())
            .listen("127.0.0.1:0".parse().expect("address"))
            .time_scale(scale)
            .endpoint_router(BASE_URL, endpoint.router())
            .start()
    };
    let first = start(1000.0).await.expect("first controller");
    let package = first.import(&Scripted::model()).await.expect("import");
    let install = first
        .client()
        .install(package.id, BASE_URL, json!({}))
        .await
        .expect("install");
    let app = first
        .client()
        .wait(install.id, |_| {})
        .await
        .expect("installed")
        .application;
    // Two messages, then an outage: busy for an hour (3.6 s at this scale).
    let plan = json!({"plan": ["accept", "accept", "503:3600"]});
    let task = first
        .client()
        .provision(app, THING, plan)
        .await
        .expect("provision");
    let mut seen = first.client().task(task.id).await.expect("task");
    while !seen.output.as_deref().unwrap_or_default().contains("busy") {
        seen = first
            .client()
            .poll(task.id, seen.revision, 5)
            .await
            .expect("poll");
    }
    assert_eq!(seen.state, State::Running);
    drop(first);
    // The hour of the outage is a few nanoseconds now; the fourth call is answered `done`.
    let second = start(aps_controller::MAX_SCALE).await.expect("second");
    let done = second.client().wait(task.id, |_| {}).await.expect("done");
    assert_eq!(done.state, State::Success, "{:?}", done.output);
    assert_eq!(done.output.as_deref(), Some("step 2"), "the latest, stored");
    assert_eq!(done.description.as_deref(), Some("step 1"));
    assert_eq!(done.attempts, 4);
    let page = reqwest::get(format!("{}/ui/tasks/{}", second.url(), task.id))
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    let infos = &page[page.find(r#"id="infos""#).expect("the messages")..];
    let first_at = infos.find(">step 1<").expect("step 1 listed");
    let second_at = infos.find(">step 2<").expect("step 2 listed");
    assert!(first_at < second_at, "oldest first");
}
