//! Deploy, provision, upgrade in place, refuse a corrupt package, roll back a broken release,
//! remove and purge.

use std::net::TcpStream;

use crate::common::{self, stand_in_package, with_entry, with_version};
use crate::harness::{
    Deployed, NAME, current_release, demo_package, endpoint, free_port, printed_url, provision,
    refused, releases, status_says, stderr, stdout,
};

#[test]
fn the_demo_deploys_provisions_upgrades_survives_bad_packages_and_is_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let package = demo_package(dir.path()).to_string_lossy().into_owned();
    let root_path = dir.path().join("root");
    let root = root_path.to_string_lossy().into_owned();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _deployed = Deployed {
        root: root_path.clone(),
    };

    // First deployment, then a provision through the printed URL.
    let url = printed_url(&endpoint(&[
        NAME,
        &package,
        "--root",
        &root,
        "--listen",
        &listen,
        "--no-service",
    ]));
    assert_eq!(url, format!("http://127.0.0.1:{port}/{NAME}"));
    provision(&url, 1);
    let data = root_path.join(NAME).join("data");
    std::fs::write(data.join("marker"), "kept").expect("marker");

    // Again (an upgrade in place): same URL, data kept.
    assert_eq!(
        printed_url(&endpoint(&[
            NAME,
            &package,
            "--root",
            &root,
            "--no-service"
        ])),
        url
    );
    assert_eq!(
        std::fs::read_to_string(data.join("marker")).expect("marker kept"),
        "kept"
    );
    provision(&url, 2);

    // A corrupt package is refused and the running release keeps serving.
    let good = std::fs::read(&package).expect("package");
    let meta = common::entries(&good)
        .into_iter()
        .find(|(n, _)| n == "APP-META.xml")
        .expect("meta")
        .1;
    let corrupt = dir.path().join("corrupt.app.zip");
    std::fs::write(
        &corrupt,
        with_entry(&good, "APP-META.xml", &meta.to_ascii_uppercase()),
    )
    .expect("corrupt");
    refused(
        &[
            NAME,
            &corrupt.to_string_lossy(),
            "--root",
            &root,
            "--no-service",
        ],
        "APP-META.xml` has SHA-256",
    );
    provision(&url, 3);

    // A release that cannot start is rolled back: the previous one serves again.
    let broken = stand_in_package(&dir.path().join("broken"), "0.2", "1");
    refused(
        &[
            NAME,
            &broken.to_string_lossy(),
            "--root",
            &root,
            "--no-service",
        ],
        "the previous release 0.1-1 runs again",
    );
    provision(&url, 4);

    let status = endpoint(&["--status", NAME, "--root", &root]);
    assert!(status.status.success());
    for line in ["release: 0.1-1", &format!("url: {url}"), "state: running"] {
        assert!(
            stdout(&status).lines().any(|l| l == line),
            "no {line:?} in {}",
            stdout(&status)
        );
    }

    // Removed: the port closes, the data stays (no --purge), and status says so.
    assert!(
        endpoint(&["--remove", NAME, "--root", &root])
            .status
            .success()
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the port is still open"
    );
    assert!(data.join("marker").exists());
    assert!(
        !endpoint(&["--status", NAME, "--root", &root])
            .status
            .success()
    );

    // Deployed again with a self-signed certificate: HTTPS, made and kept in the data directory.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let tls = endpoint(&[
        NAME,
        &package,
        "--root",
        &root,
        "--listen",
        &listen,
        "--self-signed",
        "--no-service",
    ]);
    assert!(tls.status.success(), "{}", stderr(&tls));
    let https = format!("https endpoint url: https://127.0.0.1:{port}/{NAME}");
    assert!(stdout(&tls).lines().any(|l| l == https), "{}", stdout(&tls));
    assert!(data.join("marker").exists());
    let status = endpoint(&["--status", NAME, "--root", &root]);
    assert!(
        stdout(&status).lines().any(|l| l == "state: running"),
        "{}",
        stdout(&status)
    );
}

#[test]
fn a_newer_release_upgrades_in_place_and_remove_keeps_the_data_unless_purged() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = demo_package(dir.path());
    let zip = std::fs::read(&v1).unwrap();
    let newer = |version: &str| {
        let path = dir
            .path()
            .join(format!("async_provisioning-{version}-1.app.zip"));
        std::fs::write(&path, with_version(&zip, version, "1")).unwrap();
        path.to_string_lossy().into_owned()
    };
    let (v2, v3) = (newer("0.2"), newer("0.3"));
    let root_path = dir.path().join("root");
    let root = root_path.to_string_lossy().into_owned();
    let base = root_path.join(NAME);
    let data = base.join("data");
    let port = free_port();
    let _deployed = Deployed {
        root: root_path.clone(),
    };

    let url = printed_url(&endpoint(&[
        NAME,
        &v1.to_string_lossy(),
        "--root",
        &root,
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--no-service",
    ]));
    provision(&url, 1);
    std::fs::write(data.join("marker"), "kept").unwrap();

    // 0.2-1: same URL (the settings of the last deployment), data kept, `current` switched,
    // the release before kept for a rollback, and the process the new release's program.
    let upgraded = endpoint(&[NAME, &v2, "--root", &root, "--no-service"]);
    assert_eq!(printed_url(&upgraded), url);
    assert!(
        stdout(&upgraded).contains("upgraded to 0.2-1"),
        "{}",
        stdout(&upgraded)
    );
    assert_eq!(current_release(&base), "releases/0.2-1");
    assert_eq!(releases(&base), ["0.1-1", "0.2-1"]);
    assert_eq!(
        std::fs::read_to_string(data.join("marker")).unwrap(),
        "kept"
    );
    let pid = std::fs::read_to_string(base.join("endpoint.pid")).unwrap();
    let exe = std::fs::read_link(format!("/proc/{}/exe", pid.trim())).unwrap();
    assert!(
        exe.starts_with(base.canonicalize().unwrap().join("releases/0.2-1")),
        "the endpoint runs {}",
        exe.display()
    );
    provision(&url, 2);
    status_says(
        &root,
        &["release: 0.2-1", &format!("url: {url}"), "state: running"],
    );

    // 0.3-1: the script keeps the current release and the one before; 0.1-1 goes.
    assert_eq!(
        printed_url(&endpoint(&[NAME, &v3, "--root", &root, "--no-service"])),
        url
    );
    assert_eq!(current_release(&base), "releases/0.3-1");
    assert_eq!(releases(&base), ["0.2-1", "0.3-1"]);
    assert_eq!(
        std::fs::read_to_string(data.join("marker")).unwrap(),
        "kept"
    );
    provision(&url, 3);

    // --remove: stopped, the releases gone, the data kept.
    let removed = endpoint(&["--remove", NAME, "--root", &root]);
    assert!(removed.status.success());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    assert!(!base.join("releases").exists() && !base.join("current").exists());
    assert_eq!(
        std::fs::read_to_string(data.join("marker")).unwrap(),
        "kept"
    );
    // --purge then: the data too, and the endpoint's directory.
    let purged = endpoint(&["--remove", NAME, "--purge", "--root", &root]);
    assert!(purged.status.success());
    assert!(!data.exists() && !base.exists(), "{}", stdout(&purged));
}
