//! Logs: one span per request carrying the APS ids, one line per request at info.

use std::time::Instant;

use aps_protocol::Phase;
use aps_protocol::headers::{self, text_of};
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use uuid::Uuid;

use crate::routes::clean;

/// Runs a request inside a span with its transaction id, instance id, service and phase, so
/// every line it logs carries them, and logs its status and latency when it is answered.
pub(crate) async fn request(mut request: Request, next: Next) -> Response {
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
    let method = request.method().clone();
    let path = clean(request.uri().path());
    async move {
        let response = next.run(request).await;
        tracing::info!(
            status = response.status().as_u16(),
            latency = ?started.elapsed(),
            "{method} {path}"
        );
        response
    }
    .instrument(span)
    .await
}

fn span(request: &Request) -> tracing::Span {
    let field = |name: &str| {
        request
            .headers()
            .get(name)
            .map(|v| clean(&text_of(v)))
            .unwrap_or_else(|| "-".into())
    };
    let phase = request
        .headers()
        .get(headers::REQUEST_PHASE)
        .map(|v| Phase::parse(Some(&text_of(v))).map_or("invalid", Phase::as_str))
        .unwrap_or(Phase::Sync.as_str());
    let service = request
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .map(clean)
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        txn = %field(headers::TRANSACTION_ID),
        instance = %field(headers::INSTANCE_ID),
        service = %service,
        phase = phase,
    )
}

/// Sets up logging to stderr, filtered by `RUST_LOG` (default `level`). Lines are written by a
/// background thread, so a request never waits for the terminal or the log file; keep the
/// returned guard until the program ends, so the last lines are flushed. Answers `None` when
/// the program set up a subscriber already.
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
