//! The trash bin: where a deleted folder, with the files in it, lands by default — and how it
//! is taken out again. NextCloud and ownCloud 10 keep it under different paths and properties
//! ([`Bin`]); a provider that does not know which server it talks to asks NextCloud's first and
//! ownCloud's when that one is not there.
//!
//! As seen on NextCloud 32 (docs/nextcloud-behaviour.md, "Trash bin"; recordings 16 [2] and
//! 19):
//! - a PROPFIND (Depth 1) of `/remote.php/dav/trashbin/<user>/trash/` lists each deleted item
//!   as `<name>.d<unix time>`, with `nc:trashbin-original-location` = its path below the
//!   account's root, without a leading slash; files deleted from inside a folder keep their own
//!   entries;
//! - DELETE of an entry's href removes it for good: 204, then 404;
//! - with the trash bin app disabled, the trash answers 404 and a folder's DELETE was final.
//!
//! As seen on ownCloud 10.13 (docs/owncloud-behaviour.md, "Trash bin"): the trash is
//! `/remote.php/dav/trash-bin/<user>/` (NextCloud's path answers 404, "File not found:
//! trashbin in 'root'", as NextCloud without a trash bin does); entries are
//! `…/trash-bin/<user>/<file id>[/]` with `oc:trashbin-original-location`, which has a leading
//! slash for files a participant deleted through a link; DELETE of an entry 204, then 404.

use crate::errors::Error;
use crate::http::{Request, Response};
use crate::paths::{self, FolderPath};
use crate::prelude::*;
use crate::settings::Settings;
use crate::webdav;

/// The largest trash listing read: the whole trash comes in one answer, a few hundred bytes an
/// entry.
pub const MAX_LISTING: usize = 8 << 20;

/// Where a server keeps its trash bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bin {
    /// NextCloud's `trashbin/<user>/trash/`, `nc:trashbin-original-location`.
    NextCloud,
    /// ownCloud 10's `trash-bin/<user>/`, `oc:trashbin-original-location`.
    OwnCloud,
}

impl Bin {
    /// The bins a server may have, in the order they are asked for.
    pub const ALL: [Bin; 2] = [Bin::NextCloud, Bin::OwnCloud];

    /// The trash folder's URL path.
    fn root(self, settings: &Settings) -> String {
        let user = paths::encode_segment(&settings.username);
        match self {
            Bin::NextCloud => format!(
                "{}/remote.php/dav/trashbin/{user}/trash/",
                settings.origin.base_path
            ),
            Bin::OwnCloud => format!(
                "{}/remote.php/dav/trash-bin/{user}/",
                settings.origin.base_path
            ),
        }
    }

    /// The PROPFIND body asking for each entry's original location.
    fn listing(self) -> &'static str {
        match self {
            Bin::NextCloud => {
                "<?xml version=\"1.0\"?>\
<d:propfind xmlns:d=\"DAV:\" xmlns:nc=\"http://nextcloud.org/ns\">\
<d:prop><nc:trashbin-original-location/></d:prop></d:propfind>"
            }
            Bin::OwnCloud => {
                "<?xml version=\"1.0\"?>\
<d:propfind xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\">\
<d:prop><oc:trashbin-original-location/></d:prop></d:propfind>"
            }
        }
    }

    /// The original location's element, as the server writes it.
    fn location_element(self) -> &'static str {
        match self {
            Bin::NextCloud => "nc:trashbin-original-location",
            Bin::OwnCloud => "oc:trashbin-original-location",
        }
    }
}

/// `PROPFIND` of the trash `bin`, one level deep, asking where each entry came from.
pub fn list(settings: &Settings, bin: Bin) -> Request {
    let body = bin.listing();
    Request::new("PROPFIND", bin.root(settings))
        .header("depth", "1")
        .header("content-type", "application/xml; charset=utf-8")
        .header("content-length", body.len().to_string())
        .body(body.as_bytes().to_vec())
        .limit(MAX_LISTING)
}

/// `DELETE` of one trash entry, by the href the listing gave.
pub fn remove(href: &str) -> Request {
    Request::new("DELETE", href.to_owned())
}

/// The hrefs of the entries that came from `folder` or from inside it. `None` when the account
/// has no trash bin (the app is disabled: the folder's DELETE was final).
pub fn entries_of(
    settings: &Settings,
    bin: Bin,
    response: &Response,
    folder: &FolderPath,
) -> Result<Option<Vec<String>>, Error> {
    match response.status {
        207 => {}
        404 => return Ok(None),
        _ => return Err(webdav::error(response)),
    }
    let text = core::str::from_utf8(&response.body)
        .map_err(|_| Error::Protocol("trash listing is not UTF-8".into()))?;
    provider_kit::trash::entries_from(
        text,
        bin.location_element(),
        &bin.root(settings),
        &folder.display(),
    )
    .map(Some)
    .ok_or_else(|| Error::Protocol("trash listing is not readable XML".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Origin, Scheme};

    fn settings() -> Settings {
        Settings {
            origin: Origin {
                scheme: Scheme::Http,
                authority: "127.0.0.1:8081".into(),
                base_path: String::new(),
            },
            username: "admin".into(),
            directory: vec!["opentalk".into(), "meetings".into()],
            expiry_days: None,
            delete_from_trash: true,
        }
    }

    fn answer(status: u16, body: &str) -> Response {
        Response::new(status, body.as_bytes())
    }

    // "Trash bin", recording 19 [2] and [6], with a file deleted from inside the folder and an
    // entry of another room added.
    const LISTING: &str = r#"<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns"><d:response><d:href>/remote.php/dav/trashbin/admin/trash/</d:href><d:propstat><d:prop><nc:trashbin-original-location/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response><d:response><d:href>/remote.php/dav/trashbin/admin/trash/twice.d1795960017/</d:href><d:propstat><d:prop><nc:trashbin-original-location>opentalk/meetings/twice</nc:trashbin-original-location></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:response><d:href>/remote.php/dav/trashbin/admin/trash/twice.d1795960016/</d:href><d:propstat><d:prop><nc:trashbin-original-location>opentalk/meetings/twice</nc:trashbin-original-location></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:response><d:href>/remote.php/dav/trashbin/admin/trash/notes.txt.d1795960018</d:href><d:propstat><d:prop><nc:trashbin-original-location>opentalk/meetings/twice/notes.txt</nc:trashbin-original-location></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:response><d:href>/remote.php/dav/trashbin/admin/trash/twice-2.d1795960019/</d:href><d:propstat><d:prop><nc:trashbin-original-location>opentalk/meetings/twice-2</nc:trashbin-original-location></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:response><d:href>/remote.php/dav/trashbin/admin/trash/r%c3%a4um%20%26%20co.d1795960020/</d:href><d:propstat><d:prop><nc:trashbin-original-location>opentalk/meetings/räum &amp; co</nc:trashbin-original-location></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#;

    #[test]
    fn the_entries_of_a_folder_and_of_files_inside_it_are_found() {
        let s = settings();
        let twice = FolderPath::for_room(&s.directory, "twice").unwrap();
        let found = entries_of(&s, Bin::NextCloud, &answer(207, LISTING), &twice)
            .unwrap()
            .unwrap();
        assert_eq!(
            found,
            [
                "/remote.php/dav/trashbin/admin/trash/twice.d1795960017/",
                "/remote.php/dav/trashbin/admin/trash/twice.d1795960016/",
                "/remote.php/dav/trashbin/admin/trash/notes.txt.d1795960018",
            ]
        );
        let escaped = FolderPath::for_room(&s.directory, "räum & co").unwrap();
        let found = entries_of(&s, Bin::NextCloud, &answer(207, LISTING), &escaped)
            .unwrap()
            .unwrap();
        assert_eq!(
            found,
            ["/remote.php/dav/trashbin/admin/trash/r%c3%a4um%20%26%20co.d1795960020/"]
        );
        let absent = FolderPath::for_room(&s.directory, "other").unwrap();
        assert!(
            entries_of(&s, Bin::NextCloud, &answer(207, LISTING), &absent)
                .unwrap()
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_sub_path_escaped_in_capitals_still_finds_the_lower_case_hrefs() {
        // The host's canonical `url` escapes a sub-path in capitals (`/n%C3%A4chste`);
        // NextCloud's hrefs use lower case.
        let mut s = settings();
        s.origin.base_path = "/n%C3%A4chste".into();
        let listing = LISTING.replace("<d:href>/remote.php", "<d:href>/n%c3%a4chste/remote.php");
        let twice = FolderPath::for_room(&s.directory, "twice").unwrap();
        let found = entries_of(&s, Bin::NextCloud, &answer(207, &listing), &twice)
            .unwrap()
            .unwrap();
        assert_eq!(found.len(), 3, "{found:?}");
    }

    #[test]
    fn no_trash_bin_and_refusals_are_told_apart() {
        let s = settings();
        let folder = FolderPath::for_room(&s.directory, "twice").unwrap();
        // "Trash bin", recording 19 [7]: the trash bin app disabled.
        let disabled = r#"<?xml version="1.0" encoding="utf-8"?>
<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">
  <s:exception>Sabre\DAV\Exception\NotFound</s:exception>
  <s:message>File not found: trashbin in 'root'</s:message>
</d:error>"#;
        assert_eq!(
            entries_of(&s, Bin::NextCloud, &answer(404, disabled), &folder).unwrap(),
            None
        );
        assert!(matches!(
            entries_of(&s, Bin::NextCloud, &answer(401, ""), &folder),
            Err(Error::Unauthorized(_))
        ));
        // An empty trash; a listing cut short or not a listing at all.
        let empty = "<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\"></d:multistatus>";
        assert!(matches!(
            entries_of(&s, Bin::NextCloud, &answer(207, empty), &folder),
            Ok(Some(found)) if found.is_empty()
        ));
        for broken in ["<d:multistatus><d:response><d:href>/x", "<<<", ""] {
            assert!(
                matches!(
                    entries_of(&s, Bin::NextCloud, &answer(207, broken), &folder),
                    Err(Error::Protocol(_))
                ),
                "{broken}"
            );
        }
    }

    #[test]
    fn an_href_outside_the_trash_is_never_taken() {
        let s = settings();
        let folder = FolderPath::for_room(&s.directory, "twice").unwrap();
        let forged = LISTING.replace(
            "/remote.php/dav/trashbin/admin/trash/twice.d1795960017/",
            "/remote.php/dav/files/admin/opentalk/",
        );
        let found = entries_of(&s, Bin::NextCloud, &answer(207, &forged), &folder)
            .unwrap()
            .unwrap();
        assert!(
            found
                .iter()
                .all(|h| h.starts_with("/remote.php/dav/trashbin/admin/trash/"))
        );
        assert_eq!(found.len(), 2);
    }

    // docs/owncloud-behaviour.md, "Trash bin": ownCloud 10.13's listing, with a file a
    // participant deleted through the link (leading slash) and another room's entry.
    const OWNCLOUD_LISTING: &str = r#"<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns"><d:response><d:href>/remote.php/dav/trash-bin/admin/</d:href><d:propstat><d:prop><oc:trashbin-original-location/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response><d:response><d:href>/remote.php/dav/trash-bin/admin/41</d:href><d:propstat><d:prop><oc:trashbin-original-location>/opentalk/meetings/twice/a.txt</oc:trashbin-original-location></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:response><d:href>/remote.php/dav/trash-bin/admin/40/</d:href><d:propstat><d:prop><oc:trashbin-original-location>opentalk/meetings/twice</oc:trashbin-original-location></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:response><d:href>/remote.php/dav/trash-bin/admin/42/</d:href><d:propstat><d:prop><oc:trashbin-original-location>opentalk/meetings/räum &amp; co 😀</oc:trashbin-original-location></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#;

    #[test]
    fn owncloud_entries_are_found_in_its_own_bin_only() {
        let s = settings();
        let twice = FolderPath::for_room(&s.directory, "twice").unwrap();
        let found = entries_of(&s, Bin::OwnCloud, &answer(207, OWNCLOUD_LISTING), &twice)
            .unwrap()
            .unwrap();
        assert_eq!(
            found,
            [
                "/remote.php/dav/trash-bin/admin/41",
                "/remote.php/dav/trash-bin/admin/40/"
            ]
        );
        let emoji = FolderPath::for_room(&s.directory, "räum & co 😀").unwrap();
        let found = entries_of(&s, Bin::OwnCloud, &answer(207, OWNCLOUD_LISTING), &emoji)
            .unwrap()
            .unwrap();
        assert_eq!(found, ["/remote.php/dav/trash-bin/admin/42/"]);
        // Read as NextCloud's bin, ownCloud's hrefs lie outside it: nothing is taken.
        assert!(
            entries_of(&s, Bin::NextCloud, &answer(207, OWNCLOUD_LISTING), &twice)
                .unwrap()
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn each_bin_is_listed_at_its_own_path() {
        let s = settings();
        let nextcloud = list(&s, Bin::NextCloud);
        assert_eq!(nextcloud.path, "/remote.php/dav/trashbin/admin/trash/");
        let owncloud = list(&s, Bin::OwnCloud);
        assert_eq!(owncloud.path, "/remote.php/dav/trash-bin/admin/");
        assert!(
            core::str::from_utf8(owncloud.body.as_deref().unwrap())
                .unwrap()
                .contains("<oc:trashbin-original-location/>")
        );
    }
}
