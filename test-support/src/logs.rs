//! Capturing what a test logs: a thread-default subscriber writing plain lines into memory.
//!
//! Tracing caches each call site's interest process-wide: a test binary that checks log lines
//! should hold one such test, or another test reaching the same call sites with no subscriber
//! at the same moment can leave them cached as "never".

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::Level;
use tracing::subscriber::DefaultGuard;

/// Log lines captured on this thread until dropped.
pub struct Captured {
    text: Lines,
    _guard: DefaultGuard,
}

/// Captures what this thread logs at `level` and above (`fmt` lines, no colours).
pub fn capture(level: Level) -> Captured {
    let text = Lines::default();
    let writer = text.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(level)
        .finish();
    Captured {
        text,
        _guard: tracing::subscriber::set_default(subscriber),
    }
}

impl Captured {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        let bytes = self.text.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
