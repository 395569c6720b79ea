//! How a participant's WebDAV client opens a public link, per storage system: the URL of a file
//! inside the shared folder and the Basic user name that goes with the link's password. The
//! host itself never needs this to serve meetings (participants' clients open the links);
//! `preflight`, the demo and the tests do, to use the links as participants would.
//!
//! What each server was seen to answer:
//! - **NextCloud 28–34 and ownCloud 10**: `<base>/public.php/webdav/<file>`, Basic
//!   `<token>:<password>`. NextCloud's newer `<base>/public.php/dav/files/<token>/` (user
//!   ignored) does not exist on NextCloud 28 (404) and fails on ownCloud (500), so the older
//!   form, which all of them serve, is the one used (docs/nextcloud-behaviour.md and
//!   docs/owncloud-behaviour.md, "Public links over WebDAV").
//! - **OpenCloud**: `<base>/remote.php/dav/public-files/<token>/<file>`, Basic
//!   `public:<password>`; the same path without `/remote.php` answers 401 to every password
//!   (docs/opencloud-behaviour.md, "Public links").
//!
//! A link's URL is `<base>/s/<token>` or `<base>/index.php/s/<token>` on all of them.

/// The public WebDAV of a storage system's links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicDav {
    /// NextCloud's and ownCloud's `/public.php/webdav/`, the token as user name.
    PublicPhp,
    /// OpenCloud's `/remote.php/dav/public-files/<token>/`, user `public`.
    PublicFiles,
}

/// Where a participant sends a request for a file inside a linked folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRequest {
    /// The file's URL (the folder itself for an empty file name).
    pub url: String,
    /// The Basic user name; the link's password goes with it.
    pub user: String,
}

impl PublicDav {
    /// The public WebDAV of the storage a built-in provider speaks to (`[shared_folder].provider`);
    /// `None` for a provider whose storage the host does not know.
    pub fn of_provider(provider: &str) -> Option<PublicDav> {
        match provider {
            "nextcloud" | "owncloud" => Some(PublicDav::PublicPhp),
            "opencloud" => Some(PublicDav::PublicFiles),
            _ => None,
        }
    }

    /// The request for `file` (a relative path, already percent-encoded where needed) inside
    /// the folder the link `share_url` opens; `None` when `share_url` is not a share link.
    pub fn request(self, share_url: &str, file: &str) -> Option<LinkRequest> {
        let (base, token) = share_url.trim_end_matches('/').rsplit_once("/s/")?;
        if token.is_empty() || token.contains('/') {
            return None;
        }
        let base = base.strip_suffix("/index.php").unwrap_or(base);
        Some(match self {
            PublicDav::PublicPhp => LinkRequest {
                url: format!("{base}/public.php/webdav/{file}"),
                user: token.to_owned(),
            },
            PublicDav::PublicFiles => LinkRequest {
                url: format!("{base}/remote.php/dav/public-files/{token}/{file}"),
                user: "public".to_owned(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nextcloud_and_owncloud_links_open_under_public_php_with_the_token_as_user() {
        for url in [
            "https://cloud.example.com/nc/index.php/s/AbCdEf123",
            "https://cloud.example.com/nc/s/AbCdEf123",
        ] {
            let request = PublicDav::PublicPhp.request(url, "agenda.txt").unwrap();
            assert_eq!(
                request.url,
                "https://cloud.example.com/nc/public.php/webdav/agenda.txt"
            );
            assert_eq!(request.user, "AbCdEf123");
        }
        assert_eq!(
            PublicDav::of_provider("owncloud"),
            Some(PublicDav::PublicPhp)
        );
    }

    #[test]
    fn opencloud_links_open_under_remote_php_public_files_as_public() {
        let request = PublicDav::of_provider("opencloud")
            .unwrap()
            .request("http://127.0.0.1:9200/s/QwErTy", "")
            .unwrap();
        assert_eq!(
            request.url,
            "http://127.0.0.1:9200/remote.php/dav/public-files/QwErTy/"
        );
        assert_eq!(request.user, "public");
    }

    #[test]
    fn what_is_not_a_share_link_is_refused() {
        for url in [
            "https://cloud.example.com/remote.php/dav/files/x",
            "https://h/s/",
            "https://h/s/a/b",
        ] {
            assert_eq!(PublicDav::PublicPhp.request(url, "f"), None, "{url}");
        }
        assert_eq!(PublicDav::of_provider("copyparty"), None);
    }
}
