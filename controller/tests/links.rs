//! Links between resources (controller-api.md, "Links"): the relations a type declares, checked
//! (declared, target type, cardinality), told to the endpoint and stored only when it accepts;
//! links given at provisioning, the root filled in; links in the resource JSON both ways;
//! unprovisioning removes them; the endpoint's own `/aps/2` link routes.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use common::{get, http, link_to, linked, made, make};
use reqwest::Method;
use serde_json::{Value, json};

fn ids(links: &Value) -> Vec<&str> {
    links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["aps"]["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_root_relation_is_filled_in_and_links_show_on_both_sides() {
    let (c, endpoint) = linked().await;
    let thing = made(&c, "thing", json!({})).await;
    let (_, _, app) = get(&c, &format!("/api/v1/applications/{}", c.application())).await;
    let root = app["root"]["aps"]["id"].as_str().unwrap().to_owned();
    let (_, _, shown) = get(&c, &format!("/api/v1/resources/{thing}")).await;
    assert_eq!(
        shown["app"],
        json!({"aps": {"link": "strong", "id": root, "href": format!("/aps/2/resources/{root}")}})
    );
    assert_eq!(shown["parts"], json!([]));
    let (_, _, root_now) = get(&c, &format!("/api/v1/resources/{root}")).await;
    assert_eq!(ids(&root_now["things"]), [thing.as_str()]);
    assert_eq!(root_now["things"][0]["aps"]["link"], "collection");
    // The endpoint was sent the link with the resource it provisioned.
    let sent = endpoint
        .calls()
        .into_iter()
        .find(|s| s.method == Method::POST && s.path == "/thing/")
        .unwrap();
    assert_eq!(sent.body["app"]["aps"]["id"], root.as_str());
}

#[tokio::test]
async fn a_link_is_told_to_the_endpoint_stored_listed_and_removed() {
    let (c, endpoint) = linked().await;
    let thing = made(&c, "thing", json!({})).await;
    let part = made(&c, "part", json!({"serial": "a1"})).await;
    let path = format!("/api/v1/resources/{thing}/parts");
    let (status, _, link) = http(&c, Method::POST, &path, Some(link_to(&part)), &[]).await;
    assert_eq!(status, 201, "{link}");
    assert_eq!(link["aps"]["link"], "collection");
    assert_eq!(link["aps"]["id"], part.as_str());
    let told = |method: Method, path: String| {
        endpoint
            .calls()
            .into_iter()
            .filter(|s| s.method == method && s.path == path)
            .collect::<Vec<_>>()
    };
    let notified = told(Method::POST, format!("/thing/{thing}/parts"));
    assert_eq!(notified.len(), 1);
    assert_eq!(notified[0].body["serial"], "a1");
    assert_eq!(notified[0].body["aps"]["id"], part.as_str());
    let (status, _, listed) = get(&c, &path).await;
    assert_eq!(status, 200);
    assert_eq!(listed["items"][0]["aps"]["id"], part.as_str());
    assert_eq!(listed["items"][0]["thing"]["aps"]["id"], thing.as_str());
    let (_, _, part_now) = get(&c, &format!("/api/v1/resources/{part}")).await;
    assert_eq!(part_now["thing"]["aps"]["link"], "weak");
    // Linking again changes nothing and tells nobody.
    let (status, _, _) = http(&c, Method::POST, &path, Some(link_to(&part)), &[]).await;
    assert_eq!(status, 201);
    assert_eq!(told(Method::POST, format!("/thing/{thing}/parts")).len(), 1);

    let (status, _, _) = http(&c, Method::DELETE, &format!("{path}/{part}"), None, &[]).await;
    assert_eq!(status, 204);
    assert_eq!(
        told(Method::DELETE, format!("/thing/{thing}/parts/{part}")).len(),
        1
    );
    let (_, _, listed) = get(&c, &path).await;
    assert_eq!(listed["items"], json!([]));
    let (_, _, part_now) = get(&c, &format!("/api/v1/resources/{part}")).await;
    assert!(part_now.get("thing").is_none(), "{part_now}");
    let (status, _, error) = http(&c, Method::DELETE, &format!("{path}/{part}"), None, &[]).await;
    assert_eq!((status, error["code"].as_u64()), (404, Some(404)));
}

#[tokio::test]
async fn relations_types_and_cardinality_are_checked() {
    let (c, endpoint) = linked().await;
    let one = made(&c, "thing", json!({})).await;
    let two = made(&c, "thing", json!({})).await;
    let part = made(&c, "part", json!({"serial": "a1"})).await;
    let parts = |t: &str| format!("/api/v1/resources/{t}/parts");
    let (status, _, _) = http(&c, Method::POST, &parts(&one), Some(link_to(&part)), &[]).await;
    assert_eq!(status, 201);
    let before = endpoint.calls().len();
    // `part.thing` holds one link, seen from either side.
    for (path, body) in [
        (format!("/api/v1/resources/{part}/thing"), link_to(&two)),
        (parts(&two), link_to(&part)),
    ] {
        let (status, _, error) = http(&c, Method::POST, &path, Some(body), &[]).await;
        assert_eq!(status, 409, "{path}: {error}");
        assert!(error["message"].as_str().unwrap().contains(&one), "{error}");
    }
    let (status, _, error) = http(&c, Method::POST, &parts(&one), Some(link_to(&two)), &[]).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["details"]["relation"], "parts");
    let nowhere = uuid::Uuid::new_v4().to_string();
    let (status, _, _) = http(&c, Method::POST, &parts(&one), Some(link_to(&nowhere)), &[]).await;
    assert_eq!(status, 400);
    let (status, _, _) = http(
        &c,
        Method::POST,
        &parts(&one),
        Some(json!({"id": part})),
        &[],
    )
    .await;
    assert_eq!(status, 400);
    let (status, headers, _) = http(
        &c,
        Method::GET,
        &format!("{}/{part}", parts(&one)),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "DELETE");
    let (status, _, _) = http(
        &c,
        Method::POST,
        &format!("/api/v1/resources/{one}/wheels"),
        Some(link_to(&part)),
        &[],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(endpoint.calls().len(), before, "refused links are not told");
    let (_, _, two_now) = get(&c, &format!("/api/v1/resources/{two}")).await;
    assert_eq!(two_now["parts"], json!([]));
}

#[tokio::test]
async fn an_endpoint_refusal_stores_nothing_and_404_or_501_count_as_accepted() {
    let (c, _) = linked().await;
    let thing = made(&c, "thing", json!({})).await;
    let path = format!("/api/v1/resources/{thing}/parts");
    let refused = made(&c, "part", json!({"serial": "refuse"})).await;
    let (status, _, error) = http(&c, Method::POST, &path, Some(link_to(&refused)), &[]).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["message"], "this part does not fit");
    let (_, _, listed) = get(&c, &path).await;
    assert_eq!(listed["items"], json!([]));
    let (_, _, part) = get(&c, &format!("/api/v1/resources/{refused}")).await;
    assert!(part.get("thing").is_none());
    for serial in ["missing", "unimplemented"] {
        let part = made(&c, "part", json!({"serial": serial})).await;
        let (status, _, _) = http(&c, Method::POST, &path, Some(link_to(&part)), &[]).await;
        assert_eq!(status, 201, "{serial}");
    }
    let (_, _, listed) = get(&c, &path).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn links_given_at_provisioning_are_checked_and_required_ones_needed() {
    let (c, _) = linked().await;
    let thing = made(&c, "thing", json!({})).await;
    let part = made(
        &c,
        "part",
        json!({"serial": "a1", "thing": link_to(&thing)}),
    )
    .await;
    let (_, _, thing_now) = get(&c, &format!("/api/v1/resources/{thing}")).await;
    assert_eq!(ids(&thing_now["parts"]), [part.as_str()]);

    let (status, error) = make(&c, "spare", json!({})).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["details"]["relation"], "part");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("`part` is required")
    );
    for wrong in [
        json!({"part": link_to(&thing)}),
        json!({"part": link_to(&uuid::Uuid::new_v4().to_string())}),
        json!({"part": [link_to(&part)]}),
        json!({"part": "x"}),
    ] {
        let (status, error) = make(&c, "spare", wrong.clone()).await;
        assert_eq!(status, 400, "{wrong}: {error}");
        assert_eq!(error["details"]["relation"], "part", "{wrong}");
    }
    let (status, error) = make(&c, "thing", json!({"parts": link_to(&part)})).await;
    assert_eq!(
        (status, &error["details"]["relation"]),
        (400, &json!("parts"))
    );
    // `part.thing` is full: a second thing cannot take the part at provisioning either.
    let (status, _) = make(&c, "thing", json!({"parts": [link_to(&part)]})).await;
    assert_eq!(status, 409);
    let spare = made(&c, "spare", json!({"part": link_to(&part)})).await;
    let (_, _, spare_now) = get(&c, &format!("/api/v1/resources/{spare}")).await;
    assert_eq!(spare_now["part"]["aps"]["id"], part.as_str());
    assert_eq!(spare_now["part"]["aps"]["link"], "strong");
    let resources = get(
        &c,
        "/api/v1/resources?type=http://example.com/scripted/spare/1.0",
    )
    .await
    .2;
    assert_eq!(resources["items"][0]["part"]["aps"]["id"], part.as_str());
}

#[tokio::test]
async fn unprovisioning_removes_the_links_both_ways() {
    let (c, _) = linked().await;
    let thing = made(&c, "thing", json!({})).await;
    let part = made(
        &c,
        "part",
        json!({"serial": "a1", "thing": link_to(&thing)}),
    )
    .await;
    let (status, _, _) = http(
        &c,
        Method::DELETE,
        &format!("/api/v1/resources/{part}"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 204);
    let (_, _, thing_now) = get(&c, &format!("/api/v1/resources/{thing}")).await;
    assert_eq!(thing_now["parts"], json!([]));
    let (status, _, _) = http(
        &c,
        Method::DELETE,
        &format!("/api/v1/resources/{thing}"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 204);
    let (_, _, app) = get(&c, &format!("/api/v1/applications/{}", c.application())).await;
    assert_eq!(app["root"]["things"], json!([]));
}

#[tokio::test]
async fn the_endpoint_reads_and_changes_links_with_its_instance_credentials() {
    let (c, endpoint) = linked().await;
    let thing = made(&c, "thing", json!({})).await;
    let part = made(&c, "part", json!({"serial": "a1"})).await;
    let instance = c.application().to_string();
    let own = [("APS-Instance-ID", instance.as_str())];
    let stranger = uuid::Uuid::new_v4().to_string();
    let path = format!("/aps/2/resources/{thing}/parts");
    let calls_before = endpoint.calls().len();
    for headers in [&[][..], &[("APS-Instance-ID", stranger.as_str())][..]] {
        let (status, _, _) = http(&c, Method::GET, &path, None, headers).await;
        assert_eq!(status, 403);
        let (status, _, _) = http(&c, Method::POST, &path, Some(link_to(&part)), headers).await;
        assert_eq!(status, 403);
    }
    let (status, _, link) = http(&c, Method::POST, &path, Some(link_to(&part)), &own).await;
    assert_eq!(status, 201, "{link}");
    assert_eq!(link["aps"]["href"], format!("/aps/2/resources/{part}"));
    let (status, _, listed) = http(&c, Method::GET, &path, None, &own).await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["aps"]["id"], part.as_str());
    assert_eq!(listed[0]["serial"], "a1");
    assert_eq!(
        endpoint.calls().len(),
        calls_before,
        "the endpoint asked; it is not told"
    );
    let (status, _, _) = http(
        &c,
        Method::POST,
        &format!("/aps/2/resources/{thing}/app"),
        Some(link_to(&part)),
        &own,
    )
    .await;
    assert_eq!(status, 400, "wrong type");
    let unlink = format!("{path}/{part}");
    let (status, _, _) = http(&c, Method::DELETE, &unlink, None, &[]).await;
    assert_eq!(status, 403);
    let (status, _, _) = http(&c, Method::DELETE, &unlink, None, &own).await;
    assert_eq!(status, 204);
    let (status, _, _) = http(&c, Method::DELETE, &unlink, None, &own).await;
    assert_eq!(status, 404);
    let (_, _, resource) = http(
        &c,
        Method::GET,
        &format!("/aps/2/resources/{part}"),
        None,
        &own,
    )
    .await;
    assert!(resource.get("thing").is_none());
}

#[tokio::test]
async fn properties_are_checked_against_the_schema() {
    let (c, endpoint) = linked().await;
    for (service, properties, named) in [
        ("thing", json!({"size": "3"}), "size"),
        ("thing", json!({"color": "blue"}), "color"),
        ("part", json!({}), "serial"),
        ("part", json!({"serial": null}), "serial"),
    ] {
        let (status, error) = make(&c, service, properties.clone()).await;
        assert_eq!(status, 400, "{properties}: {error}");
        assert_eq!(error["details"]["property"], named, "{error}");
        assert!(error["message"].as_str().unwrap().contains(named));
    }
    assert!(endpoint.calls().iter().all(|s| s.path != "/part/"));
    let thing = made(
        &c,
        "thing",
        json!({"color": "red", "extra": {"kept": true}}),
    )
    .await;
    let path = format!("/api/v1/resources/{thing}");
    let (status, _, error) = http(
        &c,
        Method::PUT,
        &path,
        Some(json!({"resource": {"size": 1.5}})),
        &[],
    )
    .await;
    assert_eq!(
        (status, &error["details"]["property"]),
        (400, &json!("size"))
    );
    let (status, _, changed) = http(
        &c,
        Method::PUT,
        &path,
        Some(json!({"resource": {"color": "green", "parts": []}})),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["color"], "green");
    assert_eq!(changed["app"]["aps"]["link"], "strong");
}

#[tokio::test]
async fn over_tls_the_link_routes_of_aps_2_want_the_instances_certificate() {
    let builder = aps_controller::Controller::builder()
        .tls(true)
        .time_scale(1000.0);
    let (c, endpoint) = common::linked_with(builder).await;
    let own = endpoint.calls()[0].body["aps"]["x509"]["self"]
        .as_str()
        .unwrap()
        .to_owned();
    // The test kit's client trusts the controller's CA.
    let made_over_tls = |service: &'static str, properties: Value| {
        let c = &c;
        async move {
            let task = c.provision(service, properties).await.unwrap();
            let task = c.wait(&task).await.unwrap();
            task.resource.id.to_string()
        }
    };
    let thing = made_over_tls("thing", json!({})).await;
    let part = made_over_tls("part", json!({"serial": "a1"})).await;
    let ca = c.controller().ca_pem().to_owned();
    let caller = |identity: Option<&str>| {
        let mut builder = reqwest::Client::builder().tls_built_in_root_certs(false);
        for cert in reqwest::Certificate::from_pem_bundle(ca.as_bytes()).unwrap() {
            builder = builder.add_root_certificate(cert);
        }
        if let Some(pem) = identity {
            builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
        }
        builder.build().unwrap()
    };
    let base = c.controller().url();
    let parts = format!("{base}/aps/2/resources/{thing}/parts");
    let instance = c.application().to_string();
    // No certificate: the instance's id in the header is not believed over TLS.
    let anonymous = caller(None);
    let refused = anonymous
        .post(&parts)
        .header("APS-Instance-ID", &instance)
        .json(&link_to(&part))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let refused = anonymous.get(&parts).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let owner = caller(Some(&own));
    let linked = owner
        .post(&parts)
        .json(&link_to(&part))
        .send()
        .await
        .unwrap();
    assert_eq!(linked.status(), 201);
    let listed: Value = owner
        .get(&parts)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&listed), [part.as_str()]);
    let unlink = format!("{parts}/{part}");
    assert_eq!(
        anonymous.delete(&unlink).send().await.unwrap().status(),
        403
    );
    assert_eq!(owner.delete(&unlink).send().await.unwrap().status(), 204);
}
