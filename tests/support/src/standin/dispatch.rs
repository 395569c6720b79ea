//! From an HTTP request to the stand-in's answer: routing, authentication, faults, and the
//! behaviour of each call (citing the recording it follows).

use std::sync::Arc;
use std::time::Instant;

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
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

use super::answers::{self, Answer};
use super::call::{Call, decode_segments};
use super::faults::{Fault, Step};
use super::locks::{Held, Lock};
use super::public_link::PUBLIC_DAV;
use super::sessions::Authenticated;
use super::storage::{self, CREATE, DELETE, LinkShare, READ, SHARE, UPDATE};
use super::trash::DAV_TRASH;
use super::webdav::DAV_FILES;
use super::{DropConnection, SeenRequest, Shared, World};

const SHARES: &str = "/ocs/v2.php/apps/files_sharing/api/v1/shares";
const GENERATE: &str = "/ocs/v2.php/apps/password_policy/api/v1/generate";
const CAPABILITIES: &str = "/ocs/v2.php/cloud/capabilities";

/// Passwords NextCloud's policy refuses as common (a few of its list of a million).
const COMMON_PASSWORDS: &[&str] = &[
    "passwordpassword",
    "1234567890",
    "qwertyuiop",
    "password123",
    "administrator",
];

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

fn served(answer: Answer) -> Response<Served> {
    answer.map(|body| body.map_err(|never| match never {}).boxed_unsync())
}

/// The answer's head and the first half of its body (announced whole), then a broken
/// connection.
fn broken_off(answer: Answer) -> Response<Served> {
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
fn garbled(answer: Answer) -> Answer {
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
        // Public links authenticate with the share's password, not the account's.
        let authenticated = if path.starts_with(PUBLIC_DAV) {
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
        if self.path.starts_with(DAV_TRASH) {
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

    /// NextCloud's answer refusing this request with `status`: a Sabre error for WebDAV
    /// (`01-webdav-mkcol.txt`, `09-…` [19] for 503), an OCS envelope for OCS (`05-…`).
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
        for cookie in &self.new_session {
            if let Ok(value) = http::HeaderValue::from_str(cookie) {
                answer.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        answer
    }

    fn answer(&self, world: &mut World) -> Answer {
        if let Some(rest) = self.path.strip_prefix(DAV_FILES) {
            return self.account_dav(world, rest);
        }
        if let Some(rest) = self.path.strip_prefix(DAV_TRASH) {
            return self.trash_dav(world, rest);
        }
        if let Some(rest) = self.path.strip_prefix(PUBLIC_DAV) {
            return self.public_dav(world, rest);
        }
        if self.path == SHARES
            || self.path.starts_with(&format!("{SHARES}/"))
            || self.path == GENERATE
            || self.path == CAPABILITIES
        {
            if !self.authenticated {
                // `05-ocs-share-create-errors.txt` [13], [14]
                let message = if self.headers.contains_key(header::AUTHORIZATION) {
                    "Unauthorised"
                } else {
                    "Current user is not logged in"
                };
                return answers::ocs_error(401, message);
            }
            if self
                .headers
                .get("ocs-apirequest")
                .and_then(|v| v.to_str().ok())
                != Some("true")
            {
                return answers::csrf_failed();
            }
            if self.path == GENERATE {
                return self.generate_password();
            }
            if self.path == CAPABILITIES {
                return self.capabilities();
            }
            return self.shares(world);
        }
        answers::empty(404)
    }

    // ---- OCS shares (`04-ocs-share-create.txt`, `05-…errors`, `07-…list-get`, `12-…delete`) ----

    fn shares(&self, world: &mut World) -> Answer {
        let id = self
            .path
            .strip_prefix(SHARES)
            .unwrap_or("")
            .trim_start_matches('/');
        match (self.method.as_str(), id.is_empty()) {
            ("POST", true) => self.create_share(world),
            ("GET", true) => self.list_shares(world),
            ("GET", false) => match find_share(world, id) {
                Some(share) => answers::ocs_ok(json!([self.share_json(&world.storage, share)])),
                None => answers::ocs_error(404, "Wrong share ID, share does not exist"),
            },
            ("PUT", false) => self.update_share(world, id),
            ("DELETE", false) => {
                // Lost the race to its folder's DELETE: the share goes with the folder, and the
                // answer is NextCloud's HTML page (`15-…`, `23-delete-ordering.txt` (d)).
                if self.conflicted {
                    return answers::page_not_found();
                }
                match id
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| world.storage.shares.remove(&id))
                {
                    Some(_) => answers::ocs_ok(json!([])),
                    None => answers::ocs_error(404, "Wrong share ID, share does not exist"),
                }
            }
            _ => answers::ocs_error(405, "Method not allowed"),
        }
    }

    fn create_share(&self, world: &mut World) -> Answer {
        let options = &self.shared.options;
        if let Some(limit) = options.share_rate_limit {
            // 20 per user per 10 minutes, then 429 with an empty body (`14-…` [22]).
            let now = Instant::now();
            world
                .share_times
                .retain(|t| now.duration_since(*t).as_secs() < 600);
            if world.share_times.len() >= limit {
                return answers::empty(429);
            }
            world.share_times.push(now);
        }
        let params = self.share_params();
        let Some(path) = params.path.as_deref() else {
            return answers::ocs_error(404, "Please specify a file or folder path");
        };
        let path = path.trim_matches('/').to_owned();
        if world.storage.get(&path).is_none() {
            return answers::ocs_error(404, "Wrong path, file/folder does not exist");
        }
        if params.share_type != Some(3) {
            return answers::ocs_error(400, "Unknown share type");
        }
        let permissions = params.permissions;
        if permissions > 31 || permissions & (READ | CREATE) == 0 {
            return answers::ocs_error(400, "Share must at least have READ or CREATE permissions");
        }
        if permissions & (UPDATE | DELETE) != 0 && permissions & READ == 0 {
            return answers::ocs_error(
                400,
                "Share must have READ permission if UPDATE or DELETE permission is set",
            );
        }
        let expiration = match params.expire_date.as_deref() {
            None | Some("") => None,
            Some(date) => match parse_future_date(date) {
                Ok(date) => Some(format!("{date} 00:00:00")),
                Err(message) => return answers::ocs_error(404, message),
            },
        };
        if let Some(password) = params.password.as_deref().filter(|p| !p.is_empty())
            && let Some(message) = policy_refusal(password, options.password_min_length)
        {
            // NextCloud 32 answers 400 (`05-ocs-share-create-errors.txt` [1], [2]).
            return answers::ocs_error(400, &message);
        }
        world.storage.next_share_id += 1;
        let share = LinkShare {
            id: world.storage.next_share_id,
            token: rand::rng()
                .sample_iter(&Alphanumeric)
                .take(15)
                .map(char::from)
                .collect(),
            path,
            // The share bit comes back added: 1 → 17, 15 → 31 (`04-…` [1], [2]).
            permissions: permissions | SHARE,
            password: params.password.filter(|p| !p.is_empty()),
            expiration,
        };
        world.shares_created += 1;
        let data = self.share_json(&world.storage, &share);
        world.storage.shares.insert(share.id, share);
        answers::ocs_ok(data)
    }

    /// `08-ocs-share-update.txt`: one field per request; unknown id → 404 ([5]); permissions
    /// without READ or CREATE → 400 ([4]); the answer is the updated share ([1], [3]).
    fn update_share(&self, world: &mut World, id: &str) -> Answer {
        let host_json = |world: &World, id: u64| {
            world
                .storage
                .shares
                .get(&id)
                .map(|share| self.share_json(&world.storage, share))
        };
        let Some(id) = find_share(world, id).map(|share| share.id) else {
            return answers::ocs_error(404, "Wrong share ID, share does not exist");
        };
        for (name, value) in self.fields() {
            let text = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            let Some(share) = world.storage.shares.get_mut(&id) else {
                break;
            };
            match name.as_str() {
                "permissions" => match text.parse::<u32>() {
                    Ok(bits) if bits <= 31 && bits & (READ | CREATE) != 0 => {
                        share.permissions = bits | SHARE;
                    }
                    _ => {
                        return answers::ocs_error(
                            400,
                            "Share must at least have READ or CREATE permissions",
                        );
                    }
                },
                "expireDate" => match parse_future_date(&text) {
                    Ok(date) => share.expiration = Some(format!("{date} 00:00:00")),
                    Err(message) => return answers::ocs_error(404, message),
                },
                "password" => {
                    if let Some(message) =
                        policy_refusal(&text, self.shared.options.password_min_length)
                    {
                        return answers::ocs_error(400, &message);
                    }
                    share.password = Some(text);
                }
                // Label and note are accepted and not kept: nothing here reads them.
                _ => {}
            }
        }
        match host_json(world, id) {
            Some(data) => answers::ocs_ok(data),
            None => answers::ocs_error(404, "Wrong share ID, share does not exist"),
        }
    }

    fn list_shares(&self, world: &World) -> Answer {
        let path = form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == "path")
            .map(|(_, v)| v.trim_matches('/').to_owned());
        if let Some(path) = &path
            && world.storage.get(path).is_none()
        {
            return answers::ocs_error(404, "Wrong path, file/folder does not exist");
        }
        let shares: Vec<Value> = world
            .storage
            .shares
            .values()
            .filter(|s| path.as_ref().is_none_or(|p| s.path == *p))
            .map(|s| self.share_json(&world.storage, s))
            .collect();
        answers::ocs_ok(Value::Array(shares))
    }

    /// The share as OCS formats it (`04-ocs-share-create.txt`); the URL follows the request's
    /// host (`10-share-url-and-host.txt` [2]) and has the `/index.php/s/<token>` form.
    fn share_json(&self, storage: &storage::Storage, share: &LinkShare) -> Value {
        let host = self
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let item_type = if storage.is_folder(&share.path) {
            "folder"
        } else {
            "file"
        };
        let user = &self.shared.options.username;
        let name = share.path.rsplit('/').next().unwrap_or_default();
        // NextCloud sends the password's hash, never the password (`04-…` [1]); a stand-in
        // marker of that form will do.
        let hashed = share
            .password
            .as_ref()
            .map(|_| format!("3|$argon2id$v=19$m=65536,t=4,p=1$stand-in${}", share.token));
        // Every field of the recorded answer, so that clients that read any of them work.
        json!({
            "id": share.id.to_string(),
            "share_type": 3,
            "uid_owner": user,
            "displayname_owner": user,
            "permissions": share.permissions,
            "can_edit": true,
            "can_delete": true,
            "stime": 1_795_369_152u64,
            "parent": null,
            "expiration": share.expiration,
            "token": share.token,
            "uid_file_owner": user,
            "note": "",
            "label": "",
            "displayname_file_owner": user,
            "path": format!("/{}", share.path),
            "item_type": item_type,
            "item_permissions": 31,
            "is-mount-root": false,
            "mount-type": "",
            "mimetype": if item_type == "folder" { "httpd/unix-directory" } else { "application/octet-stream" },
            "has_preview": false,
            "storage_id": format!("home::{user}"),
            "storage": 1,
            "item_source": 100 + share.id,
            "file_source": 100 + share.id,
            "file_parent": 1,
            "file_target": format!("/{name}"),
            "item_size": 0,
            "item_mtime": 1_795_369_147u64,
            "share_with": hashed,
            "share_with_displayname": "(Shared link)",
            "password": hashed,
            "send_password_by_talk": false,
            "url": format!("{}/index.php/s/{}", self.link_base(host), share.token),
            "mail_send": 0,
            "hide_download": 0,
            "attributes": null,
        })
    }

    /// Where share links point: the stand-in itself as the request named it, or
    /// `Options::link_base` (a NextCloud behind a proxy, `18-…`).
    fn link_base(&self, host: &str) -> String {
        let options = &self.shared.options;
        match &options.link_base {
            Some(base) => base.trim_end_matches('/').to_owned(),
            None => {
                let scheme = if options.tls.is_some() {
                    "https"
                } else {
                    "http"
                };
                format!("{scheme}://{host}{}", options.base_path)
            }
        }
    }

    fn share_params(&self) -> ShareParams {
        let mut fields = self.fields();
        let mut take = |name: &str| {
            fields
                .iter()
                .position(|(k, _)| k == name)
                .map(|i| fields.remove(i).1)
        };
        let text = |v: Option<Value>| match v {
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        ShareParams {
            path: text(take("path")),
            share_type: text(take("shareType")).and_then(|s| s.parse().ok()),
            // A link share without permissions is read-only.
            permissions: text(take("permissions"))
                .and_then(|s| s.parse().ok())
                .unwrap_or(READ),
            password: text(take("password")),
            expire_date: text(take("expireDate")),
        }
    }

    /// The parts of the capabilities a client of shares reads (`22-rate-limit-visibility.txt`
    /// [4]): nothing in them tells of the share rate limit; `bruteforce.allow-listed` says
    /// whether the caller's address is on the brute-force allowlist.
    fn capabilities(&self) -> Answer {
        let options = &self.shared.options;
        answers::ocs_ok(json!({
            "version": {"major": 32, "minor": 0, "micro": 1, "string": "32.0.1", "edition": "", "extendedSupport": false},
            "capabilities": {
                "bruteforce": {"delay": 0, "allow-listed": options.allow_listed},
                "files_sharing": {
                    "api_enabled": true,
                    "public": {
                        "enabled": true,
                        "password": {"enforced": false, "askForOptionalPassword": false},
                        "expire_date": {"enabled": false},
                        "multiple_links": true,
                        "upload": true,
                        "upload_files_drop": true,
                    },
                    "default_permissions": 31,
                },
                "password_policy": {
                    "minLength": options.password_min_length,
                    "enforceNonCommonPassword": true,
                },
            },
        }))
    }

    fn generate_password(&self) -> Answer {
        // `11-password-policy.txt` [1]: a fresh password that satisfies the policy.
        let length = self.shared.options.password_min_length.max(10) + 6;
        let mut rng = rand::rng();
        let mut password: String = (&mut rng)
            .sample_iter(&Alphanumeric)
            .take(length)
            .map(char::from)
            .collect();
        password.push_str("a1-Z");
        answers::ocs_ok(json!({"password": password}))
    }
}

struct ShareParams {
    path: Option<String>,
    share_type: Option<u32>,
    permissions: u32,
    password: Option<String>,
    expire_date: Option<String>,
}

fn find_share<'w>(world: &'w World, id: &str) -> Option<&'w LinkShare> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| world.storage.shares.get(&id))
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The policy's refusal of `password`, in NextCloud's words (`05-…` [1], [2]).
fn policy_refusal(password: &str, min_length: usize) -> Option<String> {
    let mut reasons = Vec::new();
    if COMMON_PASSWORDS.contains(&password.to_ascii_lowercase().as_str()) || password.len() < 4 {
        reasons.push(
            "Password is among the 1,000,000 most common ones. Please make it unique.".to_owned(),
        );
    }
    if password.chars().count() < min_length {
        reasons.push(format!(
            "Password needs to be at least {min_length} characters long."
        ));
    }
    (!reasons.is_empty()).then(|| reasons.join(" "))
}

/// `YYYY-MM-DD` (a time after it is dropped, `04-…` [7]) that lies after today.
fn parse_future_date(text: &str) -> Result<String, &'static str> {
    const INVALID: &str = "Invalid date. Format must be YYYY-MM-DD";
    let day = text.get(..10).ok_or(INVALID)?;
    let mut parts = day.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(INVALID);
    };
    let year: i32 = y.parse().map_err(|_| INVALID)?;
    let month: u8 = m.parse().map_err(|_| INVALID)?;
    let day_of_month: u8 = d.parse().map_err(|_| INVALID)?;
    let month = time::Month::try_from(month).map_err(|_| INVALID)?;
    let date = time::Date::from_calendar_date(year, month, day_of_month).map_err(|_| INVALID)?;
    if date <= time::OffsetDateTime::now_utc().date() {
        // `05-ocs-share-create-errors.txt` [4], [5]: today counts as the past.
        return Err("Expiration date is in the past");
    }
    Ok(day.to_owned())
}
