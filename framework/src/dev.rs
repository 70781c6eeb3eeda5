//! The `dev` command: the endpoint and an embedded controller on loopback, one resource
//! provisioned and its task shown live. Behind the `dev` feature.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use aps_controller::dev::DevOptions;
use aps_controller::{ModelError, PackageModel};
use clap::Args;

use crate::App;

/// `dev` with the application's own options.
#[derive(Args, Debug)]
pub(crate) struct DevArgs<A: Args> {
    #[command(flatten)]
    pub(crate) dev: Dev,
    #[command(flatten)]
    pub(crate) app: A,
}

/// Options of `dev`.
#[derive(Args, Debug)]
pub(crate) struct Dev {
    /// Divide every recheck delay by this: with 10, a 30 s recheck takes 3 s.
    #[arg(long, env = "APS_TIME_SCALE", default_value_t = 10.0)]
    time_scale: f64,
    /// Where the controller keeps its database.
    #[arg(long, env = "APS_DEV_DIR", default_value = ".aps-dev")]
    data_dir: PathBuf,
    /// The service to provision one resource of (default: the first one that is not the root).
    #[arg(long)]
    service: Option<String>,
    /// Where the controller listens (default: a free loopback port).
    #[arg(long)]
    controller_listen: Option<SocketAddr>,
}

impl App {
    /// The application as a controller imports it: `APP-META.xml` and the type schemas.
    pub fn package_model(&self) -> Result<PackageModel, ModelError> {
        PackageModel::new(self.meta(), self.schemas())
    }
}

/// Serves `app` on a free loopback port and runs the controller's `dev` flow against it.
pub(crate) async fn run(app: &App, args: Dev) -> ExitCode {
    match dev(app, args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => crate::cli::fail(&message),
    }
}

async fn dev(app: &App, args: Dev) -> Result<(), String> {
    let package = app.package_model().map_err(|e| e.to_string())?;
    let service = match args.service {
        Some(service) => service,
        None => app
            .meta()
            .services
            .into_iter()
            .map(|s| s.id)
            .find(|s| s != package.root())
            .ok_or("the application has no service besides its root: name one with --service")?,
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot listen on loopback: {e}"))?;
    let endpoint_url = listener
        .local_addr()
        .map(|addr| format!("http://{addr}"))
        .map_err(|e| e.to_string())?;
    let endpoint = app.clone();
    tokio::spawn(async move { endpoint.serve(listener, "/").await });
    println!("Endpoint {} at {endpoint_url}", app.meta().name);
    if args.time_scale != 1.0 {
        println!(
            "Time scale {}: recheck delays are divided by it",
            args.time_scale
        );
    }
    let dev = aps_controller::dev::run(DevOptions {
        endpoint_url,
        package,
        data_dir: args.data_dir,
        time_scale: args.time_scale,
        service,
        listen: args.controller_listen,
        walkthrough: app.walkthrough.clone(),
    });
    // The controller's flow ends on Ctrl-C; SIGTERM (a service manager, `kill`) ends it too.
    tokio::select! {
        done = dev => done.map_err(|e| e.to_string()),
        () = aps_server::shutdown_signal() => Ok(()),
    }
}
