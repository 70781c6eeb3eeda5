//! The application: its identity, its resource types, and what is built from them.

use std::path::Path;
#[cfg(feature = "server")]
use std::path::PathBuf;
#[cfg(feature = "server")]
use std::sync::Arc;
#[cfg(feature = "server")]
use std::time::Duration;

use std::collections::BTreeMap;

use aps_protocol::event::Subscription;
use aps_protocol::meta::Code;
use aps_protocol::operation::OperationDecl;
use aps_protocol::{AppMeta, ServiceMeta, TypeSchema};

#[cfg(feature = "server")]
use aps_core::__private::Handler;
use aps_core::__private::{Registration, State, registered};

#[cfg(feature = "server")]
use crate::limits::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONCURRENCY, DEFAULT_REQUEST_TIMEOUT,
};
use crate::{Provisionable, schema};

/// Bodies larger than this are refused with 413 unless [`App::body_limit`] says otherwise.
#[cfg(feature = "server")]
pub const DEFAULT_BODY_LIMIT: usize = 10 * 1024 * 1024;

/// An APS application: its identity (id, name, version, release), the resource types it
/// serves, and shared state.
///
/// Most programs start from [`app!`](crate::app), which takes the name and version from
/// Cargo and every type registered with [`register!`](crate::register); programs that prefer to
/// list their types start from [`App::new`] and add them with [`App::service`]:
///
/// ```
/// # use aps::{Provisionable, Resource};
/// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// # struct Globals { #[serde(flatten)] resource: Resource }
/// # impl Provisionable for Globals {}
/// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// # struct Mailbox { #[serde(flatten)] resource: Resource }
/// # impl Provisionable for Mailbox {}
/// let app = aps::App::new("mail")
///     .id("http://example.com/mail")
///     .version("1.2", "3")
///     .root_service::<Globals>("globals", "globals/1.0")
///     .service::<Mailbox>("mailbox", "mailbox/1.0");
/// assert_eq!(app.meta().services.len(), 2);
/// ```
///
/// A type id without a scheme (`mailbox/1.0`) is taken relative to the application id
/// (`http://example.com/mail/mailbox/1.0`).
#[derive(Clone, Debug)]
pub struct App {
    meta: AppMeta,
    services: Vec<Service>,
    pub(crate) state: State,
    #[cfg(feature = "server")]
    pub(crate) server: Settings,
    /// The endpoint binary's path inside the package, named by each service's `<code>`.
    pub(crate) binary: Option<String>,
    /// What the `dev` command does after the install (see [`App::dev_walkthrough`]).
    #[cfg(feature = "dev")]
    pub(crate) walkthrough: Vec<crate::DevStep>,
}

/// How the application is served; see the setters of [`App`].
#[cfg(feature = "server")]
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) body_limit: usize,
    pub(crate) max_concurrency: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) header_read_timeout: Duration,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) controller_timeout: Duration,
    pub(crate) controllers: Vec<url::Url>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) max_connections_per_client: Option<usize>,
}

#[cfg(feature = "server")]
impl Default for Settings {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            data_dir: None,
            controller_timeout: crate::controllers::DEFAULT_CONTROLLER_TIMEOUT,
            controllers: Vec::new(),
            max_connections: None,
            max_connections_per_client: None,
        }
    }
}

/// A resource type as the application serves it.
#[derive(Clone)]
pub(crate) struct Service {
    pub(crate) id: String,
    /// As registered: absolute, or relative to the application id.
    type_id: &'static str,
    pub(crate) root: bool,
    #[cfg(feature = "server")]
    pub(crate) handler: Arc<dyn Handler>,
    schema: fn() -> schemars::Schema,
    operations: fn() -> BTreeMap<String, OperationDecl>,
    subscriptions: fn() -> Vec<Subscription>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Service({} = {})", self.id, self.type_id)
    }
}

impl App {
    /// An application with this name, version `1.0` release `1`, and no resource types.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            meta: AppMeta {
                id: format!("http://aps.local/{name}"),
                name,
                version: "1.0".into(),
                release: "1".into(),
                ..AppMeta::default()
            },
            services: Vec::new(),
            state: State::default(),
            #[cfg(feature = "server")]
            server: Settings::default(),
            binary: None,
            #[cfg(feature = "dev")]
            walkthrough: Vec::new(),
        }
    }

    /// What [`app!`](crate::app) expands to: Cargo's `major.minor.patch` becomes APS version
    /// `major.minor`, release `patch`.
    #[doc(hidden)]
    pub fn from_cargo(
        name: &str,
        major: &str,
        minor: &str,
        patch: &str,
        description: &str,
    ) -> Self {
        let app = Self::new(name).version(format!("{major}.{minor}"), patch);
        let app = if description.is_empty() {
            app
        } else {
            app.summary(description)
        };
        app.registered()
    }

    /// Adds every type registered with [`register!`](crate::register) that is not added yet.
    pub fn registered(mut self) -> Self {
        for registration in registered() {
            if !self.services.iter().any(|s| s.id == registration.service) {
                self.push(registration);
            }
        }
        self
    }

    /// What the `dev` command does after installing an instance: resources provisioned (with
    /// properties and links), linked, called, configured and refreshed, and properties shown,
    /// in order, each task shown live. Without one,
    /// `dev` provisions one resource of `--service` (or the first service besides the root)
    /// without properties. Behind the `dev` feature.
    #[cfg(feature = "dev")]
    pub fn dev_walkthrough(mut self, steps: Vec<crate::DevStep>) -> Self {
        self.walkthrough = steps;
        self
    }

    /// Sets the application id (a URI, e.g. `http://example.com/mail`).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.meta.id = id.into();
        self
    }

    /// Sets the APS version and release (`"0.1"`, `"1"`).
    pub fn version(mut self, version: impl Into<String>, release: impl Into<String>) -> Self {
        self.meta.version = version.into();
        self.meta.release = release.into();
        self
    }

    /// Sets the vendor's name.
    pub fn vendor(mut self, vendor: impl Into<String>) -> Self {
        self.meta.vendor = Some(vendor.into());
        self
    }

    /// Sets the packager's name (who builds the package, when not the vendor).
    pub fn packager(mut self, packager: impl Into<String>) -> Self {
        self.meta.packager = Some(packager.into());
        self
    }

    /// Sets the one-line summary.
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.meta.summary = Some(summary.into());
        self
    }

    /// Adds a resource type under a service id. A type added again under the same service id
    /// replaces the earlier one.
    pub fn service<T: Provisionable>(self, service: &'static str, type_id: &'static str) -> Self {
        self.add(Registration::new::<T>(service, type_id, false))
    }

    /// Adds the application's root type (the one installing an instance provisions).
    pub fn root_service<T: Provisionable>(
        self,
        service: &'static str,
        type_id: &'static str,
    ) -> Self {
        self.add(Registration::new::<T>(service, type_id, true))
    }

    /// Adds a value that operations read with [`Context::state`](crate::Context::state).
    pub fn with_state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    #[cfg(feature = "server")]
    /// Sets the largest request body accepted (default [`DEFAULT_BODY_LIMIT`]).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.server.body_limit = bytes;
        self
    }

    #[cfg(feature = "server")]
    /// Sets how many requests are served at once (default [`DEFAULT_MAX_CONCURRENCY`]); more
    /// are answered 503 with `Retry-After` at once, so a burst cannot exhaust the process.
    pub fn max_concurrency(mut self, requests: usize) -> Self {
        self.server.max_concurrency = requests;
        self
    }

    #[cfg(feature = "server")]
    /// Sets how long a request may run (default [`DEFAULT_REQUEST_TIMEOUT`]); a longer one is
    /// answered 504. Long work belongs in the async phase: answer [`Outcome::accepted`](crate::Outcome::accepted).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.server.request_timeout = timeout;
        self
    }

    #[cfg(feature = "server")]
    /// Sets how long a client may take to send a request head (default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`]); a slower one is disconnected, so idle or trickling
    /// connections cannot pile up.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.server.header_read_timeout = timeout;
        self
    }

    #[cfg(feature = "server")]
    /// Sets how long a call back to the controller (loading the resource of a `GET` or
    /// `DELETE`, [`ControllerClient`](crate::ControllerClient) calls) may take before the
    /// request fails with 502; default 10 s. A controller that does not answer cannot hold the
    /// endpoint's request slots longer.
    pub fn controller_timeout(mut self, timeout: Duration) -> Self {
        self.server.controller_timeout = timeout;
        self
    }

    #[cfg(feature = "server")]
    /// Sets how many connections are held at once (default: three quarters of the process's
    /// descriptor limit, raised to the hard limit at start); more are answered 503 `Busy`.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.server.max_connections = Some(connections);
        self
    }

    #[cfg(feature = "server")]
    /// Sets how many connections one peer address may hold at once (default: a quarter of
    /// [`max_connections`](Self::max_connections)); more are answered 429
    /// `TooManyConnections`.
    pub fn max_connections_per_client(mut self, connections: usize) -> Self {
        self.server.max_connections_per_client = Some(connections);
        self
    }

    #[cfg(feature = "server")]
    /// Allows a controller over plain HTTP: requests whose `APS-Controller-URI` has this URL's
    /// origin (scheme, host, port) are served. Without any, only controllers on loopback
    /// addresses are; others are answered 403 `UntrustedController`, so that nobody can make
    /// the endpoint call a server of their choosing. Over TLS the list does not apply.
    pub fn allow_controller(mut self, url: url::Url) -> Self {
        self.server.controllers.push(url);
        self
    }

    #[cfg(feature = "server")]
    /// Sets where the endpoint keeps instance credentials (`instances/{id}/x509.json`). Without
    /// it they live in memory only, which suits tests.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.server.data_dir = Some(dir.into());
        self
    }

    /// `APP-META.xml` of the application.
    pub fn meta(&self) -> AppMeta {
        let mut meta = self.meta.clone();
        meta.services = self
            .sorted()
            .map(|s| ServiceMeta {
                id: s.id.clone(),
                schema: Some(format!("schemas/{}.schema", s.id)),
                code: self.binary.as_ref().map(|path| Code {
                    engine: "rust".into(),
                    path: path.clone(),
                }),
            })
            .collect();
        meta
    }

    /// The type schema of every service, by service id.
    pub fn schemas(&self) -> Vec<(String, TypeSchema)> {
        self.sorted()
            .map(|s| {
                let declared = schema::Declared {
                    service: &s.id,
                    app_id: &self.meta.id,
                    type_id: s.type_id,
                    root: s.root,
                    operations: (s.operations)(),
                    subscriptions: (s.subscriptions)(),
                };
                (s.id.clone(), schema::type_schema(declared, &(s.schema)()))
            })
            .collect()
    }

    /// Writes `APP-META.xml` and `schemas/{service}.schema` into `dir`.
    pub fn write_meta(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join("schemas"))?;
        std::fs::write(dir.join("APP-META.xml"), self.meta().to_xml())?;
        for (service, schema) in self.schemas() {
            let path = dir.join("schemas").join(format!("{service}.schema"));
            std::fs::write(path, schema.to_pretty_json() + "\n")?;
        }
        Ok(())
    }

    /// The service with this id.
    #[cfg(feature = "server")]
    pub(crate) fn find(&self, service: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == service)
    }

    /// Problems that make the application unservable, one line each.
    #[cfg(feature = "server")]
    pub(crate) fn problems(&self) -> Vec<String> {
        let roots: Vec<_> = self
            .services
            .iter()
            .filter(|s| s.root)
            .map(|s| s.id.as_str())
            .collect();
        let mut problems = Vec::new();
        if self.services.is_empty() {
            problems.push(
                "the application has no resource types: register some with aps::register!".into(),
            );
        }
        if roots.len() > 1 {
            problems.push(format!(
                "only one root service is allowed, found {}",
                roots.join(", ")
            ));
        }
        for s in &self.services {
            if s.id.is_empty()
                || !s
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                problems.push(format!(
                    "service id `{}` must be letters, digits, `-` or `_`",
                    s.id
                ));
            }
        }
        problems.extend(crate::custom::problems(self));
        problems
    }

    /// The services, for the checks of other modules.
    #[cfg(feature = "server")]
    pub(crate) fn services(&self) -> &[Service] {
        &self.services
    }

    /// Services with the root first, then by id, so generated files are the same every time.
    fn sorted(&self) -> impl Iterator<Item = &Service> {
        let mut services: Vec<&Service> = self.services.iter().collect();
        services.sort_by(|a, b| b.root.cmp(&a.root).then_with(|| a.id.cmp(&b.id)));
        services.into_iter()
    }

    fn add(mut self, registration: Registration) -> Self {
        self.services.retain(|s| s.id != registration.service);
        self.push(&registration);
        self
    }

    fn push(&mut self, registration: &Registration) {
        self.services.push(Service {
            id: registration.service.to_owned(),
            type_id: registration.type_id,
            root: registration.root,
            #[cfg(feature = "server")]
            handler: (registration.handler)(),
            schema: registration.schema,
            operations: registration.operations,
            subscriptions: registration.subscriptions,
        });
    }
}
