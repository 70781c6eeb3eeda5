//! Long polls as controller-api.md promises them beyond their answers: waiting costs no
//! database work, a poll on an ended task that does not change waits its full time, many share
//! one connection, and waiting has a limit of its own.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::time::{Duration, Instant};

use aps_controller::{ApiLoad, State};
use common::{get, http, load_reaches, scripted};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn waiting_long_polls_read_nothing_from_the_database() {
    // A time scale of 0.01: the recheck is 3000 s away, so the task does not change.
    let (c, running) = common::running(0.01).await;
    assert_eq!(running.state, State::Running);
    let c = std::sync::Arc::new(c);
    let stats = || c.controller().store_stats();
    load_reaches(c.controller(), "no request in flight", |l| {
        l == ApiLoad::default()
    })
    .await;
    let before = stats();
    let poll = format!(
        "/api/v1/tasks/{}?poll_timeout=2&since_revision={}",
        running.id, running.revision
    );
    let started = Instant::now();
    let polls: Vec<_> = (0..20)
        .map(|_| {
            let (c, poll) = (c.clone(), poll.clone());
            tokio::spawn(async move { get(&c, &poll).await })
        })
        .collect();
    // Once every poll waits, and again at the end: nothing was read or written.
    load_reaches(c.controller(), "twenty polls waiting", |l| l.waiting == 20).await;
    assert!(
        polls.iter().all(|p| !p.is_finished()),
        "a poll answered early"
    );
    assert_eq!(stats(), before, "while the polls wait");
    for poll in polls {
        let (status, _, task) = poll.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(task["revision"], running.revision, "{task}");
        assert_eq!(task["state"], "running");
    }
    assert!(started.elapsed() >= Duration::from_millis(1900));
    assert_eq!(
        stats(),
        before,
        "twenty 2 s polls on a running task cost no database work at all"
    );

    // An ended task is looked up once, then the wait reads nothing more.
    let ended = c
        .client()
        .provision(c.application(), common::THING, json!({}))
        .await
        .unwrap();
    let ended = c.wait(&ended).await.unwrap();
    assert_eq!(ended.state, State::Success);
    load_reaches(c.controller(), "no request in flight", |l| {
        l == ApiLoad::default()
    })
    .await;
    let before = stats();
    let (status, _, task) = get(
        &c,
        &format!(
            "/api/v1/tasks/{}?poll_timeout=2&since_revision={}",
            ended.id, ended.revision
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(task["revision"], ended.revision);
    let after = stats();
    assert!(
        after.reads <= before.reads + 1,
        "one read to find the ended task, none while waiting: {before:?} → {after:?}"
    );
    assert_eq!(
        (after.task_writes, after.commits),
        (before.task_writes, before.commits)
    );
}

#[tokio::test]
async fn a_long_poll_on_an_ended_task_waits_the_full_poll_timeout() {
    let (c, _) = scripted().await;
    let task = c
        .client()
        .provision(
            c.application(),
            common::THING,
            json!({"plan": ["accept", "done"]}),
        )
        .await
        .unwrap();
    let ended = c.wait(&task).await.unwrap();
    assert_eq!(ended.state, State::Success);
    let id = ended.id;
    let last_modified = ended.last_modified.to_string().replace('+', "%2B");
    // The client has seen the end (by revision or by time), or says nothing: the task will not
    // change again, so each waits out its second and answers the task as it is.
    let queries = [
        format!("poll_timeout=1&since_revision={}", ended.revision),
        format!("poll_timeout=1&last_modified={last_modified}"),
        format!("poll_timeout=1&last_modified=%3E%3D{last_modified}"),
        "poll_timeout=1".to_owned(),
    ];
    let c = std::sync::Arc::new(c);
    let mut polls = tokio::task::JoinSet::new();
    for query in queries {
        let c = c.clone();
        polls.spawn(async move {
            let started = Instant::now();
            let (status, _, task) = get(&c, &format!("/api/v1/tasks/{id}?{query}")).await;
            (query, started.elapsed(), status, task)
        });
    }
    for (query, took, status, task) in polls.join_all().await {
        assert_eq!(status, 200, "{query}: {task}");
        assert!(
            took >= Duration::from_millis(900),
            "{query}: answered after {took:?}"
        );
        assert!(took < Duration::from_secs(30), "{query}: took {took:?}");
        assert_eq!(task["state"], "success", "{query}");
        assert_eq!(task["revision"], ended.revision, "{query}");
        assert_eq!(
            task["lastModified"],
            json!(ended.last_modified.to_string()),
            "{query}"
        );
    }
}

#[tokio::test]
async fn many_long_polls_share_one_http2_connection_and_all_answer_a_change() {
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let (c, running) = common::running(0.01).await;
    let url = url::Url::parse(&c.controller().url()).unwrap();
    let addr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    // Prior knowledge, as a client speaks HTTP/2 on plain HTTP.
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let path = format!(
        "/api/v1/tasks/{}?poll_timeout=60&since_revision={}",
        running.id, running.revision
    );
    let polls: Vec<_> = (0..100)
        .map(|_| {
            let mut sender = sender.clone();
            let request = hyper::Request::get(path.as_str())
                .body(Empty::<Bytes>::new())
                .unwrap();
            tokio::spawn(async move {
                sender.ready().await.unwrap();
                let response = sender.send_request(request).await.unwrap();
                let status = response.status();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                (
                    status.as_u16(),
                    serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
                )
            })
        })
        .collect();
    load_reaches(c.controller(), "a hundred polls waiting", |l| {
        l.waiting == 100
    })
    .await;
    every_poll_answers_the_cancel(&c, running.id, polls).await;
}

/// Checks that every poll still waits, cancels `task`, and checks that each then answers it
/// canceled.
async fn every_poll_answers_the_cancel(
    c: &aps_controller::testkit::TestController,
    task: uuid::Uuid,
    polls: Vec<tokio::task::JoinHandle<(u16, serde_json::Value)>>,
) {
    assert!(
        polls.iter().all(|p| !p.is_finished()),
        "a poll answered early"
    );
    let cancel = format!("/api/v1/tasks/{task}/cancel");
    let (status, _, _) = http(c, Method::POST, &cancel, None, &[]).await;
    assert_eq!(status, 200);
    for poll in polls {
        let (status, task) = tokio::time::timeout(Duration::from_secs(10), poll)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(task["state"], "canceled", "{task}");
    }
}

#[tokio::test]
async fn waiting_requests_give_their_slot_back_and_have_a_limit_of_their_own() {
    let builder = aps_controller::Controller::builder()
        .time_scale(0.01)
        .max_requests(2)
        .max_waiting(5);
    let (c, running) = common::running_with(builder).await;
    let poll = format!(
        "/api/v1/tasks/{}?poll_timeout=60&since_revision={}",
        running.id, running.revision
    );
    let c = std::sync::Arc::new(c);
    let polls: Vec<_> = (0..5)
        .map(|_| {
            let (c, poll) = (c.clone(), poll.clone());
            tokio::spawn(async move {
                let (status, _, task) = get(&c, &poll).await;
                (status, task)
            })
        })
        .collect();
    // Five polls wait, yet the two request slots still serve everyone else.
    load_reaches(c.controller(), "five polls waiting", |l| l.waiting == 5).await;
    let (status, _, _) = get(&c, &poll).await;
    assert_eq!(status, 503, "a sixth poll is refused once five wait");
    for _ in 0..10 {
        let (status, _, _) = get(&c, "/api/v1/tasks?limit=1").await;
        assert_eq!(status, 200);
    }
    // An operation that would wait answers 202 at once: its task has started either way.
    let (status, _, task) = http(
        &c,
        Method::POST,
        "/api/v1/resources",
        Some(json!({
            "application": c.application(),
            "resource": {"aps": {"type": common::THING}, "plan": ["accept", "done"]},
            "timeout": -1
        })),
        &[],
    )
    .await;
    assert_eq!(status, 202, "{task}");
    every_poll_answers_the_cancel(&c, running.id, polls).await;
}
