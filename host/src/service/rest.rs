//! The controller-facing HTTP API, modelled on OpenTalk's `/v1/events/{id}/shared_folder`.
//!
//! | call | answer |
//! |------|--------|
//! | `PUT /v1/events/{room}/shared_folder` | 201 made now, 200 existed; body: the moderator view |
//! | `GET /v1/events/{room}/shared_folder?role=moderator\|participant` | 200 the role's view (default participant); 404 none |
//! | `DELETE /v1/events/{room}/shared_folder[?force_delete_reference_if_shared_folder_deletion_fails=true]` | 204 |
//! | `POST /v1/events/{room}/tickets` `{"participant","role"}` | 201 `{"ticket","expires_in"}` |
//! | `PUT /v1/events/{room}/participants/{participant}/role` `{"role"}` | 204 |
//! | `GET /health` | 200, no token needed |
//!
//! Every `/v1` call needs `Authorization: Bearer <token>` with a token of `[host].api_tokens`.
//! Errors are JSON: `{"code": "...", "message": "..."}`, as OpenTalk's; no message carries a
//! secret.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Admission;
use super::Service;
use super::signaling::SignalingError;
use crate::error::HostError;
use crate::folders::Creation;
use shared_folder_runtime::roles::{self, Role};
use shared_folder_runtime::{ErrorKind, check_room_id};

/// An error answer.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds after which the call may succeed (`Retry-After`), for 429 and 503.
    retry_after: Option<u64>,
}

/// After how long a caller may try again while the database is unavailable: a restart of
/// the server takes seconds.
const DATABASE_RETRY_SECS: u64 = 5;

/// How long NextCloud's share rate limit counts share creations: 20 per user per 10 minutes
/// (docs/nextcloud-behaviour.md, "Share rate limit"). NextCloud's 429 does not say when a
/// slot frees; after this long the window is sure to have moved on.
const RATE_LIMIT_WINDOW_SECS: u64 = 600;

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl ApiError {
    /// 503 `records_unavailable` with `Retry-After`: the database could not be reached.
    fn database_unavailable(error: impl std::fmt::Display) -> Self {
        let mut unavailable = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "records_unavailable",
            error.to_string(),
        );
        unavailable.retry_after = Some(DATABASE_RETRY_SECS);
        unavailable
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"code": self.code, "message": self.message}));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<HostError> for ApiError {
    /// The status and code for each kind of failure ([`ErrorKind`]).
    fn from(error: HostError) -> Self {
        use StatusCode as S;
        let (status, code) = match error.kind() {
            ErrorKind::NoFolder => (S::NOT_FOUND, "not_found"),
            ErrorKind::InvalidRoom => (S::BAD_REQUEST, "invalid_room"),
            ErrorKind::AlreadyExists => (S::CONFLICT, "conflict"),
            ErrorKind::Configuration => (S::INTERNAL_SERVER_ERROR, "configuration"),
            ErrorKind::Unauthorized => (S::BAD_GATEWAY, "storage_unauthorized"),
            ErrorKind::Timeout | ErrorKind::Deadline => (S::GATEWAY_TIMEOUT, "storage_timeout"),
            // The storage's rate limit, not a broken storage: the caller may try again later.
            ErrorKind::Remote(429) => {
                let mut limited = ApiError::new(
                    S::TOO_MANY_REQUESTS,
                    "storage_rate_limited",
                    error.to_string(),
                );
                limited.retry_after = Some(RATE_LIMIT_WINDOW_SECS);
                return limited;
            }
            ErrorKind::Remote(_)
            | ErrorKind::NotFound
            | ErrorKind::Transport
            | ErrorKind::Protocol => (S::BAD_GATEWAY, "storage_error"),
            ErrorKind::RefusedAtLoad
            | ErrorKind::Trapped
            | ErrorKind::Unusable
            | ErrorKind::Instantiation => (S::INTERNAL_SERVER_ERROR, "provider_failed"),
            ErrorKind::Records => (S::INTERNAL_SERVER_ERROR, "records"),
            // The database is away (restarting, say): the caller may try again soon.
            ErrorKind::RecordsUnavailable => return ApiError::database_unavailable(error),
            ErrorKind::NotOffered => (S::NOT_IMPLEMENTED, "not_offered"),
        };
        ApiError::new(status, code, error.to_string())
    }
}

impl From<SignalingError> for ApiError {
    fn from(error: SignalingError) -> Self {
        let code = match error {
            SignalingError::Random(_) => "random",
            SignalingError::Database(_) => "records",
            SignalingError::DatabaseUnavailable(_) => {
                return ApiError::database_unavailable(error);
            }
        };
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, error.to_string())
    }
}

type ApiResult = Result<Response, ApiError>;

/// The answer to a path no route serves.
pub async fn no_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// Longest error text of axum's own that is passed on as the message.
const MAX_ERROR_TEXT: usize = 4 << 10;

/// Turns an error answer that is not yet `{"code","message"}` into one: axum's extractors
/// answer a malformed JSON body (400), a missing content type (415), an unknown role (422), a
/// body over the limit (413), bad UTF-8 in the path (400) or a wrong method (405) in plain
/// text, or with no body. The status and the other headers (`Allow`) stay.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ERROR_TEXT)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        status if status.is_client_error() => "bad_request",
        _ => "internal",
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = json!({"code": code, "message": message}).to_string();
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Checks the bearer token. Tokens are compared as SHA-256 digests, so the comparison's
/// time says nothing about how much of a token was right.
pub(super) fn authorize(service: &Service, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a bearer token is required",
            )
        })?;
    let presented = token_digest(presented.trim());
    if service.token_digests.contains(&presented) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the bearer token is not valid",
        ))
    }
}

/// The digest a token is compared by.
pub(super) fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub async fn create(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    Path(room): Path<String>,
) -> ApiResult {
    authorize(&service, &headers)?;
    // The room's sessions, on every host, hear of a new folder from the records.
    let Creation { record, created } = service.folders.create(&room).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let view = roles::access(&record, Role::Moderator);
    Ok((status, Json(view)).into_response())
}

#[derive(Deserialize)]
pub struct ViewQuery {
    role: Option<Role>,
}

pub async fn show(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    Path(room): Path<String>,
    Query(query): Query<ViewQuery>,
) -> ApiResult {
    authorize(&service, &headers)?;
    let role = query.role.unwrap_or(Role::Participant);
    Ok(Json(service.folders.access(&room, role).await?).into_response())
}

#[derive(Deserialize)]
pub struct DeleteQuery {
    #[serde(default)]
    force_delete_reference_if_shared_folder_deletion_fails: bool,
}

pub async fn delete(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    Path(room): Path<String>,
    Query(query): Query<DeleteQuery>,
) -> ApiResult {
    authorize(&service, &headers)?;
    let force = query.force_delete_reference_if_shared_folder_deletion_fails;
    // Once a delete has begun the folder is gone for participants (the records tell their
    // sessions), even if the storage failed midway and the delete is to be finished later:
    // its links may no longer work.
    service.folders.delete(&room, force).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    participant: String,
    role: Role,
}

pub async fn ticket(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    Path(room): Path<String>,
    Json(request): Json<TicketRequest>,
) -> ApiResult {
    authorize(&service, &headers)?;
    check_participant(&request.participant)?;
    // No ticket for a room that cannot have a folder.
    check_room_id(&room).map_err(HostError::from)?;
    let ticket = service
        .signaling
        .issue_ticket(Admission {
            room,
            participant: request.participant,
            role: request.role,
        })
        .await?;
    let body = json!({"ticket": ticket, "expires_in": service.signaling.ticket_ttl().as_secs()});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A participant id: 1 to 200 characters, none of them a control character (ids travel in
/// the records' notifications, which have a size limit and take no NUL).
fn check_participant(participant: &str) -> Result<(), ApiError> {
    if participant.is_empty()
        || participant.chars().count() > 200
        || participant.chars().any(char::is_control)
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_participant",
            "participant must have 1 to 200 characters, none of them a control character",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    role: Role,
}

pub async fn set_role(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    Path((room, participant)): Path<(String, String)>,
    Json(request): Json<RoleRequest>,
) -> ApiResult {
    authorize(&service, &headers)?;
    check_room_id(&room).map_err(HostError::from)?;
    check_participant(&participant)?;
    let before = service
        .signaling
        .set_role(&room, &participant, request.role)
        .await?;
    tracing::info!(room, participant, ?before, after = ?request.role, "role changed");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Liveness: answers whatever the database does (a database away is `/ready`'s business; a
/// host restarted for it would not start without it either), with the folder count when the
/// records answer within a second.
pub async fn health(State(service): State<Arc<Service>>) -> ApiResult {
    let provider = service.folders.runtime().provider();
    let count = service.folders.folder_count();
    let folders = match tokio::time::timeout(std::time::Duration::from_secs(1), count).await {
        Ok(Ok(folders)) => Some(folders),
        _ => None,
    };
    Ok(Json(json!({
        "status": "ok",
        "provider": {"name": provider.name, "digest": provider.digest, "contract": provider.contract},
        "folders": folders,
        "sessions": service.signaling.session_count(),
    }))
    .into_response())
}
