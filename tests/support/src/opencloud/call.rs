//! One request as the stand-in reads it: its route below the base path, its credentials, its
//! body; what the modules answering it look at.

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method, header};

use super::Shared;
use crate::standin::call::decode_segments;
use crate::standin::dispatch::basic_credentials;

/// Where a request goes, its path segments percent-decoded (API-NOTES §1: the drive id arrives
/// with `$` as `%24`, and the Graph service unescapes ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// `/graph/v1.0/me/drive` (API-NOTES §3.1).
    MyDrive,
    /// `/graph/v1.0/me/drives`, `/graph/v1beta1/me/drives` (API-NOTES §3.1, §6).
    MyDrives,
    /// `/graph/v1beta1/me/drive/sharedByMe` (docs/opencloud-behaviour.md, "Listing the rooms'
    /// folders and their links").
    SharedByMe,
    /// `/graph/v1.0/drives/{d}/items/{i}/children`; only `v1.0` serves it
    /// (docs/opencloud-behaviour.md, "Listing children").
    Children {
        drive: String,
        item: String,
    },
    /// `/graph/v1.0/me/drive/root/children` (docs/opencloud-behaviour.md, "Listing children").
    MyRootChildren,
    /// `/graph/v1beta1/drives/{d}/items/{i}/createLink` (API-NOTES §3.5).
    CreateLink {
        drive: String,
        item: String,
    },
    /// `/graph/v1beta1/drives/{d}/items/{i}/permissions` (API-NOTES §3.7).
    Permissions {
        drive: String,
        item: String,
    },
    /// `/graph/v1beta1/drives/{d}/items/{i}/permissions/{p}` (API-NOTES §3.7).
    Permission {
        drive: String,
        item: String,
        permission: String,
    },
    /// `/graph/v1beta1/drives/{d}/items/{i}/permissions/{p}/setPassword` (API-NOTES §3.7;
    /// docs/opencloud-behaviour.md, "Changing a link's password").
    SetPassword {
        drive: String,
        item: String,
        permission: String,
    },
    /// `/graph/v1beta1/drives/{d}/items/{i}` (API-NOTES §6).
    Item {
        drive: String,
        item: String,
    },
    /// `/dav/spaces/{space}/{path…}`, `/remote.php/dav/spaces/…` (API-NOTES §1).
    Space {
        space: String,
        path: String,
    },
    /// `/dav/spaces/` without a space: listing is refused.
    SpaceListing,
    /// A space's trash bin, `/dav/spaces/trash-bin/{driveId}/{key}/{rest…}` (also under
    /// `/remote.php`), or the user form `/dav/trash-bin/{username}/…`
    /// (docs/opencloud-behaviour.md, "Trash bin").
    TrashBin {
        /// The drive id, or the user name for the user form.
        bin: String,
        by_user: bool,
        /// An entry's key: the part of the deleted item's id after `!`.
        key: Option<String>,
        /// Anything below the entry.
        rest: String,
    },
    /// `/remote.php/dav/public-files/{token}/{path…}` (docs/opencloud-behaviour.md, "Public
    /// links").
    PublicFiles {
        token: String,
        path: String,
    },
    /// `/dav/public-files/…` without `/remote.php`: 401 to everything
    /// (docs/opencloud-behaviour.md, "Public links").
    PublicFilesOutsideRemotePhp,
    /// `/s/{token}`, the link's web page (API-NOTES §3.5: `webUrl`).
    LinkPage,
    /// `/ocs/v1.php/cloud/capabilities`, or `/ocs/v2.php/…` (API-NOTES §3.4;
    /// docs/opencloud-behaviour.md, "Capabilities").
    Capabilities {
        v2: bool,
    },
    /// `/status.php`, `/status` (docs/opencloud-behaviour.md, "Telling OpenCloud apart").
    Status,
    Unknown,
}

impl Route {
    fn of(path: &str) -> Route {
        let segments = decode_segments(path);
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let owned = |i: usize| segments[i].clone();
        match s.as_slice() {
            ["graph", "v1.0", "me", "drive"] => Route::MyDrive,
            ["graph", "v1.0" | "v1beta1", "me", "drives"] => Route::MyDrives,
            ["graph", "v1beta1", "me", "drive", "sharedByMe"] => Route::SharedByMe,
            // v1beta1 has no children, nor has `drives/{id}/root/children` (404 page not found;
            // docs/opencloud-behaviour.md, "Listing children").
            ["graph", "v1.0", "drives", _, "items", _, "children"] => Route::Children {
                drive: owned(3),
                item: owned(5),
            },
            ["graph", "v1.0", "me", "drive", "root", "children"] => Route::MyRootChildren,
            ["graph", "v1beta1", "drives", _, "items", _, "createLink"] => Route::CreateLink {
                drive: owned(3),
                item: owned(5),
            },
            ["graph", "v1beta1", "drives", _, "items", _, "permissions"] => Route::Permissions {
                drive: owned(3),
                item: owned(5),
            },
            [
                "graph",
                "v1beta1",
                "drives",
                _,
                "items",
                _,
                "permissions",
                _,
            ] => Route::Permission {
                drive: owned(3),
                item: owned(5),
                permission: owned(7),
            },
            [
                "graph",
                "v1beta1",
                "drives",
                _,
                "items",
                _,
                "permissions",
                _,
                "setPassword",
            ] => Route::SetPassword {
                drive: owned(3),
                item: owned(5),
                permission: owned(7),
            },
            ["graph", "v1beta1", "drives", _, "items", _] => Route::Item {
                drive: owned(3),
                item: owned(5),
            },
            // ocdav serves public links unauthenticated only below `/remote.php/dav/public-files/`
            // (docs/opencloud-behaviour.md, "Public links").
            ["remote.php", "dav", "public-files", token, rest @ ..] => Route::PublicFiles {
                token: (*token).to_owned(),
                path: clean(rest),
            },
            ["dav", "public-files", ..] => Route::PublicFilesOutsideRemotePhp,
            // ocdav skips an optional `remote.php` (API-NOTES §1).
            ["remote.php", "dav", ..] | ["dav", ..] => {
                let start = usize::from(s[0] == "remote.php");
                match &s[start + 1..] {
                    ["spaces"] => Route::SpaceListing,
                    ["spaces", "trash-bin", bin, rest @ ..] => trash_bin(bin, false, rest),
                    ["trash-bin", user, rest @ ..] => trash_bin(user, true, rest),
                    ["spaces", space, rest @ ..] => Route::Space {
                        space: (*space).to_owned(),
                        path: clean(rest),
                    },
                    _ => Route::Unknown,
                }
            }
            ["s", _] => Route::LinkPage,
            ["ocs", "v1.php", "cloud", "capabilities"] => Route::Capabilities { v2: false },
            ["ocs", "v2.php", "cloud", "capabilities"] => Route::Capabilities { v2: true },
            ["status.php" | "status"] => Route::Status,
            _ => Route::Unknown,
        }
    }

    /// Whether the account's credentials are needed: everything but the public links, the v1
    /// capabilities and `status.php`, which the proxy lists among its public paths (API-NOTES
    /// §2, §6; docs/opencloud-behaviour.md, "Authentication" and "Public links").
    pub(super) fn is_protected(&self) -> bool {
        !matches!(
            self,
            Route::PublicFiles { .. }
                | Route::PublicFilesOutsideRemotePhp
                | Route::LinkPage
                | Route::Capabilities { v2: false }
                | Route::Status
        )
    }

    pub(super) fn is_graph(&self) -> bool {
        matches!(
            self,
            Route::MyDrive
                | Route::MyDrives
                | Route::Children { .. }
                | Route::MyRootChildren
                | Route::CreateLink { .. }
                | Route::Permissions { .. }
                | Route::Permission { .. }
                | Route::SetPassword { .. }
                | Route::SharedByMe
                | Route::Item { .. }
        )
    }
}

fn trash_bin(bin: &str, by_user: bool, rest: &[&str]) -> Route {
    Route::TrashBin {
        bin: bin.to_owned(),
        by_user,
        key: rest.first().map(|key| (*key).to_owned()),
        rest: clean(rest.get(1..).unwrap_or_default()),
    }
}

/// Path segments joined as Go's `path.Clean` leaves them: `.` dropped, `..` going up.
fn clean(segments: &[&str]) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in segments {
        match *segment {
            "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    kept.join("/")
}

/// One request, read.
pub(super) struct Call<'a> {
    pub(super) shared: &'a Shared,
    pub(super) method: Method,
    pub(super) route: Route,
    /// The `Host` the request was sent to (the realm of the 401's challenges).
    pub(super) host: String,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
    /// Whether the account's user name and app token came with it.
    pub(super) authenticated: bool,
    /// Whether its path went through `/remote.php`: WebDAV hrefs are written the way they were
    /// asked for (docs/opencloud-behaviour.md, "Folders over WebDAV").
    pub(super) remote_php: bool,
    /// The password of a Basic header, whatever the user: public links only look at it
    /// (API-NOTES §6).
    pub(super) basic_password: Option<String>,
}

impl<'a> Call<'a> {
    pub(super) fn new(shared: &'a Shared, parts: &Parts, body: Bytes) -> Self {
        let options = &shared.options;
        let credentials = basic_credentials(&parts.headers);
        let bearer = shared
            .bearer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let authenticated = credentials
            .as_ref()
            .is_some_and(|(user, token)| *user == options.username && *token == options.app_token)
            || bearer.is_some_and(|token| {
                parts
                    .headers
                    .get(http::header::AUTHORIZATION)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.strip_prefix("Bearer "))
                    == Some(token.as_str())
            });
        let base = options.base_path.trim_end_matches('/');
        let below_base = parts
            .uri
            .path()
            .strip_prefix(base)
            .filter(|rest| rest.starts_with('/'));
        let route = below_base.map_or(Route::Unknown, Route::of);
        let remote_php = below_base.is_some_and(|rest| rest.starts_with("/remote.php/"));
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Call {
            shared,
            method: parts.method.clone(),
            route,
            host,
            headers: parts.headers.clone(),
            body,
            authenticated,
            remote_php,
            basic_password: credentials.map(|(_, password)| password),
        }
    }

    /// `{base path}/remote.php/dav` or `{base path}/dav`, as the request had it: where WebDAV
    /// hrefs start.
    pub(super) fn dav_root(&self) -> String {
        format!(
            "{}{}/dav",
            self.shared.options.base_path.trim_end_matches('/'),
            if self.remote_php { "/remote.php" } else { "" }
        )
    }

    /// A request header's value, if it is text.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_decode_ids_and_skip_remote_php() {
        assert_eq!(
            Route::of("/remote.php/dav/spaces/52517fce%24abc/a/./b/../c"),
            Route::Space {
                space: "52517fce$abc".into(),
                path: "a/c".into()
            }
        );
        assert_eq!(
            Route::of("/graph/v1beta1/drives/s%24a/items/s%24a%21x/permissions/p"),
            Route::Permission {
                drive: "s$a".into(),
                item: "s$a!x".into(),
                permission: "p".into()
            }
        );
        assert_eq!(Route::of("/graph/v1.0/me/drive"), Route::MyDrive);
        assert_eq!(Route::of("/graph/v1beta1/me/drive"), Route::Unknown);
        assert_eq!(Route::of("/dav/spaces/"), Route::SpaceListing);
        assert_eq!(
            Route::of("/graph/v1beta1/drives/d/items/i/children"),
            Route::Unknown
        );
        assert_eq!(
            Route::of("/graph/v1.0/drives/d/root/children"),
            Route::Unknown
        );
        assert_eq!(
            Route::of("/remote.php/dav/spaces/trash-bin/a%2Db%24c/k/"),
            Route::TrashBin {
                bin: "a-b$c".into(),
                by_user: false,
                key: Some("k".into()),
                rest: String::new()
            }
        );
        assert_eq!(
            Route::of("/dav/public-files/t/a.txt"),
            Route::PublicFilesOutsideRemotePhp
        );
        assert_eq!(
            Route::of("/remote.php/dav/public-files/t/a.txt"),
            Route::PublicFiles {
                token: "t".into(),
                path: "a.txt".into()
            }
        );
        assert!(!Route::of("/ocs/v1.php/cloud/capabilities").is_protected());
        assert!(Route::of("/ocs/v2.php/cloud/capabilities").is_protected());
    }
}
