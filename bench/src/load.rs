//! Load through the controller's client API: provisions, as a platform would send them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{anyhow, bail};
use serde_json::{Value, json};
use uuid::Uuid;

use aps_test_support::scripted::SERVICE;

/// Provisions `count` resources of the scripted service (`POST /api/v1/resources` with
/// `timeout: 0`, so each answers 202 as soon as its task is stored), `concurrency` requests at
/// a time over keep-alive connections. Answers the task ids.
pub async fn provision(
    url: &str,
    application: Uuid,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<Uuid>> {
    provision_of(url, application, SERVICE, count, concurrency).await
}

/// Like [`provision`], of the type (or service) `type_id`.
pub async fn provision_of(
    url: &str,
    application: Uuid,
    type_id: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<Uuid>> {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let endpoint = format!("{url}/api/v1/resources");
    let workers: Vec<_> = (0..concurrency.min(count))
        .map(|_| {
            let (client, next, endpoint) = (client.clone(), next.clone(), endpoint.clone());
            let type_id = type_id.to_owned();
            tokio::spawn(async move {
                let mut ids: Vec<Uuid> = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    let body = json!({
                        "application": application,
                        "resource": {"aps": {"type": type_id}, "label": "bench"},
                        "timeout": 0,
                    });
                    let response = client.post(&endpoint).json(&body).send().await?;
                    let status = response.status();
                    let task: Value = response.json().await?;
                    if status != reqwest::StatusCode::ACCEPTED {
                        bail!("provision answered {status}: {task}");
                    }
                    let id = task["id"].as_str().ok_or_else(|| anyhow!("no task id"))?;
                    ids.push(id.parse()?);
                }
                Ok::<_, anyhow::Error>(ids)
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(count);
    for worker in workers {
        ids.extend(worker.await??);
    }
    Ok(ids)
}
