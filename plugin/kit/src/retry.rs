//! When a failed request is sent again, and after how long.
//!
//! A request goes out again only when doing so cannot do harm:
//! - any request, after `503 Service Unavailable`: the server says it did not handle it
//!   (NextCloud's maintenance mode, a proxy whose backend is down);
//! - any request, after `423 Locked`: another request holds a lock on the same file, and
//!   this one was refused without doing anything; a moment later it goes through
//!   (NextCloud: docs/nextcloud-behaviour.md, "Locking"; recording 15. OpenCloud answers
//!   `itemIsLocked` with 423 too: its API-NOTES §1, §3.8);
//! - an idempotent request (GET, HEAD, DELETE), also after 500, 502, 504 or a broken
//!   connection: doing it twice is doing it once.
//!
//! MKCOL and link creation are not idempotent: after an answer that was lost, the first
//! attempt may have done its work; the provider finds out what it did (or the create's
//! clean-up runs) instead.
//! A timeout is not retried either: the server is slow, and the call has a deadline.
//! Nor is a request that was refused before it was sent — the host does not allow the
//! destination, or the TLS handshake failed (the storage's certificate was refused, say): the
//! next attempt would meet the same refusal.
//!
//! Waits grow from [`FIRST_WAIT_MS`] by doubling; a `Retry-After` in seconds is honoured up
//! to [`LONGEST_WAIT_MS`]. At most [`ATTEMPTS`] attempts are made.
//!
//! The decision is made from an [`Outcome`]: what the sender (the `http` module) saw of one
//! attempt.

use crate::errors::Error;

/// Attempts at one request, the first included.
pub const ATTEMPTS: u32 = 4;
/// Wait before the second attempt; doubled before each further one.
pub const FIRST_WAIT_MS: u64 = 250;
/// The longest wait, whatever `Retry-After` asks for.
pub const LONGEST_WAIT_MS: u64 = 5_000;

/// What one attempt at a request came to, as far as sending it again goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with `status`; `retry_after` is its `Retry-After` in seconds, if it
    /// gave one in that form.
    Answered {
        status: u16,
        retry_after: Option<u32>,
    },
    /// No answer, for this reason.
    Unanswered(NoAnswer),
}

/// Why an attempt got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAnswer {
    /// The connection was refused, reset or closed early: a new one may get through.
    ConnectionFailed,
    /// The request was not sent, and would not be next time either: the host does not allow
    /// the destination, or the TLS handshake failed (the storage's certificate refused, say).
    Refused,
    /// No answer in time.
    TimedOut,
    /// The request could not be made, or its answer could not be read.
    Unusable,
}

/// How long to wait before attempt `attempt + 1` after `outcome` of attempt `attempt`
/// (1-based), or `None` if the outcome stands.
pub fn wait_ms(outcome: &Outcome, idempotent: bool, attempt: u32) -> Option<u64> {
    if attempt >= ATTEMPTS {
        return None;
    }
    let backoff = backoff_ms(attempt);
    match *outcome {
        Outcome::Answered {
            status: 503,
            retry_after,
        } => Some(
            retry_after
                .map_or(backoff, |seconds| u64::from(seconds) * 1000)
                .min(LONGEST_WAIT_MS),
        ),
        Outcome::Answered { status: 423, .. } => Some(backoff),
        Outcome::Answered { status, .. } if idempotent && matches!(status, 500 | 502 | 504) => {
            Some(backoff)
        }
        Outcome::Unanswered(NoAnswer::ConnectionFailed) if idempotent => Some(backoff),
        // Not `Refused`, ever: see the module's doc.
        _ => None,
    }
}

/// The wait after attempt `attempt` (1-based): [`FIRST_WAIT_MS`], doubled for each further one.
pub fn backoff_ms(attempt: u32) -> u64 {
    FIRST_WAIT_MS << attempt.saturating_sub(1).min(8)
}

/// Whether a failed request that is not idempotent (a share or link creation) may have done its
/// work, or may succeed when sent again: the server failed (500, 502, 504) or the connection
/// broke. Not a timeout: a slow server may still be at it after a look finds nothing.
pub fn maybe_done(error: &Error) -> bool {
    matches!(error, Error::Remote(r) if matches!(r.status, 500 | 502 | 504))
        || matches!(error, Error::Transport(_))
}

/// Finishes a creation that failed with `error`, which [`maybe_done`] says may have made what
/// it asked for. Sending it again blindly could make a second one (a second public link, which
/// would outlive the folder's delete), so `look` first finds out whether the first was made
/// (and returns it: it is adopted); otherwise `again` sends the creation again. That goes round
/// as often, and after the same waits, as an idempotent request is retried; an outcome that
/// [`maybe_done`] does not cover stands.
pub fn recover<T>(
    error: Error,
    mut look: impl FnMut() -> Result<Option<T>, Error>,
    mut again: impl FnMut() -> Result<T, Error>,
) -> Result<T, Error> {
    let mut error = error;
    for attempt in 1..ATTEMPTS {
        if let Some(made) = look()? {
            return Ok(made);
        }
        sleep(backoff_ms(attempt));
        match again() {
            Err(failed) if maybe_done(&failed) => error = failed,
            done => return done,
        }
    }
    Err(error)
}

/// Waits `ms` milliseconds on `wasi:clocks`.
#[cfg(target_arch = "wasm32")]
pub fn sleep(ms: u64) {
    crate::bindings::wasi::clocks::monotonic_clock::subscribe_duration(ms * 1_000_000).block();
}

#[cfg(not(target_arch = "wasm32"))]
pub fn sleep(ms: u64) {
    std::thread::sleep(core::time::Duration::from_millis(ms));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry_after: Option<u32>) -> Outcome {
        Outcome::Answered {
            status,
            retry_after,
        }
    }

    #[test]
    fn unavailable_is_retried_for_every_request_honouring_retry_after() {
        for idempotent in [false, true] {
            assert_eq!(wait_ms(&answer(503, None), idempotent, 1), Some(250));
            assert_eq!(wait_ms(&answer(503, None), idempotent, 2), Some(500));
            assert_eq!(wait_ms(&answer(503, Some(2)), idempotent, 1), Some(2000));
            assert_eq!(wait_ms(&answer(503, Some(3600)), idempotent, 1), Some(5000));
            assert_eq!(wait_ms(&answer(503, None), idempotent, ATTEMPTS), None);
        }
    }

    #[test]
    fn a_locked_file_is_tried_again_by_every_request() {
        for idempotent in [false, true] {
            assert_eq!(wait_ms(&answer(423, None), idempotent, 1), Some(250));
            assert_eq!(wait_ms(&answer(423, None), idempotent, 3), Some(1000));
            assert_eq!(wait_ms(&answer(423, None), idempotent, ATTEMPTS), None);
        }
    }

    #[test]
    fn other_failures_are_retried_only_when_the_request_is_idempotent() {
        let reset = Outcome::Unanswered(NoAnswer::ConnectionFailed);
        for status in [500, 502, 504] {
            assert_eq!(wait_ms(&answer(status, None), true, 1), Some(250));
            assert_eq!(wait_ms(&answer(status, None), false, 1), None);
        }
        assert_eq!(wait_ms(&reset, true, 3), Some(1000));
        assert_eq!(wait_ms(&reset, false, 1), None);
        let slow = Outcome::Unanswered(NoAnswer::TimedOut);
        assert_eq!(wait_ms(&slow, true, 1), None);
        for status in [200, 201, 204, 400, 401, 404, 405, 409, 429, 501] {
            assert_eq!(wait_ms(&answer(status, None), true, 1), None, "{status}");
        }
    }

    #[test]
    fn only_a_failed_server_or_a_broken_connection_may_have_done_the_work() {
        for status in [500, 502, 504] {
            assert!(maybe_done(&crate::errors::remote(status, "")), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 503] {
            assert!(!maybe_done(&crate::errors::remote(status, "")), "{status}");
        }
        assert!(maybe_done(&Error::Transport("reset".into())));
        assert!(!maybe_done(&Error::Timeout("slow".into())));
        assert!(!maybe_done(&Error::Protocol("garbled".into())));
    }

    #[test]
    fn a_creation_that_may_have_been_made_is_looked_for_before_it_is_sent_again() {
        let lost = || Error::Transport("reset".into());
        // Found on the first look: adopted, nothing sent again.
        let made = recover(
            lost(),
            || Ok(Some(7)),
            || -> Result<u8, Error> { panic!("sent again") },
        );
        assert_eq!(made.unwrap(), 7);
        // Not found: sent again, and that answer stands.
        let (mut looks, mut sends) = (0, 0);
        let made = recover(
            lost(),
            || {
                looks += 1;
                Ok(None)
            },
            || {
                sends += 1;
                Ok(8)
            },
        );
        assert_eq!((made.unwrap(), looks, sends), (8, 1, 1));
        // A refusal when sent again stands too; a failed look ends it.
        let refused = recover(
            lost(),
            || Ok(None::<u8>),
            || Err(crate::errors::remote(400, "no")),
        );
        assert!(matches!(refused, Err(Error::Remote(r)) if r.status == 400));
        let blind = recover(
            lost(),
            || Err::<Option<u8>, _>(Error::Unauthorized("x".into())),
            || Ok(1),
        );
        assert!(matches!(blind, Err(Error::Unauthorized(_))));
    }

    #[test]
    fn a_refused_request_is_never_sent_again() {
        // The host refused the destination or the storage's certificate: each attempt would
        // meet the same refusal, after up to 1.75 s of waits.
        let refused = Outcome::Unanswered(NoAnswer::Refused);
        for idempotent in [false, true] {
            for attempt in 1..=ATTEMPTS {
                assert_eq!(wait_ms(&refused, idempotent, attempt), None, "{attempt}");
            }
        }
        let unusable = Outcome::Unanswered(NoAnswer::Unusable);
        assert_eq!(wait_ms(&unusable, true, 1), None);
    }
}
