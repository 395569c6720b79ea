//! `GET /openapi.json`: the REST API described as OpenAPI 3.1, for the people and tools that
//! write a controller against it.
//!
//! The document is `host/openapi.json`, written by hand beside the handlers rather than
//! generated from annotations: the shapes it describes come from the runtime crate (the folder
//! views of [`shared_folder_runtime::roles`]), which stays free of web-framework code, and
//! every answer is one JSON object built in a handler. `tests/openapi.rs` keeps it honest: it
//! must describe exactly the routes [`super::route_table`] lists — the table the router is
//! built from — and real answers must fit its schemas.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The document, as served.
pub const DOCUMENT: &str = include_str!("../../openapi.json");

/// `GET /openapi.json`.
pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}
