//! Limits on reading a request body, the same on both sides.

use std::time::Duration;

/// How long a client may take to send a request body: a slow sender holds a connection and a
/// slot, so it is answered 408 instead of being waited for.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);
