//! Callbacks: the final task JSON posted to a client's `callbackURL`, signed and delivered at
//! least once.
//!
//! When a task with a callback URL ends, the engine writes an outbox row in the same transaction
//! as the task's final state, then hands it here. Delivery retries with backoff and jitter until
//! the receiver answers 2xx (for up to [`GIVE_UP_AFTER`]); the outbox row is deleted only then,
//! so a restart delivers whatever was still owed. Every delivery is signed the Standard Webhooks
//! way: `webhook-id` (the same for every retry), `webhook-timestamp`, and `webhook-signature:
//! v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`. URLs are logged without their query.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;
use standardwebhooks::{
    HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP, Webhook,
};
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

use crate::schedule::Scheduler;
use crate::schedule::{TimeScale, backoff};
use crate::store::{Outbox, Store, StoreError};
use crate::task::Task;
use crate::timestamp::Timestamp;

/// How long a callback is retried before it is given up (and logged).
pub(crate) const GIVE_UP_AFTER: Duration = Duration::from_secs(3 * 24 * 3600);
const PREFIX: &str = "whsec_";

/// A Standard Webhooks signing secret. Signing is the `standardwebhooks` crate's; reading and
/// showing `whsec_…` stay here, as its `Webhook` takes a key without the prefix or an empty one
/// and cannot show its key back.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A webhook secret that is not `whsec_` followed by base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is `whsec_` followed by base64 of the key")]
pub struct BadSecret;

impl Secret {
    /// Reads `whsec_<base64>`.
    pub fn parse(text: &str) -> Result<Self, BadSecret> {
        let key = text.trim().strip_prefix(PREFIX).ok_or(BadSecret)?;
        let key = BASE64.decode(key).map_err(|_| BadSecret)?;
        if key.is_empty() {
            return Err(BadSecret);
        }
        Ok(Self(key))
    }

    /// A new random 32-byte secret.
    pub fn generate() -> Self {
        let mut key = vec![0; 32];
        rand::rng().fill_bytes(&mut key);
        Self(key)
    }

    /// The `webhook-signature` value for a message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        Webhook::from_bytes(self.0.clone())
            .and_then(|webhook| webhook.sign(id, timestamp, body.as_bytes()))
            .unwrap_or_else(|_| unreachable!("any key signs, and a str is UTF-8"))
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PREFIX}{}", BASE64.encode(&self.0))
    }
}

/// The most characters of a URL shown in a log line.
const SHOWN_URL: usize = 120;

/// A URL as it may be shown: no user, password, query or fragment, and at most [`SHOWN_URL`]
/// characters (the rest is cut, marked with `…`).
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            let _ = url.set_username("");
            let _ = url.set_password(None);
            let mut shown: String = url.as_str().chars().take(SHOWN_URL).collect();
            if shown.len() < url.as_str().len() {
                shown.push('…');
            }
            shown
        }
        Err(_) => "<not a URL>".to_owned(),
    }
}

/// The callback a task owes when it ends.
pub(crate) fn owed(task: &Task, url: &str) -> Outbox {
    let now = Timestamp::now();
    Outbox {
        id: format!("msg_{}", Uuid::new_v4().simple()),
        task_id: task.id,
        url: url.to_owned(),
        body: serde_json::to_string(task).unwrap_or_default(),
        attempts: 0,
        next_attempt: now,
        created: now,
    }
}

/// Delivers callbacks from the outbox.
pub(crate) struct Callbacks {
    store: Store,
    http: reqwest::Client,
    secret: Secret,
    scale: TimeScale,
    scheduler: Scheduler<String>,
    scheduler_loop: AbortHandle,
    pending: Mutex<HashMap<String, Outbox>>,
    /// Failed deliveries, for `/metrics`.
    failures: prometheus_client::metrics::counter::Counter,
}

impl Callbacks {
    /// Starts delivering; [`Callbacks::resume`] then picks up what the store still owes.
    pub(crate) fn start(
        store: Store,
        secret: Secret,
        scale: TimeScale,
    ) -> Result<Arc<Self>, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Arc::new_cyclic(|weak: &Weak<Self>| {
            let weak = weak.clone();
            let (scheduler, scheduler_loop) = Scheduler::start(move |id| {
                if let Some(callbacks) = weak.upgrade() {
                    tokio::spawn(callbacks.attempt(id));
                }
            });
            Self {
                store,
                http,
                secret,
                scale,
                scheduler,
                scheduler_loop: scheduler_loop.abort_handle(),
                pending: Mutex::default(),
                failures: Default::default(),
            }
        }))
    }

    /// Stops scheduling deliveries; what is owed stays in the outbox.
    pub(crate) fn stop(&self) {
        self.scheduler_loop.abort();
    }

    /// Schedules every callback the store still owes.
    pub(crate) async fn resume(&self) -> Result<usize, StoreError> {
        let owed = self.store.pending_callbacks().await?;
        let count = owed.len();
        for callback in owed {
            let at = Instant::now() + callback.next_attempt.from_now();
            self.schedule(callback, at);
        }
        Ok(count)
    }

    /// How many callbacks wait for their next delivery attempt.
    pub(crate) fn pending(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The counter of failed deliveries.
    pub(crate) fn failure_counter(&self) -> prometheus_client::metrics::counter::Counter {
        self.failures.clone()
    }

    /// Delivers a callback that has just been stored.
    pub(crate) fn deliver(&self, callback: Outbox) {
        self.schedule(callback, Instant::now());
    }

    fn schedule(&self, callback: Outbox, at: Instant) {
        let id = callback.id.clone();
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone(), callback);
        self.scheduler.at(at, id);
    }

    async fn attempt(self: Arc<Self>, id: String) {
        let found = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        let Some(callback) = found else { return };
        let url = redact(&callback.url);
        // At error level, so a warning about a failed delivery keeps its ids at any level.
        let span =
            tracing::error_span!("callback", id = %callback.id, task = %callback.task_id, %url);
        self.try_once(callback).instrument(span).await;
    }

    async fn try_once(&self, mut callback: Outbox) {
        let timestamp = Timestamp::now().unix_seconds();
        let result = self
            .http
            .post(&callback.url)
            .header("content-type", "application/json")
            .header(HEADER_WEBHOOK_ID, &callback.id)
            .header(HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string())
            .header(
                HEADER_WEBHOOK_SIGNATURE,
                self.secret.sign(&callback.id, timestamp, &callback.body),
            )
            .body(callback.body.clone())
            .send()
            .await;
        let failure = match result {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(format!("answered {}", response.status())),
            Err(error) => Some(format!(
                "not reachable: {}",
                crate::endpoint::describe(&error)
            )),
        };
        if failure.is_some() {
            self.failures.inc();
        }
        let stored = match failure {
            None => {
                tracing::info!("callback delivered");
                self.store.callback_done(&callback.id).await
            }
            Some(why) if callback.created.plus(GIVE_UP_AFTER) <= Timestamp::now() => {
                tracing::error!(attempts = callback.attempts + 1, "callback given up: {why}");
                self.store.callback_done(&callback.id).await
            }
            Some(why) => {
                callback.attempts += 1;
                let delay = self.scale.apply(backoff(callback.attempts));
                callback.next_attempt = Timestamp::now().plus(delay);
                tracing::warn!(
                    attempts = callback.attempts,
                    "callback failed ({why}); retrying"
                );
                let stored = self.store.callback_failed(&callback).await;
                self.schedule(callback, Instant::now() + delay);
                stored
            }
        };
        if let Err(error) = stored {
            // The outbox row stays as it was, so the callback is delivered again after a restart.
            tracing::error!(%error, "could not record the callback's delivery");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_bad_ones_are_refused() {
        let secret = Secret::generate();
        assert_eq!(Secret::parse(&secret.to_string()), Ok(secret));
        assert_eq!(Secret::parse("abc"), Err(BadSecret));
        assert_eq!(Secret::parse("whsec_!!"), Err(BadSecret));
        assert_eq!(Secret::parse("whsec_"), Err(BadSecret));
    }

    #[test]
    fn the_signature_is_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn shown_urls_lose_query_and_credentials() {
        assert_eq!(
            redact("https://user:pw@example.com/hook?token=secret#x"),
            "https://example.com/hook"
        );
        assert_eq!(redact("::"), "<not a URL>");
        let long = redact(&format!("https://example.com/{}", "a".repeat(900_000)));
        assert_eq!(long.chars().count(), SHOWN_URL + 1);
        assert!(long.ends_with('…'));
    }
}
