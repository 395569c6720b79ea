//! WebDAV's multistatus answers (RFC 4918 §13), as NextCloud, ownCloud and OpenCloud write
//! them: one `<d:response>` per resource, elements without attributes under the prefixes `d:`,
//! `oc:` and `nc:`. Only a few values are needed, so they are read directly rather than through
//! an XML parser (one would add a quarter to the component): the trash bin's entries
//! (`trash.rs`) and the folders of a `Depth: 1` PROPFIND ([`listing`]).

use crate::prelude::*;
use percent_encoding::percent_decode_str;

/// A folder a `Depth: 1` PROPFIND listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Its name: the href's last segment, percent-decoded.
    pub name: String,
    /// Its `oc:fileid`, when the answer has one.
    pub file_id: Option<String>,
}

/// What a `Depth: 1` PROPFIND of a folder found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The listed folder itself.
    pub itself: Folder,
    /// The folders directly inside it (files are left out).
    pub folders: Vec<Folder>,
}

/// The PROPFIND body asking for what [`listing`] reads: the resource type and the file id.
pub const PROPFIND_FOLDERS: &str = "<?xml version=\"1.0\"?>\
<d:propfind xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\">\
<d:prop><d:resourcetype/><oc:fileid/></d:prop></d:propfind>";

/// A `Depth: 1` PROPFIND's multistatus of the folder at `path` (its segments below the
/// account's or space's root, `a/b`; `""` for the root). The first response is the listed
/// folder itself, as NextCloud, ownCloud and OpenCloud write it (docs/nextcloud-behaviour.md
/// and docs/opencloud-behaviour.md, "Listing the rooms' folders and their links"), whatever
/// prefix their hrefs carry (OpenCloud answers `/remote.php/dav/spaces/…` to a request of
/// `/dav/spaces/…`); the folders inside are the other responses that are collections
/// (`<d:collection/>`) one segment below it. Hrefs are compared percent-decoded (NextCloud
/// escapes in lower-case hex, OpenCloud in upper case and leaves `$` as it is). `None` when
/// the text is not such a listing of that folder.
pub fn listing(text: &str, path: &str) -> Option<Listing> {
    if !text.contains("multistatus") {
        return None;
    }
    let mut responses = elements(text, "d:response");
    let first = entry(responses.next()??)?;
    let tail = path.trim_matches('/');
    if !first.collection || !(tail.is_empty() || first.path.ends_with(&format!("/{tail}"))) {
        return None;
    }
    let inside = format!("{}/", first.path);
    let mut folders = Vec::new();
    for response in responses {
        let found = entry(response?)?;
        let Some(name) = found.path.strip_prefix(&inside) else {
            continue;
        };
        if found.collection && !name.is_empty() && !name.contains('/') {
            folders.push(Folder {
                name: name.to_owned(),
                file_id: found.file_id,
            });
        }
    }
    let itself = Folder {
        name: first.path.rsplit('/').next().unwrap_or_default().to_owned(),
        file_id: first.file_id,
    };
    Some(Listing { itself, folders })
}

/// One `<d:response>`: its href's path decoded and without a trailing `/`, whether it is a
/// collection, its file id.
struct Entry {
    path: String,
    collection: bool,
    file_id: Option<String>,
}

fn entry(response: &str) -> Option<Entry> {
    let mut href = String::new();
    unescape_into(elements(response, "d:href").next()??, &mut href)?;
    let file_id = match elements(response, "oc:fileid").next() {
        Some(id) => {
            let mut text = String::new();
            unescape_into(id?, &mut text)?;
            Some(text).filter(|id| !id.is_empty())
        }
        None => None,
    };
    Some(Entry {
        path: decoded(&href).trim_end_matches('/').to_owned(),
        collection: response.contains("<d:collection/>"),
        file_id,
    })
}

fn decoded(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// The contents of each `<name>…</name>` in `xml`, in order; `None` for one left open.
pub fn elements<'a>(xml: &'a str, name: &str) -> impl Iterator<Item = Option<&'a str>> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut rest = Some(xml);
    core::iter::from_fn(move || {
        let text = rest?;
        let start = text.find(&open)? + open.len();
        let Some(end) = text[start..].find(&close) else {
            rest = None;
            return Some(None);
        };
        rest = Some(&text[start + end + close.len()..]);
        Some(Some(&text[start..start + end]))
    })
}

/// Appends `text` with XML's entity and character references resolved.
pub fn unescape_into(text: &str, out: &mut String) -> Option<()> {
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';')? + at;
        let entity = &rest[at + 1..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let number = entity.strip_prefix('#')?;
                let code = match number.strip_prefix('x') {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => number.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Depth: 1` listing as NextCloud writes it: the folder itself, two rooms' folders (one
    /// name escaped in lower-case hex), a file, and a deeper folder no server lists at depth 1.
    const NEXTCLOUD: &str = "<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">\
<d:response><d:href>/remote.php/dav/files/admin/opentalk/meetings/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><oc:fileid>10</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
<d:response><d:href>/remote.php/dav/files/admin/opentalk/meetings/room-1/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><oc:fileid>11</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
<d:response><d:href>/remote.php/dav/files/admin/opentalk/meetings/Raum%20%c3%bc%20100%25/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><oc:fileid>12</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
<d:response><d:href>/remote.php/dav/files/admin/opentalk/meetings/notes.txt</d:href><d:propstat><d:prop><d:resourcetype/><oc:fileid>13</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
<d:response><d:href>/remote.php/dav/files/admin/opentalk/meetings/room-1/sub/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><oc:fileid>14</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
</d:multistatus>";

    /// As OpenCloud writes it (recorded: docs/opencloud-behaviour.md): no XML declaration,
    /// `/remote.php` in the hrefs though the request went to `/dav/spaces/…`, `$` as it is,
    /// upper-case escapes, item ids as file ids, a file's resource type open and closed.
    const OPENCLOUD: &str = "<d:multistatus xmlns:s=\"http://sabredav.org/ns\" xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\">\
<d:response><d:href>/remote.php/dav/spaces/s$p/lr-test/meetings/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><oc:fileid>s$p!dir</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
<d:response><d:href>/remote.php/dav/spaces/s$p/lr-test/meetings/Raum%20%C3%BC%20100%25/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><oc:fileid>s$p!a</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
<d:response><d:href>/remote.php/dav/spaces/s$p/lr-test/meetings/notes.txt</d:href><d:propstat><d:prop><d:resourcetype></d:resourcetype><oc:fileid>s$p!f</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
</d:multistatus>";

    fn folder(name: &str, id: &str) -> Folder {
        Folder {
            name: name.into(),
            file_id: Some(id.into()),
        }
    }

    #[test]
    fn a_listing_gives_the_folder_and_the_folders_inside_with_their_ids() {
        let found = listing(NEXTCLOUD, "opentalk/meetings").unwrap();
        assert_eq!(found.itself, folder("meetings", "10"));
        assert_eq!(
            found.folders,
            [folder("room-1", "11"), folder("Raum ü 100%", "12")]
        );
        let found = listing(OPENCLOUD, "/lr-test/meetings/").unwrap();
        assert_eq!(found.itself, folder("meetings", "s$p!dir"));
        assert_eq!(found.folders, [folder("Raum ü 100%", "s$p!a")]);
    }

    #[test]
    fn the_account_root_is_listed_too() {
        let root = NEXTCLOUD.replace("opentalk/meetings/", "");
        let found = listing(&root, "").unwrap();
        assert_eq!(found.folders.len(), 2);
    }

    #[test]
    fn what_is_not_a_listing_of_that_folder_is_refused() {
        assert_eq!(listing("<html>login</html>", "a"), None);
        assert_eq!(listing("<d:multistatus><d:response><d:href>/x/", "x"), None);
        // A listing whose first response is another folder: not read as this one's.
        assert_eq!(listing(NEXTCLOUD, "opentalk/other"), None);
    }
}
