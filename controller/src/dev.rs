//! The `dev` command of every endpoint built with the framework, and a live task view.
//!
//! [`run`] takes an endpoint that is already serving and the app's package model, and does what
//! a developer wants to see first: it starts an embedded controller on loopback (database under
//! a data directory), imports the package, installs an instance on the endpoint, provisions one
//! resource of a service, and shows the task live in the terminal (name, description, the
//! changing output, a spinner and the elapsed time) until it ends. Then it prints the API URL and
//! serves until Ctrl-C.
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
//! })
//! .await
//! # }
//! ```

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;
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
}

/// A controller started by [`start`], with the instance and the task it made.
pub struct DevSession {
    /// The running controller (dropping it stops it).
    pub controller: Controller,
    /// The application instance installed on the endpoint.
    pub application: Uuid,
    /// The provisioning task, ended.
    pub task: Task,
}

/// The whole `dev` flow: [`start`], print the API URL, serve until Ctrl-C or SIGTERM.
pub async fn run(options: DevOptions) -> Result<(), Error> {
    let session = start(options).await?;
    println!(
        "\nController API: {}/api/v1  (tasks: {}/api/v1/tasks)",
        session.controller.url(),
        session.controller.url()
    );
    println!("Panel and task manager: {}/ui/", session.controller.url());
    println!("Press Ctrl-C to stop.");
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
    let task = client
        .provision(install.application, &options.service, json!({}))
        .await?;
    let task = watch(&client, task.id).await?;
    Ok(DevSession {
        controller,
        application: install.application,
        task,
    })
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

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// Shows a task live until it ends (long polls, so the controller does no work while it waits);
/// answers the ended task. On a terminal, one line is redrawn with a spinner; otherwise every
/// change is printed on a line of its own.
pub async fn watch(client: &Client, id: Uuid) -> Result<Task, Error> {
    let tty = std::io::stdout().is_terminal();
    let started = Instant::now();
    let mut task = client.task(id).await?;
    println!("{}", task.name);
    let mut shown_description = None;
    let mut frame = 0;
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    while !task.state.is_terminal() {
        show(
            &task,
            &mut shown_description,
            started,
            tty.then_some(SPINNER[frame % SPINNER.len()]),
        );
        let poll = client.poll(id, task.revision, 30);
        tokio::pin!(poll);
        task = loop {
            tokio::select! {
                next = &mut poll => break next?,
                _ = ticker.tick(), if tty => {
                    frame += 1;
                    show(&task, &mut shown_description, started, Some(SPINNER[frame % SPINNER.len()]));
                }
            }
        };
    }
    let mark = if task.state == State::Success {
        '✔'
    } else {
        '✘'
    };
    show(&task, &mut shown_description, started, Some(mark));
    if tty {
        println!();
    }
    Ok(task)
}

fn show(task: &Task, shown_description: &mut Option<String>, started: Instant, mark: Option<char>) {
    let tty = std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    if task.description.is_some() && *shown_description != task.description {
        *shown_description = task.description.clone();
        if tty {
            let _ = write!(out, "\r\x1b[2K");
        }
        let _ = writeln!(out, "  {}", task.description.as_deref().unwrap_or_default());
    }
    let output = match (&task.output, task.state.is_terminal()) {
        (Some(output), _) => format!(" · {output}"),
        (None, false) => " · waiting for the endpoint".to_owned(),
        (None, true) => String::new(),
    };
    let line = format!(
        "{} {}{output} · {:.1} s",
        mark.unwrap_or('·'),
        task.state.as_str(),
        started.elapsed().as_secs_f64()
    );
    // Terminal output is best effort: a closed stdout must not stop the controller.
    let _ = if tty {
        // A line longer than the terminal wraps, and `\r` would then redraw only its last row.
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(80usize);
        let line: String = line.chars().take(width.saturating_sub(1)).collect();
        write!(out, "\r\x1b[2K{line}")
    } else {
        writeln!(out, "{line}")
    };
    let _ = out.flush();
}
