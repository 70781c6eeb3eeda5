//! HTTPS: certificate files given, or a self-signed pair made for the host of the printed URL.

use std::net::{IpAddr, SocketAddr, TcpStream};

use crate::harness::{
    Deployed, NAME, demo_package, endpoint, free_port, printed, status_says, stdout,
};

/// Asks `url` for a provisioning over HTTPS, trusting only the certificate `ca` (PEM) and
/// reaching `url`'s host name at `addr` (so no resolver needs to know it). The answer must come:
/// the certificate was verified for the host of the URL. Over TLS an instance its controller
/// never installed is unknown: 404.
fn provision_over_tls(url: &str, ca: &[u8], addr: SocketAddr) {
    let authority = url
        .strip_prefix("https://")
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let host = authority
        .rsplit_once(':')
        .unwrap()
        .0
        .trim_matches(['[', ']']);
    let mut client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca).unwrap());
    if host.parse::<IpAddr>().is_err() {
        client = client.resolve(host, addr);
    }
    let client = client.build().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let response = runtime
        .block_on(
            client
                .post(format!("{url}/provisionable/"))
                .header("APS-Instance-ID", uuid::Uuid::new_v4().to_string())
                .header("APS-Controller-URI", "https://127.0.0.1:1")
                .header("Content-Type", "application/json")
                .body(r#"{"aps":{"type":"http://aps-standard.org/samples/async-prov/provisionable/1.0"}}"#)
                .send(),
        )
        .unwrap_or_else(|e| panic!("no answer over TLS from {url}: {e:?}"));
    assert_eq!(response.status(), 404, "{url}");
}

#[test]
fn certificate_files_given_serve_https_at_the_printed_url_and_purge_removes_all() {
    let dir = tempfile::tempdir().unwrap();
    let package = demo_package(dir.path()).to_string_lossy().into_owned();
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let root_path = dir.path().join("root");
    let root = root_path.to_string_lossy().into_owned();
    let port = free_port();
    let _deployed = Deployed {
        root: root_path.clone(),
    };

    let deployed = endpoint(&[
        NAME,
        &package,
        "--root",
        &root,
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--tls-cert",
        &cert.to_string_lossy(),
        "--tls-key",
        &key.to_string_lossy(),
        "--no-service",
    ]);
    let url = printed(&deployed, "https");
    assert_eq!(url, format!("https://127.0.0.1:{port}/{NAME}"));
    assert!(!stdout(&deployed).contains("http endpoint url:"));
    provision_over_tls(
        &url,
        made.cert.pem().as_bytes(),
        ([127, 0, 0, 1], port).into(),
    );
    status_says(&root, &[&format!("url: {url}"), "state: running"]);

    // --remove --purge on the running endpoint: stopped, and nothing of it is left.
    let base = root_path.join(NAME);
    std::fs::write(base.join("data/marker"), "to go").unwrap();
    let purged = endpoint(&["--remove", NAME, "--purge", "--root", &root]);
    assert!(purged.status.success());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    assert!(!base.exists(), "{}", stdout(&purged));
}

#[test]
fn a_self_signed_certificate_names_the_host_of_the_printed_url() {
    let dir = tempfile::tempdir().unwrap();
    let package = demo_package(dir.path()).to_string_lossy().into_owned();
    let root_path = dir.path().join("root");
    let root = root_path.to_string_lossy().into_owned();
    let tls = root_path.join(NAME).join("data/tls");
    let port = free_port();
    let _deployed = Deployed {
        root: root_path.clone(),
    };
    // A pair kept from before, for localhost alone (as made before endpoints named the host of
    // the printed URL): the endpoint replaces it, since it does not cover that host.
    let old = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::create_dir_all(&tls).unwrap();
    std::fs::write(tls.join("self-signed.crt"), old.cert.pem()).unwrap();
    std::fs::write(tls.join("self-signed.key"), old.signing_key.serialize_pem()).unwrap();

    // On every address, the URL names this machine (`hostname -f`): reached by that name on
    // loopback, the certificate must verify for it.
    let deploy = || {
        printed(
            &endpoint(&[
                NAME,
                &package,
                "--root",
                &root,
                "--listen",
                &format!("0.0.0.0:{port}"),
                "--self-signed",
                "--no-service",
            ]),
            "https",
        )
    };
    let url = deploy();
    assert!(
        !url.starts_with("https://0.0.0.0") && url.ends_with(&format!(":{port}/{NAME}")),
        "{url}"
    );
    let loopback = ([127, 0, 0, 1], port).into();
    let cert = std::fs::read(tls.join("self-signed.crt")).unwrap();
    provision_over_tls(&url, &cert, loopback);

    // Deployed again: the same URL, and the same certificate, which still covers it.
    assert_eq!(deploy(), url);
    assert_eq!(std::fs::read(tls.join("self-signed.crt")).unwrap(), cert);
    provision_over_tls(&url, &cert, loopback);
}
