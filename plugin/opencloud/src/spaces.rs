//! The personal space over WebDAV, `{base}/dav/spaces/{driveId}/{path}` (API-NOTES §1, §3.2,
//! §3.3, §3.8 [V]; "Folders over WebDAV", "Deleting the folder"): folders made, their item id
//! found, and deleted.
//!
//! - MKCOL, without a body (one would be 415): 201 new, **no `OC-FileId`**; 405 exists; 409 the
//!   parent is missing (API-NOTES §3.2 [V]).
//! - HEAD: 200 with `OC-FileId: <storage>$<space>!<opaque>`, the folder's item id (API-NOTES
//!   §3.3 [V]); 404 without a body when it is missing.
//! - DELETE, without a body: 204, recursively; 404 missing (API-NOTES §3.8 [V]). The folder goes
//!   to the space's **trash bin**, not away for good: its files stay there (and count against
//!   the quota) until an operator purges the bin (`opencloud storage-users trash-bin
//!   purge-expired`) or the account's owner empties it; nothing empties it by itself
//!   (docs/opencloud-behaviour.md, "Trash bin").
//! - With `delete_from_trash`, the folder's entries leave the trash bin too — the folder's, and
//!   those of files a participant deleted from inside it through a link: `PROPFIND
//!   {base}/remote.php/dav/spaces/trash-bin/{driveId}` (Depth 1) lists each entry with its
//!   `oc:trashbin-original-location`; `DELETE` of an entry's href answers 204, and 409 "key …
//!   not found" once it is gone (seen on a real OpenCloud 0.1.0: docs/opencloud-behaviour.md,
//!   "Trash bin").
//!
//! Errors are reva's Sabre-style XML (API-NOTES §1 [V], "Answer shapes"), read by
//! `provider_kit::dav`.

use crate::errors::Error;
use crate::graph::STORAGE;
use crate::http::{Request, Response};
use crate::ids::{self, DriveId, ItemId};
use crate::prelude::*;
use crate::settings::Settings;
use provider_kit::dav::{self, Made, Removed};
use provider_kit::paths::FolderPath;

/// The header HEAD answers the item id in (API-NOTES §3.3 [V]), in lower case.
const FILE_ID: &str = "oc-fileid";

/// `{base}/dav/spaces/{driveId}/{a}/{b}/{room}`, the drive id's `$` as `%24` (API-NOTES §1 [V],
/// "IDs"), each segment percent-encoded.
pub fn dav_path(settings: &Settings, drive: &DriveId, folder: &FolderPath) -> String {
    format!(
        "{}/dav/spaces/{}{}",
        settings.origin.base_path,
        ids::encode(drive.as_str()),
        folder.encoded()
    )
}

pub fn mkcol(settings: &Settings, drive: &DriveId, folder: &FolderPath) -> Request {
    Request::new("MKCOL", dav_path(settings, drive, folder))
}

pub fn head(settings: &Settings, drive: &DriveId, folder: &FolderPath) -> Request {
    Request::new("HEAD", dav_path(settings, drive, folder)).keep_header(FILE_ID)
}

/// `PROPFIND` (`Depth: 1`) of `folder` ([`dav::list_folders`]; docs/opencloud-behaviour.md,
/// "Listing the rooms' folders and their links").
pub fn list(settings: &Settings, drive: &DriveId, folder: &FolderPath) -> Request {
    dav::list_folders(&dav_path(settings, drive, folder))
}

/// The folders a [`list`] answer names inside `folder`, each with its item id; `None` when
/// `folder` does not exist (404).
pub fn folders(
    drive: &DriveId,
    folder: &FolderPath,
    response: &Response,
) -> Result<Option<Vec<(String, ItemId)>>, Error> {
    let Some(listing) = dav::listing(response, folder, STORAGE)? else {
        return Ok(None);
    };
    let item = |id: Option<String>, what: &str| {
        let id = id.unwrap_or_default();
        ItemId::parse_in(drive, &id).ok_or_else(|| ids::unreadable(what, &id))
    };
    listing
        .folders
        .into_iter()
        .map(|found| {
            let id = item(found.file_id, "a listed folder's oc:fileid")?;
            Ok((found.name, id))
        })
        .collect::<Result<Vec<_>, Error>>()
        .map(Some)
}

pub fn delete(settings: &Settings, drive: &DriveId, folder: &FolderPath) -> Request {
    Request::new("DELETE", dav_path(settings, drive, folder))
}

/// The largest trash listing read: the whole bin comes in one answer.
pub const MAX_TRASH_LISTING: usize = 8 << 20;

const TRASH_LISTING: &str = "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" \
xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:trashbin-original-location/></d:prop>\
</d:propfind>";

/// The space's trash bin, as its hrefs begin.
fn trash_root(settings: &Settings, drive: &DriveId) -> String {
    format!(
        "{}/remote.php/dav/spaces/trash-bin/{}/",
        settings.origin.base_path,
        ids::encode(drive.as_str())
    )
}

/// `PROPFIND` of the space's trash bin, one level deep, asking where each entry came from.
pub fn list_trash(settings: &Settings, drive: &DriveId) -> Request {
    let root = trash_root(settings, drive);
    Request::new("PROPFIND", String::from(root.trim_end_matches('/')))
        .header("depth", "1")
        .header("content-type", "application/xml; charset=utf-8")
        .header("content-length", TRASH_LISTING.len().to_string())
        .body(TRASH_LISTING.as_bytes().to_vec())
        .limit(MAX_TRASH_LISTING)
}

/// The hrefs of the entries `folder` left in the trash bin: its own, and those of files
/// deleted from inside it.
pub fn trash_entries(
    settings: &Settings,
    drive: &DriveId,
    response: &Response,
    folder: &FolderPath,
) -> Result<Vec<String>, Error> {
    if response.status != 207 {
        return Err(dav::error(response, STORAGE));
    }
    let text = core::str::from_utf8(&response.body)
        .map_err(|_| Error::Protocol("trash listing is not UTF-8".into()))?;
    provider_kit::trash::entries_from(
        text,
        "oc:trashbin-original-location",
        &trash_root(settings, drive),
        &folder.display(),
    )
    .ok_or_else(|| Error::Protocol("trash listing is not readable XML".into()))
}

/// `DELETE` of one trash entry, by the href the listing gave.
pub fn remove_from_trash(href: &str) -> Request {
    Request::new("DELETE", String::from(href))
}

/// Whether a trash entry's DELETE left it gone: removed now (204), or not there (409 "key …
/// not found", or 404). Anything else is the storage's refusal.
pub fn removed_from_trash(response: &Response) -> Result<(), Error> {
    match response.status {
        200..=299 | 404 | 409 => Ok(()),
        _ => Err(dav::error(response, STORAGE)),
    }
}

/// What a MKCOL's answer says.
pub fn made(response: &Response) -> Result<Made, Error> {
    dav::made(response, STORAGE)
}

/// What a DELETE's answer says.
pub fn removed(response: &Response) -> Result<Removed, Error> {
    dav::removed(response, STORAGE)
}

/// The folder's item id from HEAD's answer; `None` when there is no folder (404).
pub fn item_id(response: &Response, drive: &DriveId) -> Result<Option<ItemId>, Error> {
    match response.status {
        200 => {}
        404 => return Ok(None),
        _ => return Err(dav::error(response, STORAGE)),
    }
    let id = response
        .header(FILE_ID)
        .ok_or_else(|| Error::Protocol("HEAD of the folder answered without OC-FileId".into()))?
        .trim();
    ItemId::parse_in(drive, id)
        .map(Some)
        .ok_or_else(|| ids::unreadable("the folder's OC-FileId", id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_kit::testing::minimal;

    const DRIVE: &str = "storage-users-1$1284d238-aa92-42ce-bdc4-0b0000009157";

    fn drive() -> DriveId {
        DriveId::parse(DRIVE).unwrap()
    }

    fn settings() -> Settings {
        crate::settings::read(&minimal("http://127.0.0.1:9200/")).unwrap()
    }

    fn head_answer(status: u16, file_id: Option<&str>) -> Response {
        Response {
            headers: file_id
                .map(|id| vec![(FILE_ID.to_owned(), id.to_owned())])
                .unwrap_or_default(),
            ..Response::new(status, Vec::new())
        }
    }

    #[test]
    fn paths_escape_the_dollar_and_each_segment() {
        let folder =
            FolderPath::for_room(&["open talk".to_owned(), "$x".to_owned()], "räum 1").unwrap();
        let request = head(&settings(), &drive(), &folder);
        assert_eq!(request.method, "HEAD");
        assert_eq!(
            request.path,
            "/dav/spaces/storage-users-1%241284d238-aa92-42ce-bdc4-0b0000009157/open%20talk/%24x/r%C3%A4um%201"
        );
        assert_eq!(request.keep_headers, [FILE_ID]);
        assert!(mkcol(&settings(), &drive(), &folder).body.is_none());
        assert!(delete(&settings(), &drive(), &folder).body.is_none());
    }

    #[test]
    fn head_gives_the_item_id_of_the_drive() {
        let id = format!("{DRIVE}!4c510ada-c86b-4815-8820-42cdf82c3d51");
        assert_eq!(
            item_id(&head_answer(200, Some(&id)), &drive())
                .unwrap()
                .unwrap()
                .as_str(),
            id
        );
        assert_eq!(item_id(&head_answer(404, None), &drive()).unwrap(), None);
        for bad in [
            None,
            Some(""),
            Some(DRIVE),
            Some("storage-users-1$other!4c510ada"),
        ] {
            assert!(
                matches!(
                    item_id(&head_answer(200, bad), &drive()),
                    Err(Error::Protocol(_))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            item_id(&head_answer(401, None), &drive()),
            Err(Error::Unauthorized(_))
        ));
        assert!(matches!(
            item_id(&head_answer(423, None), &drive()),
            Err(Error::Remote(r)) if r.status == 423
        ));
    }

    #[test]
    fn webdav_answers_are_read() {
        // API-NOTES §3.2, §3.8 [V]; reva's XML ("Answer shapes").
        let exists = r#"<?xml version="1.0" encoding="UTF-8"?>
<d:error xmlns:d="DAV" xmlns:s="http://sabredav.org/ns"><s:exception>Sabre\DAV\Exception\MethodNotAllowed</s:exception><s:message>The resource you tried to create already exists</s:message><s:errorcode></s:errorcode></d:error>"#;
        assert_eq!(made(&Response::new(405, exists)).unwrap(), Made::Exists);
        assert_eq!(made(&Response::new(201, "")).unwrap(), Made::Created);
        assert_eq!(made(&Response::new(409, "")).unwrap(), Made::ParentMissing);
        assert!(matches!(
            removed(&Response::new(405, exists.replace("The resource you tried to create already exists", "deleting spaces via dav is not allowed"))),
            Err(Error::Remote(r)) if r.status == 405 && r.message == "deleting spaces via dav is not allowed"
        ));
        assert_eq!(
            removed(&Response::new(404, "")).unwrap(),
            Removed::WasMissing
        );
        assert_eq!(removed(&Response::new(204, "")).unwrap(), Removed::Deleted);
    }
}
