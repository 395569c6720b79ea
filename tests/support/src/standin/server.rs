//! The server: connections accepted (over TLS when set up) and served by `dispatch`, and the
//! outages a test injects (`Fault::Outage`): nothing listening for a while.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::{Shared, dispatch};

pub(super) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut outages: tokio::sync::mpsc::UnboundedReceiver<Duration>,
) {
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
                let shared = Arc::clone(&shared);
                let tls = tls.clone();
                connections.spawn(async move {
                    let service =
                        service_fn(move |request| dispatch::handle(Arc::clone(&shared), request));
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
