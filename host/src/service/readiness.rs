//! `GET /ready`: whether the service can do its job now — its database answers and a fresh
//! instance of the provider serving new rooms can be made — so that a load balancer or an
//! orchestrator sends it calls only then. `/health` stays the liveness answer: the process
//! runs and serves HTTP, whatever its database and provider do.
//!
//! Both checks together get [`READY_WITHIN`]: a readiness probe that hangs is as bad as one
//! that fails, and the prober's own timeout would tell nobody which part hung.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::time::Instant;

use super::Service;
use super::rest::ApiError;
use shared_folder_runtime::ErrorKind;

/// How long the checks may take together.
pub const READY_WITHIN: Duration = Duration::from_secs(5);

/// A part the service needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The folder records.
    Database,
    /// The provider serving new rooms.
    Provider,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Database => "database",
            Part::Provider => "provider",
        })
    }
}

/// Why the service is not ready: which part, and how it failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum NotReady {
    /// The part answered with an error of this kind (the error itself is in the log: the
    /// answer needs no token, so it carries no more than the kind).
    #[error("the {0} is not usable ({1}); the host's log says why")]
    Failed(Part, ErrorKind),
    /// The part did not answer in time.
    #[error("the {0} did not answer within {READY_WITHIN:?}")]
    TimedOut(Part),
}

impl From<NotReady> for ApiError {
    fn from(not_ready: NotReady) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            not_ready.to_string(),
        )
    }
}

/// `GET /ready`: 200 `{"status":"ready","provider":{…},"folders"}`, or 503 `not_ready` naming
/// the part that failed.
pub async fn ready(State(service): State<Arc<Service>>) -> Result<Response, ApiError> {
    let deadline = Instant::now() + READY_WITHIN;
    let folders = check(Part::Database, deadline, async {
        service
            .folders
            .folder_count()
            .await
            .map_err(|e| (e.kind(), e.to_string()))
    })
    .await?;
    let runtime = service.folders.runtime();
    check(Part::Provider, deadline, async {
        runtime.probe().await.map_err(|e| (e.kind(), e.to_string()))
    })
    .await?;
    let provider = runtime.provider();
    Ok(Json(json!({
        "status": "ready",
        "provider": {"name": provider.name, "digest": provider.digest, "contract": provider.contract},
        "folders": folders,
    }))
    .into_response())
}

/// Runs the check of `part` until `deadline`.
async fn check<T>(
    part: Part,
    deadline: Instant,
    check: impl Future<Output = Result<T, (ErrorKind, String)>>,
) -> Result<T, NotReady> {
    match tokio::time::timeout_at(deadline, check).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err((kind, error))) => {
            tracing::warn!(%part, %error, "not ready");
            Err(NotReady::Failed(part, kind))
        }
        Err(_) => {
            tracing::warn!(%part, within = ?READY_WITHIN, "not ready: no answer in time");
            Err(NotReady::TimedOut(part))
        }
    }
}
