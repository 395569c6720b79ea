//! (binary only) The links used as participants' WebDAV clients use them, for `preflight` and
//! `conformance`, for the storages whose link
//! protocol the host knows (`public_links::PublicDav`): never with the account's credentials,
//! only with each link's own password.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use shared_folder_host::public_links::PublicDav;
use shared_folder_host::runtime::{ConnectionSettings, Connections, ShareLink, WasiBody};

/// A participant's client for one storage's links.
pub struct Participant {
    dav: PublicDav,
    connections: Connections,
}

/// What the storage answered a participant: its status and body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Participant {
    pub fn new(dav: PublicDav, settings: &ConnectionSettings) -> Result<Self, String> {
        let connections =
            Connections::new(settings, Duration::from_secs(5)).map_err(|e| e.to_string())?;
        Ok(Participant { dav, connections })
    }

    /// `method` on `file` inside the folder `link` opens (`""`: the folder), with `password`.
    pub async fn send(
        &self,
        link: &ShareLink,
        password: &str,
        method: &str,
        file: &str,
        body: &'static str,
    ) -> Result<Answer, String> {
        let target = self
            .dav
            .request(&link.url, file)
            .ok_or_else(|| format!("{} is not a share link", link.url))?;
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", target.user));
        let mut request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?)
            .uri(&target.url)
            .header(header::AUTHORIZATION, format!("Basic {credentials}"));
        if method == "PROPFIND" {
            request = request.header("depth", "0");
        }
        if !body.is_empty() {
            request = request.header(header::CONTENT_LENGTH, body.len());
        }
        let body: WasiBody = Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync();
        let request = request.body(body).map_err(|e| e.to_string())?;
        let response = self
            .connections
            .send(request, Duration::from_secs(30))
            .await
            .map_err(|e| format!("{method} {file:?} through the link: no answer ({e:?})"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{e:?}"))?
            .to_bytes();
        Ok(Answer { status, body })
    }

    /// Whether `link` still opens with its own password (a `PROPFIND` of the folder).
    pub async fn opens(&self, link: &ShareLink) -> Result<bool, String> {
        let answer = self
            .send(link, link.password.expose(), "PROPFIND", "", "")
            .await?;
        Ok(answer.status == StatusCode::MULTI_STATUS)
    }
}
