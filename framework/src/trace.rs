//! Logs: one span per request carrying the APS ids, one line per request at info.

use std::time::Instant;

use aps_protocol::Phase;
use aps_protocol::headers::{self, text_of};
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use uuid::Uuid;

use crate::limits::{self, Limits};

/// Runs a request within its [limits](crate::limits) inside a span with its transaction id,
/// instance id, service and phase, so every line it logs carries them, and logs its status and
/// latency when it is answered.
pub(crate) async fn request(
    State(limits): State<Limits>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    // A request without a transaction id gets one, so its log lines and the operation's
    // `Context::transaction_id` still agree.
    if !request.headers().contains_key(headers::TRANSACTION_ID) {
        let made_up = HeaderValue::from_str(&Uuid::new_v4().to_string());
        if let Ok(txn) = made_up {
            request.headers_mut().insert(headers::TRANSACTION_ID, txn);
        }
    }
    let span = span(&request);
    if span.is_disabled() {
        return limits::guard(&limits, request, next).await;
    }
    let method = request.method().clone();
    // The path shares the request's bytes: cloning it copies nothing.
    let uri = request.uri().clone();
    async move {
        let response = limits::guard(&limits, request, next).await;
        tracing::info!(
            status = response.status().as_u16(),
            latency = ?started.elapsed(),
            "{method} {}",
            Shown(uri.path())
        );
        response
    }
    .instrument(span)
    .await
}

fn span(request: &Request) -> tracing::Span {
    let headers = request.headers();
    let field = |name: &str| ShownHeader(headers.get(name));
    let phase = headers
        .get(headers::REQUEST_PHASE)
        .map(|v| Phase::parse(Some(&text_of(v))).map_or("invalid", Phase::as_str))
        .unwrap_or(Phase::Sync.as_str());
    let service = request
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    // At error level, so the span is on whenever any line is: a handler's warning under
    // `RUST_LOG=warn` still carries the ids. The fields are only read when it is enabled.
    tracing::error_span!(
        "request",
        txn = %field(headers::TRANSACTION_ID),
        instance = %field(headers::INSTANCE_ID),
        service = %Shown(service),
        phase = phase,
    )
}

/// A header as log text: undecodable bytes replaced, shown as [`Shown`] does, `-` when absent.
struct ShownHeader<'a>(Option<&'a HeaderValue>);

impl std::fmt::Display for ShownHeader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(value) => Shown(&text_of(value)).fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// Text from a request as a log line or an error message shows it: control characters as
/// spaces, cut after [`SHOWN_CHARS`] characters. Writes without allocating.
pub(crate) struct Shown<'a>(pub &'a str);

/// The most characters of request text a message or a log line shows.
const SHOWN_CHARS: usize = 200;

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0;
        let mut start = 0;
        for (shown, (at, c)) in text.char_indices().enumerate() {
            if shown == SHOWN_CHARS {
                f.write_str(&text[start..at])?;
                return f.write_str("…");
            }
            if c.is_control() {
                f.write_str(&text[start..at])?;
                f.write_str(" ")?;
                start = at + c.len_utf8();
            }
        }
        f.write_str(&text[start..])
    }
}

/// Text from a request, cut and cleaned for an error message or a log line.
pub(crate) fn clean(text: &str) -> String {
    Shown(text).to_string()
}

/// Sets up logging to stderr, filtered by `RUST_LOG` (default `level`). Lines are written by a
/// background thread, so a request never waits for the terminal or the log file; keep the
/// returned guard until the program ends, so the last lines are flushed. Answers `None` when
/// the program set up a subscriber already.
#[cfg(feature = "cli")]
pub(crate) fn init(level: &str) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // Buffered: the writer thread flushes after each batch it drains, so a busy endpoint
        // writes many lines per system call and a quiet one shows each line at once.
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi)
        .try_init()
        .ok()
        .map(|()| guard)
}

#[cfg(test)]
mod tests {
    use super::Shown;

    #[test]
    fn shown_text_has_no_control_characters_and_is_cut_at_200_characters() {
        assert_eq!(Shown("a\r\nb\u{7f}c").to_string(), "a  b c");
        assert_eq!(Shown("Größe").to_string(), "Größe");
        let long = "é".repeat(250);
        assert_eq!(Shown(&long).to_string(), "é".repeat(200) + "…");
        assert_eq!(Shown(&long[..400]).to_string(), long[..400]);
    }
}
