//! HTTPS with rustls: self-signed certificates kept across restarts, PEM files, clear errors.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use aps::{Tls, TlsError};
use reqwest::StatusCode;
use serde_json::json;

fn client_trusting(cert_pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn https_serves_the_protocol_with_a_certificate_clients_can_verify() {
    let dir = tempfile::tempdir().unwrap();
    let tls = Tls::self_signed(dir.path(), &[]).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { support::app().serve_tls(listener, "/mail", tls).await });

    let cert = std::fs::read(dir.path().join("tls/self-signed.crt")).unwrap();
    let response = client_trusting(&cert)
        .post(format!("https://localhost:{port}/mail/mailbox/"))
        .header("APS-Instance-ID", uuid::Uuid::new_v4().to_string())
        .header("APS-Controller-URI", "https://127.0.0.1:6308")
        .json(&json!({"quota": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    let plain = reqwest::get(format!("http://127.0.0.1:{port}/mail/mailbox/")).await;
    assert!(plain.is_err() || plain.unwrap().status() == StatusCode::BAD_REQUEST);
}

#[test]
fn the_self_signed_pair_is_made_once_and_kept_private() {
    let dir = tempfile::tempdir().unwrap();
    let first = Tls::self_signed(dir.path(), &["endpoint.example".into()]).unwrap();
    let cert = std::fs::read(first.cert_path()).unwrap();
    let again = Tls::self_signed(dir.path(), &[]).unwrap();
    assert_eq!(std::fs::read(again.cert_path()).unwrap(), cert);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("tls/self-signed.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the key must not be readable by others: {mode:o}"
        );
    }
}

#[test]
fn unusable_certificate_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.crt");
    let err = Tls::from_pem_files(&missing, &missing).unwrap_err();
    assert!(err.to_string().contains("missing.crt"), "{err}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let err = Tls::from_pem_files(&garbage, &garbage).unwrap_err();
    assert!(matches!(err, TlsError::Pem { .. }), "{err}");

    let one = Tls::self_signed(&dir.path().join("one"), &[]).unwrap();
    Tls::self_signed(&dir.path().join("two"), &[]).unwrap();
    let other_key = dir.path().join("two/tls/self-signed.key");
    let err = Tls::from_pem_files(one.cert_path(), &other_key).unwrap_err();
    assert!(matches!(err, TlsError::Rustls(_)), "{err}");
}
