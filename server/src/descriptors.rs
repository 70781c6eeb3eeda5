//! The process's descriptor limit, which bounds how many connections a server may hold: raised
//! from the soft to the hard limit once, at the first [`serve`](crate::serve), and the default
//! connection limits derived from it.

use std::sync::OnceLock;

use rustix::process::{Resource, getrlimit, setrlimit};

/// What an unlimited descriptor limit counts as.
const UNLIMITED: u64 = 1 << 20;

/// The descriptor limit in force, after raising the soft limit to the hard one (once per
/// process; a failure to raise it keeps the soft limit, and says so).
pub fn descriptor_limit() -> u64 {
    static LIMIT: OnceLock<u64> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        let limit = getrlimit(Resource::Nofile);
        let soft = limit.current.unwrap_or(UNLIMITED);
        if limit.maximum != limit.current {
            let raised = rustix::process::Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => return limit.maximum.unwrap_or(UNLIMITED),
                Err(error) => {
                    tracing::warn!(%error, soft, "cannot raise the descriptor limit to the hard limit");
                }
            }
        }
        soft
    })
}

/// The most connections for a descriptor limit: a quarter of the descriptors (at least 64)
/// stay for everything else (files, the database, calls out).
pub(crate) fn default_max_connections(descriptors: u64) -> usize {
    let reserve = (descriptors / 4).max(64);
    usize::try_from(descriptors.saturating_sub(reserve).max(16)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_stay_below_the_descriptor_limit() {
        assert_eq!(default_max_connections(20_000), 15_000);
        assert_eq!(default_max_connections(256), 192);
        assert_eq!(default_max_connections(10), 16);
        assert!(descriptor_limit() > 0);
    }
}
