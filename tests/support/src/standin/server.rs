//! The server: connections accepted (over TLS when set up) and served by a stand-in's handler
//! (the NextCloud stand-in's `dispatch`, or the OpenCloud stand-in's), and the outages a test
//! injects (`Fault::Outage`): nothing listening for a while.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::DropConnection;
use super::dispatch::Served;

/// Serves every connection accepted on `listener` with `handle`, until an outage's listener
/// cannot be bound again.
pub(crate) async fn serve<H, F>(
    listener: TcpListener,
    handle: H,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut outages: tokio::sync::mpsc::UnboundedReceiver<Duration>,
) where
    H: Fn(Request<Incoming>) -> F + Clone + Send + 'static,
    F: Future<Output = Result<Response<Served>, DropConnection>> + Send + 'static,
{
    let mut listener = Some(listener);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Some(open) = listener.as_ref() else {
            return;
        };
        tokio::select! {
            accepted = open.accept() => {
                let Ok((stream, _)) = accepted else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let handle = handle.clone();
                let tls = tls.clone();
                connections.spawn(async move {
                    let service = service_fn(handle);
                    // Errors here are clients going away, failed handshakes or injected drops.
                    let http = http1::Builder::new();
                    match tls {
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    }
                });
                while connections.try_join_next().is_some() {}
            }
            Some(length) = outages.recv() => {
                // Down: every connection closed, and nothing listening (connects are refused).
                let Some(closed) = listener.take() else { return };
                let Ok(addr) = closed.local_addr() else { return };
                drop(closed);
                connections.abort_all();
                tokio::time::sleep(length).await;
                listener = rebind(addr).await;
            }
        }
    }
}

/// Listens on `addr` again after an outage (the port may take a moment to be free).
async fn rebind(addr: SocketAddr) -> Option<TcpListener> {
    for _ in 0..50 {
        if let Ok(listener) = TcpListener::bind(addr).await {
            return Some(listener);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::error!(%addr, "stand-in could not listen again after an outage");
    None
}
