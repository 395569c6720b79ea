//! One request to the storage over raw `wasi:http`, waited for, its status and body read.
//!
//! What the host does around it: it lets a request through only to the origin of the
//! configured `url` (any other ends in `http-request-denied`); it adds the account's
//! `Authorization` header (HTTP Basic or a Bearer token, as the operator configured), so no
//! credential is set here — and setting `Authorization` or `Cookie` yourself fails with
//! `header-error.forbidden` when the header fields are made; it caps the request body's size
//! and each wait for an answer.
//!
//! This helper sends one request at a time and never sends one again. The NextCloud provider
//! and the OpenCloud one (through `plugin/kit/src/http.rs`, `retry.rs`) show several requests in flight at once and
//! which failures are worth another attempt.

use crate::bindings::wasi::http::outgoing_handler;
use crate::bindings::wasi::http::types::{
    ErrorCode, Fields, IncomingResponse, Method, OutgoingBody, OutgoingRequest,
    Scheme as WasiScheme,
};
use crate::bindings::wasi::io::streams::StreamError;
use crate::errors::Error;
use crate::prelude::*;
use crate::settings::{Origin, Scheme};

/// The largest answer body read, in bytes; a larger one is a `protocol` error.
pub const MAX_ANSWER: usize = 1 << 20;

/// Bytes written to the request body per call (`wasi:io` allows at least 4096).
const WRITE_CHUNK: usize = 4096;

/// An answer: its status and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends `method` to `path` (path and query, percent-encoded, starting with `/` — usually
/// `origin.base_path` followed by the API's path) on the storage's origin, with `headers` and
/// an optional `body`, and waits for the whole answer. A body goes out with its
/// `content-length` (set here; never chunked).
///
/// An answer with an error status is still `Ok`: the caller knows what its API means by it
/// (see [`crate::errors::from_status`]). `Err` is a request that got no answer: `transport`,
/// `timeout`, or `protocol` for a request `wasi:http` refused to make or an answer too large.
pub fn send(
    origin: &Origin,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Response, Error> {
    let refused = |what: &str| Error::Protocol(format!("wasi:http refused the request's {what}"));
    let fields = wire_headers(headers, body);
    let fields = Fields::from_list(&fields)
        .map_err(|e| Error::Protocol(format!("wasi:http refused the request's headers: {e:?}")))?;
    let request = OutgoingRequest::new(fields);
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_owned()),
    };
    request
        .set_method(&method)
        .map_err(|()| refused("method"))?;
    let scheme = match origin.scheme {
        Scheme::Http => WasiScheme::Http,
        Scheme::Https => WasiScheme::Https,
    };
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    request
        .set_authority(Some(&origin.authority))
        .map_err(|()| refused("authority"))?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| refused("path"))?;

    let future = match body {
        // No `body()` call at all: the request goes out without a body.
        None => outgoing_handler::handle(request, None).map_err(no_answer)?,
        Some(bytes) => {
            let outgoing = request.body().map_err(|()| refused("body"))?;
            let future = outgoing_handler::handle(request, None).map_err(no_answer)?;
            // A server may answer before it has read the whole body (a 401, a 413, a 500 it
            // sends without reading what it refuses) and close the connection: writing the
            // rest then fails, but the answer is what the request got. So the answer is
            // waited for either way; when there is none, its own error says what broke.
            let _ = write_body(outgoing, bytes);
            future
        }
    };

    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(response))) => read(response),
        Some(Ok(Err(code))) => Err(no_answer(code)),
        Some(Err(())) | None => Err(Error::Protocol(
            "the answer was not ready, or taken already".into(),
        )),
    }
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

/// The header fields a request goes out with: `headers`, and with a body exactly one
/// `content-length`, the body's length (one given with another value is dropped). A body whose
/// length is known is never sent chunked: `wasi:http` sends a body chunked unless its length
/// is given, and some storages (copyparty) answer that with 411 Length Required.
fn wire_headers(headers: &[(&str, &str)], body: Option<&[u8]>) -> Vec<(String, Vec<u8>)> {
    let length = body.map(|body| body.len().to_string());
    let mut has_length = false;
    let mut fields = Vec::with_capacity(headers.len() + 1);
    for (name, value) in headers {
        if let Some(length) = &length
            && name.eq_ignore_ascii_case("content-length")
        {
            if has_length || value != length {
                continue;
            }
            has_length = true;
        }
        fields.push(((*name).to_owned(), value.as_bytes().to_vec()));
    }
    if let (Some(length), false) = (length, has_length) {
        fields.push(("content-length".to_owned(), length.into_bytes()));
    }
    fields
}

/// Reads the status and the whole body, up to [`MAX_ANSWER`] bytes.
fn read(response: IncomingResponse) -> Result<Response, Error> {
    let status = response.status();
    let incoming = response
        .consume()
        .map_err(|()| Error::Protocol("the answer's body was taken already".into()))?;
    let mut body = Vec::new();
    {
        let stream = incoming
            .stream()
            .map_err(|()| Error::Protocol("the answer's body was taken already".into()))?;
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => {
                    body.extend_from_slice(&chunk);
                    if body.len() > MAX_ANSWER {
                        return Err(Error::Protocol(format!(
                            "the answer's body is larger than {MAX_ANSWER} bytes"
                        )));
                    }
                }
                Err(StreamError::Closed) => break,
                Err(e) => return Err(stream_error(e)),
            }
        }
    }
    drop(incoming);
    Ok(Response { status, body })
}

fn stream_error(error: StreamError) -> Error {
    match error {
        StreamError::LastOperationFailed(e) => {
            Error::Transport(format!("the connection failed: {}", e.to_debug_string()))
        }
        StreamError::Closed => Error::Transport("the connection closed early".into()),
    }
}

/// Why a request got no answer, as the contract's `timeout` or `transport`.
pub fn no_answer(code: ErrorCode) -> Error {
    match code {
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout
        | ErrorCode::DnsTimeout => Error::Timeout(format!("{code:?}")),
        // The host's answer to a destination other than the configured origin.
        ErrorCode::HttpRequestDenied => {
            Error::Transport("the host does not allow this destination".into())
        }
        other => Error::Transport(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_and_refusals_are_told_apart() {
        for code in [
            ErrorCode::ConnectionTimeout,
            ErrorCode::HttpResponseTimeout,
            ErrorCode::DnsTimeout,
        ] {
            assert!(matches!(no_answer(code), Error::Timeout(_)));
        }
        assert!(matches!(
            no_answer(ErrorCode::HttpRequestDenied),
            Error::Transport(m) if m == "the host does not allow this destination"
        ));
        assert!(matches!(
            no_answer(ErrorCode::ConnectionRefused),
            Error::Transport(m) if m.contains("ConnectionRefused")
        ));
    }

    #[test]
    fn every_body_goes_out_with_its_length() {
        let length = |headers: &[(&str, &str)], body: Option<&[u8]>| -> Vec<String> {
            wire_headers(headers, body)
                .into_iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                .map(|(_, value)| String::from_utf8(value).unwrap())
                .collect()
        };
        let json = [("content-type", "application/json")];
        assert_eq!(length(&json, Some(b"{\"a\":1}")), ["7"]);
        assert_eq!(wire_headers(&json, Some(b"{}")).len(), 2);
        // Given right: kept once. Given wrong: replaced by the body's.
        assert_eq!(length(&[("Content-Length", "2")], Some(b"ab")), ["2"]);
        assert_eq!(length(&[("content-length", "99")], Some(b"ab")), ["2"]);
        // An empty body is a body: length 0, not chunked.
        assert_eq!(length(&[], Some(b"")), ["0"]);
        // No body, no content-length.
        assert!(length(&[("depth", "1")], None).is_empty());
        assert_eq!(wire_headers(&[("depth", "1")], None).len(), 1);
    }

    #[test]
    fn success_is_2xx() {
        let answer = |status| Response {
            status,
            body: Vec::new(),
        };
        assert!(answer(200).is_success() && answer(204).is_success());
        assert!(!answer(199).is_success() && !answer(301).is_success());
    }
}
