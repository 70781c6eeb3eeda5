//! Events end to end: notifications delivered per second on SQLite (`synchronous = FULL`).
//!
//! Usage: `notifications --subscribers K --changes N`
//!
//! Embeds a controller (time scale 1000, a fresh SQLite file) with the scripted endpoint's
//! linked package called in-process, its `part` type given the handler operation `onEvent`.
//! K parts subscribe (over `/aps/2`, as endpoints do) to `changed` of one `thing`; then N
//! changes of that thing are made through `PUT /aps/2/resources/{thing}`, one after another,
//! each writing K notifications in its transaction. The figure is N K divided by the time from
//! the first change until the handler has accepted every notification (each delivery is an
//! endpoint call and a stored `delivered` mark).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aps_bench::process::figure;
use aps_controller::{Controller, State as TaskState};
use aps_test_support::scripted::{self, Script, Scripted};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    subscribers: usize,
    #[arg(long)]
    changes: usize,
}

async fn on_event(State(accepted): State<Arc<AtomicU64>>) -> StatusCode {
    accepted.fetch_add(1, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let accepted = Arc::new(AtomicU64::new(0));
    let endpoint = Scripted::new(Script {
        time_scale: 1000.0,
        record: false,
        ..Script::default()
    });
    let router = Router::new()
        .route("/part/{id}/onEvent", post(on_event))
        .with_state(accepted.clone())
        .merge(endpoint.router());
    let controller = Controller::builder()
        .database(dir.path().join("c.db").to_string_lossy())
        .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .time_scale(1000.0)
        .endpoint_router(scripted::BASE_URL, router)
        .start()
        .await?;
    let client = controller.client();
    let mut model = Scripted::linked_model();
    for (service, schema) in &mut model.schemas {
        if service == "part" {
            schema.operations.insert(
                "onEvent".into(),
                serde_json::from_value(json!({"verb": "POST", "path": "/onEvent"}))?,
            );
        }
    }
    let package = controller.import(&model).await?;
    let install = client
        .install(package.id, scripted::BASE_URL, json!({}))
        .await?;
    let app = client.wait(install.id, |_| {}).await?.application;
    let made = |service: &'static str, properties: Value| {
        let client = &client;
        async move {
            let task = client.provision(app, service, properties).await?;
            let task = client.wait(task.id, |_| {}).await?;
            if task.state != TaskState::Success {
                bail!("provisioning a {service} ended {}", task.state.as_str());
            }
            Ok::<_, anyhow::Error>(task.resource.id)
        }
    };
    let thing = made("thing", json!({})).await?;
    let http = reqwest::Client::new();
    let aps = |path: String| {
        http.request(reqwest::Method::POST, format!("{}{path}", controller.url()))
            .header("aps-instance-id", app.to_string())
    };
    for i in 0..args.subscribers {
        let part = made("part", json!({"serial": format!("s{i}")})).await?;
        let subscription =
            json!({"event": "changed", "source": {"id": thing}, "handler": "onEvent"});
        let answer = aps(format!("/aps/2/resources/{part}/aps/subscriptions"))
            .json(&subscription)
            .send()
            .await?;
        if answer.status() != reqwest::StatusCode::CREATED {
            bail!("subscribing answered {}", answer.status());
        }
    }
    let expected = (args.subscribers * args.changes) as u64;
    let began = Instant::now();
    for i in 0..args.changes {
        let answer = http
            .put(format!("{}/aps/2/resources/{thing}", controller.url()))
            .header("aps-instance-id", app.to_string())
            .json(&json!({"label": format!("change {i}")}))
            .send()
            .await
            .context("changing the thing")?;
        if !answer.status().is_success() {
            bail!("the change answered {}", answer.status());
        }
    }
    while accepted.load(Ordering::Relaxed) < expected {
        if began.elapsed() > Duration::from_secs(600) {
            bail!("notifications not delivered in 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = began.elapsed().as_secs_f64();
    figure("notifications", expected, "notifications");
    figure(
        "notifications_delivered_per_s",
        format!("{:.0}", expected as f64 / elapsed),
        "notifications/s",
    );
    Ok(())
}
