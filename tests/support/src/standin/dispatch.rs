//! From an HTTP request to the stand-in's answer: the request read and authenticated (its
//! session cookie or its password), what it holds while it runs (`locks`), the fault injected
//! into it (`faults`), and the protocol that answers it: `webdav`, `trash`, `public_link`, or
//! `ocs` (with `shares` and `password_policy`). The behaviour of each call is in its protocol's
//! module.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use futures_util::StreamExt;
use http::Response;
use http::request::Parts;
use http::{HeaderMap, Method, Request, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::body::Incoming;

use super::answers::{self, Answer};
use super::call::{Call, decode_segments};
use super::faults::{Fault, Step};
use super::locks::{Held, Lock};
use super::ocs;
use super::owncloud::{self, DAV_TRASH_BIN, Flavour, PUBLIC_FILES};
use super::password_policy::GENERATE;
use super::public_link::{self, PUBLIC_DAV};
use super::sessions::Authenticated;
use super::shares::{SHARES, find_share};
use super::trash::DAV_TRASH;
use super::webdav::DAV_FILES;
use super::{DropConnection, SeenRequest, Shared, World};

pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Served>, DropConnection> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(DropConnection),
    };
    let mut call = Call::new(&shared, &parts, body);
    shared.world().seen.push(SeenRequest {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned(),
        authenticated: call.authenticated,
        body_len: call.body.len(),
    });
    // What the request holds while it runs (see `locks`), for as long as it takes.
    let held = call.holds(&shared.world());
    call.conflicted = held
        .as_ref()
        .is_some_and(|held| shared.world().locks.conflicts(held));
    let lock = held.map(|held| Lock::take(&shared, held));
    let mut wait = shared.options.latency;
    if lock.is_some() {
        wait = wait.max(shared.options.lock_hold);
    }
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }

    let step = call.step();
    let fault = step.and_then(|step| shared.world().faults.take(step));
    let Some(fault) = fault else {
        return Ok(served(call.perform(&mut shared.world())));
    };
    tracing::debug!(?step, ?fault, "stand-in: injecting a fault");
    // What each fault answers: docs/nextcloud-behaviour.md, "Failures the tests inject".
    // Faults that happen instead of the work.
    match fault {
        Fault::Status(status) => return Ok(served(call.refusal(status))),
        Fault::Unavailable { retry_after } => {
            let mut answer = call.refusal(503);
            answer
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after.into());
            return Ok(served(answer));
        }
        Fault::OcsMismatch if call.is_ocs() => {
            return Ok(served(answers::ocs_v1_error(
                404,
                "Wrong path, file/folder does not exist",
            )));
        }
        Fault::Gone if step == Some(Step::Mkcol) => {
            return Ok(served(answers::not_located(&call.path)));
        }
        Fault::Gone => call.remove_target(&mut shared.world()),
        Fault::Locked if call.is_ocs() => {
            return Ok(served(call.refusal(423)));
        }
        Fault::Locked => {
            shared.world().locks.locked_answers += 1;
            return Ok(served(answers::file_locked(&call.path)));
        }
        Fault::Outage(length) => {
            let _ = shared.outages.send(length);
            return Err(DropConnection);
        }
        _ => {}
    }
    let answer = call.perform(&mut shared.world());
    // Faults that happen after it.
    match fault {
        Fault::DropConnection => Err(DropConnection),
        Fault::SlowAnswer(delay) => {
            tokio::time::sleep(delay).await;
            Ok(served(answer))
        }
        Fault::ResetMidBody => Ok(broken_off(answer)),
        Fault::Malformed => Ok(served(garbled(answer))),
        _ => Ok(served(answer)),
    }
}

/// The body type the stand-in serves: whole answers, or one broken off by a fault.
pub(crate) type Served = UnsyncBoxBody<Bytes, std::io::Error>;

/// A whole answer, as served.
pub(crate) fn served(answer: Answer) -> Response<Served> {
    answer.map(|body| body.map_err(|never| match never {}).boxed_unsync())
}

/// The answer's head and the first half of its body (announced whole), then a broken
/// connection.
pub(crate) fn broken_off(answer: Answer) -> Response<Served> {
    let (mut parts, body) = answer.into_parts();
    let whole = body.into_inner().unwrap_or_default();
    let announced = whole.len() + 64;
    parts
        .headers
        .insert(header::CONTENT_LENGTH, announced.into());
    let part = whole.slice(..whole.len() / 2);
    let frames = futures_util::stream::iter([Ok(Frame::data(part))]).chain(
        futures_util::stream::once(async {
            // Long enough for the head and the part to be on their way.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            Err(std::io::Error::other(
                "connection broken by an injected fault",
            ))
        }),
    );
    Response::from_parts(parts, StreamBody::new(frames).boxed_unsync())
}

/// The answer with its body cut in half and garbage after it: JSON or XML that does not parse.
pub(crate) fn garbled(answer: Answer) -> Answer {
    let (mut parts, body) = answer.into_parts();
    let whole = body.into_inner().unwrap_or_default();
    let mut broken = whole[..whole.len() / 2].to_vec();
    broken.extend_from_slice(b"\0<\"}]<?xml");
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Full::new(Bytes::from(broken)))
}

impl<'a> Call<'a> {
    fn new(shared: &'a Shared, parts: &Parts, body: Bytes) -> Self {
        let credentials = basic_credentials(&parts.headers);
        let options = &shared.options;
        let full = parts.uri.path();
        let path = full
            .strip_prefix(options.base_path.as_str())
            .filter(|rest| rest.starts_with('/'))
            .unwrap_or("/\u{0}outside-base")
            .to_owned();
        // Public links authenticate with the share's password, not the account's
        // (docs/nextcloud-behaviour.md, "Public links over WebDAV"); the rest by session or
        // password ("Authentication cost and sessions").
        let authenticated = if public_link::is_public(&path) || path.starts_with(PUBLIC_FILES) {
            Authenticated::No
        } else {
            let cookies = parts
                .headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join("; ");
            shared.world().sessions.authenticate(
                &cookies,
                credentials.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
                (&options.username, &options.password),
                options.app_password,
            )
        };
        let (authenticated, new_session) = match authenticated {
            Authenticated::BySession => (true, Vec::new()),
            Authenticated::ByPassword(cookies) => (true, cookies),
            Authenticated::No => (false, Vec::new()),
        };
        Call {
            shared,
            method: parts.method.clone(),
            path,
            query: parts.uri.query().unwrap_or("").to_owned(),
            headers: parts.headers.clone(),
            body,
            authenticated,
            new_session,
            basic_user: credentials.as_ref().map(|(u, _)| u.clone()),
            basic_password: credentials.map(|(_, p)| p),
            conflicted: false,
        }
    }

    /// What this request holds while it runs: a share's DELETE locks the share's folder, a
    /// folder's DELETE the folder.
    fn holds(&self, world: &World) -> Option<Held> {
        if !self.authenticated || self.method != Method::DELETE {
            return None;
        }
        if let Some(rest) = self.path.strip_prefix(DAV_FILES) {
            let segments = decode_segments(rest);
            return Some(Held::Deleting(segments.get(1..)?.join("/")));
        }
        let id = self.path.strip_prefix(SHARES)?.trim_start_matches('/');
        find_share(world, id).map(|share| Held::Unsharing(share.path.clone()))
    }

    /// The protocol step this request is, for fault injection.
    fn step(&self) -> Option<Step> {
        let method = self.method.as_str();
        if self.path.starts_with(DAV_FILES) {
            return match method {
                "MKCOL" => Some(Step::Mkcol),
                "DELETE" => Some(Step::DeleteFolder),
                _ => None,
            };
        }
        if self.path.starts_with(DAV_TRASH) || self.path.starts_with(DAV_TRASH_BIN) {
            return match method {
                "PROPFIND" => Some(Step::ListTrash),
                "DELETE" => Some(Step::RemoveFromTrash),
                _ => None,
            };
        }
        if self.path == SHARES && method == "POST" {
            let permissions = self.share_params().permissions;
            return Some(Step::CreateShare { permissions });
        }
        if self.path.starts_with(SHARES) && method == "DELETE" {
            return Some(Step::DeleteShare);
        }
        (self.path == GENERATE).then_some(Step::GeneratePassword)
    }

    fn is_ocs(&self) -> bool {
        self.path.starts_with("/ocs/")
    }

    /// NextCloud's answer refusing this request with `status`: a Sabre error for WebDAV, an OCS
    /// envelope for OCS (docs/nextcloud-behaviour.md, "Failures the tests inject"; recordings `01`,
    /// `05`, `09 [19]` for 503).
    fn refusal(&self, status: u16) -> Answer {
        if self.is_ocs() {
            return answers::ocs_error(status, answers::reason(status));
        }
        match status {
            401 => answers::dav_unauthenticated(),
            404 => answers::not_located(&self.path),
            status => answers::sabre(
                status,
                answers::sabre_exception(status),
                answers::reason(status),
            ),
        }
    }

    /// Removes what this request is about, as a user deleting it would.
    fn remove_target(&self, world: &mut World) {
        if let Some(rest) = self.path.strip_prefix(DAV_FILES) {
            let segments = decode_segments(rest);
            let _ = world
                .storage
                .delete(&segments[1.min(segments.len())..].join("/"));
        } else if self.method == Method::POST {
            if let Some(path) = self.share_params().path {
                let _ = world.storage.delete(path.trim_matches('/'));
            }
        } else if let Some(Ok(id)) = self
            .path
            .strip_prefix(SHARES)
            .map(|id| id.trim_start_matches('/').parse::<u64>())
        {
            world.storage.shares.remove(&id);
        }
    }

    /// Does what the request asks, and answers; an answer to a request authenticated by its
    /// password carries the new session's cookies.
    fn perform(&self, world: &mut World) -> Answer {
        let mut answer = self.answer(world);
        if self.shared.options.flavour == Flavour::OwnCloud && self.is_ocs() && !self.wants_json() {
            answer = owncloud::as_xml(answer);
        }
        for cookie in &self.new_session {
            if let Ok(value) = http::HeaderValue::from_str(cookie) {
                answer.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        answer
    }

    fn answer(&self, world: &mut World) -> Answer {
        let flavour = self.shared.options.flavour;
        if let Some(rest) = self.path.strip_prefix(DAV_FILES) {
            return self.account_dav(world, rest);
        }
        if self.path == "/status.php" {
            return owncloud::status(flavour);
        }
        if flavour == Flavour::OwnCloud {
            if let Some(rest) = self.path.strip_prefix(DAV_TRASH_BIN) {
                return self.owncloud_trash(world, rest);
            }
            if let Some(rest) = self.path.strip_prefix(PUBLIC_FILES) {
                return self.public_files(world, rest);
            }
            if self.path.starts_with(PUBLIC_DAV) {
                return owncloud::app_not_installed();
            }
        }
        if let Some(rest) = self.path.strip_prefix(DAV_TRASH) {
            return self.trash_dav(world, rest);
        }
        if let Some(rest) = self.path.strip_prefix(PUBLIC_DAV) {
            return self.public_dav(world, rest);
        }
        if let Some(rest) = public_link::public_webdav_rest(&self.path) {
            return self.public_webdav(world, rest);
        }
        if ocs::serves(&self.path) {
            return self.ocs(world);
        }
        // Anything else (docs/nextcloud-behaviour.md, "What the stand-in leaves out").
        answers::empty(404)
    }
}

/// The user and password of a basic `Authorization` header.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}
