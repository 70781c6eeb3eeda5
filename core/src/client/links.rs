//! The controller client's calls on links: list the linked resources, link, unlink.

use aps_protocol::relation::Link;
use bytes::Bytes;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::{ControllerClient, not_json};
use crate::{Error, Result};

impl ControllerClient {
    /// `GET /aps/2/resources/{id}/{relation}`: the resources linked to `id` through
    /// `relation`, each read into `T` (`serde_json::Value` for them as they are).
    ///
    /// ```
    /// # async fn f(ctx: &aps_core::Context, website: &str) -> aps_core::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Domain { fqdn: String }
    ///
    /// let domains: Vec<Domain> = ctx.controller().linked(website, "domains").await?;
    /// # let _ = domains.iter().map(|d| &d.fqdn); Ok(()) }
    /// ```
    pub async fn linked<T: DeserializeOwned>(&self, id: &str, relation: &str) -> Result<Vec<T>> {
        let url = self.resource_url(id, &[relation])?;
        let json = self.call(Method::GET, url, Bytes::new()).await?;
        serde_json::from_slice(&json).map_err(|e| {
            Error::with(
                StatusCode::BAD_GATEWAY,
                "InvalidControllerResponse",
                format!(
                    "the resources linked to {id} through `{relation}` do not fit the type: {e}"
                ),
            )
        })
    }

    /// `POST /aps/2/resources/{id}/{relation}`: links the resource `other` to `id` through
    /// `relation` and answers the new link. The controller checks the relation (declared,
    /// target type, cardinality) and does not notify this endpoint, which asked for it.
    pub async fn link(&self, id: &str, relation: &str, other: &str) -> Result<Link> {
        let url = self.resource_url(id, &[relation])?;
        let body = serde_json::to_vec(&serde_json::json!({"aps": {"id": other}}))?;
        let json = self.call(Method::POST, url, Bytes::from(body)).await?;
        serde_json::from_slice(&json).map_err(|e| not_json(StatusCode::CREATED, &e))
    }

    /// `DELETE /aps/2/resources/{id}/{relation}/{other}`: removes the link to `other`; a 404
    /// when it is not linked.
    pub async fn unlink(&self, id: &str, relation: &str, other: &str) -> Result<()> {
        let url = self.resource_url(id, &[relation, other])?;
        self.call(Method::DELETE, url, Bytes::new()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;
    use uuid::Uuid;

    use super::super::tests::scripted;
    use super::*;
    use aps_protocol::headers;

    #[tokio::test]
    async fn links_are_listed_typed_made_and_removed_under_the_resource_as_the_instance() {
        #[derive(Debug, serde::Deserialize)]
        struct Domain {
            fqdn: String,
        }
        let (client, seen) = scripted(StatusCode::OK, r#"[{"fqdn": "a.test"}]"#);
        let domains: Vec<Domain> = client
            .linked("00000000-0000-4000-8000-0000000000e1", "domains")
            .await
            .expect("linked");
        assert_eq!(domains[0].fqdn, "a.test");
        let link = r#"{"aps": {"link": "collection", "id": "d1", "href": "/aps/2/resources/d1"}}"#;
        let (linker, made) = scripted(StatusCode::CREATED, link);
        let made_link = linker
            .link("00000000-0000-4000-8000-0000000000e1", "domains", "d1")
            .await
            .expect("link");
        assert_eq!(made_link.id(), "d1");
        let (unlinker, removed) = scripted(StatusCode::NO_CONTENT, "");
        unlinker
            .unlink("00000000-0000-4000-8000-0000000000e1", "domains", "d/1")
            .await
            .expect("unlink");
        let base = "http://controller.example:6308/prefix/aps/2/resources";
        let calls = [
            (
                &seen,
                Method::GET,
                format!("{base}/00000000-0000-4000-8000-0000000000e1/domains"),
                "",
            ),
            (
                &made,
                Method::POST,
                format!("{base}/00000000-0000-4000-8000-0000000000e1/domains"),
                r#"{"aps":{"id":"d1"}}"#,
            ),
            (
                &removed,
                Method::DELETE,
                format!("{base}/00000000-0000-4000-8000-0000000000e1/domains/d%2F1"),
                "",
            ),
        ];
        for (scripted, method, uri, body) in calls {
            let seen = scripted.seen.lock().expect("lock");
            let request = &seen[0];
            assert_eq!(
                (request.method(), request.uri()),
                (&method, &uri.parse::<http::Uri>().expect("uri"))
            );
            assert_eq!(request.body().as_ref(), body.as_bytes());
            assert_eq!(
                request.headers()[headers::INSTANCE_ID],
                Uuid::from_u128(7).to_string()
            );
        }
        let (refusing, _) = scripted(
            StatusCode::NOT_FOUND,
            r#"{"code": 404, "error": "NotFound", "message": "not linked"}"#,
        );
        let error = refusing
            .unlink("00000000-0000-4000-8000-0000000000e1", "domains", "d9")
            .await
            .expect_err("404");
        assert_eq!(error.status(), StatusCode::NOT_FOUND);
        let (typo, _) = scripted(StatusCode::OK, r#"[{"name": "x"}]"#);
        let error = typo
            .linked::<Domain>("00000000-0000-4000-8000-0000000000e1", "domains")
            .await
            .expect_err("unfit");
        assert_eq!(error.name(), "InvalidControllerResponse");
    }
}
