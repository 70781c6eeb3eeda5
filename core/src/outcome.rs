//! What an operation answers: finished, or accepted with a time to check back.

use aps_protocol::{Accepted, RetryTimeout};

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
    Accepted(Accepted),
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
    /// the controller keeps the resource you answer with and sends it back on the recheck. The
    /// recheck is kept within `APS-Retry-Timeout`'s bounds: 0 becomes 1 second, and more than a
    /// day becomes a day.
    ///
    /// ```
    /// use aps_core::Outcome;
    /// let outcome = Outcome::accepted("Provisioning the resource", 30);
    /// assert_eq!(outcome.recheck_secs(), Some(30));
    /// assert_eq!(Outcome::accepted("soon", 0).recheck_secs(), Some(1));
    /// assert_eq!(Outcome::accepted("later", u32::MAX).recheck_secs(), Some(24 * 3600));
    /// ```
    pub fn accepted(message: impl Into<String>, recheck_secs: u32) -> Self {
        let recheck = RetryTimeout::from_secs(u64::from(recheck_secs));
        Self(Step::Accepted(Accepted::new(message, recheck)))
    }

    /// Whether the operation is finished.
    pub fn is_done(&self) -> bool {
        matches!(self.0, Step::Done)
    }

    /// The message of an accepted outcome.
    pub fn message(&self) -> Option<&str> {
        self.as_accepted()?.info.as_deref()
    }

    /// The seconds until the recheck of an accepted outcome (1 to a day).
    pub fn recheck_secs(&self) -> Option<u64> {
        Some(self.as_accepted()?.retry.secs())
    }

    /// What the 202 of an accepted outcome says besides the resource: `APS-Info` and
    /// `APS-Retry-Timeout`.
    pub fn as_accepted(&self) -> Option<&Accepted> {
        match &self.0 {
            Step::Done => None,
            Step::Accepted(accepted) => Some(accepted),
        }
    }
}
