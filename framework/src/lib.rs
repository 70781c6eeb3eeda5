//! Write APS provisioning endpoints in a few lines.
//!
//! An APS controller creates, changes and removes resources by calling an application's
//! *endpoint*. Operations that cannot finish inside one HTTP call answer **202 Accepted** with a
//! message and a time to check back; the controller then calls again, in the *async phase*,
//! until the endpoint says done. This crate is the endpoint side: you write a resource type and
//! implement [`Provisionable`]; the framework serves the protocol (routing, headers, phases,
//! status codes, the error shape, logs), generates the type schemas and `APP-META.xml`, and gives
//! the program its command line.
//!
//! ```no_run
//! use aps::{Context, Outcome, Provisionable, Resource, Result};
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! /// A resource that provisions itself in the background.
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! pub struct Dummy {
//!     #[serde(flatten)]
//!     resource: Resource,
//! }
//!
//! aps::register!(Dummy, service = "provisionable", type = "provisionable/1.0");
//!
//! #[aps::async_trait]
//! impl Provisionable for Dummy {
//!     async fn provision(&mut self, _ctx: &Context) -> Result<Outcome> {
//!         Ok(Outcome::accepted("Provisioning the resource", 30))
//!     }
//!
//!     async fn provision_async(&mut self, _ctx: &Context) -> Result<Outcome> {
//!         Ok(Outcome::done())
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     aps::run(aps::app!())
//! }
//! ```
//!
//! The repository's `docs/aps-protocol.md` describes the wire protocol this crate serves, and
//! `docs/controller-api.md` the API of the controller that `dev` and the test kit embed.
//!
//! The pieces:
//! * [`Provisionable`]: the operations of a resource type, each answering an [`Outcome`] or an
//!   [`Error`], with the request's [`Context`].
//! * [`Resource`]: the `aps` meta object and every property a type does not declare; flatten it
//!   into your type so unknown properties are echoed back, never dropped.
//! * [`register!`] and [`app!`]: register types and build the [`App`] from Cargo's metadata; or
//!   list them with [`App::service`].
//! * `run` / `run_with`: the command line (`serve`, `meta`, and with the `dev` feature
//!   `dev`: the endpoint plus an embedded controller); or `App::router` to serve it yourself.
//! * `testkit` (with the `dev` feature): a real controller inside your tests.
//!
//! * [`operations`]: custom operations and link handlers of a type, answering a [`Reply`];
//!   [`Link`] and [`Links`]: its relations, as typed fields.
//!
//! * Events: `#[subscribe(event, Source)]` on an operation taking a [`Notification`];
//!   [`ControllerClient::subscribe`] and its siblings at run time. Upgrades:
//!   [`Provisionable::upgrade`]. Usage: [`Counter`], [`Limit`], [`Usage`] properties.
//!
//! What a resource type is written against lives in [`aps_core`], re-exported here: a library
//! of resource types can depend on it alone.
//!
//! # Custom operations and relations
//!
//! A type's **custom operations** are methods of its `impl Provisionable`, marked
//! `#[operation(VERB, "/path")]`, with the impl marked [`#[aps::operations]`](operations)
//! (in place of `#[aps::async_trait]`). An operation gets the resource as the controller stores
//! it (`&self`: it changes resources through [`Context::controller`], not by its answer) and
//! answers a [`Reply`]: [`Reply::json`] (200 with a result), [`Reply::done`] (204), or
//! [`Reply::accepted`] (202: the controller repeats the same call in the async phase, which
//! [`Context::phase`] tells, until it is done). Arguments marked `#[query]` are query parameters
//! and one marked `#[body]` is the JSON body, typed: a missing or ill-typed one is a 400 naming
//! it, and the schema declares each with its JSON type (required unless an `Option`).
//!
//! **Relations** are fields: [`Link<T>`](Link) (a required single relation),
//! `Option<Link<T>>` (optional) or [`Links<T>`](Links) (a collection), where `T` is the linked
//! type (its type id comes from its [`register!`], or [`ResourceType`]). They read and write the
//! APS link JSON, and the schema lists them under `relations`, not as properties. A method
//! marked `#[link(relation)]` is called when a resource is linked through the relation, with the
//! linked resource read as its type, and `#[unlink(relation)]` when one is unlinked; either can
//! refuse with an [`Error`]. Without a handler the link is accepted. [`ControllerClient::linked`],
//! [`ControllerClient::link`] and [`ControllerClient::unlink`] read and change links.
//!
//! ```
//! use aps::{Context, Error, Link, Links, Phase, Provisionable, Reply, Resource, Result};
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! # #[derive(Serialize, Deserialize, JsonSchema)]
//! # pub struct Globals { #[serde(flatten)] resource: Resource }
//! # aps::register!(Globals, service = "globals", type = "globals/1.0", root);
//! # impl Provisionable for Globals {}
//! /// A hosted website.
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! pub struct Website {
//!     pub name: String,
//!     /// The instance it belongs to: a required relation.
//!     pub globals: Link<Globals>,
//!     /// Its domains: a collection.
//!     pub domains: Links<Domain>,
//!     #[serde(flatten)]
//!     resource: Resource,
//! }
//!
//! aps::register!(Website, service = "websites", type = "websites/1.0");
//!
//! /// What `stats` answers.
//! #[derive(Serialize, JsonSchema)]
//! pub struct Stats {
//!     days: u32,
//!     requests: u64,
//! }
//!
//! #[aps::operations]
//! impl Provisionable for Website {
//!     // `provision` and the other operations are written as usual, beside the custom ones.
//!
//!     /// `POST /websites/{id}/restart`: 202, then done on the recheck.
//!     #[operation(POST, "/restart")]
//!     async fn restart(&self, ctx: &Context) -> Result<Reply> {
//!         match ctx.phase() {
//!             Phase::Sync => Ok(Reply::accepted("Restarting", 5)),
//!             Phase::Async => Ok(Reply::done()),
//!         }
//!     }
//!
//!     /// `GET /websites/{id}/stats?days=7`: 200 with the statistics.
//!     #[operation(GET, "/stats")]
//!     async fn stats(&self, _ctx: &Context, #[query] days: u32) -> Result<Reply<Stats>> {
//!         Ok(Reply::json(Stats { days, requests: 1000 * u64::from(days) }))
//!     }
//!
//!     /// `POST /websites/{id}/domains` with the domain: accepted or refused.
//!     #[link(domains)]
//!     async fn link_domain(&self, _ctx: &Context, domain: Domain) -> Result<()> {
//!         if !domain.fqdn.ends_with(".test") {
//!             return Err(Error::bad_request(format!("{} is not a .test domain", domain.fqdn)));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! /// A domain, served by at most one website.
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! pub struct Domain {
//!     pub fqdn: String,
//!     /// Optional: absent from the JSON (and kept absent) while unlinked.
//!     #[serde(default, skip_serializing_if = "Option::is_none")]
//!     pub website: Option<Link<Website>>,
//!     #[serde(flatten)]
//!     resource: Resource,
//! }
//!
//! aps::register!(Domain, service = "domains", type = "domains/1.0");
//! impl Provisionable for Domain {}
//!
//! let schemas = aps::app!().id("http://example.com/hosting").schemas();
//! let (_, websites) = schemas.iter().find(|(s, _)| s == "websites").unwrap();
//! assert_eq!(websites.operations["stats"].parameters["days"].kind_of_value, "integer");
//! assert!(websites.relations["domains"].collection);
//! assert_eq!(websites.relations["globals"].type_id, "http://example.com/hosting/globals/1.0");
//! assert!(!websites.properties.contains_key("domains"));
//! ```
//!
//! # Events, upgrades and usage
//!
//! **Events.** A type subscribes its resources to events of other resources with
//! `#[subscribe(event, Source)]` on a custom operation that takes the [`Notification`] as its
//! `#[body]`: once one of its resources is ready, the controller subscribes it, and delivers
//! each event of a `Source` resource by calling the operation. The events are `changed`,
//! `removed`, `linked`, `unlinked` and `available` (or an event type id, as a string);
//! `relation = name` limits them to resources linked through that relation. The schema
//! declares the subscriptions (`subscriptions`). At run time,
//! [`ControllerClient::subscribe`], [`subscriptions`](ControllerClient::subscriptions),
//! [`subscription`](ControllerClient::subscription) and
//! [`unsubscribe`](ControllerClient::unsubscribe) manage a resource's subscriptions.
//!
//! Delivery is **at least once**: after a failure or a lost answer the controller delivers the
//! same notification again, with the same `serial`. A handler stores the serial of the last
//! notification it handled (in a property of its resource, through the controller) and
//! ignores one that is not above it.
//!
//! **Upgrades.** When an instance is upgraded to a new version of the package, the controller
//! calls the root type's [`Provisionable::upgrade`] with the version it was at
//! (`{version}-{release}`) and the root resource; it answers an [`Outcome`] like `configure`
//! (202 and `upgrade_async` for long migrations). The default succeeds.
//!
//! **Usage.** A field of type [`Counter`], [`Limit`] or [`Usage`] is a property of the core
//! structure's type; set it in [`Provisionable::retrieve`], which the controller calls to
//! refresh usage.
//!
//! ```
//! use aps::{Context, Counter, Notification, Provisionable, Reply, Resource, Result};
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! # #[derive(Serialize, Deserialize, JsonSchema)]
//! # pub struct Website { #[serde(flatten)] resource: Resource }
//! # aps::register!(Website, service = "websites", type = "websites/1.0");
//! # impl Provisionable for Website {}
//! /// A mailbox that follows the websites.
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! pub struct Mailbox {
//!     /// The serial of the last notification handled.
//!     #[serde(default, rename = "lastSerial")]
//!     pub last_serial: u64,
//!     /// Disk space used, in MB.
//!     #[serde(default)]
//!     pub disk: Counter,
//!     #[serde(flatten)]
//!     resource: Resource,
//! }
//!
//! aps::register!(Mailbox, service = "mailboxes", type = "mailboxes/1.0");
//!
//! #[aps::operations]
//! impl Provisionable for Mailbox {
//!     async fn retrieve(&mut self, _ctx: &Context) -> Result<()> {
//!         self.disk = Counter::new(120).with_limit(1024).with_unit("MB");
//!         Ok(())
//!     }
//!
//!     /// A website changed.
//!     #[operation(POST, "/website-changed")]
//!     #[subscribe(changed, Website)]
//!     async fn website_changed(&self, ctx: &Context, #[body] event: Notification) -> Result<Reply> {
//!         if event.serial <= self.last_serial {
//!             return Ok(Reply::done()); // delivered again: handled already
//!         }
//!         let id = self.resource.id().unwrap_or_default();
//!         let serial = serde_json::json!({"lastSerial": event.serial});
//!         ctx.controller().update(id, &serial).await?;
//!         Ok(Reply::done())
//!     }
//! }
//!
//! let schemas = aps::app!().id("http://example.com/hosting").schemas();
//! let (_, mailboxes) = schemas.iter().find(|(s, _)| s == "mailboxes").unwrap();
//! assert_eq!(mailboxes.subscriptions[0].handler, "website_changed");
//! assert_eq!(
//!     mailboxes.properties["disk"].kind,
//!     "http://aps-standard.org/types/core/resource/1.0#Counter"
//! );
//! ```
//!
//! # Features
//!
//! Each names what it pulls in; the default (`server`, `tls`, `cli`) is what an endpoint
//! program needs.
//!
//! * `server`: the axum router with its limits and request logs, serving through `aps-server`,
//!   instance credentials, and calling the controller back through `reqwest`
//!   (`App::router`, `App::serve`).
//! * `tls`: HTTPS with certificates from PEM files or a self-signed one made with `rcgen`
//!   (`Tls`, `App::serve_tls`, the command line's TLS options).
//! * `cli`: the command line on `clap`, with logs to stderr (`run`, `run_with`).
//! * `dev`: the `dev` command and the `testkit` module, through `aps-controller` (its engine
//!   and SQLite store): for development and tests, not for the production build.
//!
//! Without any, `aps` is the author's API plus [`App`]: `APP-META.xml` and the type schemas.
#![warn(missing_docs)]

#[cfg(feature = "server")]
mod answer;
mod app;
#[cfg(feature = "server")]
mod body;
#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "server")]
mod controllers;
#[cfg(feature = "server")]
mod credentials;
#[cfg(feature = "server")]
mod custom;
#[cfg(feature = "dev")]
mod dev;
#[cfg(feature = "server")]
mod headers;
#[cfg(feature = "server")]
mod ids;
#[cfg(feature = "server")]
mod limits;
#[cfg(feature = "server")]
mod router;
mod schema;
#[cfg(feature = "server")]
mod serve;
#[cfg(feature = "dev")]
pub mod testkit;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "server")]
mod trace;
#[cfg(feature = "server")]
mod transport;
#[cfg(feature = "server")]
mod upgrade;

pub use app::App;
#[cfg(feature = "server")]
pub use app::DEFAULT_BODY_LIMIT;
/// One step of [`App::dev_walkthrough`].
#[cfg(feature = "dev")]
pub use aps_controller::dev::Step as DevStep;
pub use aps_core::{
    Aps, BoxError, Context, ControllerClient, Counter, Error, Limit, Link, Links, Notification,
    Outcome, Phase, Provisionable, Reply, Resource, ResourceType, Result, Status, StatusCode,
    Subscription, Transport, Usage, async_trait, operations, protocol, register,
};
#[cfg(feature = "server")]
pub use aps_server::TlsError;
#[cfg(feature = "cli")]
pub use cli::{NoArgs, run, run_with};
#[cfg(feature = "server")]
pub use limits::{DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONCURRENCY, DEFAULT_REQUEST_TIMEOUT};
#[cfg(feature = "tls")]
pub use tls::Tls;

/// The [`App`] of the calling crate: name, version (`major.minor`), release (`patch`) and
/// summary from its Cargo metadata, and every type registered with [`register!`].
///
/// ```no_run
/// let app = aps::app!().id("http://example.com/mail").vendor("Example");
/// ```
#[macro_export]
macro_rules! app {
    () => {
        $crate::App::from_cargo(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION_MAJOR"),
            env!("CARGO_PKG_VERSION_MINOR"),
            env!("CARGO_PKG_VERSION_PATCH"),
            env!("CARGO_PKG_DESCRIPTION"),
        )
    };
}

/// What `#[aps::operations]` expands to names; not a stable interface.
#[doc(hidden)]
pub mod __private {
    pub use aps_core::__private::*;
}

/// The README's examples, compiled as doctests so they stay true.
#[cfg(all(doctest, feature = "dev"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;
