//! An endpoint that answers "not now" (503 or 429, with or without `Retry-After`, or a proxy's
//! 502/504) gets the call again, in the first call, in rechecks and in installs, until the
//! task's deadline; each call counts in the task's `attempts`.

mod common;

use std::time::Duration;

use aps_controller::testkit::TestController;
use aps_controller::{Controller, State, Task};
use aps_test_support::scripted::{BASE_URL, Scripted, THING};
use serde_json::{Value, json};

/// A controller on the paused clock driving the scripted endpoint.
async fn paused() -> TestController {
    TestController::start_paused(Scripted::default().router(), Scripted::model())
        .await
        .expect("controller")
}

async fn provision(c: &TestController, plan: Value) -> Task {
    let task = c
        .provision(THING, json!({"plan": plan}))
        .await
        .expect("provision");
    c.wait(&task).await.expect("wait")
}

/// The paused instants of the calls for `path` (`/thing/`), in order.
fn calls_to(c: &TestController, path: &str) -> Vec<Duration> {
    c.calls()
        .into_iter()
        .filter(|call| call.path.starts_with(path))
        .map(|call| call.at)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_503_with_retry_after_is_called_again_after_that_delay() {
    let c = paused().await;
    let done = provision(&c, json!(["503:2", "503:2", "done"])).await;
    assert_eq!(done.state, State::Success, "{:?}", done.output);
    assert_eq!(done.attempts, 3);
    let at = calls_to(&c, "/thing/");
    assert_eq!(at.len(), 3);
    for pair in at.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_secs(2), "{at:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_429_with_a_retry_after_date_is_called_again() {
    let c = paused().await;
    let done = provision(&c, json!(["429:date+3", "done"])).await;
    assert_eq!(done.state, State::Success, "{:?}", done.output);
    assert_eq!(done.attempts, 2);
    let at = calls_to(&c, "/thing/");
    // The date has whole seconds: the delay is at least 2 s of the 3 asked for.
    assert!(at[1] - at[0] >= Duration::from_secs(2), "{at:?}");
}

#[tokio::test(start_paused = true)]
async fn a_proxy_s_502_and_504_and_a_bare_503_are_retried_after_a_backoff() {
    let c = paused().await;
    let done = provision(&c, json!(["502", "504", "503", "done"])).await;
    assert_eq!(done.state, State::Success, "{:?}", done.output);
    assert_eq!(done.attempts, 4);
}

#[tokio::test(start_paused = true)]
async fn a_recheck_answered_busy_is_made_again() {
    let c = paused().await;
    let done = provision(&c, json!(["accept", "503:5", "accept", "done"])).await;
    assert_eq!(done.state, State::Success, "{:?}", done.output);
    assert_eq!(done.attempts, 4);
    // The latest APS-Info is back in the output once the endpoint answers again.
    assert_eq!(done.output.as_deref(), Some("step 3"));
}

#[tokio::test(start_paused = true)]
async fn a_500_still_fails_the_task_at_once() {
    let c = paused().await;
    let done = provision(&c, json!(["500", "done"])).await;
    assert_eq!(done.state, State::Failure);
    assert_eq!(done.attempts, 1);
}

#[tokio::test(start_paused = true)]
async fn an_install_answered_busy_is_made_again() {
    let dir = tempfile::tempdir().expect("dir");
    let controller = Controller::builder()
        .paused_clock(true)
        .database(dir.path().join("controller.db").to_string_lossy())
        .listen("127.0.0.1:0".parse().expect("address"))
        .endpoint_router(BASE_URL, Scripted::default().router())
        .start()
        .await
        .expect("controller");
    let client = aps_controller::Client::in_process(controller.router());
    let package = controller.import(&Scripted::model()).await.expect("import");
    let settings = json!({"plan": ["503:1", "429", "done"]});
    let install = client
        .install(package.id, BASE_URL, settings)
        .await
        .expect("install");
    let done = client.wait(install.id, |_| {}).await.expect("wait");
    assert_eq!(done.state, State::Success, "{:?}", done.output);
    assert_eq!(done.attempts, 3);
}

#[tokio::test]
async fn a_task_still_busy_at_its_deadline_fails_and_says_why() {
    let builder = Controller::builder()
        .time_scale(1000.0)
        .task_deadline(Duration::from_millis(300));
    let (c, _) = common::scripted_with(builder).await;
    let mut seen_busy = None;
    let task = c
        .client()
        .provision(
            c.application(),
            THING,
            json!({"plan": vec!["503:1"; 10_000]}),
        )
        .await
        .expect("provision");
    let done = c
        .client()
        .wait(task.id, |t| {
            if t.state == State::Running && t.output.is_some() {
                seen_busy = t.output.clone();
            }
        })
        .await
        .expect("wait");
    assert_eq!(done.state, State::Failure);
    assert!(done.attempts > 1, "{}", done.attempts);
    let error = done.error.expect("error");
    assert_eq!(error.error, "DeadlineExceeded");
    assert!(
        error
            .message
            .contains("The endpoint is busy (503: scripted 503)"),
        "{}",
        error.message
    );
    if let Some(busy) = seen_busy {
        assert!(busy.contains("trying again in"), "{busy}");
    }
}
