//! What `GET /api/v1/packages` and `GET /api/v1/packages/{id}` show of a package: each type's
//! declared operations and relations, for the scripted package and for the real package the
//! official APS tool built (`testdata/`).

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use common::{Scripted, get, scripted, zip_of};
use serde_json::{Value, json};

async fn upload(url: &str, body: Vec<u8>) -> Value {
    let answer = reqwest::Client::new()
        .post(format!("{url}/api/v1/packages"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    answer.json().await.unwrap()
}

fn service<'a>(package: &'a Value, id: &str) -> &'a Value {
    package["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
}

#[tokio::test]
async fn packages_show_each_types_operations_and_relations() {
    let (c, _) = scripted().await;
    let url = c.controller().url();
    let imported = upload(&url, zip_of(&Scripted::linked_model())).await;
    let id = imported["id"].as_str().unwrap();
    let (status, _, shown) = get(&c, &format!("/api/v1/packages/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown, imported);
    let thing = service(&shown, "thing");
    assert_eq!(
        thing["operations"]["stats"]["parameters"]["days"],
        json!({"kind": "query", "type": "integer", "required": true})
    );
    assert_eq!(thing["operations"]["restart"]["verb"], "POST");
    assert_eq!(
        thing["relations"]["app"],
        json!({"type": "http://example.com/scripted/app/1.0", "required": true})
    );
    assert!(service(&shown, "part").get("operations").is_none());
    let (_, _, listed) = get(&c, "/api/v1/packages").await;
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "the test kit's own package and this one");
    assert_eq!(ids[1], id);
    let nothing = uuid::Uuid::new_v4();
    let (status, _, error) = get(&c, &format!("/api/v1/packages/{nothing}")).await;
    assert_eq!((status, error["code"].as_u64()), (404, Some(404)));
}

#[tokio::test]
async fn the_real_package_shows_the_ten_operations_of_globals() {
    let (c, _) = scripted().await;
    let zip = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/CloudBlue-Connect-Extension-26.0-2.app.zip"),
    )
    .unwrap();
    let imported = upload(&c.controller().url(), zip).await;
    let id = imported["id"].as_str().unwrap();
    let (_, _, shown) = get(&c, &format!("/api/v1/packages/{id}")).await;
    let operations = service(&shown, "globals")["operations"]
        .as_object()
        .unwrap();
    assert_eq!(operations.len(), 10, "{:?}", operations.keys());
    for operation in operations.values() {
        assert!(operation["path"].as_str().unwrap().starts_with('/'));
        assert!(["GET", "POST", "PUT", "DELETE"].contains(&operation["verb"].as_str().unwrap()));
    }
}
