//! The panel's sessions: signing in with an API token gives the browser a random session id
//! (in an `HttpOnly`, `SameSite=Strict` cookie, `Secure` over TLS) that stands for that token.
//! Each request checks the token again, so revoking it (or its expiry) ends its sessions too.
//! Sessions live in memory: a restart signs everyone out.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// The session cookie.
pub(crate) const COOKIE: &str = "aps_session";
/// How long a session lasts.
pub(crate) const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at most; the oldest go first.
const MAX_SESSIONS: usize = 10_000;

/// The open sessions: id → (token id, when it ends).
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    open: Mutex<HashMap<String, (String, Instant)>>,
}

impl Sessions {
    /// Opens a session for a token; answers the session id.
    pub(crate) fn open(&self, token_id: &str) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let id = URL_SAFE_NO_PAD.encode(bytes);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        open.retain(|_, (_, ends)| *ends > now);
        if open.len() >= MAX_SESSIONS {
            let oldest = open
                .iter()
                .min_by_key(|(_, (_, ends))| *ends)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                open.remove(&oldest);
            }
        }
        open.insert(id.clone(), (token_id.to_owned(), now + LIFETIME));
        id
    }

    /// The token of an open session.
    pub(crate) fn token(&self, session: &str) -> Option<String> {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(session)
            .filter(|(_, ends)| *ends > Instant::now())
            .map(|(token, _)| token.clone())
    }
}
