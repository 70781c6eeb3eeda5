//! Failed authentications are logged with the peer and the reason, and no token ever is: not
//! a refused one, not a good one. (One test in this binary: see `aps_test_support::logs`.)

use aps_controller::Controller;
use aps_controller::auth::Scope;

#[tokio::test]
async fn tokens_never_appear_in_the_log() {
    let logs = aps_test_support::logs::capture(tracing::Level::TRACE);
    let dir = tempfile::tempdir().expect("dir");
    let c = Controller::builder()
        .database(dir.path().join("controller.db").display().to_string())
        .listen("127.0.0.1:0".parse().expect("address"))
        .tls(true)
        .start()
        .await
        .expect("controller");
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(c.ca_pem().as_bytes()).expect("ca"))
        .build()
        .expect("client");
    let good = c
        .tokens()
        .create("ci", Scope::Read, None)
        .await
        .expect("token");
    let bad = "apsc_0123456789abcdef_ThisSecretMustNeverBeLogged";
    for token in [bad, good.token.as_str()] {
        http.get(format!("{}/api/v1/tasks", c.url()))
            .bearer_auth(token)
            .send()
            .await
            .expect("answer");
    }
    let text = logs.text();
    assert!(text.contains("authentication failed"), "{text}");
    assert!(text.contains("unknown token"), "{text}");
    assert!(text.contains("127.0.0.1"), "the peer: {text}");
    let secret = good.token.rsplit('_').next().expect("secret");
    for leaked in ["ThisSecretMustNeverBeLogged", secret] {
        assert!(!text.contains(leaked), "{leaked} in {text}");
    }
}
