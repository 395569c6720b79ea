//! Using a public link as a participant would: WebDAV under `/public.php/dav/files/<token>/`
//! with the share password (`09-public-webdav-access.txt`).

use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

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
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("anonymous:{password}"));
    let request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?)
        .uri(url)
        .header(header::AUTHORIZATION, format!("Basic {credentials}"))
        .body(Full::new(Bytes::copy_from_slice(body)))
        .map_err(|e| e.to_string())?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body.to_vec()))
}
