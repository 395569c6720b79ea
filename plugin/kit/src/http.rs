//! HTTP over the raw `wasi:http` interfaces, with several requests in flight at once, each
//! sent again after a transient failure as [`crate::retry`] decides.
//!
//! Raw bindings rather than a client library: a request without a body (MKCOL, DELETE, GET,
//! HEAD) goes out without one, which matters — a client that always opens a request body made
//! about 0.1–0.4 % of body-less calls fail on this stack (measured against NextCloud). No
//! credentials are set here: the host adds them for the configured origin.

use crate::bindings::wasi::http::outgoing_handler;
use crate::bindings::wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingResponse, Method, OutgoingBody,
    OutgoingRequest, Scheme as WasiScheme,
};
use crate::bindings::wasi::io::poll;
use crate::bindings::wasi::io::streams::StreamError;
use crate::errors::Error;
use crate::paths;
use crate::prelude::*;
use crate::retry::{self, NoAnswer};
use crate::settings::{Origin, Scheme};

/// The most a response body may hold unless the request says otherwise
/// ([`Request::limit`]); the storages' answers here are a few KiB.
const MAX_BODY: usize = 1 << 20;

/// The largest listing a provider reads ([`Request::limit`]): a directory's folders, or the
/// links under it, of some ten thousand rooms.
pub const MAX_LISTING: usize = 16 << 20;

/// Bytes written to an output stream per call (the WASI contract allows at least 4096).
const WRITE_CHUNK: usize = 4096;

/// One request to the storage origin.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    /// Path and query, already percent-encoded.
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    /// The largest answer body accepted.
    pub max_answer: usize,
    /// The answer's headers to keep (besides `Retry-After`), in lower case.
    pub keep_headers: Vec<&'static str>,
}

impl Request {
    pub fn new(method: &'static str, path: String) -> Self {
        Request {
            method,
            path,
            headers: Vec::new(),
            body: None,
            max_answer: MAX_BODY,
            keep_headers: Vec::new(),
        }
    }

    /// Keeps the answer's header `name` (lower case), for [`Response::header`].
    pub fn keep_header(mut self, name: &'static str) -> Self {
        self.keep_headers.push(name);
        self
    }

    /// A body as it is (set its `content-type` header too; `content-length` is sent with the
    /// body's length in any case).
    pub fn body(mut self, bytes: Vec<u8>) -> Self {
        self.body = Some(bytes);
        self
    }

    /// Accepts an answer body of up to `max` bytes instead of 1 MiB.
    pub fn limit(mut self, max: usize) -> Self {
        self.max_answer = max;
        self
    }

    /// Whether sending it twice does what sending it once does (RFC 9110 §9.2.2).
    pub fn idempotent(&self) -> bool {
        matches!(self.method, "GET" | "HEAD" | "PUT" | "DELETE" | "PROPFIND")
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// An `application/x-www-form-urlencoded` body (as NextCloud's own clients send,
    /// docs/nextcloud-behaviour.md, "Creating a public link"; recording 04); every byte but
    /// RFC 3986's unreserved ones is escaped.
    pub fn form_body(self, fields: &[(&str, &str)]) -> Self {
        let mut body = String::new();
        for (name, value) in fields {
            if !body.is_empty() {
                body.push('&');
            }
            body.push_str(name);
            body.push('=');
            body.extend(paths::encode_segment(value));
        }
        self.typed_body("application/x-www-form-urlencoded", body.into_bytes())
    }

    /// A JSON body, `application/json` (see [`crate::json::encode`]).
    pub fn json_body(self, json: String) -> Self {
        self.typed_body("application/json", json.into_bytes())
    }

    /// A body with its `content-type` and `content-length` headers.
    fn typed_body(self, content_type: &'static str, bytes: Vec<u8>) -> Self {
        let length = bytes.len().to_string();
        self.header("content-type", content_type)
            .header("content-length", length)
            .body(bytes)
    }
}

/// The status, headers and body of an answer.
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    /// `Retry-After` in seconds, if the answer has one in that form.
    pub retry_after: Option<u32>,
    /// The headers the request asked to keep ([`Request::keep_header`]) whose values are
    /// text: name in lower case, value.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// An answer with `status` and `body` and no headers (for tests, and parsers' callers).
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            body: body.into(),
            ..Response::default()
        }
    }

    /// The first value of the header `name` (case-insensitive), if there is one.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(given, _)| given.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Sends one request and waits for its answer.
pub fn send(origin: &Origin, request: &Request) -> Result<Response, Error> {
    let [response] = send_all(origin, [request]);
    response
}

/// Sends all requests at once and waits until each has its answer (or its error); then sends
/// again, one by one, those whose failure [`retry::wait_ms`] says to retry.
pub fn send_all<const N: usize>(
    origin: &Origin,
    requests: [&Request; N],
) -> [Result<Response, Error>; N] {
    let mut results = send_each(origin, &requests).into_iter();
    core::array::from_fn(|_| {
        results
            .next()
            .unwrap_or_else(|| Err(Error::Protocol("a request got no result".into())))
    })
}

/// [`send_all`] for as many requests as there are: the answers in the requests' order.
pub fn send_each(origin: &Origin, requests: &[&Request]) -> Vec<Result<Response, Error>> {
    let mut results = send_once(origin, requests);
    for (request, result) in requests.iter().zip(results.iter_mut()) {
        let mut attempt = 1;
        while let Some(ms) = retry::wait_ms(&outcome(result), request.idempotent(), attempt) {
            retry::sleep(ms);
            attempt += 1;
            if let Some(again) = send_once(origin, &[*request]).pop() {
                *result = again;
            }
        }
    }
    results
        .into_iter()
        .map(|result| result.map_err(|failure| failure.error))
        .collect()
}

/// An attempt that got no answer: the error the caller is told, and why, for [`retry`].
#[derive(Debug)]
struct Failure {
    error: Error,
    why: NoAnswer,
}

impl Failure {
    /// A test stand-in's error, as the sender would have seen it (see [`crate::testing`]).
    #[cfg(not(target_arch = "wasm32"))]
    fn of(error: Error) -> Self {
        let why = match error {
            Error::Transport(_) => NoAnswer::ConnectionFailed,
            Error::Timeout(_) => NoAnswer::TimedOut,
            _ => NoAnswer::Unusable,
        };
        Failure { error, why }
    }

    /// A request that could not be made, or an answer that could not be read.
    fn protocol(message: impl Into<String>) -> Self {
        Failure {
            error: Error::Protocol(message.into()),
            why: NoAnswer::Unusable,
        }
    }
}

/// What [`retry`] decides from: the answer's status, or why there was none.
fn outcome(result: &Result<Response, Failure>) -> retry::Outcome {
    match result {
        Ok(response) => retry::Outcome::Answered {
            status: response.status,
            retry_after: response.retry_after,
        },
        Err(failure) => retry::Outcome::Unanswered(failure.why),
    }
}

/// One attempt at each request, all in flight together.
fn send_once(origin: &Origin, requests: &[&Request]) -> Vec<Result<Response, Failure>> {
    // Natively, where there is no `wasi:http`, a test's stand-in answers.
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(answers) = crate::testing::answer(requests) {
        return answers
            .into_iter()
            .map(|answer| answer.map_err(Failure::of))
            .collect();
    }
    let started: Vec<_> = requests
        .iter()
        .map(|request| start(origin, request).map(|future| (future, *request)))
        .collect();
    let pending: Vec<_> = started
        .iter()
        .filter_map(|s| s.as_ref().ok().map(|(future, _)| future.subscribe()))
        .collect();
    let mut ready = vec![false; pending.len()];
    while ready.iter().any(|r| !r) {
        let waiting: Vec<(usize, &poll::Pollable)> = pending
            .iter()
            .enumerate()
            .filter(|(i, _)| !ready[*i])
            .collect();
        let list: Vec<&poll::Pollable> = waiting.iter().map(|(_, p)| *p).collect();
        for index in poll::poll(&list) {
            if let Some((i, _)) = waiting.get(index as usize) {
                ready[*i] = true;
            }
        }
    }
    drop(pending);
    started
        .into_iter()
        .map(|s| s.and_then(|(future, request)| finish(future, request)))
        .collect()
}

/// The header fields a request goes out with: its own, and with a body exactly one
/// `content-length`, the body's length (one the request set with another value is dropped). A
/// body whose length is known is never sent chunked: `wasi:http` sends a body chunked unless
/// its length is given, and some storages (copyparty) answer that with 411 Length Required.
fn wire_headers(request: &Request) -> Vec<(String, Vec<u8>)> {
    let length = request.body.as_ref().map(|body| body.len().to_string());
    let mut has_length = false;
    let mut headers = Vec::with_capacity(request.headers.len() + 1);
    for (name, value) in &request.headers {
        if let Some(length) = &length
            && name.eq_ignore_ascii_case("content-length")
        {
            if has_length || value != length {
                continue;
            }
            has_length = true;
        }
        headers.push(((*name).to_owned(), value.as_bytes().to_vec()));
    }
    if let (Some(length), false) = (length, has_length) {
        headers.push(("content-length".to_owned(), length.into_bytes()));
    }
    headers
}

fn start(origin: &Origin, request: &Request) -> Result<FutureIncomingResponse, Failure> {
    let headers = wire_headers(request);
    let fields = Fields::from_list(&headers)
        .map_err(|e| Failure::protocol(format!("request headers refused: {e:?}")))?;
    let outgoing = OutgoingRequest::new(fields);
    let method = match request.method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        other => Method::Other(other.to_owned()),
    };
    let scheme = match origin.scheme {
        Scheme::Http => WasiScheme::Http,
        Scheme::Https => WasiScheme::Https,
    };
    let invalid = |part: &str| Failure::protocol(format!("request {part} refused by wasi:http"));
    outgoing
        .set_method(&method)
        .map_err(|()| invalid("method"))?;
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| invalid("scheme"))?;
    outgoing
        .set_authority(Some(&origin.authority))
        .map_err(|()| invalid("authority"))?;
    outgoing
        .set_path_with_query(Some(&request.path))
        .map_err(|()| invalid("path"))?;

    let Some(body) = &request.body else {
        // No `body()` call at all: the request goes out without one.
        return outgoing_handler::handle(outgoing, None).map_err(transport_error);
    };
    let outgoing_body = outgoing.body().map_err(|()| invalid("body"))?;
    let future = outgoing_handler::handle(outgoing, None).map_err(transport_error)?;
    // A server may answer before it has read the whole body (a 401, a 413, a 500 it sends
    // without reading what it refuses) and close the connection: writing the rest then fails,
    // but the answer is what the request got. So the answer is waited for either way; when
    // there is none, its own error says what broke.
    let _ = write_body(outgoing_body, body);
    Ok(future)
}

/// Writes `bytes` as the whole of `body`, and finishes it.
fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), ()> {
    {
        let stream = body.write()?;
        for chunk in bytes.chunks(WRITE_CHUNK) {
            stream.blocking_write_and_flush(chunk).map_err(|_| ())?;
        }
    }
    OutgoingBody::finish(body, None).map_err(|_| ())
}

fn finish(future: FutureIncomingResponse, request: &Request) -> Result<Response, Failure> {
    let response = match future.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(transport_error(code)),
        Some(Err(())) | None => {
            return Err(Failure::protocol("response was not ready or already taken"));
        }
    };
    read(response, request)
}

fn read(response: IncomingResponse, request: &Request) -> Result<Response, Failure> {
    let status = response.status();
    let fields = response.headers();
    let text = |name: &str| {
        let value = fields.get(name).into_iter().next()?;
        String::from_utf8(value).ok()
    };
    let retry_after = text("retry-after").and_then(|value| value.trim().parse().ok());
    let headers = request
        .keep_headers
        .iter()
        .filter_map(|name| Some(((*name).to_owned(), text(name)?)))
        .collect();
    drop(fields);
    let max_body = request.max_answer;
    let incoming = response
        .consume()
        .map_err(|()| Failure::protocol("response body already taken"))?;
    let mut body = Vec::new();
    {
        let stream = incoming
            .stream()
            .map_err(|()| Failure::protocol("response body stream already taken"))?;
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => {
                    body.extend_from_slice(&chunk);
                    if body.len() > max_body {
                        return Err(Failure::protocol(format!(
                            "response body larger than {max_body} bytes"
                        )));
                    }
                }
                Err(StreamError::Closed) => break,
                Err(e) => return Err(stream_error(e)),
            }
        }
    }
    drop(incoming);
    Ok(Response {
        status,
        retry_after,
        headers,
        body,
    })
}

fn stream_error(error: StreamError) -> Failure {
    let error = match error {
        StreamError::LastOperationFailed(e) => {
            Error::Transport(format!("stream failed: {}", e.to_debug_string()))
        }
        StreamError::Closed => Error::Transport("connection closed early".into()),
    };
    Failure {
        error,
        why: NoAnswer::ConnectionFailed,
    }
}

/// Maps `wasi:http`'s error codes onto the provider's error cases, and tells [`retry`] whether
/// another attempt may get through.
fn transport_error(code: ErrorCode) -> Failure {
    let (error, why) = match code {
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout
        | ErrorCode::DnsTimeout => (Error::Timeout(format!("{code:?}")), NoAnswer::TimedOut),
        // The host's answer for a destination other than the configured origin.
        ErrorCode::HttpRequestDenied => (
            Error::Transport("the host does not allow this destination".into()),
            NoAnswer::Refused,
        ),
        // The host refused the certificate (untrusted issuer, wrong name, expired): the same
        // certificate is refused next time. The code stays in the text, which operators and
        // the host's tests look for.
        ErrorCode::TlsCertificateError => (
            Error::Transport(format!(
                "the storage's TLS certificate was refused: {code:?}"
            )),
            NoAnswer::Refused,
        ),
        ErrorCode::TlsProtocolError | ErrorCode::TlsAlertReceived(_) => (
            Error::Transport(format!(
                "the TLS handshake with the storage failed: {code:?}"
            )),
            NoAnswer::Refused,
        ),
        // A connection refused, reset or closed, a DNS failure, …: a new attempt may get through.
        other => (
            Error::Transport(format!("{other:?}")),
            NoAnswer::ConnectionFailed,
        ),
    };
    Failure { error, why }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::wasi::http::types::TlsAlertReceivedPayload;

    /// Whether an idempotent request that failed with `code` on its first attempt goes out again.
    fn sent_again(code: ErrorCode) -> bool {
        let result = Err(transport_error(code));
        retry::wait_ms(&outcome(&result), true, 1).is_some()
    }

    #[test]
    fn a_refused_destination_or_certificate_is_not_sent_again() {
        let alert = TlsAlertReceivedPayload {
            alert_id: Some(42),
            alert_message: Some("bad certificate".into()),
        };
        for code in [
            ErrorCode::HttpRequestDenied,
            ErrorCode::TlsCertificateError,
            ErrorCode::TlsProtocolError,
            ErrorCode::TlsAlertReceived(alert),
        ] {
            let name = format!("{code:?}");
            let failure = transport_error(code.clone());
            assert!(
                matches!(failure.error, Error::Transport(_)),
                "{name}: {:?}",
                failure.error
            );
            assert!(!sent_again(code), "{name} is retried");
        }
    }

    #[test]
    fn a_broken_connection_is_sent_again() {
        for code in [
            ErrorCode::ConnectionRefused,
            ErrorCode::ConnectionTerminated,
            ErrorCode::HttpResponseIncomplete,
            ErrorCode::InternalError(Some("connection reset by peer".into())),
        ] {
            let name = format!("{code:?}");
            assert!(
                matches!(transport_error(code.clone()).error, Error::Transport(_)),
                "{name}"
            );
            assert!(sent_again(code), "{name} is not retried");
        }
        let closed = Err(stream_error(StreamError::Closed));
        assert!(retry::wait_ms(&outcome(&closed), true, 1).is_some());
        // A timeout stands: the call has a deadline.
        assert!(matches!(
            transport_error(ErrorCode::HttpResponseTimeout).error,
            Error::Timeout(_)
        ));
        assert!(!sent_again(ErrorCode::HttpResponseTimeout));
    }

    #[test]
    fn refusals_say_what_was_refused() {
        let text = |code| match transport_error(code).error {
            Error::Transport(text) => text,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            text(ErrorCode::HttpRequestDenied),
            "the host does not allow this destination"
        );
        let certificate = text(ErrorCode::TlsCertificateError);
        assert!(
            certificate.starts_with("the storage's TLS certificate was refused")
                && certificate.contains("TlsCertificateError"),
            "{certificate}"
        );
    }

    #[test]
    fn every_body_goes_out_with_its_length() {
        let length = |request: &Request| -> Vec<String> {
            wire_headers(request)
                .into_iter()
                .filter(|(name, _)| name == "content-length")
                .map(|(_, value)| String::from_utf8(value).unwrap())
                .collect()
        };
        // A plain body, with no header set by the caller.
        let plain = Request::new("PROPFIND", "/x".into()).body(b"<a/>".to_vec());
        assert_eq!(length(&plain), ["4"]);
        // A typed body: one content-length, not two.
        let json = Request::new("POST", "/x".into()).json_body("{\"a\":1}".into());
        assert_eq!(length(&json), ["7"]);
        let form = Request::new("POST", "/x".into()).form_body(&[("a", "b")]);
        assert_eq!(length(&form), ["3"]);
        assert!(
            wire_headers(&form)
                .iter()
                .any(|(name, value)| name == "content-type"
                    && value == b"application/x-www-form-urlencoded")
        );
        // A wrong length set by the caller is replaced by the body's.
        let wrong = Request::new("PUT", "/x".into())
            .header("Content-Length", "99")
            .body(b"ab".to_vec());
        assert_eq!(length(&wrong), ["2"]);
        assert_eq!(wire_headers(&wrong).len(), 1);
        // An empty body is a body: length 0, not chunked.
        let empty = Request::new("PUT", "/x".into()).body(Vec::new());
        assert_eq!(length(&empty), ["0"]);
        // No body, no content-length.
        let get = Request::new("GET", "/x".into()).header("depth", "1");
        assert!(length(&get).is_empty());
        assert_eq!(wire_headers(&get).len(), 1);
    }

    #[test]
    fn bodies_carry_their_type_and_length() {
        let request = Request::new("POST", "/x".into()).json_body("{\"a\":1}".into());
        assert_eq!(request.body.as_deref(), Some(&b"{\"a\":1}"[..]));
        assert_eq!(
            request.headers,
            [
                ("content-type", "application/json".to_owned()),
                ("content-length", "7".to_owned())
            ]
        );
        let form = Request::new("POST", "/x".into()).form_body(&[("a", "b c"), ("d", "€")]);
        assert_eq!(form.body.as_deref(), Some(&b"a=b%20c&d=%E2%82%AC"[..]));
        assert!(!request.idempotent());
        for method in ["GET", "HEAD", "DELETE", "PUT", "PROPFIND"] {
            assert!(Request::new(method, "/".into()).idempotent(), "{method}");
        }
        assert!(!Request::new("MKCOL", "/".into()).idempotent());
    }

    #[test]
    fn headers_are_found_whatever_their_case() {
        let response = Response {
            headers: vec![("oc-fileid".into(), "a$b!c".into())],
            ..Response::new(200, Vec::new())
        };
        assert_eq!(response.header("OC-FileId"), Some("a$b!c"));
        assert_eq!(response.header("etag"), None);
    }

    #[test]
    fn a_test_storage_answers_and_broken_connections_are_retried() {
        use crate::settings::Scheme;
        let origin = Origin {
            scheme: Scheme::Http,
            authority: "127.0.0.1:1".into(),
            base_path: String::new(),
        };
        let mut calls = 0;
        let answers = crate::testing::with_storage(
            move |request| {
                calls += 1;
                match (request.method, calls) {
                    ("GET", 1) => Err(Error::Transport("reset".into())),
                    ("POST", _) => Err(Error::Transport("reset".into())),
                    _ => Ok(Response::new(200, request.path.clone())),
                }
            },
            || {
                let get = Request::new("GET", "/a".into());
                let post = Request::new("POST", "/b".into());
                send_all(&origin, [&get, &post])
            },
        );
        let [get, post] = answers;
        // The GET went again after its broken connection; the POST did not.
        assert_eq!(get.unwrap().body, b"/a");
        assert!(matches!(post, Err(Error::Transport(_))));
    }
}
