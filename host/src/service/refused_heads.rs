//! Answers to requests refused before any route sees them.
//!
//! hyper answers a request head it will not read — a target longer than 64 KiB (414), a head
//! larger than its buffer (431), a malformed request line or header (400) — itself, with an
//! empty body, and closes the connection. No handler or middleware runs for it. So that every
//! error answer of the service is `{"code","message"}`, the service's connections are wrapped:
//! a response written as hyper writes those (a 4xx head with `content-length: 0` and nothing
//! after it) is written with a JSON body instead. Every other answer of the service has a
//! body once [`super::rest::json_errors`] has run, so none is mistaken for one.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The service's listener: accepts as `TcpListener` does, and wraps each connection.
pub struct Listener(pub TcpListener);

impl axum::serve::Listener for Listener {
    type Io = RefusedHeads<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, address) = axum::serve::Listener::accept(&mut self.0).await;
        (RefusedHeads::new(stream), address)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection whose hyper-made error answers get a JSON body.
pub struct RefusedHeads<S> {
    inner: S,
    /// The replacement answer, still to be written.
    pending: Vec<u8>,
    written: usize,
}

impl<S> RefusedHeads<S> {
    pub fn new(inner: S) -> Self {
        RefusedHeads {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<S: AsyncWrite + Unpin> RefusedHeads<S> {
    /// Writes what is left of a replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

/// The JSON answer for a bodiless error head hyper wrote on its own, if `head` is one.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let rest = text.strip_prefix("HTTP/1.1 ")?;
    let status: u16 = rest.get(..3)?.parse().ok()?;
    let bodiless = text.ends_with("\r\n\r\n")
        && text
            .to_ascii_lowercase()
            .contains("\r\ncontent-length: 0\r\n");
    let (code, message) = match status {
        400 => ("bad_request", "the request line or a header is malformed"),
        414 => ("uri_too_long", "the request target is longer than 64 KiB"),
        431 => ("headers_too_large", "the request head is too large"),
        _ => return None,
    };
    if !bodiless {
        return None;
    }
    let reason = rest.get(4..)?.split("\r\n").next()?;
    let body = serde_json::json!({"code": code, "message": message}).to_string();
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for RefusedHeads<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for RefusedHeads<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(answer) = replacement(buf) {
            // Taken whole: hyper sees its head written, the peer gets the JSON answer.
            self.pending = answer;
            self.written = 0;
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_own_error_heads_are_replaced() {
        let refused = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Sun, 29 Nov 2026 12:00:00 GMT\r\n\r\n";
        let answer = String::from_utf8(replacement(refused).unwrap()).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"),
            "{answer}"
        );
        let body = answer.split("\r\n\r\n").nth(1).unwrap();
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], "uri_too_long");
        assert!(answer.contains(&format!("content-length: {}\r\n", body.len())));

        for kept in [
            // An answer of the service: it has a body.
            &b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n"[..],
            b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n",
            b"{\"code\":\"x\"}",
        ] {
            assert!(replacement(kept).is_none(), "{}", String::from_utf8_lossy(kept));
        }
    }
}
