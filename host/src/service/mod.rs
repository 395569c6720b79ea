//! The host as a service (`shared-folder-host serve`): the controller's REST API
//! ([`rest`]), participants' WebSockets ([`socket`]) and the signaling state behind them
//! ([`signaling`]), over one [`SharedFolders`]; for operators, `/metrics` ([`metrics`]),
//! `/ready` ([`readiness`]) and the API's description, `/openapi.json` ([`openapi`]).
//!
//! A controller embedding the library can mount [`Service::router`] in its own server; the
//! binary runs it with [`serve`], which stops gracefully: on the shutdown signal it stops
//! accepting, closes the WebSockets, and lets calls in flight finish (up to a grace period).

mod ledger;
pub mod metrics;
pub mod openapi;
pub mod readiness;
mod refused_heads;
pub mod rest;
pub mod signaling;
pub mod socket;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::folders::SharedFolders;
use shared_folder_runtime::Secret;
use shared_folder_runtime::roles::Role;
use signaling::Signaling;

/// What a ticket grants: one join of one room as one participant with one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub room: String,
    pub participant: String,
    pub role: Role,
}

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
    ///
    /// Installs the Prometheus recorder `GET /metrics` renders ([`metrics::install`]) as the
    /// process's `metrics` recorder, unless the process has one already.
    pub fn router(self: &Arc<Self>) -> Router {
        if let Err(error) = metrics::install() {
            tracing::warn!(%error, "GET /metrics will answer 503");
        }
        routes()
            .into_iter()
            .fold(Router::new(), |router, route| {
                router.route(route.path, route.handler)
            })
            .fallback(rest::no_route)
            .layer(axum::middleware::map_response(rest::json_errors))
            .with_state(Arc::clone(self))
    }

    /// Closes every WebSocket, and any that would join later.
    pub fn close_sessions(&self) {
        self.signaling.close_all();
    }
}

/// One route: a method on a path, and its handler.
struct Route {
    method: Method,
    path: &'static str,
    handler: MethodRouter<Arc<Service>>,
}

fn route<H, T>(method: Method, path: &'static str, handler: H) -> Route
where
    H: Handler<T, Arc<Service>>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone())
        .unwrap_or_else(|e| panic!("route {method} {path}: {e}"));
    Route {
        method,
        path,
        handler: on(filter, handler),
    }
}

/// Every route of the service, one method each: [`Service::router`] is built from this list,
/// and the OpenAPI document ([`openapi`]) must describe exactly these ([`route_table`];
/// `tests/openapi.rs`), so a route cannot be added without its description.
fn routes() -> Vec<Route> {
    const FOLDER: &str = "/v1/events/{room}/shared_folder";
    vec![
        route(Method::GET, "/health", rest::health),
        route(Method::PUT, FOLDER, rest::create),
        route(Method::GET, FOLDER, rest::show),
        route(Method::DELETE, FOLDER, rest::delete),
        route(Method::POST, "/v1/events/{room}/tickets", rest::ticket),
        route(
            Method::PUT,
            "/v1/events/{room}/participants/{participant}/role",
            rest::set_role,
        ),
        route(Method::GET, "/v1/events/{room}/signaling", socket::join),
        route(Method::GET, "/ready", readiness::ready),
        route(Method::GET, "/metrics", metrics::render),
        route(Method::GET, "/openapi.json", openapi::document),
    ]
}

/// The method and path (axum's and OpenAPI's `{name}` for a parameter) of every route the
/// service serves. A `GET` route answers `HEAD` too, as axum's do.
pub fn route_table() -> Vec<(Method, &'static str)> {
    routes()
        .into_iter()
        .map(|route| (route.method, route.path))
        .collect()
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
