//! Hosting: an application (`globals`) hosting websites, each with domains linked to it.
//!
//! * `globals` is the application instance, with its `websites` (a collection relation).
//! * `websites` belong to the instance (`globals`, a required single relation) and have
//!   `domains` (a collection). Two custom operations: `restart` (`POST /restart`) goes on in
//!   the background, answering 202 and then done on the controller's recheck; `stats` (`GET
//!   /stats?days=N`) answers the requests served over the last `days` days. Linking a domain
//!   is refused unless its name ends in `.test` or `.example`.
//!   Its `diskUsage` (a usage counter) grows each time the controller retrieves it.
//! * `domains` have an `fqdn` and, optionally, the `website` they belong to. Each subscribes
//!   to `changed` of websites and notes the serial of the last notification it handled in
//!   `lastSerial`, ignoring a notification delivered again.
//!
//! Built with the `v2` feature it is version 0.2 of the application: websites gain a `tier`
//! (default `standard`), and the root's `upgrade` logs the version an instance came from.

mod domain;
mod globals;
mod website;

pub use domain::Domain;
pub use globals::Globals;
pub use website::{Stats, Website};

/// The hosting application, with every type registered in this crate: version 0.1 from the
/// package's version, or 0.2 with the `v2` feature.
pub fn app() -> aps::App {
    let app = aps::app!()
        .id("http://example.com/hosting")
        .vendor("APS samples");
    #[cfg(feature = "dev")]
    let app = app.dev_walkthrough(walkthrough());
    if cfg!(feature = "v2") {
        app.version("0.2", env!("CARGO_PKG_VERSION_PATCH"))
    } else {
        app
    }
}

/// What `dev` shows: a website, a domain linked to it, a restart (202, then done at the
/// recheck), a week of statistics, the website configured and the domain's handler noting the
/// notification in `lastSerial`, and a usage refresh growing the website's `diskUsage`.
#[cfg(feature = "dev")]
fn walkthrough() -> Vec<aps::DevStep> {
    use aps::DevStep::{Call, Configure, Link, Provision, Refresh, Show};
    use serde_json::json;
    vec![
        Provision {
            service: "websites".into(),
            properties: json!({"name": "shop"}),
        },
        Provision {
            service: "domains".into(),
            properties: json!({"fqdn": "shop.example"}),
        },
        Link {
            resource: 0,
            relation: "domains".into(),
            other: 1,
        },
        Call {
            resource: 0,
            operation: "restart".into(),
            query: Vec::new(),
            body: None,
        },
        Call {
            resource: 0,
            operation: "stats".into(),
            query: vec![("days".into(), "7".into())],
            body: None,
        },
        Configure {
            resource: 0,
            properties: json!({"plan": "pro"}),
        },
        // The notification reaches the domain's handler in the background.
        Show {
            resource: 1,
            property: "lastSerial".into(),
            changed_from: Some(json!(0)),
        },
        Refresh { resource: 0 },
        Show {
            resource: 0,
            property: "diskUsage".into(),
            changed_from: None,
        },
    ]
}
