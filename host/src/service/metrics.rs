//! `GET /metrics`: what the host and its runtime measured, in the Prometheus text format.
//!
//! The runtime records its calls, the storage's answers, swaps and instantiation times
//! through the `metrics` facade ([`shared_folder_runtime::metrics`]); this module installs the
//! Prometheus recorder those measurements go to (once per process: [`install`]) and renders
//! it when scraped. The recorder has no listener of its own: the service's router serves it,
//! on the service's address. Like `/health`, it needs no token — it says nothing about rooms
//! or secrets, and operators keep it behind their network as they keep Prometheus.
//!
//! What the service knows itself, the number of WebSocket sessions, is read when scraped
//! ([`WEBSOCKET_SESSIONS`]) rather than counted along the way.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ::metrics::{Unit, describe_gauge, gauge};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use shared_folder_runtime::metrics as runtime_metrics;

use super::Service;
use super::rest::ApiError;

/// Gauge of the participants' open WebSocket sessions.
pub const WEBSOCKET_SESSIONS: &str = "shared_folder_websocket_sessions";

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Buckets of a provider call's duration, in seconds: from a call against a storage next door
/// (a few ms) to the call deadline (120 s by default).
const CALL_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];
/// Buckets of an instantiation, in seconds: the pooling allocator makes one in ~10 µs, the
/// on-demand one in ~20–40 µs (README, "Performance"); milliseconds mean trouble.
const INSTANTIATION_BUCKETS: &[f64] = &[
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1, 1.0,
];
/// Buckets of a component's compilation, in seconds (~0.1 s for the built-in providers).
const COMPILE_BUCKETS: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// How often histograms are drained into their buckets when nobody scrapes: their samples
/// wait in memory until then.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Why there are no metrics to render.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MetricsError {
    /// The process had a `metrics` recorder before the service installed its own (an embedding
    /// controller's): the measurements go there.
    #[error("another metrics recorder is installed in this process: {0}")]
    OtherRecorder(String),
    /// The recorder could not be configured.
    #[error("the Prometheus recorder could not be set up: {0}")]
    Setup(String),
}

static RECORDER: OnceLock<Result<PrometheusHandle, MetricsError>> = OnceLock::new();

/// Installs the Prometheus recorder as the process's `metrics` recorder, the first time it is
/// called ([`super::Service::router`] does); later calls return the same handle, or the same
/// error.
pub fn install() -> Result<&'static PrometheusHandle, &'static MetricsError> {
    RECORDER.get_or_init(build).as_ref()
}

fn build() -> Result<PrometheusHandle, MetricsError> {
    let setup = |e: metrics_exporter_prometheus::BuildError| MetricsError::Setup(e.to_string());
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(runtime_metrics::PROVIDER_CALL_SECONDS.to_owned()),
            CALL_BUCKETS,
        )
        .map_err(setup)?
        .set_buckets_for_metric(
            Matcher::Full(runtime_metrics::INSTANTIATION_SECONDS.to_owned()),
            INSTANTIATION_BUCKETS,
        )
        .map_err(setup)?
        .set_buckets_for_metric(
            Matcher::Full(runtime_metrics::COMPILE_SECONDS.to_owned()),
            COMPILE_BUCKETS,
        )
        .map_err(setup)?
        .install_recorder()
        .map_err(|e| MetricsError::OtherRecorder(e.to_string()))?;
    runtime_metrics::describe();
    describe_gauge!(
        crate::audit::FINDINGS,
        Unit::Count,
        "Differences between the records and the storage by kind, from the last audit (serve, every [host].audit_interval)."
    );
    ::metrics::describe_counter!(
        crate::audit::AUDITS,
        Unit::Count,
        "Audits of the records against the storage while serving, by outcome (agrees, differs, failed)."
    );
    describe_gauge!(
        WEBSOCKET_SESSIONS,
        Unit::Count,
        "Participants' open WebSocket sessions."
    );
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        // Scrapes drain the histograms too; without scrapes their samples pile up.
        tracing::warn!(%error, "no thread to drain the metrics' histograms between scrapes");
    }
    Ok(handle)
}

/// `GET /metrics`: the Prometheus text format; 503 `metrics_unavailable` when the process has
/// another recorder.
pub async fn render(State(service): State<Arc<Service>>) -> Result<Response, ApiError> {
    let handle = install().map_err(|error| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics_unavailable",
            error.to_string(),
        )
    })?;
    gauge!(WEBSOCKET_SESSIONS).set(service.signaling.session_count() as f64);
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], handle.render()).into_response())
}
