//! Each operation through its phases: provision, install, configure, retrieve, unprovision.

use super::*;

#[tokio::test]
async fn provision_sync_answers_202_with_info_retry_and_the_changed_resource() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            None,
            Some(mailbox("00000000-0000-4000-8000-00000000a001", 5)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&r, "aps-info"), "Creating the mailbox");
    assert_eq!(
        header(&r, "aps-retry-timeout"),
        "1",
        "a recheck of 0 is clamped to 1"
    );
    assert_eq!(header(&r, "aps-transaction-id"), "txn-42");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["job"], format!("job-for-{}", rig.instance));
    assert_eq!(body["fromANewerController"], json!({"kept": [1, 2]}));
    assert_eq!(body["aps"]["status"], "aps:provisioning");
}

#[tokio::test]
async fn a_request_without_a_transaction_id_gets_one_in_its_answer() {
    let rig = Rig::start().await;
    let r = rig
        .http
        .post(format!("{}/mailbox/", rig.endpoint))
        .header("APS-Instance-ID", rig.instance.to_string())
        .header("APS-Controller-URI", &rig.controller_uri)
        .json(&json!({"quota": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let txn = header(&r, "aps-transaction-id");
    assert!(Uuid::parse_str(txn).is_ok(), "{txn}");
}

#[tokio::test]
async fn provision_without_trailing_slash_and_explicit_sync_phase_is_the_same() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::POST,
            "/mailbox",
            Some("sync"),
            Some(mailbox("00000000-0000-4000-8000-00000000a001", 5)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn async_phase_reaches_the_twin_and_done_answers_201_with_the_resource() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            Some("async"),
            Some(mailbox("00000000-0000-4000-8000-00000000a001", 5)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["quota"], 5);
    assert_eq!(body["fromANewerController"]["kept"][1], 2);
}

#[tokio::test]
async fn install_on_the_root_service_succeeds_at_once() {
    let rig = Rig::start().await;
    let globals = json!({"aps": {"id": "00000000-0000-4000-8000-00000000b001", "type": "http://example.com/mail/globals/1.0",
                                 "subscription": "s1", "fromLater": {"kept": true}}});
    let r = rig
        .send(Method::POST, "/globals/", None, Some(globals.clone()))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap(), globals);
}

#[tokio::test]
async fn an_install_with_unusable_credentials_is_400() {
    let rig = Rig::start().await;
    let globals = json!({"aps": {"id": "00000000-0000-4000-8000-00000000b001", "x509": {"self": "PEM", "controller": "PEM"}}});
    let r = rig
        .send(Method::POST, "/globals/", None, Some(globals))
        .await;
    error(r, StatusCode::BAD_REQUEST, "InvalidCredentials").await;
    let globals =
        json!({"aps": {"id": "00000000-0000-4000-8000-00000000b001", "x509": "not an object"}});
    let r = rig
        .send(Method::POST, "/globals/", None, Some(globals))
        .await;
    error(r, StatusCode::BAD_REQUEST, "InvalidCredentials").await;
}

#[tokio::test]
async fn configure_keeps_the_new_values_by_default() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::PUT,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            None,
            Some(mailbox("00000000-0000-4000-8000-00000000a001", 9)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["quota"], 9);
    assert_eq!(body["fromANewerController"]["kept"][0], 1);
}

#[tokio::test]
async fn configure_can_go_async_and_use_the_controller_client() {
    let rig = Rig::start().await;
    rig.controller.store(
        "00000000-0000-4000-8000-00000000a001",
        mailbox("00000000-0000-4000-8000-00000000a001", 4),
    );
    let r = rig
        .send(
            Method::PUT,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            None,
            Some(mailbox("00000000-0000-4000-8000-00000000a001", 2000)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&r, "aps-info"), "Growing the mailbox");
    assert_eq!(header(&r, "aps-retry-timeout"), "2");
    let r = rig
        .send(
            Method::PUT,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            Some("async"),
            Some(mailbox("00000000-0000-4000-8000-00000000a001", 2000)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["quota"].as_u64(), body["grownFrom"].as_u64()),
        (Some(2000), Some(4))
    );
    let stored =
        rig.controller.resources.lock().unwrap()["00000000-0000-4000-8000-00000000a001"].clone();
    assert_eq!(
        stored["grownFrom"], 4,
        "updated through the controller client"
    );
    assert_eq!(
        *rig.controller.callers.lock().unwrap(),
        [rig.instance.to_string(), rig.instance.to_string()]
    );
}

#[tokio::test]
async fn configure_takes_the_id_from_the_url_and_refuses_another() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::PUT,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            None,
            Some(json!({"quota": 3})),
        )
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["aps"]["id"],
        "00000000-0000-4000-8000-00000000a001"
    );
    let r = rig
        .send(
            Method::PUT,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            None,
            Some(mailbox("00000000-0000-4000-8000-00000000a002", 3)),
        )
        .await;
    let body = error(r, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("00000000-0000-4000-8000-00000000a002")
    );
}

#[tokio::test]
async fn a_forgotten_async_twin_fails_naming_the_method_to_implement() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::PUT,
            "/forgetful/00000000-0000-4000-8000-00000000f001",
            Some("async"),
            Some(json!({})),
        )
        .await;
    let body = error(r, StatusCode::NOT_IMPLEMENTED, "NotImplemented").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("implement `configure_async`"),
        "{body}"
    );
    rig.controller.store(
        "00000000-0000-4000-8000-00000000f001",
        json!({"aps": {"id": "00000000-0000-4000-8000-00000000f001"}}),
    );
    let r = rig
        .send(
            Method::DELETE,
            "/forgetful/00000000-0000-4000-8000-00000000f001",
            Some("async"),
            None,
        )
        .await;
    let body = error(r, StatusCode::NOT_IMPLEMENTED, "NotImplemented").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("implement `unprovision_async`"),
        "{body}"
    );
    let r = rig
        .send(Method::POST, "/forgetful/", Some("async"), Some(json!({})))
        .await;
    let body = error(r, StatusCode::NOT_IMPLEMENTED, "NotImplemented").await;
    assert!(
        body["message"].as_str().unwrap().contains("Forgetful"),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("`provision_async`"),
        "{body}"
    );
}

#[tokio::test]
async fn retrieve_loads_the_resource_from_the_controller_as_the_instance() {
    let rig = Rig::start().await;
    rig.controller.store(
        "00000000-0000-4000-8000-00000000a001",
        mailbox("00000000-0000-4000-8000-00000000a001", 4),
    );
    let r = rig
        .send(
            Method::GET,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["quota"].as_u64(), body["usage"].as_u64()),
        (Some(4), Some(42))
    );
    assert_eq!(body["fromANewerController"]["kept"][0], 1);
    assert_eq!(
        *rig.controller.callers.lock().unwrap(),
        [rig.instance.to_string()]
    );
}

#[tokio::test]
async fn unprovision_goes_async_then_answers_204() {
    let rig = Rig::start().await;
    rig.controller.store(
        "00000000-0000-4000-8000-00000000a001",
        mailbox("00000000-0000-4000-8000-00000000a001", 4),
    );
    let r = rig
        .send(
            Method::DELETE,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&r, "aps-info"), "Removing the mailbox");
    assert_eq!(header(&r, "aps-retry-timeout"), "5");
    let r = rig
        .send(
            Method::DELETE,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            Some("async"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn unprovision_that_finishes_at_once_answers_204_and_head_is_a_retrieve() {
    let rig = Rig::start().await;
    rig.controller.store(
        "00000000-0000-4000-8000-00000000b001",
        json!({"aps": {"id": "00000000-0000-4000-8000-00000000b001"}}),
    );
    let r = rig
        .send(
            Method::DELETE,
            "/globals/00000000-0000-4000-8000-00000000b001",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    rig.controller.store(
        "00000000-0000-4000-8000-00000000a001",
        mailbox("00000000-0000-4000-8000-00000000a001", 4),
    );
    let r = rig
        .send(
            Method::HEAD,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "application/json");
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn numbers_in_a_type_that_flattens_resource_come_back_exactly() {
    let rig = Rig::start().await;
    let big = "123456789012345678901234567890123456789012345678901234567890";
    let mut sent = mailbox("00000000-0000-4000-8000-00000000a001", 5);
    sent["big"] = serde_json::from_str(big).unwrap();
    sent["ratio"] = serde_json::from_str("0.1").unwrap();
    sent["exp"] = serde_json::from_str("1e400").unwrap();
    let r = rig.send(Method::POST, "/mailbox/", None, Some(sent)).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let text = r.text().await.unwrap();
    assert!(text.contains(&format!(r#""big":{big}"#)), "{text}");
    // `ratio` is a declared f64 of a type that flattens `Resource`: read, then written back.
    assert!(text.contains(r#""ratio":0.1"#), "{text}");
    // Beyond any f64, still not infinity or null (serde_json writes the exponent's sign).
    assert!(text.contains(r#""exp":1e+400"#), "{text}");
}
