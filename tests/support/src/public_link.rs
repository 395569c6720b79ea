//! Using a public link as a participant would: WebDAV under `/public.php/dav/files/<token>/`
//! with the share password (docs/nextcloud-behaviour.md, "Public links over WebDAV").

use crate::client;

/// The public WebDAV URL of a share URL `…/index.php/s/<token>` (or `…/s/<token>`).
pub fn dav_url(share_url: &str, file: &str) -> Option<String> {
    let (base, token) = share_url.rsplit_once("/s/")?;
    let base = base.strip_suffix("/index.php").unwrap_or(base);
    Some(format!("{base}/public.php/dav/files/{token}/{file}"))
}

/// Sends `method` to `file` inside the shared folder, authenticated with the share password.
/// Returns the status and body.
pub async fn request(
    share_url: &str,
    password: &str,
    method: &str,
    file: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    let url = dav_url(share_url, file).ok_or("not a share URL")?;
    let reply = client::send(method, &url, Some(("anonymous", password)), &[], body).await?;
    Ok((reply.status, reply.body))
}
