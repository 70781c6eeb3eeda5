//! The APS certificate model over real TLS on loopback: the install brings the credentials, and
//! from then on only the controller's certificate speaks for the instance.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use std::path::Path;
use std::sync::Arc;

use aps::{Tls, TlsError};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// A certificate authority, as a controller keeps one.
struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key.
struct Party {
    cert: String,
    key: String,
}

impl Pki {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Self {
            ca: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn leaf(&self, name: &str) -> Party {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params.signed_by(&key, &self.ca).unwrap();
        Party {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    /// `aps.x509` as a controller sends it at install.
    fn x509(&self, instance: &Party, controller: &Party) -> Value {
        json!({"self": format!("{}{}", instance.cert, instance.key),
               "controller": format!("{}{}", controller.cert, self.ca.pem())})
    }
}

/// An endpoint serving HTTPS with credentials kept in `data`.
struct Endpoint {
    url: String,
    server_cert: Vec<u8>,
}

async fn endpoint(data: &Path) -> Endpoint {
    let tls = Tls::self_signed(data, &[]).unwrap();
    let server_cert = std::fs::read(tls.cert_path()).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let app = support::app().data_dir(data);
    tokio::spawn(async move { app.serve_tls(listener, "/", tls).await });
    Endpoint { url, server_cert }
}

/// A client presenting `identity` (or nothing), trusting the endpoint's certificate.
fn client(endpoint: &Endpoint, identity: Option<&Party>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&endpoint.server_cert).unwrap());
    if let Some(party) = identity {
        let pem = format!("{}{}", party.cert, party.key);
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

async fn install(
    endpoint: &Endpoint,
    as_: Option<&Party>,
    instance: Uuid,
    x509: Value,
) -> reqwest::Response {
    client(endpoint, as_)
        .post(format!("{}/globals/", endpoint.url))
        .header("APS-Instance-ID", instance.to_string())
        .header("APS-Controller-URI", "https://127.0.0.1:1")
        .json(&json!({"aps": {"id": Uuid::new_v4().to_string(), "x509": x509}}))
        .send()
        .await
        .unwrap()
}

/// A new instance, installed on `endpoint` by `controller` (a certificate of `pki`).
async fn installed(endpoint: &Endpoint, pki: &Pki, controller: &Party) -> Uuid {
    let instance = Uuid::new_v4();
    let x509 = pki.x509(&pki.leaf(&instance.to_string()), controller);
    assert_eq!(
        install(endpoint, Some(controller), instance, x509)
            .await
            .status(),
        StatusCode::CREATED
    );
    instance
}

async fn provision(endpoint: &Endpoint, as_: Option<&Party>, instance: Uuid) -> StatusCode {
    client(endpoint, as_)
        .post(format!("{}/mailbox/", endpoint.url))
        .header("APS-Instance-ID", instance.to_string())
        .header("APS-Controller-URI", "https://127.0.0.1:1")
        .json(&json!({"quota": 1}))
        .send()
        .await
        .unwrap()
        .status()
}

async fn error_name(response: reqwest::Response) -> String {
    response.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn only_the_installing_controllers_certificate_speaks_for_the_instance() {
    let data = tempfile::tempdir().unwrap();
    let endpoint = endpoint(data.path()).await;
    let pki = Pki::new("controller CA");
    let controller = pki.leaf("controller");
    let instance = Uuid::new_v4();

    let installed = install(
        &endpoint,
        Some(&controller),
        instance,
        pki.x509(&pki.leaf(&instance.to_string()), &controller),
    )
    .await;
    assert_eq!(installed.status(), StatusCode::CREATED);
    let echoed: Value = installed.json().await.unwrap();
    assert!(
        echoed["aps"].get("x509").is_none(),
        "the private key is never echoed: {echoed}"
    );

    assert_eq!(
        provision(&endpoint, Some(&controller), instance).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        provision(&endpoint, None, instance).await,
        StatusCode::FORBIDDEN,
        "no certificate"
    );
    let stranger = Pki::new("someone else").leaf("controller");
    assert_eq!(
        provision(&endpoint, Some(&stranger), instance).await,
        StatusCode::FORBIDDEN,
        "a wrong one"
    );
    let sibling = pki.leaf("another controller of the same CA");
    assert_eq!(
        provision(&endpoint, Some(&sibling), instance).await,
        StatusCode::FORBIDDEN,
        "same CA, other cert"
    );

    let other_instance = Uuid::new_v4();
    let other_controller = pki.leaf("other");
    let other = install(
        &endpoint,
        Some(&other_controller),
        other_instance,
        pki.x509(&pki.leaf("i2"), &other_controller),
    )
    .await;
    assert_eq!(other.status(), StatusCode::CREATED);
    assert_eq!(
        provision(&endpoint, Some(&other_controller), instance).await,
        StatusCode::FORBIDDEN,
        "another instance's"
    );
    assert_eq!(
        provision(&endpoint, Some(&controller), Uuid::new_v4()).await,
        StatusCode::NOT_FOUND,
        "unknown instance"
    );
}

#[tokio::test]
async fn an_install_replayed_is_fine_but_other_credentials_never_take_an_instance_over() {
    let data = tempfile::tempdir().unwrap();
    let endpoint = endpoint(data.path()).await;
    let pki = Pki::new("controller CA");
    let controller = pki.leaf("controller");
    let instance = Uuid::new_v4();
    let x509 = pki.x509(&pki.leaf("instance"), &controller);
    assert_eq!(
        install(&endpoint, Some(&controller), instance, x509.clone())
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        install(&endpoint, Some(&controller), instance, x509)
            .await
            .status(),
        StatusCode::CREATED
    );

    let thief_pki = Pki::new("thief");
    let thief = thief_pki.leaf("controller");
    let takeover = install(
        &endpoint,
        Some(&thief),
        instance,
        thief_pki.x509(&thief_pki.leaf("i"), &thief),
    )
    .await;
    assert_eq!(takeover.status(), StatusCode::CONFLICT);
    assert_eq!(error_name(takeover).await, "Conflict");
    assert_eq!(
        provision(&endpoint, Some(&controller), instance).await,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn an_install_must_come_from_the_controller_it_names() {
    let data = tempfile::tempdir().unwrap();
    let endpoint = endpoint(data.path()).await;
    let pki = Pki::new("controller CA");
    let named = pki.leaf("controller");
    let sender = pki.leaf("someone");
    let instance = Uuid::new_v4();
    let x509 = pki.x509(&pki.leaf("instance"), &named);
    let refused = install(&endpoint, Some(&sender), instance, x509.clone()).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let anonymous = install(&endpoint, None, instance, x509).await;
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        provision(&endpoint, Some(&named), instance).await,
        StatusCode::NOT_FOUND,
        "nothing was kept"
    );

    let broken = install(
        &endpoint,
        Some(&named),
        instance,
        json!({"self": "junk", "controller": "junk"}),
    )
    .await;
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_name(broken).await, "InvalidCredentials");
}

#[tokio::test]
async fn credentials_are_kept_private_and_survive_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let pki = Pki::new("controller CA");
    let controller = pki.leaf("controller");
    let instance = Uuid::new_v4();
    {
        let endpoint = endpoint(data.path()).await;
        let x509 = pki.x509(&pki.leaf("instance"), &controller);
        assert_eq!(
            install(&endpoint, Some(&controller), instance, x509)
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let file = data.path().join(format!("instances/{instance}/x509.json"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    let restarted = endpoint(data.path()).await;
    assert_eq!(
        provision(&restarted, Some(&controller), instance).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        provision(&restarted, None, instance).await,
        StatusCode::FORBIDDEN
    );
}

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
        axum::routing::get(|| async { axum::Json(json!({"aps": {"id": "m1"}, "quota": 7})) }),
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
        .get(format!("{}/mailbox/m1", endpoint.url))
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
        .delete(format!("{}/globals/g1", endpoint.url))
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

#[tokio::test]
async fn damaged_credentials_lock_the_instance_instead_of_freeing_it() {
    let data = tempfile::tempdir().unwrap();
    let instance = Uuid::new_v4();
    let dir = data.path().join(format!("instances/{instance}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("x509.json"), b"{\"self\": \"trunc").unwrap();
    let endpoint = endpoint(data.path()).await;
    let pki = Pki::new("controller CA");
    let controller = pki.leaf("controller");

    assert_eq!(
        provision(&endpoint, Some(&controller), instance).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let reinstall = install(
        &endpoint,
        Some(&controller),
        instance,
        pki.x509(&pki.leaf("i"), &controller),
    )
    .await;
    assert_eq!(
        reinstall.status(),
        StatusCode::CONFLICT,
        "no fresh install over damaged credentials"
    );
}
