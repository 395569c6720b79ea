//! Faults the outbound layer injects on request, so that a provider's all-or-nothing can be
//! tried against any storage without a proxy in between (`shared-folder-host conformance`).
//!
//! A [`FaultPlan`] is given to the runtime through [`crate::Options::outbound_faults`]. It
//! counts the requests of every call made through that runtime and remembers each one's method
//! and path (never a header or a body); armed with [`FaultPlan::arm`], it makes the request
//! with that number fail once, in one of three ways ([`Fault`]), and is disarmed after it.
//! Without a plan (the default) nothing is counted and nothing is changed.

use std::fmt;
use std::sync::Mutex;

/// How an injected fault fails a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request reaches the storage and is answered, but the answer never reaches the
    /// provider: the connection breaks after the storage acted (the provider sees
    /// `connection-terminated`).
    LoseAnswer,
    /// The storage never sees the request; the provider gets `500 Internal Server Error` with
    /// an empty body.
    ServerError,
    /// The storage never sees the request; the connection is reset before the request goes
    /// out (the provider sees `connection-terminated`).
    Reset,
}

impl Fault {
    /// Every fault, in the order a conformance run tries them.
    pub const ALL: [Fault; 3] = [Fault::LoseAnswer, Fault::ServerError, Fault::Reset];

    /// A short name, for tables: `lost answer`, `500`, `reset`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::LoseAnswer => "lost answer",
            Fault::ServerError => "500",
            Fault::Reset => "reset",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One request seen by a [`FaultPlan`]: its method, its path and its query's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    /// `GET`, `MKCOL`, …
    pub method: String,
    /// The path below the origin, as the provider sent it, with the query's keys (not its
    /// values): `/?share&skey`.
    pub path: String,
}

impl fmt::Display for RequestLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// The requests seen since the plan was last armed or reset, and the fault due.
#[derive(Debug, Default)]
pub struct FaultPlan {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    seen: Vec<RequestLine>,
    armed: Option<(usize, Fault)>,
    fired: Option<(RequestLine, Fault)>,
}

impl FaultPlan {
    /// A plan that only counts, until armed.
    pub fn new() -> Self {
        FaultPlan::default()
    }

    /// Forgets the requests seen, and any fault armed or fired: counting starts again at 0.
    pub fn reset(&self) {
        *self.state() = State::default();
    }

    /// Resets, then makes request number `index` (0 for the next one) fail with `fault`,
    /// once.
    pub fn arm(&self, index: usize, fault: Fault) {
        *self.state() = State {
            armed: Some((index, fault)),
            ..State::default()
        };
    }

    /// The requests seen since the last [`FaultPlan::reset`] or [`FaultPlan::arm`].
    pub fn seen(&self) -> Vec<RequestLine> {
        self.state().seen.clone()
    }

    /// The request the armed fault hit, and how; `None` while it has not (yet).
    pub fn fired(&self) -> Option<(RequestLine, Fault)> {
        self.state().fired.clone()
    }

    /// Counts `request`, and says whether it is the one to fail.
    pub(crate) fn next<B>(&self, request: &http::Request<B>) -> Option<Fault> {
        let uri = request.uri();
        // The query's keys tell requests to one path apart (`POST /?share`, `POST /?eshare`);
        // its values (ids, tokens) stay out.
        let keys: Vec<&str> = uri
            .query()
            .into_iter()
            .flat_map(|query| query.split('&'))
            .map(|pair| pair.split('=').next().unwrap_or(pair))
            .filter(|key| !key.is_empty())
            .collect();
        let path = if keys.is_empty() {
            uri.path().to_owned()
        } else {
            format!("{}?{}", uri.path(), keys.join("&"))
        };
        let line = RequestLine {
            method: request.method().to_string(),
            path,
        };
        let mut state = self.state();
        let index = state.seen.len();
        state.seen.push(line.clone());
        match state.armed {
            Some((at, fault)) if at == index => {
                state.armed = None;
                state.fired = Some((line, fault));
                Some(fault)
            }
            _ => None,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str) -> http::Request<()> {
        http::Request::builder()
            .method(method)
            .uri(format!("http://127.0.0.1:1{path}?format=json"))
            .body(())
            .unwrap()
    }

    #[test]
    fn an_armed_fault_hits_the_request_of_its_number_once() {
        let plan = FaultPlan::new();
        plan.arm(1, Fault::ServerError);
        assert_eq!(plan.next(&request("MKCOL", "/a")), None);
        assert_eq!(plan.next(&request("POST", "/b")), Some(Fault::ServerError));
        assert_eq!(plan.next(&request("POST", "/b")), None);
        let (line, fault) = plan.fired().unwrap();
        assert_eq!(
            (line.to_string(), fault),
            ("POST /b?format".into(), Fault::ServerError)
        );
        assert_eq!(plan.seen().len(), 3);
    }

    #[test]
    fn a_plan_that_is_not_armed_only_counts_and_reset_starts_again() {
        let plan = FaultPlan::new();
        for _ in 0..3 {
            assert_eq!(plan.next(&request("GET", "/x")), None);
        }
        assert_eq!(
            plan.seen()[2].path,
            "/x?format",
            "the query's keys, not its values"
        );
        assert_eq!(plan.fired(), None);
        plan.reset();
        assert!(plan.seen().is_empty());
    }
}
