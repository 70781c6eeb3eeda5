//! What a custom operation answers: a JSON result, nothing, or accepted with a time to check
//! back.

use aps_protocol::Accepted;
use aps_protocol::operation::ResponseDecl;
use schemars::JsonSchema;
use serde::Serialize;

use crate::{Outcome, Result};

/// The answer of a successful custom operation, with its result type `T` (none by default).
///
/// * [`Reply::json`]: **200** with the result as JSON; `T` is declared as the operation's
///   `response` in the type schema.
/// * [`Reply::done`]: **204**, no result.
/// * [`Reply::accepted`]: **202** with `APS-Info` and `APS-Retry-Timeout`: the controller
///   calls the operation again (same verb, path, query and body) in the async phase
///   ([`Context::phase`](crate::Context::phase)) after that many seconds, until it answers
///   `json` or `done`, or fails.
///
/// ```
/// use aps_core::Reply;
///
/// #[derive(serde::Serialize, schemars::JsonSchema)]
/// struct Stats { requests: u64 }
///
/// let stats: Reply<Stats> = Reply::json(Stats { requests: 7 });
/// let restarting: Reply = Reply::accepted("Restarting", 5);
/// assert_eq!(restarting.recheck_secs(), Some(5));
/// # let _ = (stats, Reply::<()>::done());
/// ```
///
/// An operation answers one (a library on `aps-core` alone names the crate the attribute
/// expands to):
///
/// ```
/// use aps_core::{Context, Provisionable, Reply, Resource, Result};
///
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// struct Server {
///     #[serde(flatten)]
///     resource: Resource,
/// }
///
/// #[aps_core::operations(crate = aps_core)]
/// impl Provisionable for Server {
///     #[operation(GET, "/uptime")]
///     async fn uptime(&self, _ctx: &Context, #[query] unit: Option<String>) -> Result<Reply<u64>> {
///         Ok(Reply::json(if unit.as_deref() == Some("h") { 1 } else { 60 }))
///     }
/// }
/// ```
#[must_use = "a Reply does nothing unless it is returned from the operation"]
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T = ()>(Step<T>);

#[derive(Debug, Clone, PartialEq)]
enum Step<T> {
    Json(T),
    Outcome(Outcome),
}

impl<T> Reply<T> {
    /// Finished, with `result` as the JSON body of a 200.
    pub fn json(result: T) -> Self {
        Self(Step::Json(result))
    }

    /// Finished without a result: a 204.
    pub fn done() -> Self {
        Self(Step::Outcome(Outcome::done()))
    }

    /// Goes on in the background: a 202 asking the controller to call again in
    /// `recheck_secs` seconds (kept within 1 s and a day, as [`Outcome::accepted`] does),
    /// showing `message` in its task.
    pub fn accepted(message: impl Into<String>, recheck_secs: u32) -> Self {
        Self(Step::Outcome(Outcome::accepted(message, recheck_secs)))
    }

    /// The seconds until the recheck of an accepted reply.
    pub fn recheck_secs(&self) -> Option<u64> {
        match &self.0 {
            Step::Outcome(outcome) => outcome.recheck_secs(),
            Step::Json(_) => None,
        }
    }
}

impl<T> From<Outcome> for Reply<T> {
    fn from(outcome: Outcome) -> Self {
        Self(Step::Outcome(outcome))
    }
}

/// A reply with its result type erased: what the router answers.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 200 with this JSON.
    Json(Vec<u8>),
    /// 204.
    Empty,
    /// 202 with these headers.
    Accepted(Accepted),
}

/// What the operations macro needs of an operation's answer type. Not implemented by authors.
#[doc(hidden)]
pub trait Responds {
    /// The `response` the type schema declares.
    fn response() -> Option<ResponseDecl>;
    /// The answer, its result written as JSON.
    fn answer(self) -> Result<Answer>;
}

impl<T: Serialize + JsonSchema> Responds for Reply<T> {
    fn response() -> Option<ResponseDecl> {
        let (kind, _) = crate::json_type::json_type::<T>();
        (kind != "null").then(|| ResponseDecl {
            content_type: Some("application/json".into()),
            kind_of_value: Some(kind),
            ..ResponseDecl::default()
        })
    }

    fn answer(self) -> Result<Answer> {
        Ok(match self.0 {
            Step::Json(result) => Answer::Json(serde_json::to_vec(&result)?),
            Step::Outcome(outcome) => match outcome.as_accepted() {
                Some(accepted) => Answer::Accepted(accepted.clone()),
                None => Answer::Empty,
            },
        })
    }
}
