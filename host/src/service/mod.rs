//! The host as a service (`shared-folder-host serve`): the controller's REST API
//! ([`rest`]), participants' WebSockets ([`socket`]) and the signaling state behind them
//! ([`signaling`]), over one [`SharedFolders`].
//!
//! A controller embedding the library can mount [`Service::router`] in its own server; the
//! binary runs it with [`serve`], which stops gracefully: on the shutdown signal it stops
//! accepting, closes the WebSockets, and lets calls in flight finish (up to a grace period).

mod ledger;
mod refused_heads;
pub mod rest;
pub mod signaling;
pub mod socket;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post, put};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::folders::SharedFolders;
use shared_folder_runtime::Secret;
use signaling::Signaling;

/// What the service's handlers share.
pub struct Service {
    pub folders: Arc<SharedFolders>,
    pub signaling: Arc<Signaling>,
    /// SHA-256 of each accepted bearer token, computed once; see `rest::authorize`.
    token_digests: Vec<[u8; 32]>,
}

impl Service {
    /// A service over `folders`, accepting the bearer `tokens`, issuing tickets valid for
    /// `ticket_ttl`. Call it inside a tokio runtime: it starts handing the records' room
    /// events to its sessions.
    pub fn new(folders: Arc<SharedFolders>, tokens: Vec<Secret>, ticket_ttl: Duration) -> Self {
        Service {
            signaling: Signaling::start(Arc::clone(folders.records()), ticket_ttl),
            folders,
            token_digests: tokens
                .iter()
                .map(|t| rest::token_digest(t.expose()))
                .collect(),
        }
    }

    /// The routes (see [`rest`] and [`socket`]). Every error answer, also those of axum's own
    /// extractors and of unknown routes or methods, is `{"code","message"}` ([`rest::json_errors`]).
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/health", get(rest::health))
            .route(
                "/v1/events/{room}/shared_folder",
                put(rest::create).get(rest::show).delete(rest::delete),
            )
            .route("/v1/events/{room}/tickets", post(rest::ticket))
            .route(
                "/v1/events/{room}/participants/{participant}/role",
                put(rest::set_role),
            )
            .route("/v1/events/{room}/signaling", get(socket::join))
            .fallback(rest::no_route)
            .layer(axum::middleware::map_response(rest::json_errors))
            .with_state(Arc::clone(self))
    }

    /// Closes every WebSocket, and any that would join later.
    pub fn close_sessions(&self) {
        self.signaling.close_all();
    }
}

/// Serves `service` on `listener` until `shutdown` resolves; then closes the WebSockets and
/// waits up to `grace` for calls in flight.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopping, mut stopped) = watch::channel(false);
    let closing = Arc::clone(&service);
    let listener = refused_heads::Listener(listener);
    let server = axum::serve(listener, service.router()).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections; calls in flight may finish");
        closing.close_sessions();
        stopping.send_replace(true);
    });
    let server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = server => result,
        () = async {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(?grace, "calls still in flight after the grace period; stopping anyway");
            Ok(())
        }
    }
}
