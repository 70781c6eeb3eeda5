//! When a watched connection counts as idle, on a paused clock: a request in flight is not
//! idleness, however silent, and a request that has just ended leaves its answer the whole
//! limit to be written, even when the timer falls due before it is.

use std::task::Waker;

use tokio::io::DuplexStream;

use super::*;

const LIMIT: Duration = Duration::from_millis(500);

/// A connection whose client has sent nothing (yet), watched from now.
fn connection() -> (Watched<DuplexStream>, InFlight, DuplexStream) {
    let (server, client) = tokio::io::duplex(1024);
    let in_flight = InFlight::new();
    let watched = Watched::new(server, in_flight.clone(), LIMIT);
    (watched, in_flight, client)
}

/// Polls a read once: pending while the connection may wait, an error once it has been idle
/// too long.
fn read(watched: &mut Watched<DuplexStream>) -> Poll<io::Result<()>> {
    let mut buf = [0u8; 16];
    let mut buf = ReadBuf::new(&mut buf);
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(watched).poll_read(&mut cx, &mut buf)
}

#[tokio::test(start_paused = true)]
async fn a_connection_with_nothing_in_flight_is_idle_after_the_limit() {
    let (mut watched, _, _client) = connection();
    assert!(read(&mut watched).is_pending());
    tokio::time::advance(LIMIT).await;
    assert!(matches!(read(&mut watched), Poll::Ready(Err(_))));
}

#[tokio::test(start_paused = true)]
async fn the_answer_of_a_request_that_just_ended_is_not_idleness() {
    let (mut watched, in_flight, _client) = connection();
    let handling = in_flight.enter();
    assert!(read(&mut watched).is_pending());
    tokio::time::advance(LIMIT * 3).await;
    assert!(
        read(&mut watched).is_pending(),
        "a request in flight is not idleness"
    );
    // The timer falls due just as the handler is done, its answer not yet written: the
    // connection has been silent for four limits, but idle only since the request ended.
    tokio::time::advance(LIMIT).await;
    drop(handling);
    assert!(
        read(&mut watched).is_pending(),
        "the answer of a request that just ended may still be written"
    );
    tokio::time::advance(LIMIT).await;
    assert!(
        matches!(read(&mut watched), Poll::Ready(Err(_))),
        "a limit after the request ended, with nothing written, the connection is idle"
    );
}
