//! The registry client's only way out: a proxy on loopback that the client's requests go
//! through (`CONNECT host:port`), tunnelling to the registry and the hosts listed with it and
//! refusing every other. `oci-client` follows redirects on its own; through the gate, a
//! redirect to another host fails at its first connection, and the gate remembers which host
//! it refused so the error can name it — the same confinement a provider's outbound requests
//! get, for the host's own downloads.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// How long the gate waits for the registry to accept a connection.
const CONNECT_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// A running gate; stops when dropped.
pub(super) struct Gate {
    address: SocketAddr,
    refused: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Gate {
    /// Listens on a free loopback port, letting through to `allowed` (`host:port`) only.
    pub(super) async fn start(allowed: Vec<String>) -> std::io::Result<Gate> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let refused = Arc::new(Mutex::new(None));
        let allowed = Arc::new(allowed);
        let noted = Arc::clone(&refused);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (allowed, noted) = (Arc::clone(&allowed), Arc::clone(&noted));
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        tunnel(request, Arc::clone(&allowed), Arc::clone(&noted))
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                });
            }
        });
        Ok(Gate {
            address,
            refused,
            task,
        })
    }

    /// The proxy URL for the client.
    pub(super) fn proxy_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Forgets a refusal noted before: called as an operation starts, so that its error is
    /// not taken for an earlier one's.
    pub(super) fn forget(&self) {
        self.refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }

    /// The last host the gate refused, taken (each refusal is reported once).
    pub(super) fn refused(&self) -> Option<String> {
        self.refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

/// Answers one request to the gate: a `CONNECT` to an allowed `host:port` becomes a tunnel;
/// anything else is refused (403), its host noted.
async fn tunnel(
    request: Request<Incoming>,
    allowed: Arc<Vec<String>>,
    refused: Arc<Mutex<Option<String>>>,
) -> Result<Response<Empty<Bytes>>, std::convert::Infallible> {
    let target = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_ascii_lowercase());
    let allowed_target = target.as_ref().filter(|t| {
        request.method() == Method::CONNECT && allowed.iter().any(|a| a.eq_ignore_ascii_case(t))
    });
    let Some(target) = allowed_target.cloned() else {
        let host = target.unwrap_or_else(|| request.uri().to_string());
        tracing::warn!(%host, "the registry client was sent to a host that is not its registry's: refused");
        *refused.lock().unwrap_or_else(|p| p.into_inner()) = Some(host);
        let mut answer = Response::new(Empty::new());
        *answer.status_mut() = StatusCode::FORBIDDEN;
        return Ok(answer);
    };
    let connecting = tokio::time::timeout(CONNECT_WITHIN, TcpStream::connect(&target));
    let upstream = match connecting.await {
        Ok(Ok(upstream)) => upstream,
        _ => {
            let mut answer = Response::new(Empty::new());
            *answer.status_mut() = StatusCode::BAD_GATEWAY;
            return Ok(answer);
        }
    };
    tokio::spawn(async move {
        if let Ok(upgraded) = hyper::upgrade::on(request).await {
            let mut client = TokioIo::new(upgraded);
            let mut upstream = upstream;
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        }
    });
    Ok(Response::new(Empty::new()))
}
