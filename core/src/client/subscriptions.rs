//! The controller client's calls on event subscriptions made at run time:
//! `/aps/2/resources/{subscriber}/aps/subscriptions`.

use aps_protocol::event::Subscription;
use bytes::Bytes;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::{ControllerClient, not_json};
use crate::Result;

impl ControllerClient {
    /// `POST /aps/2/resources/{subscriber}/aps/subscriptions`: subscribes the resource
    /// `subscriber` (its operation `subscription.handler` gets the notifications) and answers
    /// the subscription with the id the controller gave it.
    ///
    /// ```
    /// # async fn f(ctx: &aps_core::Context, domain: &str, website: &str) -> aps_core::Result<()> {
    /// use aps_core::Subscription;
    ///
    /// let wanted = Subscription::to_resource("changed", website, "websiteChanged");
    /// let made = ctx.controller().subscribe(domain, &wanted).await?;
    /// # let _ = made.id; Ok(()) }
    /// ```
    pub async fn subscribe(
        &self,
        subscriber: &str,
        subscription: &Subscription,
    ) -> Result<Subscription> {
        let wanted = Subscription {
            id: None,
            ..subscription.clone()
        };
        let url = self.resource_url(subscriber, &["aps", "subscriptions"])?;
        let body = Bytes::from(serde_json::to_vec(&wanted)?);
        let json = self.call(Method::POST, url, body).await?;
        read(StatusCode::CREATED, &json)
    }

    /// `GET /aps/2/resources/{subscriber}/aps/subscriptions`: the subscriber's subscriptions,
    /// declared and made at run time.
    pub async fn subscriptions(&self, subscriber: &str) -> Result<Vec<Subscription>> {
        let url = self.resource_url(subscriber, &["aps", "subscriptions"])?;
        let json = self.call(Method::GET, url, Bytes::new()).await?;
        read(StatusCode::OK, &json)
    }

    /// `GET /aps/2/resources/{subscriber}/aps/subscriptions/{id}`: one subscription; a 404
    /// when there is none.
    pub async fn subscription(&self, subscriber: &str, id: &str) -> Result<Subscription> {
        let url = self.resource_url(subscriber, &["aps", "subscriptions", id])?;
        let json = self.call(Method::GET, url, Bytes::new()).await?;
        read(StatusCode::OK, &json)
    }

    /// `DELETE /aps/2/resources/{subscriber}/aps/subscriptions/{id}`: ends a subscription; a
    /// 404 when there is none.
    pub async fn unsubscribe(&self, subscriber: &str, id: &str) -> Result<()> {
        let url = self.resource_url(subscriber, &["aps", "subscriptions", id])?;
        self.call(Method::DELETE, url, Bytes::new()).await?;
        Ok(())
    }
}

fn read<T: DeserializeOwned>(status: StatusCode, json: &[u8]) -> Result<T> {
    serde_json::from_slice(json).map_err(|e| not_json(status, &e))
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::super::tests::scripted;
    use super::*;
    use aps_protocol::event::CHANGED;

    #[tokio::test]
    async fn subscriptions_are_made_listed_read_and_ended_below_the_subscriber() {
        let made = r#"{"id": "s1", "event": "http://aps-standard.org/core/events/changed",
                       "source": {"id": "w1"}, "handler": "onChange"}"#;
        let list = r#"[{"id": "s1", "event": "changed", "source": {"type": "t"}, "handler": "h"}]"#;
        let (client, posted) = scripted(StatusCode::CREATED, made);
        let wanted = Subscription {
            id: Some("ignored".into()),
            ..Subscription::to_resource("changed", "w1", "onChange")
        };
        let subscription = client
            .subscribe("00000000-0000-4000-8000-0000000000d1", &wanted)
            .await
            .expect("subscribe");
        assert_eq!(subscription.id.as_deref(), Some("s1"));
        assert_eq!(subscription.event, CHANGED);
        let (lister, listed) = scripted(StatusCode::OK, list);
        assert_eq!(
            lister
                .subscriptions("00000000-0000-4000-8000-0000000000d1")
                .await
                .expect("list")
                .len(),
            1
        );
        let (reader, read) = scripted(StatusCode::OK, made);
        assert_eq!(
            reader
                .subscription("00000000-0000-4000-8000-0000000000d1", "s1")
                .await
                .expect("one")
                .handler,
            "onChange"
        );
        let (ender, ended) = scripted(StatusCode::NO_CONTENT, "");
        ender
            .unsubscribe("00000000-0000-4000-8000-0000000000d1", "s/1")
            .await
            .expect("unsubscribe");
        let base = "http://controller.example:6308/prefix/aps/2/resources";
        let body =
            format!(r#"{{"event":"{CHANGED}","source":{{"id":"w1"}},"handler":"onChange"}}"#);
        let calls = [
            (
                &posted,
                Method::POST,
                format!("{base}/00000000-0000-4000-8000-0000000000d1/aps/subscriptions"),
                body,
            ),
            (
                &listed,
                Method::GET,
                format!("{base}/00000000-0000-4000-8000-0000000000d1/aps/subscriptions"),
                String::new(),
            ),
            (
                &read,
                Method::GET,
                format!("{base}/00000000-0000-4000-8000-0000000000d1/aps/subscriptions/s1"),
                String::new(),
            ),
            (
                &ended,
                Method::DELETE,
                format!("{base}/00000000-0000-4000-8000-0000000000d1/aps/subscriptions/s%2F1"),
                String::new(),
            ),
        ];
        for (scripted, method, uri, body) in calls {
            let seen = scripted.seen.lock().expect("lock");
            let request = &seen[0];
            assert_eq!(
                (request.method(), request.uri().to_string()),
                (&method, uri)
            );
            assert_eq!(request.body().as_ref(), body.as_bytes());
        }
        let (missing, _) = scripted(
            StatusCode::NOT_FOUND,
            r#"{"code": 404, "error": "NotFound", "message": "no subscription"}"#,
        );
        let error = missing
            .unsubscribe("00000000-0000-4000-8000-0000000000d1", "s9")
            .await
            .expect_err("404");
        assert_eq!(error.status(), StatusCode::NOT_FOUND);
        let (odd, _) = scripted(StatusCode::CREATED, r#"{"id": "s1"}"#);
        let error = odd
            .subscribe("00000000-0000-4000-8000-0000000000d1", &wanted)
            .await
            .expect_err("unfit");
        assert_eq!(error.name(), "InvalidControllerResponse");
    }
}
