//! How the scripted endpoint answers a call: the next step of the resource's plan.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Progress, SERVICE, Scripted, Seen, lock};

pub(super) async fn collection(
    State(endpoint): State<Scripted>,
    Path(service): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    endpoint.answer(&service, method, headers, body, None).await
}

pub(super) async fn resource(
    State(endpoint): State<Scripted>,
    Path((service, id)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    endpoint
        .answer(&service, method, headers, body, Some(id))
        .await
}

fn error(status: StatusCode, error: &str, message: &str) -> Response {
    let body = json!({"code": status.as_u16(), "error": error, "message": message});
    (status, Json(body)).into_response()
}

impl Scripted {
    async fn answer(
        &self,
        service: &str,
        method: Method,
        headers: HeaderMap,
        body: Bytes,
        id: Option<String>,
    ) -> Response {
        let now = Instant::now();
        let mut resource: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if self.0.script.record {
            lock(&self.0.calls).push(Seen {
                method: method.clone(),
                path: format!("/{service}/{}", id.as_deref().unwrap_or_default()),
                headers: headers.clone(),
                body: resource.clone(),
                at: now,
            });
        }
        let (Some(instance), Some(controller)) = (
            text(&headers, "aps-instance-id"),
            text(&headers, "aps-controller-uri"),
        ) else {
            return error(StatusCode::BAD_REQUEST, "BadRequest", "missing APS headers");
        };
        if method == Method::DELETE {
            let id = id.unwrap_or_default();
            match load(&controller, &instance, &id).await {
                Some(stored) => resource = stored,
                None => return error(StatusCode::NOT_FOUND, "NotFound", "cannot load"),
            }
        }
        let n = self.next_call(&resource, &method, now);
        let step = match resource.get("plan").and_then(Value::as_array) {
            Some(plan) => plan.get(n).and_then(Value::as_str).unwrap_or("done"),
            None if service == SERVICE && n < self.0.script.accepts as usize => "accept",
            None => "done",
        }
        .to_owned();
        let accepted = matches!(step.as_str(), "accept" | "accept-bare");
        self.note(&resource, &method, accepted, now);
        if resource.is_object() || resource.is_null() {
            resource["calls"] = json!(n + 1);
        }
        match step.as_str() {
            "accept" | "accept-bare" => {
                let mut r = (StatusCode::ACCEPTED, Json(resource)).into_response();
                let headers = r.headers_mut();
                headers.insert("aps-info", header(&format!("step {}", n + 1)));
                if step == "accept" {
                    let retry = self.0.script.retry_secs.to_string();
                    headers.insert("aps-retry-timeout", header(&retry));
                }
                r
            }
            "done" if method == Method::DELETE => StatusCode::NO_CONTENT.into_response(),
            "done" if method == Method::POST => {
                (StatusCode::CREATED, Json(resource)).into_response()
            }
            "done" => (StatusCode::OK, Json(resource)).into_response(),
            "html" => (StatusCode::INTERNAL_SERVER_ERROR, "<html>oops</html>").into_response(),
            step => busy_or_error(step),
        }
    }

    /// Counts a call of `method` for the resource, taking a lateness sample when a recheck was
    /// due; answers how many calls came before it.
    fn next_call(&self, resource: &Value, method: &Method, now: Instant) -> usize {
        let mut progress = lock(&self.0.progress);
        let Some(seen) = progress.get_mut(&key(resource, method)) else {
            return 0;
        };
        if let Some(due) = seen.due.take() {
            let late = now.saturating_duration_since(due).as_micros();
            lock(&self.0.lateness_us).push(u64::try_from(late).unwrap_or(u64::MAX));
        }
        seen.calls
    }

    /// Notes the answer: while the plan goes on, one more call and when the next is due; at
    /// its end, nothing (so a benchmark's endpoint keeps only what is under way).
    fn note(&self, resource: &Value, method: &Method, accepted: bool, now: Instant) {
        let mut progress = lock(&self.0.progress);
        let key = key(resource, method);
        if !accepted && resource.get("plan").is_none() {
            progress.remove(&key);
            return;
        }
        let delay = self.0.script.retry_secs as f64 / self.0.script.time_scale;
        let seen = progress.entry(key).or_insert(Progress {
            calls: 0,
            due: None,
        });
        seen.calls += 1;
        seen.due = accepted.then(|| now + Duration::from_secs_f64(delay));
    }
}

fn key(resource: &Value, method: &Method) -> (String, Method) {
    let id = resource.pointer("/aps/id").and_then(Value::as_str);
    (id.unwrap_or("?").to_owned(), method.clone())
}

fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

fn header(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("?"))
}

/// A step naming an HTTP status: `"422"` answers it, `"503:2"` adds `Retry-After: 2`, and
/// `"429:date+2"` a `Retry-After` date 2 s from now.
fn busy_or_error(step: &str) -> Response {
    let (code, after) = match step.split_once(':') {
        Some((code, after)) => (code, Some(after)),
        None => (step, None),
    };
    let Some(status) = code.parse().ok().and_then(|c| StatusCode::from_u16(c).ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadPlan",
            &format!("no step `{step}`"),
        );
    };
    let mut answer = error(status, "Scripted", &format!("scripted {code}"));
    let after = match after.map(|a| (a, a.strip_prefix("date+"))) {
        None => return answer,
        Some((_, Some(secs))) => {
            let secs = secs.parse().unwrap_or(0);
            let at = std::time::SystemTime::now() + Duration::from_secs(secs);
            httpdate::fmt_http_date(at)
        }
        Some((secs, None)) => secs.to_owned(),
    };
    answer.headers_mut().insert("retry-after", header(&after));
    answer
}

/// The resource as the controller keeps it, read from its `/aps/2`.
async fn load(controller: &str, instance: &str, id: &str) -> Option<Value> {
    let loaded = reqwest::Client::new()
        .get(format!("{controller}/aps/2/resources/{id}"))
        .header("APS-Instance-ID", instance)
        .send()
        .await
        .ok()?;
    if !loaded.status().is_success() {
        return None;
    }
    loaded.json().await.ok()
}
