//! Shared pieces of the controller tests: the scripted endpoint (from `aps-test-support`) on a
//! test controller, servers, the controller's binary, packages, and a callback receiver.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aps_controller::testkit::TestController;
use aps_controller::{ApiLoad, Controller, PackageModel};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

pub use aps_test_support::scripted::{Scripted, THING};
use aps_test_support::wait::until;

/// Serves a router on a loopback port; answers its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// Serves a router over https on a loopback port, with a self-signed certificate for
/// `localhost` and no client certificate asked for; answers its base URL.
pub async fn serve_https(router: Router) -> String {
    use rustls::pki_types::pem::PemObject;
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(
        made.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![made.cert.der().clone()], key)
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
    tokio::spawn(axum_server::from_tcp_rustls(listener, tls).serve(router.into_make_service()));
    format!("https://localhost:{port}")
}

/// The `aps-controller` binary running as a child, its standard output and error collected.
pub struct Binary {
    child: std::process::Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// The threads reading the output; each ends when the process closes its pipe.
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Binary {
    /// Runs `aps-controller` with `args` in `dir`, with `env` added and every
    /// `APS_CONTROLLER_*` variable of the test's own environment removed.
    pub fn start(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        use std::process::{Command, Stdio};
        let mut command = Command::new(env!("CARGO_BIN_EXE_aps-controller"));
        for (key, _) in std::env::vars() {
            if key.starts_with("APS_CONTROLLER_") {
                command.env_remove(key);
            }
        }
        let mut child = command
            .args(args)
            .envs(env.iter().copied())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (stdout, out_reader) = collect(child.stdout.take().unwrap());
        let (stderr, err_reader) = collect(child.stderr.take().unwrap());
        Self {
            child,
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
        }
    }

    /// Standard output so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Standard error so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Waits until the controller says where it listens; answers that URL.
    pub async fn listening(&mut self) -> String {
        const SAID: &str = "aps-controller listening on ";
        let mut exited = None;
        until("the controller says where it listens", SECS_30, || {
            exited = self.child.try_wait().unwrap();
            std::future::ready(exited.is_some() || self.stdout().contains(SAID))
        })
        .await;
        if let Some(status) = exited {
            panic!("the controller exited {status}: {}", self.stderr());
        }
        let stdout = self.stdout();
        let line = stdout.lines().find(|l| l.starts_with(SAID)).unwrap();
        line[SAID.len()..].trim().to_owned()
    }

    /// Sends the process SIGTERM, as a service manager stopping it does.
    pub fn terminate(&self) {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits until the process ends by itself; answers its exit status.
    pub async fn exit(&mut self) -> std::process::ExitStatus {
        let mut exited = None;
        until("the controller ends", SECS_30, || {
            exited = self.child.try_wait().unwrap();
            std::future::ready(exited.is_some())
        })
        .await;
        // The process is gone, so its pipes are closed: the readers have the last of the
        // output once they end.
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        exited.unwrap()
    }

    /// Kills the process; answers everything it wrote (standard output, then error).
    pub async fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.exit().await;
        format!("{}{}", self.stdout(), self.stderr())
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(
    mut from: impl std::io::Read + Send + 'static,
) -> (Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    let text = Arc::new(Mutex::new(Vec::new()));
    let to = text.clone();
    let reader = std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = from.read(&mut chunk) {
            if n == 0 {
                break;
            }
            to.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    (text, reader)
}

/// Serves a router on a given address.
pub async fn serve_at(addr: SocketAddr, router: Router) {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
}

/// A test controller on the scripted endpoint.
pub async fn scripted() -> (TestController, Scripted) {
    scripted_with(Controller::builder().time_scale(1000.0)).await
}

pub async fn scripted_with(
    builder: aps_controller::ControllerBuilder,
) -> (TestController, Scripted) {
    let endpoint = Scripted::default();
    let c = TestController::start_with(endpoint.router(), Scripted::model(), builder)
        .await
        .unwrap();
    (c, endpoint)
}

/// Raw HTTP against a controller: status, headers, JSON body (`null` when empty).
pub async fn http(
    c: &TestController,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, HeaderMap, Value) {
    let mut request =
        reqwest::Client::new().request(method, format!("{}{path}", c.controller().url()));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, headers, body)
}

/// `GET` against a controller: status, headers, JSON body.
pub async fn get(c: &TestController, path: &str) -> (u16, HeaderMap, Value) {
    http(c, Method::GET, path, None, &[]).await
}

/// An `.app.zip` of a package model (APP-META.xml and the schemas it names).
pub fn zip_of(model: &PackageModel) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("APP-META.xml", options).unwrap();
        zip.write_all(model.meta.to_xml().as_bytes()).unwrap();
        for (service, schema) in &model.schemas {
            zip.start_file(format!("schemas/{service}.schema"), options)
                .unwrap();
            zip.write_all(serde_json::to_string(schema).unwrap().as_bytes())
                .unwrap();
        }
        zip.finish().unwrap();
    }
    cursor.into_inner()
}

/// A callback receiver: records deliveries; answers 500 to the first `failures` of them.
#[derive(Clone, Default)]
pub struct Receiver {
    pub got: Arc<Mutex<Vec<(HeaderMap, String, String)>>>,
    pub failures: Arc<Mutex<usize>>,
}

impl Receiver {
    pub fn router(&self) -> Router {
        Router::new()
            .route("/hook", post(receive))
            .with_state(self.clone())
    }

    pub fn deliveries(&self) -> Vec<(HeaderMap, String, String)> {
        self.got.lock().unwrap().clone()
    }
}

async fn receive(
    State(r): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    r.got
        .lock()
        .unwrap()
        .push((headers, uri.query().unwrap_or("").to_owned(), body));
    let mut failures = r.failures.lock().unwrap();
    if *failures > 0 {
        *failures -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::NO_CONTENT
}

/// Waits until `f` holds, up to `secs` seconds.
pub async fn eventually(secs: u64, mut f: impl FnMut() -> bool) {
    let limit = std::time::Duration::from_secs(secs);
    until("the condition", limit, || std::future::ready(f())).await;
}

/// Waits until the controller's API load satisfies `f` (e.g. as many long polls waiting as
/// the test started), up to 30 s.
pub async fn load_reaches(c: &Controller, what: &str, f: impl Fn(ApiLoad) -> bool) {
    until(what, SECS_30, || std::future::ready(f(c.api_load()))).await;
}

/// The longest a test waits for a process or a state.
const SECS_30: std::time::Duration = std::time::Duration::from_secs(30);

/// A `thing` with a plan.
pub fn thing(plan: &[&str]) -> Value {
    json!({"aps": {"type": THING}, "plan": plan})
}

pub async fn provision(
    c: &aps_controller::testkit::TestController,
    plan: &[&str],
    extra: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut body = json!({"application": c.application(), "resource": thing(plan)});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    http(c, Method::POST, "/api/v1/resources", Some(body), &[]).await
}

/// Uploads the scripted package as an `.app.zip` to the controller at `base`; answers the
/// package JSON.
pub async fn upload(base: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/packages"))
        .body(zip_of(&Scripted::model()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A test controller at `time_scale` with a `thing` whose provisioning has answered 202 once
/// and will be done at the first recheck.
pub async fn running(time_scale: f64) -> (TestController, aps_controller::Task) {
    running_with(Controller::builder().time_scale(time_scale)).await
}

/// [`running`] on a controller made by `builder`.
pub async fn running_with(
    builder: aps_controller::ControllerBuilder,
) -> (TestController, aps_controller::Task) {
    let (c, _) = scripted_with(builder).await;
    let plan = json!({"plan": ["accept", "done"]});
    let task = c
        .client()
        .provision(c.application(), THING, plan)
        .await
        .unwrap();
    let running = c
        .client()
        .poll(task.id, task.revision + 1, 5)
        .await
        .unwrap();
    (c, running)
}

/// A test controller on the scripted endpoint with its linked package (relations and
/// operations), at time scale 1000.
pub async fn linked() -> (TestController, Scripted) {
    linked_with(Controller::builder().time_scale(1000.0)).await
}

/// [`linked`] on a controller made by `builder`.
pub async fn linked_with(builder: aps_controller::ControllerBuilder) -> (TestController, Scripted) {
    let endpoint = Scripted::default();
    let c = TestController::start_with(endpoint.router(), Scripted::linked_model(), builder)
        .await
        .unwrap();
    (c, endpoint)
}

/// Provisions a resource of `service` with `properties` (and links), waiting for it: answers
/// the status and the body.
pub async fn make(c: &TestController, service: &str, properties: Value) -> (u16, Value) {
    let mut resource = properties;
    resource["aps"] = json!({"type": service});
    let body = json!({"application": c.application(), "resource": resource});
    let (status, _, body) = http(c, Method::POST, "/api/v1/resources", Some(body), &[]).await;
    (status, body)
}

/// Provisions a resource that must be made; answers its id.
pub async fn made(c: &TestController, service: &str, properties: Value) -> String {
    let (status, body) = make(c, service, properties).await;
    assert_eq!(status, 201, "{body}");
    body["aps"]["id"].as_str().unwrap().to_owned()
}

/// `{"aps": {"id": id}}`.
pub fn link_to(id: &str) -> Value {
    json!({"aps": {"id": id}})
}
