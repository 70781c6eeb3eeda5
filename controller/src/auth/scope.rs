//! Scopes, and which one a request needs.
//!
//! `read` is every `GET` of `/api/v1` (packages, applications, resources, tasks) and of the
//! panel, and `/metrics`; `operate` is what changes resources and tasks (provision, configure,
//! unprovision, custom operations, links, cancel), in the API and the panel; `admin` is what
//! changes the controller's catalogue (importing packages, installing and upgrading
//! applications) and tokens. Each scope includes the ones before it.

use std::fmt;
use std::str::FromStr;

use http::Method;
use serde::{Deserialize, Serialize};

/// What a credential may do; `admin` implies `operate`, which implies `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Reading: every `GET`.
    Read,
    /// Running operations on resources and tasks.
    Operate,
    /// Packages, applications, upgrades and tokens.
    Admin,
}

impl Scope {
    /// The spelling used on the command line and in the API: `read`, `operate`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Operate => "operate",
            Self::Admin => "admin",
        }
    }

    /// Whether a credential of this scope may do what needs `needed`.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope that is not `read`, `operate` or `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("there is no scope `{0}`: read, operate or admin")]
pub struct UnknownScope(String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(text: &str) -> Result<Self, UnknownScope> {
        match text.trim() {
            "read" => Ok(Self::Read),
            "operate" => Ok(Self::Operate),
            "admin" => Ok(Self::Admin),
            other => Err(UnknownScope(other.to_owned())),
        }
    }
}

/// What a request needs before any handler sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Nothing: health checks, `/aps/2` (which checks instance certificates itself), the
    /// panel's sign-in page and assets, and paths that are no route.
    Nothing,
    /// A credential of this scope in the request: a token or a client certificate.
    Api(Scope),
    /// The same in the panel, where a session cookie also counts and a browser without one is
    /// sent to the sign-in page.
    Panel(Scope),
}

/// The collections whose changes are the controller's administration, not operations.
const ADMIN: [&str; 3] = ["/api/v1/packages", "/api/v1/applications", "/api/v1/tokens"];

/// The need of a request for `path` with `method`.
pub(crate) fn need(method: &Method, path: &str) -> Need {
    let reading = matches!(*method, Method::GET | Method::HEAD);
    if path == "/metrics" {
        return Need::Api(Scope::Read);
    }
    if under(path, "/api/v1") {
        let admin = ADMIN.iter().any(|prefix| under(path, prefix));
        return Need::Api(match (reading, admin) {
            (true, _) => Scope::Read,
            (false, true) => Scope::Admin,
            (false, false) => Scope::Operate,
        });
    }
    if under(path, "/ui/assets") || under(path, "/ui/sign-in") {
        return Need::Nothing;
    }
    if under(path, "/ui") {
        return Need::Panel(if reading { Scope::Read } else { Scope::Operate });
    }
    Need::Nothing
}

/// Whether `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_needs_its_scope() {
        let cases = [
            (Method::GET, "/api/v1/tasks", Need::Api(Scope::Read)),
            (Method::GET, "/api/v1/packages", Need::Api(Scope::Read)),
            (Method::POST, "/api/v1/resources", Need::Api(Scope::Operate)),
            (
                Method::PUT,
                "/api/v1/resources/x",
                Need::Api(Scope::Operate),
            ),
            (
                Method::DELETE,
                "/api/v1/resources/x",
                Need::Api(Scope::Operate),
            ),
            (
                Method::POST,
                "/api/v1/tasks/x/cancel",
                Need::Api(Scope::Operate),
            ),
            (Method::POST, "/api/v1/packages", Need::Api(Scope::Admin)),
            (
                Method::POST,
                "/api/v1/applications",
                Need::Api(Scope::Admin),
            ),
            (
                Method::POST,
                "/api/v1/applications/x/upgrade",
                Need::Api(Scope::Admin),
            ),
            (
                Method::POST,
                "/api/v1/anything-else",
                Need::Api(Scope::Operate),
            ),
            (Method::GET, "/api/v1", Need::Api(Scope::Read)),
            (Method::GET, "/metrics", Need::Api(Scope::Read)),
            (Method::GET, "/ui/tasks", Need::Panel(Scope::Read)),
            (
                Method::POST,
                "/ui/tasks/x/cancel",
                Need::Panel(Scope::Operate),
            ),
            (Method::GET, "/ui/assets/panel.css", Need::Nothing),
            (Method::POST, "/ui/sign-in", Need::Nothing),
            (Method::GET, "/aps/2/resources/x", Need::Nothing),
            (Method::GET, "/healthz", Need::Nothing),
            (Method::GET, "/api/v1x", Need::Nothing),
        ];
        for (method, path, needed) in cases {
            assert_eq!(need(&method, path), needed, "{method} {path}");
        }
    }

    #[test]
    fn scopes_include_the_lesser_ones() {
        assert!(Scope::Admin.allows(Scope::Operate) && Scope::Admin.allows(Scope::Read));
        assert!(Scope::Operate.allows(Scope::Read) && !Scope::Operate.allows(Scope::Admin));
        assert!(!Scope::Read.allows(Scope::Operate));
        assert_eq!("operate".parse(), Ok(Scope::Operate));
        assert!("root".parse::<Scope>().is_err());
    }
}
