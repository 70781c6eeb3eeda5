//! The real binary, killed with SIGKILL at random moments while dozens of tasks are in flight,
//! restarted on the same database each time: every acknowledged task ends, every callback
//! arrives, and no task's revision ever goes back. Once over plain HTTP (`--insecure-http`) and
//! once with the API served over TLS (`--tls`), installing on an https endpoint.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aps_controller::{Client, Secret, State};
use aps_test_support::wait::until;
use common::{Receiver, Scripted, THING, eventually, serve, serve_https};
use rand::Rng;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

const TASKS: usize = 40;
const KILLS: usize = 4;

fn spawn(addr: SocketAddr, db: &Path, secret: &str, tls: bool) -> Child {
    Command::new(env!("CARGO_BIN_EXE_aps-controller"))
        .args([
            "serve",
            "--listen",
            &addr.to_string(),
            "--time-scale",
            "60",
            "--webhook-secret",
            secret,
        ])
        .arg(if tls { "--tls" } else { "--insecure-http" })
        .arg("--db")
        .arg(format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the controller binary starts")
}

async fn ready(client: &Client) {
    until(
        "the controller answers",
        Duration::from_secs(20),
        || async move {
            client
                .send(Method::GET, "/api/v1/tasks?limit=1", None)
                .await
                .is_ok()
        },
    )
    .await;
}

/// Records the highest revision seen of each task, and fails when one goes back.
fn observe(seen: &mut HashMap<Uuid, u64>, id: Uuid, revision: u64) {
    let before = seen.entry(id).or_default();
    assert!(
        revision >= *before,
        "task {id}: revision went from {before} back to {revision}"
    );
    *before = revision;
}

/// The controller's CA certificate, once its first start has written it.
async fn ca_of(dir: &Path) -> String {
    let path = dir.join("tls").join("ca.crt");
    let mut pem = String::new();
    eventually(20, || {
        pem = std::fs::read_to_string(&path).unwrap_or_default();
        pem.contains("END CERTIFICATE")
    })
    .await;
    pem
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_nothing_acknowledged() {
    crash_and_restart(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_nothing_acknowledged_over_tls() {
    crash_and_restart(true).await;
}

async fn crash_and_restart(tls: bool) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let secret = Secret::generate().to_string();
    let addr: SocketAddr = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        free.local_addr().unwrap()
    };
    // A TLS controller installs only on https endpoints (the install carries the instance key).
    let endpoint = if tls {
        serve_https(Scripted::default().router()).await
    } else {
        serve(Scripted::default().router()).await
    };
    let receiver = Receiver::default();
    let hook = format!("{}/hook?token=keep", serve(receiver.router()).await);
    let mut child = spawn(addr, &db, &secret, tls);
    let (client, http, token) = if tls {
        let ca = ca_of(dir.path()).await;
        let root = reqwest::Certificate::from_pem(ca.as_bytes()).unwrap();
        let http = reqwest::Client::builder()
            .add_root_certificate(root)
            .build()
            .unwrap();
        // A TLS controller asks credentials: an admin token, made beside the running process
        // once it has migrated the database (any answer, a 401 too, says it has).
        ready(&Client::trusting(&format!("https://{addr}"), &ca)).await;
        let made = Command::new(env!("CARGO_BIN_EXE_aps-controller"))
            .args(["token", "create", "--scope", "admin", "--db"])
            .arg(format!("sqlite://{}", db.display()))
            .output()
            .unwrap();
        assert!(made.status.success(), "{made:?}");
        let token = String::from_utf8(made.stdout).unwrap().trim().to_owned();
        let client = Client::trusting(&format!("https://{addr}"), &ca).with_token(&token);
        (client, http, token)
    } else {
        (
            Client::new(&format!("http://{addr}")),
            reqwest::Client::new(),
            String::new(),
        )
    };
    let base = format!("{}://{addr}", if tls { "https" } else { "http" });
    ready(&client).await;

    let package: serde_json::Value = http
        .post(format!("{base}/api/v1/packages"))
        .bearer_auth(&token)
        .body(common::zip_of(&Scripted::model()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let package: Uuid = package["id"].as_str().unwrap().parse().unwrap();
    let install = client.install(package, &endpoint, json!({})).await.unwrap();
    let app = client.wait(install.id, |_| {}).await.unwrap().application;

    let mut acknowledged: Vec<Uuid> = Vec::new();
    let mut seen: HashMap<Uuid, u64> = HashMap::new();
    let kill_after: Vec<usize> = {
        let mut rng = rand::rng();
        let mut points: Vec<usize> = (0..KILLS).map(|_| rng.random_range(1..TASKS)).collect();
        points.sort_unstable();
        points
    };
    for i in 0..TASKS {
        let plan = ["accept", "accept", "done"];
        let body = json!({"application": app, "resource": {"aps": {"type": THING}, "plan": plan}, "timeout": 0, "callbackURL": hook});
        if let Ok(answer) = client
            .send(Method::POST, "/api/v1/resources", Some(&body))
            .await
        {
            if answer.status == 202 {
                let id: Uuid = answer.body["id"].as_str().unwrap().parse().unwrap();
                observe(&mut seen, id, answer.body["revision"].as_u64().unwrap());
                acknowledged.push(id);
            }
        }
        for _ in kill_after.iter().filter(|k| **k == i) {
            // Not a settling pause: the kill lands at a random moment of the work in flight,
            // which is what this test is about.
            let pause = rand::rng().random_range(0..300);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            for id in &acknowledged {
                if let Ok(task) = client.task(*id).await {
                    observe(&mut seen, *id, task.revision);
                }
            }
            child.kill().unwrap();
            child.wait().unwrap();
            child = spawn(addr, &db, &secret, tls);
            ready(&client).await;
        }
    }
    assert!(
        acknowledged.len() >= TASKS - KILLS,
        "most creations were acknowledged"
    );

    for id in &acknowledged {
        let task = tokio::time::timeout(
            Duration::from_secs(60),
            client.wait(*id, |t| observe(&mut seen, t.id, t.revision)),
        )
        .await
        .expect("the task ends")
        .unwrap();
        observe(&mut seen, *id, task.revision);
        assert_eq!(task.state, State::Success, "{task:?}");
    }
    eventually(60, || {
        let delivered: Vec<String> = receiver
            .deliveries()
            .iter()
            .map(|(_, _, body)| body.clone())
            .collect();
        acknowledged
            .iter()
            .all(|id| delivered.iter().any(|b| b.contains(&id.to_string())))
    })
    .await;
    for (headers, query, body) in receiver.deliveries() {
        assert_eq!(query, "token=keep");
        standardwebhooks::Webhook::new(&secret)
            .unwrap()
            .verify(body.as_bytes(), &headers)
            .unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
