//! The `dev` command of every endpoint built with the framework, and a live task view.
//!
//! [`run`] takes an endpoint that is already serving and the app's package model, and does what
//! a developer wants to see first: it starts an embedded controller on loopback (database under
//! a data directory), imports the package, installs an instance on the endpoint, provisions one
//! resource of a service, and shows the task live in the terminal (name, description, the
//! changing output, a spinner and the elapsed time) until it ends. Then it prints the API URL and
//! serves until Ctrl-C. An application whose resources need properties, links or calls to show
//! what they do gives a *walkthrough* instead ([`Step`]): resources provisioned, linked and
//! called in order, configured and refreshed, each task shown live, each call's result and each
//! shown property printed.
//!
//! ```no_run
//! # async fn demo(package: aps_controller::PackageModel) -> Result<(), aps_controller::Error> {
//! use aps_controller::dev::{run, DevOptions};
//!
//! run(DevOptions {
//!     endpoint_url: "http://127.0.0.1:8080".into(),
//!     package,
//!     data_dir: ".aps-dev".into(),
//!     time_scale: 10.0,
//!     service: "provisionable".into(),
//!     listen: None,
//!     walkthrough: Vec::new(),
//! })
//! .await
//! # }
//! ```

use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressState, ProgressStyle};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Client, Controller, Error, PackageModel, State, Task};

/// What the `dev` flow needs.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// The base URL of the running endpoint, e.g. `http://127.0.0.1:8080`.
    pub endpoint_url: String,
    /// The app's package model (the framework's `App::meta()` and `App::schemas()`).
    pub package: PackageModel,
    /// Where the controller's database lives (`controller.db` inside it; made when missing).
    pub data_dir: PathBuf,
    /// Divides recheck delays (1 for real time).
    pub time_scale: f64,
    /// The service to provision one resource of, e.g. `provisionable`.
    pub service: String,
    /// Where the controller listens; `None` picks a free loopback port.
    pub listen: Option<SocketAddr>,
    /// What to do after the install; empty provisions one resource of `service` without
    /// properties.
    pub walkthrough: Vec<Step>,
}

/// One step of a `dev` walkthrough. Resources are named by their place among the resources
/// the walkthrough provisioned (0 is the first).
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Provisions a resource of `service` (a service id or type id) with `properties`.
    Provision {
        /// The service.
        service: String,
        /// Its properties (and links given at provisioning).
        properties: Value,
    },
    /// Links `relation` of the `resource`-th resource to the `other`-th.
    Link {
        /// The linking resource.
        resource: usize,
        /// Its relation.
        relation: String,
        /// The linked resource.
        other: usize,
    },
    /// Calls `operation` of the `resource`-th resource, with query parameters and a body.
    Call {
        /// The resource.
        resource: usize,
        /// The custom operation.
        operation: String,
        /// Its query parameters.
        query: Vec<(String, String)>,
        /// Its body parameter.
        body: Option<Value>,
    },
    /// Configures the `resource`-th resource with `properties` (laid over the stored ones).
    Configure {
        /// The resource.
        resource: usize,
        /// The properties to change.
        properties: Value,
    },
    /// Synchronizes the usage counters of the `resource`-th resource from its endpoint.
    Refresh {
        /// The resource.
        resource: usize,
    },
    /// Prints a property of the `resource`-th resource as the controller stores it.
    Show {
        /// The resource.
        resource: usize,
        /// The property.
        property: String,
        /// Wait (up to a minute) until the property no longer holds this value: a change that
        /// comes in the background, such as a notification's handler writing it back.
        changed_from: Option<Value>,
    },
}

/// A controller started by [`start`], with the instance and the task it made.
pub struct DevSession {
    /// The running controller (dropping it stops it).
    pub controller: Controller,
    /// The application instance installed on the endpoint.
    pub application: Uuid,
    /// The (first) provisioning task, ended.
    pub task: Task,
}

/// The whole `dev` flow: [`start`], print the API URL, serve until Ctrl-C or SIGTERM.
pub async fn run(options: DevOptions) -> Result<(), Error> {
    let session = start(options).await?;
    let url = session.controller.url();
    say(format_args!(
        "\nController API: {url}/api/v1  (tasks: {url}/api/v1/tasks)\nPanel and task manager: {url}/ui/\nPress Ctrl-C to stop."
    ));
    aps_server::shutdown_signal().await;
    Ok(())
}

/// Starts the controller, installs an instance, provisions one resource and shows its task
/// until it ends; answers without waiting for Ctrl-C.
pub async fn start(options: DevOptions) -> Result<DevSession, Error> {
    std::fs::create_dir_all(&options.data_dir)?;
    let controller = Controller::builder()
        .database(options.data_dir.join("controller.db").to_string_lossy())
        .listen(
            options
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
        )
        .time_scale(options.time_scale)
        // Plain HTTP, by default on loopback: `dev` is the documented exception (a developer's
        // machine; the controller warns at start-up).
        .tls(false)
        .start()
        .await?;
    let package = controller.import(&options.package).await?;
    let client = controller.client();
    let install = client
        .install(package.id, &options.endpoint_url, json!({}))
        .await?;
    let install = watch(&client, install.id).await?;
    ended_well(&install)?;
    let steps = match options.walkthrough.is_empty() {
        true => vec![Step::Provision {
            service: options.service.clone(),
            properties: json!({}),
        }],
        false => options.walkthrough.clone(),
    };
    let mut provisioned: Vec<Task> = Vec::new();
    for step in steps {
        walk(&client, install.application, &step, &mut provisioned).await?;
    }
    let task = provisioned
        .into_iter()
        .next()
        .ok_or_else(|| Error::Unexpected("the walkthrough provisions no resource".into()))?;
    Ok(DevSession {
        controller,
        application: install.application,
        task,
    })
}

/// One step of a walkthrough; a provisioning's task joins `provisioned`.
async fn walk(
    client: &Client,
    application: Uuid,
    step: &Step,
    provisioned: &mut Vec<Task>,
) -> Result<(), Error> {
    let nth = |n: usize| {
        provisioned.get(n).map(|t| t.resource.id).ok_or_else(|| {
            Error::Unexpected(format!(
                "a walkthrough step names resource #{n}, which is not provisioned before it"
            ))
        })
    };
    match step {
        Step::Provision {
            service,
            properties,
        } => {
            let task = client
                .provision(application, service, properties.clone())
                .await?;
            let task = watch(client, task.id).await?;
            ended_well(&task)?;
            provisioned.push(task);
        }
        Step::Link {
            resource,
            relation,
            other,
        } => {
            let (id, other) = (nth(*resource)?, nth(*other)?);
            client.link(id, relation, other).await?;
            say(format_args!("✔ linked {other} as `{relation}` of {id}"));
        }
        Step::Call {
            resource,
            operation,
            query,
            body,
        } => {
            let id = nth(*resource)?;
            // Answered at once with the task, which is then shown live like the others.
            let started = client
                .call(id, operation, query, body.as_ref(), Some(0))
                .await?;
            let task: Task = started.parse()?;
            let task = watch(client, task.id).await?;
            ended_well(&task)?;
            let path = format!("/api/v1/tasks/{}/result", task.id);
            let result = client.send(reqwest::Method::GET, &path, None).await?;
            if !result.body.is_null() {
                say(format_args!("  result: {}", result.body));
            }
        }
        Step::Configure {
            resource,
            properties,
        } => {
            let path = format!("/api/v1/resources/{}", nth(*resource)?);
            let body = json!({"resource": properties, "timeout": 0});
            run_task(client, reqwest::Method::PUT, &path, &body).await?;
        }
        Step::Refresh { resource } => {
            let path = format!("/api/v1/resources/{}/refresh", nth(*resource)?);
            run_task(client, reqwest::Method::POST, &path, &json!({"timeout": 0})).await?;
        }
        Step::Show {
            resource,
            property,
            changed_from,
        } => {
            let id = nth(*resource)?;
            let value = shown(client, id, property, changed_from.as_ref()).await?;
            say(format_args!("✔ {property} of {id}: {value}"));
        }
    }
    Ok(())
}

/// Starts an operation answered at once with its task (`timeout: 0`) and shows the task live.
async fn run_task(
    client: &Client,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> Result<(), Error> {
    let task: Task = client.send(method, path, Some(body)).await?.parse()?;
    ended_well(&watch(client, task.id).await?)
}

/// The stored `property` of resource `id`, once it no longer holds `changed_from`.
async fn shown(
    client: &Client,
    id: Uuid,
    property: &str,
    changed_from: Option<&Value>,
) -> Result<Value, Error> {
    let path = format!("/api/v1/resources/{id}");
    // A walkthrough runs on a developer's machine: polling a few times a second is fine.
    for _ in 0..600 {
        let resource = client.send(reqwest::Method::GET, &path, None).await?.body;
        let value = resource.get(property).cloned().unwrap_or(Value::Null);
        if changed_from != Some(&value) {
            return Ok(value);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(Error::Unexpected(format!(
        "{property} of {id} is still {} after a minute",
        changed_from.unwrap_or(&Value::Null)
    )))
}

fn ended_well(task: &Task) -> Result<(), Error> {
    match (&task.state, &task.error) {
        (State::Success, _) => Ok(()),
        (_, Some(error)) => Err(Error::Api(error.clone())),
        (state, None) => Err(Error::Unexpected(format!(
            "task {} ended {}",
            task.id,
            state.as_str()
        ))),
    }
}

/// The spinner's frames; indicatif takes the last string for a finished bar, which is cleared
/// here instead (the ended line is printed, terminal or not).
const FRAMES: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", "·"];

/// Shows a task live until it ends (long polls, so the controller does no work while it waits);
/// answers the ended task. On a terminal, one line is redrawn with a spinner; otherwise every
/// change is printed on a line of its own.
pub async fn watch(client: &Client, id: Uuid) -> Result<Task, Error> {
    let mut task = client.task(id).await?;
    say(&task.name);
    let mut view = View::new();
    while !task.state.is_terminal() {
        view.show(&task);
        task = client.poll(id, task.revision, 30).await?;
    }
    view.end(&task);
    Ok(task)
}

/// The live line of one task: an indicatif spinner on stdout, hidden when stdout is not a
/// terminal (then [`View::show`] prints plain lines).
struct View {
    bar: ProgressBar,
    shown_description: Option<String>,
}

impl View {
    fn new() -> Self {
        let style = ProgressStyle::with_template("{spinner} {msg} · {elapsed}")
            .unwrap_or_else(|_| unreachable!("the template is valid"))
            .tick_strings(FRAMES)
            .with_key(
                "elapsed",
                |state: &ProgressState, w: &mut dyn fmt::Write| {
                    let _ = write!(w, "{}", elapsed(state.elapsed()));
                },
            );
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout())
            .with_style(style)
            // Left by an error: cleared, so the error is not printed after the spinner.
            .with_finish(ProgressFinish::AndClear);
        bar.enable_steady_tick(Duration::from_millis(100));
        Self {
            bar,
            shown_description: None,
        }
    }

    fn show(&mut self, task: &Task) {
        self.describe(task);
        let line = status(task);
        if self.bar.is_hidden() {
            say(format_args!("· {line} · {}", elapsed(self.bar.elapsed())));
        } else {
            self.bar.set_message(line);
        }
    }

    fn end(&mut self, task: &Task) {
        self.describe(task);
        self.bar.finish_and_clear();
        let mark = if task.state == State::Success {
            '✔'
        } else {
            '✘'
        };
        say(format_args!(
            "{mark} {} · {}",
            status(task),
            elapsed(self.bar.elapsed())
        ));
    }

    /// Prints the description above the live line when it changes.
    fn describe(&mut self, task: &Task) {
        if let Some(description) = &task.description {
            if self.shown_description.as_ref() != Some(description) {
                self.bar.suspend(|| say(format_args!("  {description}")));
                self.shown_description = Some(description.clone());
            }
        }
    }
}

/// Prints a line, best effort: a closed stdout must not stop the controller.
fn say(line: impl fmt::Display) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// The state and the latest `APS-Info` of a task.
fn status(task: &Task) -> String {
    match (&task.output, task.state.is_terminal()) {
        (Some(output), _) => format!("{} · {output}", task.state.as_str()),
        (None, false) => format!("{} · waiting for the endpoint", task.state.as_str()),
        (None, true) => task.state.as_str().to_owned(),
    }
}

/// Elapsed time as a person reads it, in whole seconds (`0s`, `9s`, `1m 5s`).
fn elapsed(elapsed: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_secs(elapsed.as_secs()))
}
