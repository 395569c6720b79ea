//! Public links as a participant uses them: WebDAV `/remote.php/dav/public-files/{token}/…`
//! (only there: without `/remote.php` it is 401 to everything, `call`) with Basic auth where
//! only the password counts, within what the link's type allows; and the link's web page
//! `/s/{token}` (API-NOTES §3.5 `webUrl`, §6 "Public-link WebDAV"; reva `ocdav/dav.go`;
//! docs/opencloud-behaviour.md, "Public links").

use http::{HeaderValue, header};

use super::World;
use super::answers::{self, Answer};
use super::call::Call;
use super::dav::{Place, escape_path};
use super::expiry;
use super::links::{Action, link_allows};

/// The public-link storage provider's id, which a refused upload's message names
/// (docs/opencloud-behaviour.md, "Public links").
const PUBLIC_STORAGE_ID: &str = "7993447f-687f-490d-875c-ac95e89a62a4";

impl Call<'_> {
    pub(super) fn public_dav(&self, world: &mut World, token: &str, rest: &str) -> Answer {
        // An unknown token: the public-share authentication finds nothing [I: 404, no body]
        // (API-NOTES §6; docs/opencloud-behaviour.md, "Public links").
        let Some(link) = world.drive.links.iter().find(|l| l.token == token).cloned() else {
            return answers::empty(404);
        };
        // An internal link needs a logged-in user (API-NOTES §3.5 link types; reva `dav.go`;
        // docs/opencloud-behaviour.md, "Public links").
        if link.link_type == "internal" {
            let mut answer = answers::sabre_coded(
                401,
                "No 'Authorization: Bearer' header found",
                "ERR_MISSING_BEARER_AUTH",
            );
            let challenge = format!("Bearer realm=\"{}\", charset=\"UTF-8\"", self.host);
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                answer.headers_mut().insert(header::WWW_AUTHENTICATE, value);
            }
            return answer;
        }
        // Only the password counts, whatever the user name (API-NOTES §6; reva `dav.go`;
        // docs/opencloud-behaviour.md, "Public links").
        match &self.basic_password {
            None => {
                return answers::sabre_coded(
                    401,
                    "No 'Authorization: Basic' header found",
                    "ERR_MISSING_BASIC_AUTH",
                );
            }
            Some(password) if link.password.as_ref() != Some(password) => {
                return answers::sabre_coded(
                    401,
                    "Username or password was incorrect",
                    "ERR_INVALID_CREDENTIALS",
                );
            }
            Some(_) => {}
        }
        // An expired link is gone [I]; so is one whose folder was deleted (API-NOTES §6;
        // reva `dav.go`: the token's target not found → 404; docs/opencloud-behaviour.md, "Public links").
        let expired = link
            .expiration
            .as_deref()
            .is_some_and(|e| e < expiry::format_utc(expiry::now_unix()).as_str());
        let opaque = link.item_id.rsplit('!').next().unwrap_or_default();
        let root = match world.drive.path_of(opaque) {
            Some(root) if !expired => root,
            _ => return answers::empty(404),
        };
        let path = if rest.is_empty() {
            root.clone()
        } else if root.is_empty() {
            rest.to_owned()
        } else {
            format!("{root}/{rest}")
        };
        let action = match self.method.as_str() {
            "PROPFIND" | "GET" | "HEAD" => Action::Read,
            "MKCOL" => Action::Create,
            "PUT" if world.drive.get(&path).is_some() => Action::Overwrite,
            "PUT" => Action::Create,
            "DELETE" => Action::Delete,
            _ => return answers::not_implemented(),
        };
        // What the link's type does not allow: 403, an upload with the gateway's message, a
        // MKCOL or DELETE with none (docs/opencloud-behaviour.md, "Public links"). An `edit` link
        // may delete its own folder: it goes to the owner's trash bin, and the links lead
        // nowhere after that.
        if !link_allows(&link.link_type, action) {
            let message = if self.method.as_str() == "PUT" {
                format!(
                    "gateway could not call InitiateFileUpload, ref=resource_id:{{storage_id:\"{PUBLIC_STORAGE_ID}\" opaque_id:\"{token}\" space_id:\"{PUBLIC_STORAGE_ID}\"}} path:\"./{rest}\": rpc error: code = PermissionDenied desc = auth: core access token is invalid"
                )
            } else {
                String::new()
            };
            return answers::sabre(403, &message);
        }
        let place = Place {
            href_base: format!(
                "{}/remote.php/dav/public-files/{}",
                self.shared.options.base_path.trim_end_matches('/'),
                escape_path(token)
            ),
            root,
            link: Some((link.link_type.as_str(), token)),
        };
        self.dav(world, &path, &place)
    }

    /// The web app's page for a link: served for any token, the app checks the link itself
    /// later [I].
    pub(super) fn link_page(&self) -> Answer {
        let mut answer = answers::empty(200);
        answer.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        *answer.body_mut() =
            "<!DOCTYPE html><html><head><title>OpenCloud</title></head><body></body></html>\n"
                .into();
        answer
    }
}
