//! Custom operations and link notifications below a resource: answers, phases, parameters,
//! handlers, and what is not declared.

use super::sites::{self, site};
use super::*;

async fn rig() -> Rig {
    let rig = Rig::with(sites::app()).await;
    rig.controller.store(
        "00000000-0000-4000-8000-0000000005a1",
        site("00000000-0000-4000-8000-0000000005a1"),
    );
    rig
}

#[tokio::test]
async fn a_sync_operation_answers_200_with_its_json_result_from_the_loaded_resource() {
    let rig = rig().await;
    let r = rig
        .send(
            Method::GET,
            "/site/00000000-0000-4000-8000-0000000005a1/stats?days=7&tag=a%20b",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "application/json");
    assert_eq!(header(&r, "aps-transaction-id"), "txn-42");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"site": "shop", "days": 7, "tag": "a b"}));
    assert_eq!(
        *rig.controller.callers.lock().unwrap(),
        [rig.instance.to_string()]
    );
}

#[tokio::test]
async fn an_operation_without_a_result_answers_204() {
    let rig = rig().await;
    let r = rig
        .send(
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/touch",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_async_operation_answers_202_then_done_on_the_async_phase_call() {
    let rig = rig().await;
    let r = rig
        .send(
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/restart",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&r, "aps-info"), "Restarting");
    assert_eq!(header(&r, "aps-retry-timeout"), "5");
    let r = rig
        .send(
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/restart",
            Some("async"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"restarted": "shop"})
    );
}

#[tokio::test]
async fn a_missing_or_mistyped_query_parameter_is_400_naming_it_before_the_resource_is_loaded() {
    let rig = rig().await;
    for (query, name) in [
        ("", "MissingParameter"),
        ("?days=seven", "InvalidParameter"),
        ("?days=-1", "InvalidParameter"),
        ("?days=1&days=2", "InvalidParameter"),
    ] {
        let r = rig
            .send(
                Method::GET,
                &format!("/site/00000000-0000-4000-8000-0000000005a1/stats{query}"),
                None,
                None,
            )
            .await;
        let body = error(r, StatusCode::BAD_REQUEST, name).await;
        assert!(
            body["message"].as_str().unwrap().contains("`days`"),
            "{body}"
        );
    }
    // `-1` is an integer, so it is only refused by the Rust type, after loading.
    assert_eq!(rig.controller.callers.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_body_parameter_is_read_into_its_type_and_a_malformed_one_is_400_naming_it() {
    let rig = rig().await;
    let r = rig
        .send(
            Method::PUT,
            "/site/00000000-0000-4000-8000-0000000005a1/settings/current",
            None,
            Some(json!({"workers": 4})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"workers": 4}));
    for body in [json!({"workers": "four"}), json!({"workers": 300})] {
        let r = rig
            .send(
                Method::PUT,
                "/site/00000000-0000-4000-8000-0000000005a1/settings/current",
                None,
                Some(body),
            )
            .await;
        let body = error(r, StatusCode::BAD_REQUEST, "InvalidParameter").await;
        assert!(
            body["message"].as_str().unwrap().contains("`settings`"),
            "{body}"
        );
    }
    let r = rig
        .request(
            Method::PUT,
            "/site/00000000-0000-4000-8000-0000000005a1/settings/current",
        )
        .header("content-type", "application/json")
        .body("{\"workers\": ")
        .send()
        .await
        .unwrap();
    let body = error(r, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    assert!(
        body["message"].as_str().unwrap().contains("`settings`"),
        "{body}"
    );
    let r = rig
        .send(
            Method::PUT,
            "/site/00000000-0000-4000-8000-0000000005a1/settings/current",
            None,
            None,
        )
        .await;
    let body = error(r, StatusCode::BAD_REQUEST, "MissingParameter").await;
    assert!(
        body["message"].as_str().unwrap().contains("`settings`"),
        "{body}"
    );
}

#[tokio::test]
async fn undeclared_operations_and_relations_are_404_and_a_declared_path_with_another_verb_405() {
    let rig = rig().await;
    for (method, path) in [
        (
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/reboot",
        ),
        (
            Method::GET,
            "/site/00000000-0000-4000-8000-0000000005a1/stats/extra",
        ),
        (
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/owners",
        ),
        (
            Method::DELETE,
            "/site/00000000-0000-4000-8000-0000000005a1/owners/00000000-0000-4000-8000-0000000000c1",
        ),
        (
            Method::POST,
            "/domain/00000000-0000-4000-8000-0000000000d1/stats",
        ),
        (
            Method::POST,
            "/nowhere/00000000-0000-4000-8000-0000000005a1/stats",
        ),
    ] {
        let r = rig.send(method.clone(), path, None, None).await;
        error(r, StatusCode::NOT_FOUND, "NotFound").await;
    }
    for (method, path, allow) in [
        (
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/stats",
            "GET",
        ),
        (
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/settings/current",
            "GET, PUT",
        ),
        (
            Method::GET,
            "/site/00000000-0000-4000-8000-0000000005a1/domains",
            "POST",
        ),
        (
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/domains/00000000-0000-4000-8000-0000000000d1",
            "DELETE",
        ),
    ] {
        let r = rig.send(method, path, None, None).await;
        assert_eq!(header(&r, "allow"), allow, "{path}");
        error(r, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed").await;
    }
}

#[tokio::test]
async fn a_link_handler_accepts_or_refuses_the_linked_resource_it_reads_typed() {
    let rig = rig().await;
    let domain = |fqdn: &str| json!({"aps": {"id": "00000000-0000-4000-8000-0000000000d3", "type": "http://example.com/sites/domain/1.0"}, "fqdn": fqdn});
    let r = rig
        .send(
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/domains",
            None,
            Some(domain("shop.test")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = rig
        .send(
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/domains",
            None,
            Some(domain("shop.com")),
        )
        .await;
    let body = error(r, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert_eq!(body["message"], "shop.com is not a .test domain of shop");
    let r = rig
        .send(
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/domains",
            None,
            Some(json!({"fqdn": 7})),
        )
        .await;
    error(r, StatusCode::BAD_REQUEST, "InvalidResource").await;
    let r = rig
        .send(
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/domains",
            None,
            Some(json!([1])),
        )
        .await;
    error(r, StatusCode::BAD_REQUEST, "InvalidResource").await;
}

#[tokio::test]
async fn an_unlink_reaches_its_handler_with_the_linked_id() {
    let rig = rig().await;
    let r = rig
        .send(Method::DELETE, "/site/00000000-0000-4000-8000-0000000005a1/domains/00000000-0000-4000-8000-0000000000d2", None, None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = rig
        .send(Method::DELETE, "/site/00000000-0000-4000-8000-0000000005a1/domains/00000000-0000-4000-8000-0000000000d1", None, None)
        .await;
    let body = error(r, StatusCode::CONFLICT, "Conflict").await;
    assert_eq!(body["message"], "the primary domain stays linked");
}

#[tokio::test]
async fn a_relation_without_a_handler_accepts_links_and_unlinks_without_loading_anything() {
    let rig = rig().await;
    let root = json!({"aps": {"id": "00000000-0000-4000-8000-0000000000f2"}});
    let r = rig
        .send(
            Method::POST,
            "/site/00000000-0000-4000-8000-0000000005a1/root",
            None,
            Some(root),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = rig
        .send(Method::DELETE, "/site/00000000-0000-4000-8000-0000000005a1/primary/00000000-0000-4000-8000-0000000000d1", None, None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = rig
        .send(
            Method::POST,
            "/domain/00000000-0000-4000-8000-0000000000d1/site",
            None,
            Some(site("00000000-0000-4000-8000-0000000005a1")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(rig.controller.callers.lock().unwrap().is_empty());
}

#[tokio::test]
async fn typed_link_fields_read_the_link_json_and_write_it_back_unchanged() {
    let rig = rig().await;
    let r = rig
        .send(
            Method::GET,
            "/site/00000000-0000-4000-8000-0000000005a1/links",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"root": "00000000-0000-4000-8000-0000000000f1", "domains": ["00000000-0000-4000-8000-0000000000d1", "00000000-0000-4000-8000-0000000000d2"], "primary": "00000000-0000-4000-8000-0000000000d1"})
    );
    let r = rig
        .send(
            Method::GET,
            "/site/00000000-0000-4000-8000-0000000005a1",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        site("00000000-0000-4000-8000-0000000005a1")
    );
    // Provisioned without its optional links: they stay absent, the collection is `[]`.
    let mut new = site("00000000-0000-4000-8000-0000000005a2");
    new.as_object_mut().unwrap().remove("primary");
    new.as_object_mut().unwrap().remove("domains");
    let r = rig
        .send(Method::POST, "/site/", None, Some(new.clone()))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    new["domains"] = json!([]);
    assert_eq!(r.json::<Value>().await.unwrap(), new);
    // A required link missing from a provisioning is the caller's mistake.
    new.as_object_mut().unwrap().remove("root");
    let r = rig.send(Method::POST, "/site/", None, Some(new)).await;
    let body = error(r, StatusCode::BAD_REQUEST, "InvalidResource").await;
    assert!(body["message"].as_str().unwrap().contains("root"), "{body}");
}

#[tokio::test]
async fn custom_operations_need_the_aps_headers_like_every_operation() {
    let rig = rig().await;
    let r = rig
        .http
        .get(format!(
            "{}/site/00000000-0000-4000-8000-0000000005a1/stats?days=1",
            rig.endpoint
        ))
        .send()
        .await
        .unwrap();
    error(r, StatusCode::BAD_REQUEST, "MissingHeader").await;
}

#[tokio::test]
async fn an_application_whose_handlers_name_no_relation_or_whose_operations_collide_does_not_start()
{
    let app = sites::app().service::<sites::Broken>("broken", "broken/1.0");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let error = app.serve(listener, "/").await.expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("link handler for `owners`"), "{message}");
    assert!(message.contains("two operations at GET"), "{message}");
}
