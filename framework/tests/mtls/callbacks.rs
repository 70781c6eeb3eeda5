//! The endpoint calling its controller back, and an instance uninstalled.

use super::*;

/// A controller serving `/aps/2/resources/{id}` over TLS that lets in only clients whose
/// certificate its CA issued.
async fn controller_requiring(pki: &Pki, server: &Party) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    use rustls::pki_types::pem::PemObject;
    let chain =
        vec![rustls::pki_types::CertificateDer::from_pem_slice(server.cert.as_bytes()).unwrap()];
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(server.key.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    let router = axum::Router::new().route(
        "/aps/2/resources/{id}",
        axum::routing::get(|| async {
            axum::Json(json!({"aps": {"id": "00000000-0000-4000-8000-00000000a001"}, "quota": 7}))
        }),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
    tokio::spawn(axum_server::from_tcp_rustls(listener, tls).serve(router.into_make_service()));
    url
}

#[tokio::test]
async fn the_endpoint_calls_its_controller_back_with_the_instance_certificate() {
    let data = tempfile::tempdir().unwrap();
    let endpoint = endpoint(data.path()).await;
    let pki = Pki::new("controller CA");
    let controller = pki.leaf("controller");
    let instance = installed(&endpoint, &pki, &controller).await;
    let controller_url = controller_requiring(&pki, &controller).await;

    let retrieved = client(&endpoint, Some(&controller))
        .get(format!(
            "{}/mailbox/00000000-0000-4000-8000-00000000a001",
            endpoint.url
        ))
        .header("APS-Instance-ID", instance.to_string())
        .header("APS-Controller-URI", &controller_url)
        .send()
        .await
        .unwrap();
    assert_eq!(retrieved.status(), StatusCode::OK);
    let body: Value = retrieved.json().await.unwrap();
    assert_eq!(
        (body["quota"].as_u64(), body["usage"].as_u64()),
        (Some(7), Some(42))
    );
}

#[tokio::test]
async fn an_uninstalled_instance_is_forgotten_with_its_credentials() {
    let data = tempfile::tempdir().unwrap();
    let endpoint = endpoint(data.path()).await;
    let pki = Pki::new("controller CA");
    let controller = pki.leaf("controller");
    let instance = installed(&endpoint, &pki, &controller).await;
    let kept = data.path().join(format!("instances/{instance}"));
    assert!(kept.join("x509.json").is_file());
    let controller_url = controller_requiring(&pki, &controller).await;

    let uninstalled = client(&endpoint, Some(&controller))
        .delete(format!(
            "{}/globals/00000000-0000-4000-8000-00000000b001",
            endpoint.url
        ))
        .header("APS-Instance-ID", instance.to_string())
        .header("APS-Controller-URI", &controller_url)
        .send()
        .await
        .unwrap();
    assert_eq!(uninstalled.status(), StatusCode::NO_CONTENT);
    assert!(!kept.exists(), "the instance's private key is gone");
    assert_eq!(
        provision(&endpoint, Some(&controller), instance).await,
        StatusCode::NOT_FOUND
    );
    let other_pki = Pki::new("another controller CA");
    let other = other_pki.leaf("controller");
    let reinstall = install(
        &endpoint,
        Some(&other),
        instance,
        other_pki.x509(&other_pki.leaf("instance"), &other),
    )
    .await;
    assert_eq!(reinstall.status(), StatusCode::CREATED, "installed afresh");
}
