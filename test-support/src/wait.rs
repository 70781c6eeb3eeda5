//! Waiting for a state that sends no signal but can be looked at: a port that accepts, a
//! counter that reaches a value, a file that appears.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How often the state is looked at.
const EVERY: Duration = Duration::from_millis(10);

/// Waits until `ready` answers true, looking every 10 ms; panics, naming `what`, when it has
/// not after `limit`.
pub async fn until<F: Future<Output = bool>>(
    what: &str,
    limit: Duration,
    mut ready: impl FnMut() -> F,
) {
    let end = Instant::now() + limit;
    while !ready().await {
        assert!(Instant::now() < end, "{what}: not reached in {limit:?}");
        tokio::time::sleep(EVERY).await;
    }
}
