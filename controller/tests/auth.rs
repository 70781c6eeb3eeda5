//! Authentication and scopes of a TLS controller, over real TLS: tokens (none, wrong, expired,
//! revoked, too weak, strong enough), client certificates (another CA's, the named CA's), the
//! limit on failures, the panel's sign-in, and plain HTTP kept to loopback.

mod common;

use std::path::Path;

use aps_controller::auth::Scope;
use aps_controller::{Controller, Timestamp};
use aps_test_support::scripted::{BASE_URL, Scripted, THING};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A CA of the test's own: its certificate (PEM), and a client certificate + key it signed.
fn ca_with_client(name: &str) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let ca = params.clone().self_signed(&key).expect("ca");
    let issuer = Issuer::new(params, &key);
    let client_key = KeyPair::generate().expect("client key");
    let mut leaf = CertificateParams::new(Vec::<String>::new()).expect("leaf");
    leaf.distinguished_name
        .push(DnType::CommonName, format!("{name} client"));
    let client = leaf.signed_by(&client_key, &issuer).expect("client");
    (
        ca.pem(),
        format!("{}{}", client.pem(), client_key.serialize_pem()),
    )
}

async fn controller(dir: &Path, client_ca: Option<&str>) -> Controller {
    let mut builder = Controller::builder()
        .database(dir.join("controller.db").display().to_string())
        .listen("127.0.0.1:0".parse().expect("address"))
        .tls(true)
        .time_scale(1000.0)
        .endpoint_router(BASE_URL, Scripted::default().router());
    if let Some(pem) = client_ca {
        let path = dir.join("clients-ca.crt");
        std::fs::write(&path, pem).expect("write the CA");
        builder = builder.client_ca(path, Scope::Operate);
    }
    builder.start().await.expect("controller")
}

/// An HTTPS client trusting the controller, presenting `identity` (certificate + key) if any.
fn https(c: &Controller, identity: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(reqwest::Certificate::from_pem(c.ca_pem().as_bytes()).expect("ca"));
    if let Some(pem) = identity {
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("id"));
    }
    builder.build().expect("client")
}

/// Status and body of a request with `token` as bearer, if any.
async fn call(
    http: &reqwest::Client,
    c: &Controller,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http.request(method, format!("{}{path}", c.url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("answer");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn assert_aps_error(status: StatusCode, body: &Value, error: &str) {
    assert_eq!(body["code"], status.as_u16(), "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

#[tokio::test]
async fn tokens_are_checked_and_scopes_enforced() {
    let dir = tempfile::tempdir().expect("dir");
    let c = controller(dir.path(), None).await;
    let http = https(&c, None);
    let tokens = c.tokens();
    let read = tokens
        .create("reader", Scope::Read, None)
        .await
        .expect("read");
    let operate = tokens
        .create("op", Scope::Operate, None)
        .await
        .expect("operate");
    let admin = tokens
        .create("root", Scope::Admin, None)
        .await
        .expect("admin");
    let expired = tokens
        .create("old", Scope::Admin, Some(Timestamp::now()))
        .await
        .expect("expired");
    let revoked = tokens
        .create("gone", Scope::Admin, None)
        .await
        .expect("revoked");
    assert!(tokens.revoke(&revoked.info.id).await.expect("revoke"));
    // The secret is nowhere in what is listed.
    let listed = tokens.list().await.expect("list");
    assert_eq!(listed.len(), 5);
    let missing = format!("/api/v1/resources/{}", uuid::Uuid::new_v4());

    // None, wrong, expired, revoked: 401, and the same for what exists and what does not.
    let wrong = format!("{}x", &admin.token[..admin.token.len() - 1]);
    for token in [
        None,
        Some("nonsense"),
        Some(wrong.as_str()),
        Some(&*expired.token),
        Some(&*revoked.token),
    ] {
        for path in ["/api/v1/tasks", missing.as_str()] {
            let (status, body) = call(&http, &c, Method::GET, path, token, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?} {path}");
            assert_aps_error(status, &body, "Unauthorized");
        }
    }
    // Read: GETs, the unknown one answered for what it is; nothing that changes anything.
    let (status, _) = call(
        &http,
        &c,
        Method::GET,
        "/api/v1/tasks",
        Some(&read.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&http, &c, Method::GET, &missing, Some(&read.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let provision =
        json!({"application": uuid::Uuid::new_v4(), "resource": {"aps": {"type": THING}}});
    let (status, body) = call(
        &http,
        &c,
        Method::POST,
        "/api/v1/resources",
        Some(&read.token),
        Some(provision.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_aps_error(status, &body, "Forbidden");
    // Operate: operations, not the catalogue.
    let (status, _) = call(
        &http,
        &c,
        Method::POST,
        "/api/v1/resources",
        Some(&operate.token),
        Some(provision),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "allowed, and the application is unknown"
    );
    let (status, _) = call(
        &http,
        &c,
        Method::POST,
        "/api/v1/applications",
        Some(&operate.token),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Admin: installs.
    let package = c.import(&Scripted::model()).await.expect("import").id;
    let install = json!({"package": package, "endpoint": BASE_URL, "timeout": 0});
    let (status, body) = call(
        &http,
        &c,
        Method::POST,
        "/api/v1/applications",
        Some(&admin.token),
        Some(install),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // The embedding program's own client is admin.
    let mine = c
        .client()
        .tasks("")
        .await
        .expect("the controller's own client");
    assert_eq!(mine.len(), 1);
}

#[tokio::test]
async fn client_certificates_of_the_named_ca_are_credentials_and_others_are_not() {
    let dir = tempfile::tempdir().expect("dir");
    let (ca, ours) = ca_with_client("operators");
    let (_, theirs) = ca_with_client("someone else");
    let c = controller(dir.path(), Some(&ca)).await;
    let named = https(&c, Some(&ours));
    let (status, _) = call(&named, &c, Method::GET, "/api/v1/tasks", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let cancel = format!("/api/v1/tasks/{}/cancel", uuid::Uuid::new_v4());
    let (status, _) = call(&named, &c, Method::POST, &cancel, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "operate is granted");
    let (status, _) = call(&named, &c, Method::POST, "/api/v1/packages", None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admin is not");
    // Another CA's certificate does not even pass the handshake.
    let other = https(&c, Some(&theirs));
    let answer = other.get(format!("{}/api/v1/tasks", c.url())).send().await;
    assert!(
        answer
            .as_ref()
            .map_or(true, |r| r.status() == StatusCode::UNAUTHORIZED),
        "{answer:?}"
    );
    // An instance's certificate (the controller's own CA) is no API credential.
    let package = c.import(&Scripted::model()).await.expect("import").id;
    let task = c
        .client()
        .install(package, BASE_URL, json!({}))
        .await
        .expect("install");
    let task = c.client().wait(task.id, |_| {}).await.expect("installed");
    let instance = std::fs::read_to_string(
        dir.path()
            .join(format!("tls/instances/{}.pem", task.application)),
    )
    .expect("instance certificate");
    let as_instance = https(&c, Some(&instance));
    let (status, _) = call(&as_instance, &c, Method::GET, "/api/v1/tasks", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failures_from_a_peer_are_answered_429() {
    let dir = tempfile::tempdir().expect("dir");
    let c = controller(dir.path(), None).await;
    let http = https(&c, None);
    let good = c
        .tokens()
        .create("", Scope::Read, None)
        .await
        .expect("token");
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let (status, _) = call(
            &http,
            &c,
            Method::GET,
            "/api/v1/tasks",
            Some("apsc_bad"),
            None,
        )
        .await;
        statuses.push(status);
    }
    assert!(
        statuses[..10]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
    let response = http
        .get(format!("{}/api/v1/tasks", c.url()))
        .bearer_auth(&good.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even a good token, for now"
    );
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.expect("json");
    assert_aps_error(StatusCode::TOO_MANY_REQUESTS, &body, "TooManyFailures");
}

#[tokio::test]
async fn the_panel_signs_in_with_a_token_and_keeps_a_session_cookie() {
    let dir = tempfile::tempdir().expect("dir");
    let c = controller(dir.path(), None).await;
    let http = https(&c, None);
    let page = http
        .get(format!("{}/ui/tasks", c.url()))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/ui/sign-in?next=%2Fui%2Ftasks");
    // The form, with its CSRF cookie and token.
    let form = http
        .get(format!("{}/ui/sign-in", c.url()))
        .send()
        .await
        .expect("form");
    assert_eq!(form.status(), StatusCode::OK);
    let csrf_cookie = form.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    let csrf_cookie = csrf_cookie.split(';').next().expect("pair").to_owned();
    let html = form.text().await.expect("html");
    let field = r#"name="csrf" value=""#;
    let at = html.find(field).expect("csrf field") + field.len();
    let csrf = &html[at..at + html[at..].find('"').expect("end")];
    let sign_in = |token: String| {
        http.post(format!("{}/ui/sign-in", c.url()))
            .header("cookie", &csrf_cookie)
            .form(&[("csrf", csrf), ("token", &token), ("next", "/ui/tasks")])
            .send()
    };
    let refused = sign_in("apsc_0123456789abcdef_nope".into())
        .await
        .expect("answer");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let token = c
        .tokens()
        .create("", Scope::Read, None)
        .await
        .expect("token");
    let signed = sign_in(token.token.clone()).await.expect("answer");
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed.headers()["location"], "/ui/tasks");
    let session = signed.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(session.contains(attribute), "{session}");
    }
    let session = session.split(';').next().expect("pair").to_owned();
    let page = http
        .get(format!("{}/ui/tasks", c.url()))
        .header("cookie", &session)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    // A form of the signed-in page carries a token bound to the session; a read token may look,
    // not act.
    let html = page.text().await.expect("html");
    assert!(!html.contains("csrf"), "the task list has no form");
    let cancel = format!("{}/ui/tasks/{}/cancel", c.url(), uuid::Uuid::new_v4());
    let refused = http
        .post(&cancel)
        .header("cookie", &session)
        .send()
        .await
        .expect("answer");
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "read may not cancel"
    );
    // An operate session cancels a running task through its page's form, whose CSRF token is
    // bound to the session.
    let package = c.import(&Scripted::model()).await.expect("import").id;
    let install = c
        .client()
        .install(package, BASE_URL, json!({}))
        .await
        .expect("install");
    let app = c
        .client()
        .wait(install.id, |_| {})
        .await
        .expect("installed")
        .application;
    let slow = c
        .client()
        .provision(app, THING, json!({"plan": ["503:3600"]}))
        .await
        .expect("provision");
    let operate = c
        .tokens()
        .create("", Scope::Operate, None)
        .await
        .expect("token");
    let signed = sign_in(operate.token.clone()).await.expect("answer");
    let theirs = signed.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    let theirs = theirs.split(';').next().expect("pair").to_owned();
    let page = http
        .get(format!("{}/ui/tasks/{}", c.url(), slow.id))
        .header("cookie", &theirs)
        .send()
        .await
        .expect("page");
    let html = page.text().await.expect("html");
    let at = html.find(field).expect("the cancel form") + field.len();
    let bound = &html[at..at + html[at..].find('"').expect("end")];
    let cancel = format!("{}/ui/tasks/{}/cancel", c.url(), slow.id);
    let forged = http
        .post(&cancel)
        .header("cookie", &theirs)
        .form(&[("csrf", csrf)])
        .send()
        .await
        .expect("answer");
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "a token of another cookie"
    );
    let canceled = http
        .post(&cancel)
        .header("cookie", &theirs)
        .form(&[("csrf", bound)])
        .send()
        .await
        .expect("answer");
    assert_eq!(canceled.status(), StatusCode::SEE_OTHER);
    let task = c.client().task(slow.id).await.expect("task");
    assert_eq!(task.state, aps_controller::State::Canceled);
    // Revoking the token ends the session.
    c.tokens().revoke(&token.info.id).await.expect("revoke");
    let page = http
        .get(format!("{}/ui/tasks", c.url()))
        .header("cookie", &session)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn plain_http_stays_on_loopback_and_asks_no_credentials_there() {
    let dir = tempfile::tempdir().expect("dir");
    let refused = Controller::builder()
        .database(dir.path().join("a.db").display().to_string())
        .listen("0.0.0.0:0".parse().expect("address"))
        .start()
        .await;
    let error = refused.err().expect("refused").to_string();
    assert!(error.contains("loopback"), "{error}");
    let (c, _) = common::scripted().await;
    let answer = reqwest::get(format!("{}/api/v1/tasks", c.controller().url()))
        .await
        .expect("answer");
    assert_eq!(answer.status(), StatusCode::OK);
}
