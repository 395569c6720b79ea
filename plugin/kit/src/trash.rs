//! A WebDAV trash bin's listing, as NextCloud, ownCloud and OpenCloud write it: a multistatus
//! with one `<d:response>` per entry, its `<d:href>` and where it came from (the
//! `trashbin-original-location` property, under the server's own prefix). What a provider needs
//! of it is the hrefs of the entries a room's folder left: the folder, and files deleted from
//! inside it before.

use crate::multistatus::{elements, unescape_into};
use crate::prelude::*;
use percent_encoding::percent_decode_str;

/// The hrefs of the entries of `text` that lie in the bin `root` (an href prefix: entries
/// outside it are never taken, nor the bin itself) and came from `folder` or from inside it.
/// `location` is the original location's element as the server writes it
/// (`nc:trashbin-original-location`, `oc:trashbin-original-location`). `None` when the text
/// is not such a listing.
///
/// Escapes may be written in either case, and characters escaped or not (NextCloud writes
/// `%c3%a4`, the host's canonical `url` `%C3%A4`; OpenCloud writes the drive id's `$` as it
/// is, the provider `%24`): the prefix is compared decoded, without regard to ASCII case. A
/// leading slash of the original location (ownCloud's, for files deleted through a link) does
/// not count.
pub fn entries_from(text: &str, location: &str, root: &str, folder: &str) -> Option<Vec<String>> {
    let root = decoded(root);
    let folder = folder.trim_matches('/');
    let inside = format!("{folder}/");
    Some(
        listing(text, location)?
            .into_iter()
            .filter(|(href, origin)| {
                let href = decoded(href);
                href.len() > root.len()
                    && href.is_char_boundary(root.len())
                    && href[..root.len()].eq_ignore_ascii_case(&root)
                    && {
                        let origin = origin.trim_start_matches('/');
                        origin == folder || origin.starts_with(&inside)
                    }
            })
            .map(|(href, _)| href)
            .collect(),
    )
}

fn decoded(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Each `<d:response>` of a multistatus as (href, original location); entries without an
/// original location (the trash root: `<nc:trashbin-original-location/>`) have an empty one.
/// `None` when the text is not such a listing.
///
/// NextCloud, ownCloud and OpenCloud write the listing the same way every time
/// (docs/nextcloud-behaviour.md, "Trash bin", recording 19 [2]; docs/owncloud-behaviour.md and
/// docs/opencloud-behaviour.md, "Trash bin"): elements without attributes, prefixes `d:` and
/// `nc:` or `oc:`, the location element named by `location`; only the two values are needed, so they are read directly rather than through an XML parser (one would
/// add a quarter to the component).
fn listing(text: &str, location: &str) -> Option<Vec<(String, String)>> {
    if !text.contains("multistatus") {
        return None;
    }
    let mut entries = Vec::new();
    for response in elements(text, "d:response") {
        let mut href = String::new();
        unescape_into(elements(response?, "d:href").next()??, &mut href)?;
        let mut origin = String::new();
        if let Some(location) = elements(response?, location).next() {
            unescape_into(location?, &mut origin)?;
        }
        entries.push((href, origin));
    }
    Some(entries)
}
