//! Where a room's folder lives, and how NextCloud's APIs name it.
//!
//! The folder is `directory/<room>` (`provider_kit::paths`, re-exported here): a room id
//! becomes exactly one path segment, and ids that could step out of `directory` are refused.
//! NextCloud names the folder in two ways: by its WebDAV URL below the account's files, and by
//! its path for the OCS share API ([`NextcloudPath`]).

use crate::prelude::*;
pub use provider_kit::paths::{FolderPath, check_segment, directory_segments, encode_segment};

/// How NextCloud's two APIs name a folder.
pub trait NextcloudPath {
    /// The path for OCS' `path` parameter: `/a/b/room`.
    fn share_path(&self) -> String;

    /// The WebDAV URL path of the folder, percent-encoded:
    /// `<base_path>/remote.php/dav/files/<username>/<a>/<b>/<room>`.
    fn dav_path(&self, base_path: &str, username: &str) -> String;
}

impl NextcloudPath for FolderPath {
    fn share_path(&self) -> String {
        format!("/{}", self.display())
    }

    fn dav_path(&self, base_path: &str, username: &str) -> String {
        format!(
            "{base_path}/remote.php/dav/files/{}{}",
            encode_segment(username),
            self.encoded()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_percent_encoded() {
        let s = ["opentalk".to_owned(), "meetings".to_owned()];
        let folder = FolderPath::for_room(&s, "Übung #1 & co?").unwrap();
        assert_eq!(
            folder.dav_path("/nc", "open talk"),
            "/nc/remote.php/dav/files/open%20talk/opentalk/meetings/%C3%9Cbung%20%231%20%26%20co%3F"
        );
        assert_eq!(folder.display(), "opentalk/meetings/Übung #1 & co?");
        assert_eq!(folder.share_path(), "/opentalk/meetings/Übung #1 & co?");
    }
}
