//! From an HTTP request to the stand-in's answer: the request read and routed (`call`), counted,
//! delayed by the latency, given the fault injected at its step (`faults`), checked for the
//! account's credentials, then answered by its module: `graph`, `links`, `dav`, `trash_bin`,
//! `capabilities` or `public_link`.

use std::sync::Arc;

use http::{Method, Request, Response, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::answers::{self, Answer};
use super::call::{Call, Route};
use super::faults::{Fault, LinkType, Step};
use super::links::requested_link_type;
use super::{SeenRequest, Shared, World};
use crate::standin::DropConnection;
use crate::standin::dispatch::{Served, broken_off, garbled, served};

pub(super) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Served>, DropConnection> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(DropConnection),
    };
    let call = Call::new(&shared, &parts, body);
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
    if !shared.options.latency.is_zero() {
        tokio::time::sleep(shared.options.latency).await;
    }

    let step = call.step();
    let fault = step.and_then(|step| shared.world().faults.take(step));
    let Some(fault) = fault else {
        return Ok(served(call.answer(&mut shared.world())));
    };
    tracing::debug!(?step, ?fault, "OpenCloud stand-in: injecting a fault");
    // What each fault answers: API-NOTES §5 for the steps; docs/opencloud-behaviour.md,
    // "Failures the tests inject".
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
        Fault::Locked => return Ok(served(call.refusal(423))),
        Fault::OcsMismatch if step == Some(Step::Capabilities) => {
            // OCS v1's way of failing: HTTP 200, the failure only in `statuscode` [I] (API-NOTES
            // §3.4; docs/opencloud-behaviour.md, "Failures the tests inject").
            return Ok(served(answers::ocs_v1(
                200,
                996,
                "Internal Server Error",
                serde_json::json!([]),
            )));
        }
        // Nothing to remove: the drive (or, for a MKCOL, the space) is missing.
        Fault::Gone if step == Some(Step::Drive) => {
            return Ok(served(answers::odata(404, "drive not found")));
        }
        Fault::Gone if step == Some(Step::Mkcol) => return Ok(served(call.refusal(404))),
        Fault::Gone => call.remove_target(&mut shared.world()),
        Fault::Outage(length) => {
            let _ = shared.outages.send(length);
            return Err(DropConnection);
        }
        _ => {}
    }
    let answer = call.answer(&mut shared.world());
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

impl Call<'_> {
    /// The protocol step this request is, for fault injection.
    fn step(&self) -> Option<Step> {
        let method = self.method.as_str();
        match (&self.route, method) {
            (Route::MyDrive | Route::MyDrives, "GET") => Some(Step::Drive),
            (Route::Space { .. }, "MKCOL") => Some(Step::Mkcol),
            (Route::Space { .. }, "HEAD" | "PROPFIND")
            | (Route::Children { .. } | Route::MyRootChildren, "GET") => Some(Step::ResolveItem),
            (Route::Space { .. }, "DELETE") => Some(Step::DeleteFolder),
            (Route::TrashBin { .. }, "PROPFIND") => Some(Step::ListTrash),
            (Route::TrashBin { .. }, "DELETE") => Some(Step::RemoveFromTrash),
            (Route::Capabilities { .. }, "GET") => Some(Step::Capabilities),
            (Route::CreateLink { .. }, "POST") => {
                let link_type: LinkType = requested_link_type(&self.body)?;
                Some(Step::CreateLink { link_type })
            }
            (Route::Permission { .. }, "DELETE") => Some(Step::DeleteLink),
            _ => None,
        }
    }

    /// OpenCloud's answer refusing this request with `status`, in its endpoint's shape: an odata
    /// error for Graph, reva's XML for WebDAV, an OCS envelope for OCS, the proxy's 401
    /// (docs/opencloud-behaviour.md, "Failures the tests inject").
    fn refusal(&self, status: u16) -> Answer {
        if status == 401 {
            return answers::unauthenticated(&self.method, &self.host);
        }
        match &self.route {
            route if route.is_graph() => answers::odata(status, answers::reason(status)),
            Route::Capabilities { .. } => answers::ocs_v1(
                status,
                status,
                answers::reason(status),
                serde_json::json!([]),
            ),
            _ if self.method == Method::HEAD => answers::empty(status),
            _ if status == 404 => answers::not_found(),
            _ => answers::sabre(status, answers::reason(status)),
        }
    }

    /// Removes what this request is about, as a user deleting it (into the trash bin) would:
    /// the item, the folder, or the link; or, in the trash bin, the entry, purged.
    fn remove_target(&self, world: &mut World) {
        let now = super::expiry::now_unix();
        match &self.route {
            Route::Space { space, path } => {
                if let Some(base) = super::dav::resolve(&world.drive, space) {
                    let _ = world.drive.trash_path(&super::dav::join(&base, path), now);
                }
            }
            Route::Children { item, .. } | Route::CreateLink { item, .. } => {
                let opaque = super::ids::ParsedId::parse(item).map(|id| id.opaque);
                if let Some(path) = opaque.and_then(|o| world.drive.path_of(&o)) {
                    let _ = world.drive.trash_path(&path, now);
                }
            }
            Route::Permission { permission, .. } => {
                world.drive.links.retain(|link| link.id != *permission);
            }
            Route::TrashBin { key: Some(key), .. } => {
                world.drive.purge_trash_entry(key);
            }
            _ => {}
        }
    }

    fn answer(&self, world: &mut World) -> Answer {
        // Everything but public links needs the account (API-NOTES §2, §6;
        // docs/opencloud-behaviour.md, "Authentication").
        if self.route.is_protected() && !self.authenticated {
            return answers::unauthenticated(&self.method, &self.host);
        }
        match &self.route {
            Route::MyDrive
            | Route::MyDrives
            | Route::Children { .. }
            | Route::MyRootChildren
            | Route::Item { .. } => self.graph(world),
            Route::CreateLink { .. }
            | Route::Permissions { .. }
            | Route::Permission { .. }
            | Route::SetPassword { .. }
            | Route::SharedByMe => self.links(world),
            Route::Space { space, path } => self.space_dav(world, space, path),
            Route::TrashBin {
                bin,
                by_user,
                key,
                rest,
            } => self.trash_bin(world, bin, *by_user, key.as_deref(), rest),
            // Listing the spaces is refused (not in API-NOTES; reva `ocdav/spaces.go`; docs/opencloud-behaviour.md,
            // "Folders over WebDAV").
            Route::SpaceListing => answers::empty(405),
            Route::PublicFiles { token, path } => self.public_dav(world, token, path),
            // docs/opencloud-behaviour.md, "Public links": whatever the method and password.
            Route::PublicFilesOutsideRemotePhp => answers::public_files_outside_remote_php(),
            Route::LinkPage => self.link_page(),
            Route::Capabilities { v2 } => self.capabilities(*v2),
            // docs/opencloud-behaviour.md, "Telling OpenCloud apart".
            Route::Status => answers::status_php(),
            // Not in API-NOTES' calls (§5): docs/opencloud-behaviour.md, "What the stand-in
            // leaves out".
            Route::Unknown => answers::page_not_found(),
        }
    }
}
