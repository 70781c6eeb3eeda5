//! What an operation answers: finished, or accepted with a time to check back.

use std::time::Duration;

/// The result of a successful operation step.
///
/// Build it with [`Outcome::done`] or [`Outcome::accepted`]. The framework turns it into the
/// HTTP answer: `done` becomes 200/201 with the resource (204 for unprovision), `accepted`
/// becomes **202 Accepted** with `APS-Info` and `APS-Retry-Timeout`, and the controller calls the
/// operation's `*_async` twin after that many seconds.
#[must_use = "an Outcome does nothing unless it is returned from the operation"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome(Step);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Done,
    Accepted { message: String, recheck: Duration },
}

impl Outcome {
    /// The operation is finished.
    ///
    /// Use it when the work is complete (or was never needed): the controller marks the
    /// resource ready (or removes it, for unprovision) and closes the task.
    pub fn done() -> Self {
        Self(Step::Done)
    }

    /// The operation goes on in the background: answer 202 and ask the controller to check
    /// again in `recheck_secs` seconds, showing `message` in its task.
    ///
    /// Use it when the work started but has not finished, e.g. an external job was submitted.
    /// Store whatever you need to find the work again (a job id) in the resource's properties:
    /// the controller keeps the resource you answer with and sends it back on the recheck. A
    /// recheck of 0 is clamped to 1 second.
    ///
    /// ```
    /// use aps_core::Outcome;
    /// let outcome = Outcome::accepted("Provisioning the resource", 30);
    /// assert_eq!(outcome.recheck_secs(), Some(30));
    /// assert_eq!(Outcome::accepted("soon", 0).recheck_secs(), Some(1));
    /// ```
    pub fn accepted(message: impl Into<String>, recheck_secs: u32) -> Self {
        Self(Step::Accepted {
            message: message.into(),
            recheck: Duration::from_secs(u64::from(recheck_secs.max(1))),
        })
    }

    /// Whether the operation is finished.
    pub fn is_done(&self) -> bool {
        matches!(self.0, Step::Done)
    }

    /// The message of an accepted outcome.
    pub fn message(&self) -> Option<&str> {
        match &self.0 {
            Step::Done => None,
            Step::Accepted { message, .. } => Some(message),
        }
    }

    /// The seconds until the recheck of an accepted outcome (at least 1).
    pub fn recheck_secs(&self) -> Option<u64> {
        match &self.0 {
            Step::Done => None,
            Step::Accepted { recheck, .. } => Some(recheck.as_secs()),
        }
    }
}
