//! WebDAV's multistatus answers (RFC 4918 §13), as NextCloud, ownCloud and OpenCloud write
//! them: one `<d:response>` per resource, elements without attributes under the prefixes `d:`,
//! `oc:` and `nc:`. Only a few values are needed, so they are read directly rather than through
//! an XML parser (one would add a quarter to the component): the trash bin's entries
//! ([`crate::trash`]) and the folders of a `Depth: 1` PROPFIND ([`folders`]).

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

/// The PROPFIND body asking for what [`folders`] reads: the resource type and the file id.
pub const PROPFIND_FOLDERS: &str = "<?xml version=\"1.0\"?>\
<d:propfind xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\">\
<d:prop><d:resourcetype/><oc:fileid/></d:prop></d:propfind>";

/// The folders inside the one listed at `listed` (its href's path, as the server writes it
/// or percent-encoded otherwise), from a `Depth: 1` PROPFIND's multistatus: each response that
/// is a collection (`<d:collection/>`) other than the listed folder itself. Files are left
/// out. `None` when the text is not such a listing.
pub fn folders(text: &str, listed: &str) -> Option<Vec<Folder>> {
    if !text.contains("multistatus") {
        return None;
    }
    let listed = decoded(listed);
    let listed = listed.trim_end_matches('/');
    let mut found = Vec::new();
    for response in elements(text, "d:response") {
        let response = response?;
        let mut href = String::new();
        unescape_into(elements(response, "d:href").next()??, &mut href)?;
        if !response.contains("<d:collection/>") {
            continue;
        }
        let path = decoded(&href);
        let path = path.trim_end_matches('/');
        if path.eq_ignore_ascii_case(listed) {
            continue;
        }
        let name = path.rsplit('/').next().unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        let file_id = match elements(response, "oc:fileid").next() {
            Some(id) => {
                let mut text = String::new();
                unescape_into(id?, &mut text)?;
                Some(text).filter(|id| !id.is_empty())
            }
            None => None,
        };
        found.push(Folder {
            name: name.to_owned(),
            file_id,
        });
    }
    Some(found)
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
    /// name escaped), and a file.
    const LISTING: &str = "<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">\
<d:response><d:href>/remote.php/dav/files/admin/opentalk/meetings/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><oc:fileid>10</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
<d:response><d:href>/remote.php/dav/files/admin/opentalk/meetings/room-1/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><oc:fileid>11</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
<d:response><d:href>/remote.php/dav/files/admin/opentalk/meetings/r%c3%a4um%20%26%20co/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><oc:fileid>12</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
<d:response><d:href>/remote.php/dav/files/admin/opentalk/meetings/notes.txt</d:href><d:propstat><d:prop><d:resourcetype/><oc:fileid>13</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
</d:multistatus>";

    #[test]
    fn a_listing_gives_the_folders_inside_with_their_ids_not_itself_nor_files() {
        let found = folders(LISTING, "/remote.php/dav/files/admin/opentalk/meetings/").unwrap();
        assert_eq!(
            found,
            vec![
                Folder {
                    name: "room-1".into(),
                    file_id: Some("11".into())
                },
                Folder {
                    name: "räum & co".into(),
                    file_id: Some("12".into())
                },
            ]
        );
        // The listed folder's href compared decoded and without regard to a trailing slash.
        let found = folders(LISTING, "/remote.php/dav/files/admin/opentalk/meetings").unwrap();
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn what_is_not_a_listing_is_refused() {
        assert_eq!(folders("<html>login</html>", "/x/"), None);
        assert_eq!(
            folders("<d:multistatus><d:response><d:href>/x/", "/x/"),
            None
        );
    }
}
