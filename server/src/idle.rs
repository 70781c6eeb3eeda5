//! Closing connections that sit idle, which hyper alone does not do.
//!
//! hyper reads a connection's first bytes (to tell HTTP/1 from HTTP/2) with no timer, its
//! header-read time-out starts only once an HTTP/1 request has begun, and HTTP/2 has no idle
//! time-out. So a client that connects and sends nothing, or finishes a TLS handshake or an
//! HTTP/2 preface and then waits, would hold its connection forever. [`IdleLimit`] wraps each
//! accepted stream and fails its reads and writes once the connection has been idle for the
//! header-read time-out: no request in flight (counted by [`Counted`], so a long request or a
//! long poll is not idleness) and no byte read or written. A client that keeps talking (even
//! only HTTP/2 pings) is not idle, just as one that keeps sending small requests is not.
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The longest idle limit taken as given: past it, deadlines could overflow.
pub(crate) const LONGEST_IDLE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// An acceptor that closes connections once they have been idle for `limit`, and gives the
/// inner acceptor (a TLS handshake) `limit` too.
#[derive(Clone)]
pub(crate) struct IdleLimit<A> {
    inner: A,
    limit: Duration,
}

impl<A> IdleLimit<A> {
    pub(crate) fn new(inner: A, limit: Duration) -> Self {
        Self { inner, limit }
    }
}

type Watching<St, Sv> = io::Result<(Watched<St>, Counted<Sv>)>;

impl<A, I, S> Accept<I, S> for IdleLimit<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: 'static,
    A::Service: 'static,
{
    type Stream = Watched<A::Stream>;
    type Service = Counted<A::Service>;
    type Future = Pin<Box<dyn Future<Output = Watching<A::Stream, A::Service>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let limit = self.limit;
        let accepting = tokio::time::timeout(limit, self.inner.accept(stream, service));
        Box::pin(async move {
            let (stream, service) = accepting
                .await
                .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
            let in_flight = InFlight::new();
            let stream = Watched::new(stream, in_flight.clone(), limit);
            let service = Counted {
                inner: service,
                in_flight,
            };
            Ok((stream, service))
        })
    }
}

/// The requests of one connection that the router is handling, and when the last one ended.
#[derive(Clone)]
pub(crate) struct InFlight(Arc<Requests>);

struct Requests {
    count: AtomicUsize,
    /// When the connection was accepted: what `ended` counts from.
    since: Instant,
    /// When the last request ended, in nanoseconds since `since`. Its answer is written after
    /// that, so the connection is not idle before then.
    ended: AtomicU64,
}

impl InFlight {
    fn new() -> Self {
        Self(Arc::new(Requests {
            count: AtomicUsize::new(0),
            since: Instant::now(),
            ended: AtomicU64::new(0),
        }))
    }

    fn enter(&self) -> Handling {
        self.0.count.fetch_add(1, Ordering::Relaxed);
        Handling(self.clone())
    }

    /// Since when the connection has had no request in flight; `None` while it has one.
    fn idle_since(&self) -> Option<Instant> {
        // Acquire pairs with the Release of `Handling::drop`: no request, and its end is seen.
        if self.0.count.load(Ordering::Acquire) > 0 {
            return None;
        }
        let ended = Duration::from_nanos(self.0.ended.load(Ordering::Relaxed));
        Some(self.0.since + ended)
    }
}

/// One request being handled; dropped when its answer is ready.
struct Handling(InFlight);

impl Drop for Handling {
    fn drop(&mut self) {
        let requests = &self.0.0;
        let ended = u64::try_from(requests.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        requests.ended.fetch_max(ended, Ordering::Relaxed);
        requests.count.fetch_sub(1, Ordering::Release);
    }
}

/// A connection's service, counting each request as in flight while it is handled, so that a
/// long request (nothing crossing the connection meanwhile) is not taken for idleness. It wraps
/// the service hyper calls, so counting costs no box and no extension per request.
#[derive(Clone)]
pub(crate) struct Counted<S> {
    inner: S,
    in_flight: InFlight,
}

impl<S: tower::Service<R>, R> tower::Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = Counting<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        Counting {
            handling: self.in_flight.enter(),
            answer: self.inner.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// A request's answer being made; the request counts as in flight until it is ready.
    pub(crate) struct Counting<F> {
        #[pin]
        answer: F,
        handling: Handling,
    }
}

impl<F: Future> Future for Counting<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().answer.poll(cx)
    }
}

/// A connection's stream, failing its reads and writes once the connection has been idle for
/// `limit` (see [`IdleLimit`]).
pub(crate) struct Watched<T> {
    io: T,
    in_flight: InFlight,
    limit: Duration,
    /// When a byte last crossed the connection (or it was accepted).
    last: Instant,
    /// Fires at the earliest moment the connection could have been idle too long; checked and
    /// moved on then, rather than reset on every read and write.
    timer: Pin<Box<Sleep>>,
}

impl<T> Watched<T> {
    fn new(io: T, in_flight: InFlight, limit: Duration) -> Self {
        let last = Instant::now();
        let timer = Box::pin(tokio::time::sleep_until(last + limit));
        Self {
            io,
            in_flight,
            limit,
            last,
            timer,
        }
    }

    fn moved(&mut self, moved: bool) {
        if moved {
            self.last = Instant::now();
        }
    }

    /// What a read or write that would wait answers: an error once the connection has been
    /// idle too long, else waiting (with the timer set to wake the task when it may be).
    fn wait<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        while self.timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            let until = match self.in_flight.idle_since() {
                Some(ended) => self.last.max(ended) + self.limit,
                None => now + self.limit,
            };
            if until <= now {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the connection was idle too long",
                )));
            }
            self.timer.as_mut().reset(until);
        }
        Poll::Pending
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Pending => self.wait(cx),
            Poll::Ready(Ok(())) => {
                let moved = buf.filled().len() > before;
                self.moved(moved);
                Poll::Ready(Ok(()))
            }
            failed => failed,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.io).poll_write(cx, buf) {
            Poll::Pending => self.wait(cx),
            Poll::Ready(Ok(n)) => {
                self.moved(n > 0);
                Poll::Ready(Ok(n))
            }
            failed => failed,
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.io).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.wait(cx),
            Poll::Ready(Ok(n)) => {
                self.moved(n > 0);
                Poll::Ready(Ok(n))
            }
            failed => failed,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.io).poll_flush(cx) {
            Poll::Pending => self.wait(cx),
            done => done,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.io).poll_shutdown(cx) {
            Poll::Pending => self.wait(cx),
            done => done,
        }
    }
}

#[cfg(test)]
mod tests;
