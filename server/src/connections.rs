//! How many connections a server holds: at most [`Limits::max_connections`] in all and
//! [`Limits::max_connections_per_client`] from one peer address, both below the process's
//! descriptor limit, so that one client (20,000 long polls, say) cannot take every descriptor
//! and leave others unserved.
//!
//! A connection is counted from its accept to its close, whatever it does meanwhile (a long
//! poll holds its place). One over the limit is answered at once on plain HTTP, in the APS
//! shape: 429 `TooManyConnections` when its client holds its share, 503 `Busy` when the server
//! is full, both with `Retry-After`; over TLS, where no answer can be sent before a handshake,
//! it is closed. Refusals are logged at warn, at most once per [`WARN_EVERY`], with how many
//! there were.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use aps_protocol::ErrorBody;
use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The most often a refusal is logged.
const WARN_EVERY: Duration = Duration::from_secs(10);
/// The most refused connections answered at once; past it they are closed without an answer,
/// so refusing never costs more descriptors than this.
const ANSWERING: usize = 64;
/// How long a refused connection is given to send its request head before the answer.
const REFUSAL_READ: Duration = Duration::from_millis(500);

/// The counts of open connections, shared by every accept.
#[derive(Debug)]
pub(crate) struct Gate {
    max: usize,
    per_client: usize,
    state: Mutex<State>,
    answering: AtomicUsize,
}

#[derive(Debug, Default)]
struct State {
    open: usize,
    by_client: HashMap<IpAddr, usize>,
    refused: u64,
    warned: Option<Instant>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Its client holds its share.
    Client,
    /// The server holds as many as it allows.
    Full,
}

impl Gate {
    /// A gate for `max` connections in all and `per_client` from one address.
    pub(crate) fn new(max: usize, per_client: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            per_client,
            state: Mutex::default(),
            answering: AtomicUsize::new(0),
        })
    }

    fn admit(self: &Arc<Self>, client: IpAddr) -> Result<Ticket, Refusal> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let held = state.by_client.get(&client).copied().unwrap_or(0);
        let refusal = if held >= self.per_client {
            Some(Refusal::Client)
        } else if state.open >= self.max {
            Some(Refusal::Full)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            state.refused += 1;
            let now = Instant::now();
            if state
                .warned
                .is_none_or(|at| now.duration_since(at) >= WARN_EVERY)
            {
                tracing::warn!(
                    %client,
                    refused = state.refused,
                    open = state.open,
                    max_connections = self.max,
                    max_per_client = self.per_client,
                    reason = match refusal {
                        Refusal::Client => "the client holds its share",
                        Refusal::Full => "the server holds as many as it allows",
                    },
                    "connections refused"
                );
                state.warned = Some(now);
                state.refused = 0;
            }
            return Err(refusal);
        }
        state.open += 1;
        *state.by_client.entry(client).or_insert(0) += 1;
        Ok(Ticket {
            gate: self.clone(),
            client,
        })
    }

    fn release(&self, client: IpAddr) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.open = state.open.saturating_sub(1);
        if let Some(held) = state.by_client.get_mut(&client) {
            *held -= 1;
            if *held == 0 {
                state.by_client.remove(&client);
            }
        }
    }
}

/// A connection's place; given back when the connection closes.
#[derive(Debug)]
pub(crate) struct Ticket {
    gate: Arc<Gate>,
    client: IpAddr,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.gate.release(self.client);
    }
}

pin_project_lite::pin_project! {
    /// A stream holding its connection's place.
    #[derive(Debug)]
    pub struct Admitted<S> {
        #[pin]
        stream: S,
        ticket: Ticket,
    }
}

impl<S: AsyncRead> AsyncRead for Admitted<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().stream.poll_read(cx, buf)
    }
}

impl<S: AsyncWrite> AsyncWrite for Admitted<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().stream.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().stream.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().stream.poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().stream.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// An acceptor that admits a connection only within the [`Gate`]'s limits, then hands it to
/// `inner`. `plain` says whether refusals can be answered in HTTP.
#[derive(Clone)]
pub(crate) struct Gated<A> {
    inner: A,
    gate: Arc<Gate>,
    plain: bool,
}

impl<A> Gated<A> {
    pub(crate) fn new(inner: A, gate: Arc<Gate>, plain: bool) -> Self {
        Self { inner, gate, plain }
    }
}

impl<A, S> Accept<TcpStream, S> for Gated<A>
where
    A: Accept<Admitted<TcpStream>, S>,
    A::Future: Send + 'static,
{
    type Stream = A::Stream;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(A::Stream, A::Service)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let client = match stream.peer_addr() {
            Ok(address) => address.ip(),
            Err(error) => return Box::pin(async move { Err(error) }),
        };
        match self.gate.admit(client) {
            Ok(ticket) => Box::pin(self.inner.accept(Admitted { stream, ticket }, service)),
            Err(refusal) => {
                let gate = self.gate.clone();
                let answer = self.plain && gate.try_answer();
                Box::pin(async move {
                    if answer {
                        refuse(stream, refusal).await;
                        gate.answering.fetch_sub(1, Ordering::AcqRel);
                    }
                    Err(io::Error::other(
                        "connection refused by the connection limits",
                    ))
                })
            }
        }
    }
}

impl Gate {
    /// Takes one of the [`ANSWERING`] places for answering a refusal, if one is free.
    fn try_answer(&self) -> bool {
        if self.answering.fetch_add(1, Ordering::AcqRel) < ANSWERING {
            return true;
        }
        self.answering.fetch_sub(1, Ordering::AcqRel);
        false
    }
}

/// Answers a refused plain-HTTP connection: reads what it sent (for a moment, so that closing
/// does not reset the connection under the answer), then the APS error, then closes.
async fn refuse(mut stream: TcpStream, refusal: Refusal) {
    let body = match refusal {
        Refusal::Client => ErrorBody::new(
            429,
            "TooManyConnections",
            "This client holds as many connections as the server allows one client; close some \
             or try again shortly",
        ),
        Refusal::Full => ErrorBody::new(
            503,
            "Busy",
            "The server holds as many connections as it allows; try again shortly",
        ),
    };
    let (status, reason) = match refusal {
        Refusal::Client => (429, "Too Many Requests"),
        Refusal::Full => (503, "Service Unavailable"),
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 1\r\nconnection: close\r\n\r\n",
        json.len()
    );
    let mut sent = [0u8; 4096];
    let _ = tokio::time::timeout(REFUSAL_READ, stream.read(&mut sent)).await;
    let written = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&json).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(REFUSAL_READ, written).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_client_and_in_all_and_given_back() {
        let gate = Gate::new(3, 2);
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let first = gate.admit(a).expect("a 1");
        let _second = gate.admit(a).expect("a 2");
        assert_eq!(gate.admit(a).err(), Some(Refusal::Client));
        let _third = gate.admit(b).expect("b 1");
        assert_eq!(gate.admit(b).err(), Some(Refusal::Full));
        drop(first);
        assert!(gate.admit(b).is_ok(), "a place came back");
    }
}
