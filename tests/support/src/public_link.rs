//! Using a public link as a participant would: over the storage's public WebDAV, with the
//! link's password (`shared_folder_host::public_links` says which URL and user name each
//! storage system takes).

use shared_folder_host::public_links::PublicDav;

use crate::client;

/// Sends `method` to `file` inside the folder the link `share_url` opens, authenticated with
/// the link's password, as a participant of a storage whose links open as `dav` says. Returns
/// the status and body.
pub async fn request(
    dav: PublicDav,
    share_url: &str,
    password: &str,
    method: &str,
    file: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    let target = dav.request(share_url, file).ok_or("not a share URL")?;
    let reply = client::send(
        method,
        &target.url,
        Some((&target.user, password)),
        &[],
        body,
    )
    .await?;
    Ok((reply.status, reply.body))
}

/// [`request`] for a NextCloud link (also ownCloud's).
pub async fn nextcloud(
    share_url: &str,
    password: &str,
    method: &str,
    file: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    request(
        PublicDav::PublicPhp,
        share_url,
        password,
        method,
        file,
        body,
    )
    .await
}
