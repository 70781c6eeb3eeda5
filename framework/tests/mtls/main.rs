//! The APS certificate model over real TLS on loopback: the install brings the credentials, and
//! from then on only the controller's certificate speaks for the instance.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

#[path = "../support/mod.rs"]
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

mod callbacks;
mod files;
mod instances;

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
