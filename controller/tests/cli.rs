//! The `aps-controller` binary: `serve`'s choice between TLS and plain HTTP, its options from
//! the environment, the webhook secret it makes, and the client subcommands against a running
//! controller.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::process::Output;
use std::time::{Duration, Instant};

use aps_controller::Client;
use common::{Binary, THING, scripted};
use serde_json::Value;

async fn cli(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_aps-controller"))
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_tasks_show_and_wait_talk_to_the_controller() {
    let (c, _) = scripted().await;
    let url = c.controller().url();
    let app = c.application().to_string();
    let args = |a: &[&str]| -> Vec<String> {
        a.iter()
            .map(|s| s.to_string())
            .chain(["--url".into(), url.clone()])
            .collect()
    };

    let out = cli(args(&[
        "provision",
        "--app",
        &app,
        "--type",
        THING,
        "--set",
        "size=4",
        "--set",
        "plan=[\"accept\",\"done\"]",
        "--timeout",
        "0",
    ]))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let task: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = task["id"].as_str().unwrap().to_owned();

    let out = cli(args(&["task", "wait", &id])).await;
    assert!(out.status.success());
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("Provisioning \"thing\" for APS application scripted"),
        "{shown}"
    );
    assert!(
        shown.contains("step 1"),
        "the description is shown: {shown}"
    );
    assert!(shown.contains("success"), "{shown}");

    let out = cli(args(&["task", "show", &id])).await;
    let task: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(task["state"], "success");
    let (_, _, resource) = common::http(
        &c,
        reqwest::Method::GET,
        task["resource"]["href"].as_str().unwrap(),
        None,
        &[],
    )
    .await;
    assert_eq!(resource["size"], 4);

    let out = cli(args(&["tasks", "--state", "success"])).await;
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains(&id) && listed.contains("Installing"),
        "{listed}"
    );

    let out = cli(args(&["provision", "--app", &app, "--type", "nothing"])).await;
    assert!(!out.status.success());
    let error: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["code"], 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_uninstall_removes_the_instance() {
    let (c, _) = scripted().await;
    let url = c.controller().url();
    let app = c.application().to_string();
    let uninstall = || {
        [
            "application",
            "uninstall",
            &app,
            "--timeout",
            "30",
            "--url",
            &url,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let thing = c
        .client()
        .provision(c.application(), THING, serde_json::json!({}))
        .await
        .unwrap();
    c.wait(&thing).await.unwrap();
    let out = cli(uninstall()).await;
    assert!(!out.status.success(), "a resource is left");
    let error: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["code"], 409);
    let path = format!("/api/v1/resources/{}", thing.resource.id);
    let (status, _, _) = common::http(&c, reqwest::Method::DELETE, &path, None, &[]).await;
    assert_eq!(status, 204);
    let out = cli(uninstall()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("uninstalled"));
    let (status, _, _) = common::get(&c, &format!("/api/v1/applications/{app}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn serve_wants_tls_or_insecure_http_said_out_loud() {
    let dir = tempfile::tempdir().unwrap();
    let mut neither = Binary::start(dir.path(), &["serve", "--listen", "127.0.0.1:0"], &[]);
    assert!(!neither.exit().await.success());
    let said = neither.stderr();
    assert!(
        said.contains("--tls") && said.contains("--insecure-http"),
        "{said}"
    );
    let flags = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tls",
        "--insecure-http",
    ];
    let mut both = Binary::start(dir.path(), &flags, &[]);
    assert!(!both.exit().await.success());
    assert!(
        both.stderr().contains("exclude each other"),
        "{}",
        both.stderr()
    );
    // A flag turned off in the environment is no choice either.
    let off = [
        ("APS_CONTROLLER_TLS", "false"),
        ("APS_CONTROLLER_INSECURE_HTTP", "0"),
    ];
    let mut off = Binary::start(dir.path(), &["serve"], &off);
    assert!(!off.exit().await.success());
    assert!(off.stderr().contains("--insecure-http"), "{}", off.stderr());
    let made: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(made.is_empty(), "nothing was opened or made: {made:?}");
}

#[tokio::test]
async fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["serve", "--insecure-http", "--listen", "127.0.0.1:0"];
    let mut serving = Binary::start(dir.path(), &args, &[]);
    serving.listening().await;
    serving.terminate();
    let status = serving.exit().await;
    assert!(status.success(), "{status}: {}", serving.stderr());
}

#[tokio::test]
async fn insecure_http_from_the_environment_serves_plain_http_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("APS_CONTROLLER_INSECURE_HTTP", "1"),
        ("APS_CONTROLLER_LISTEN", "127.0.0.1:0"),
    ];
    let mut serving = Binary::start(dir.path(), &["serve"], &env);
    let url = serving.listening().await;
    assert!(url.starts_with("http://"), "{url}");
    let tasks = reqwest::get(format!("{url}/api/v1/tasks")).await.unwrap();
    assert_eq!(tasks.status(), 200);
    let said = serving.kill().await;
    assert!(said.contains("serving plain HTTP"), "{said}");
    assert!(said.contains("APS-Instance-ID"), "{said}");
}

#[tokio::test]
async fn tls_names_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("APS_CONTROLLER_TLS", "true"),
        ("APS_CONTROLLER_TLS_NAME", "ctl.example,other.example"),
    ];
    let mut serving = Binary::start(dir.path(), &["serve", "--listen", "127.0.0.1:0"], &env);
    let url = serving.listening().await;
    let addr: std::net::SocketAddr = url.trim_start_matches("https://").parse().unwrap();
    let ca = std::fs::read(dir.path().join("tls/ca.crt")).unwrap();
    // The certificate is checked against the name asked for, which resolves to the controller.
    let get = |name: &'static str| {
        let ca = ca.clone();
        async move {
            let client = reqwest::Client::builder()
                .tls_built_in_root_certs(false)
                .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
                .resolve(name, addr)
                .build()
                .unwrap();
            // The sign-in page asks no credentials: any answer means the handshake passed.
            let url = format!("https://{name}:{}/ui/sign-in", addr.port());
            client.get(url).send().await.map(|r| r.status().as_u16())
        }
    };
    assert_eq!(get("ctl.example").await.unwrap(), 200);
    assert_eq!(get("other.example").await.unwrap(), 200);
    assert!(get("elsewhere.example").await.is_err(), "a name not given");
}

#[tokio::test]
async fn a_webhook_secret_made_on_first_start_goes_to_a_private_file_not_to_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["serve", "--insecure-http", "--listen", "127.0.0.1:0"];
    let mut first = Binary::start(dir.path(), &args, &[]);
    first.listening().await;
    let file = dir.path().join("webhook-secret");
    let secret = std::fs::read_to_string(&file).unwrap();
    let secret = secret.trim();
    assert!(secret.starts_with("whsec_"), "{secret}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
    let said = first.kill().await;
    assert!(said.contains(&file.display().to_string()), "{said}");
    let key = secret.trim_start_matches("whsec_");
    assert!(
        !said.contains(key),
        "the secret itself is not shown: {said}"
    );

    // Later starts keep the stored secret and say nothing about it.
    std::fs::remove_file(&file).unwrap();
    let mut again = Binary::start(dir.path(), &args, &[]);
    again.listening().await;
    let said = again.kill().await;
    assert!(!said.to_lowercase().contains("webhook secret"), "{said}");
    assert!(!said.contains(key));
    assert!(
        !file.exists(),
        "a secret is copied out only when it is made"
    );
}

/// Provisions a `thing` whose endpoint answers 202 (recheck in 30 s) and then done, with no
/// `timeout` (the server's default wait); answers the status, the body and how long it took.
async fn provision_slow_thing(client: &Client, app: uuid::Uuid) -> (u16, Value, Duration) {
    let body = serde_json::json!({"application": app,
        "resource": {"aps": {"type": THING}, "plan": ["accept", "done"]}});
    let started = Instant::now();
    let answer = client
        .send(reqwest::Method::POST, "/api/v1/resources", Some(&body))
        .await
        .unwrap();
    (answer.status, answer.body, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_listen_db_time_scale_and_sync_timeout_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let db = format!("sqlite://{}", state.join("ctl.db").display());
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let listen = format!("127.0.0.1:{port}");
    let env = [
        ("APS_CONTROLLER_INSECURE_HTTP", "true"),
        ("APS_CONTROLLER_LISTEN", listen.as_str()),
        ("APS_CONTROLLER_DB", db.as_str()),
        ("APS_CONTROLLER_TIME_SCALE", "1000"),
    ];
    let mut serving = Binary::start(dir.path(), &["serve"], &env);
    let url = serving.listening().await;
    assert_eq!(url, format!("http://{listen}"), "the address asked for");
    // Installed and provisioned through the binary: the 30 s recheck takes 30 ms at 1000.
    let endpoint = common::serve(common::Scripted::default().router()).await;
    let client = Client::new(&url);
    let package = common::upload(&url).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let install = client
        .install(package, &endpoint, serde_json::json!({}))
        .await
        .unwrap();
    let install = client.wait(install.id, |_| {}).await.unwrap();
    assert_eq!(install.state, aps_controller::State::Success);
    let (status, resource, _) = provision_slow_thing(&client, install.application).await;
    assert_eq!(status, 201, "done within the 30 s default wait: {resource}");
    assert_eq!(resource["calls"], 2);
    let said = serving.kill().await;
    assert!(
        said.contains("time scale 1000"),
        "a time scale other than 1 is announced at start-up: {said}"
    );
    assert!(state.join("ctl.db").exists(), "the database asked for");
    assert!(
        state.join("webhook-secret").exists(),
        "the data directory is the database's"
    );
    assert!(
        !dir.path().join("aps-controller.db").exists(),
        "no default database"
    );

    // Again on the same database, at real time, with a one-second default wait.
    let env = [
        ("APS_CONTROLLER_INSECURE_HTTP", "yes"),
        ("APS_CONTROLLER_LISTEN", "127.0.0.1:0"),
        ("APS_CONTROLLER_DB", db.as_str()),
        ("APS_CONTROLLER_SYNC_TIMEOUT", "1"),
    ];
    let mut serving = Binary::start(dir.path(), &["serve"], &env);
    let client = Client::new(&serving.listening().await);
    let known = client.task(install.id).await.unwrap();
    assert_eq!(
        known.state,
        aps_controller::State::Success,
        "the same tasks"
    );
    let (status, task, took) = provision_slow_thing(&client, install.application).await;
    assert_eq!(status, 202, "the recheck is 30 real seconds away: {task}");
    assert!(took >= Duration::from_millis(900), "it waited {took:?}");
    assert!(
        took < Duration::from_secs(25),
        "not the 30 s default: {took:?}"
    );
    assert_eq!(task["retryAfter"], 30);
    let said = serving.kill().await;
    assert!(
        !said.contains("time scale"),
        "a time scale of 1 is not announced: {said}"
    );
}

#[tokio::test]
async fn tokens_are_made_listed_used_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["token"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--db", "c.db"]);
        std::process::Command::new(env!("CARGO_BIN_EXE_aps-controller"))
            .args(&all)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let made = run(&[
        "create",
        "--scope",
        "read",
        "--name",
        "ci",
        "--expires",
        "30d",
    ]);
    assert!(made.status.success(), "{made:?}");
    let token = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("apsc_"), "{token}");
    let listed = run(&["list"]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    let id = listed.split_whitespace().next().unwrap().to_owned();
    assert!(listed.contains("read") && listed.contains("ci") && listed.contains("expires"));
    assert!(
        !listed.contains(token.rsplit('_').next().unwrap()),
        "no secret listed"
    );
    assert!(!run(&["create", "--scope", "root"]).status.success());

    let args = ["serve", "--tls", "--listen", "127.0.0.1:0", "--db", "c.db"];
    let mut serving = Binary::start(dir.path(), &args, &[]);
    let url = serving.listening().await;
    let ca = std::fs::read(dir.path().join("tls/ca.crt")).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let get = |token: String| {
        http.get(format!("{url}/api/v1/tasks"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(get(token.clone()).await.unwrap().status(), 200);
    assert!(run(&["revoke", &id]).status.success());
    assert_eq!(get(token.clone()).await.unwrap().status(), 401);
    assert!(!run(&["revoke", &id]).status.success(), "already revoked");
    let said = serving.kill().await;
    assert!(said.contains("authentication failed"), "{said}");
    assert!(!said.contains(&token), "{said}");
}
