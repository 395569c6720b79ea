//! (binary only) The host's own requests to the storage, for `preflight` and `conformance`:
//! through the same confinement and credentials as a provider's (`Outbound`), timed.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use shared_folder_host::runtime::{Connections, Outbound, WasiBody};
use shared_folder_host::{HostConfig, HostError};

/// The storage's requests: `direct` keeps the storage's session cookies as the host does;
/// `sessionless` never does, so that each of its requests pays the credentials' check.
pub struct Probe {
    /// `scheme://host:port`.
    pub base: String,
    /// The sub-path the storage is served under (`""` or `/nextcloud`).
    pub base_path: String,
    pub username: String,
    pub direct: Outbound,
    pub sessionless: Outbound,
}

/// One answer, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    pub took: Duration,
}

impl Answer {
    /// The body as JSON (`Value::Null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

impl Probe {
    /// The host's own requests to the storage `config` names, with its credentials: on a
    /// session of their own (a fresh one), and without one.
    pub fn new(config: &HostConfig) -> Result<Probe, HostError> {
        let shared = &config.shared_folder;
        let limits = config.host.limits.outbound;
        let connections = config.host.runtime_options().connections;
        let outbound = |keep_session| -> Result<Outbound, HostError> {
            Ok(Outbound::new(
                shared.url.origin().clone(),
                &shared.credentials,
                limits,
                Connections::new(&connections, limits.connect_timeout)?,
                keep_session,
            ))
        };
        Ok(Probe {
            base: shared.url.origin().to_string(),
            base_path: shared.url.base_path().to_owned(),
            username: shared.username.clone(),
            direct: outbound(true)?,
            sessionless: outbound(false)?,
        })
    }

    /// `method` of `path` (below the base path) on the session the host keeps.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &'static str,
    ) -> Result<Answer, String> {
        Self::send_on(&self.direct, &self.url(path), method, headers, body).await
    }

    /// As [`Probe::send`], without a session: the credentials are checked again.
    pub async fn send_sessionless(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Answer, String> {
        Self::send_on(&self.sessionless, &self.url(path), method, headers, "").await
    }

    /// `method` of an href the storage gave (a path from its origin's root).
    pub async fn send_href(&self, method: &str, href: &str) -> Result<Answer, String> {
        // NextCloud escapes in lower case, the canonical `url` in capitals: compared without
        // regard to ASCII case.
        let base = self.base_path.len();
        let path = match href.get(..base) {
            Some(prefix) if prefix.eq_ignore_ascii_case(&self.base_path) => &href[base..],
            _ => href,
        };
        self.send(method, path, &[], "").await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}{path}", self.base, self.base_path)
    }

    async fn send_on(
        outbound: &Outbound,
        url: &str,
        method: &str,
        headers: &[(&str, &str)],
        body: &'static str,
    ) -> Result<Answer, String> {
        let mut request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?)
            .uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body: WasiBody = Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync();
        let request = request.body(body).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let response = outbound
            .send(request, None)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let took = started.elapsed();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{e:?}"))?
            .to_bytes();
        Ok(Answer {
            status,
            headers,
            body,
            took,
        })
    }
}

/// What a look into a trash bin for a deleted folder found.
pub enum Trash {
    /// The bin answered 404: there is none.
    Missing,
    /// The bin could not be listed: why.
    Unreadable(String),
    /// The bin was listed; this many entries came from the folder, and were deleted.
    Taken(usize),
}

impl Probe {
    /// Lists the trash bin at `bin` (PROPFIND, Depth 1, asking with `listing` for each entry's
    /// original location) and deletes the entries that came from `path` or from inside it.
    pub async fn take_from_trash(&self, bin: &str, listing: &'static str, path: &str) -> Trash {
        let headers = [("depth", "1"), ("content-type", "application/xml")];
        let answer = match self.send("PROPFIND", bin, &headers, listing).await {
            Ok(answer) if answer.status.as_u16() == 404 => return Trash::Missing,
            Ok(answer) if answer.status.as_u16() == 207 => answer,
            Ok(answer) => return Trash::Unreadable(format!("({})", answer.status)),
            Err(error) => return Trash::Unreadable(format!(": {error}")),
        };
        let entries = trash_entries(&String::from_utf8_lossy(&answer.body), path);
        for href in &entries {
            let _ = self.send_href("DELETE", href).await;
        }
        Trash::Taken(entries.len())
    }
}

/// Percent-encodes one path segment.
pub fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The middle of `samples` (the upper one of an even count).
pub fn median(mut samples: Vec<Duration>) -> Option<Duration> {
    samples.sort();
    samples.get(samples.len() / 2).copied()
}

/// The hrefs of the entries of a WebDAV trash listing whose original location (the property
/// `trashbin-original-location`, in whatever namespace) is `path` or below it. NextCloud,
/// ownCloud and OpenCloud all name it so (docs/*-behaviour.md, "Trash bin").
fn trash_entries(listing: &str, path: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(listing);
    let (mut href, mut origin, mut reading) = (String::new(), String::new(), 0);
    let mut entries = Vec::new();
    let path = path.trim_start_matches('/');
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                reading = match e.local_name().as_ref() {
                    b"response" => {
                        href.clear();
                        origin.clear();
                        0
                    }
                    b"href" => 1,
                    b"trashbin-original-location" => 2,
                    _ => 0,
                }
            }
            Ok(quick_xml::events::Event::Text(text)) => {
                let text = text.decode().map(|t| t.into_owned()).unwrap_or_default();
                let text = quick_xml::escape::unescape(&text)
                    .map(|t| t.into_owned())
                    .unwrap_or(text);
                match reading {
                    1 => href.push_str(&text),
                    2 => origin.push_str(&text),
                    _ => {}
                }
            }
            Ok(quick_xml::events::Event::End(e)) => {
                let origin = origin.trim_start_matches('/');
                if e.local_name().as_ref() == b"response"
                    && (origin == path || origin.starts_with(&format!("{path}/")))
                {
                    entries.push(href.clone());
                }
                reading = 0;
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    entries
}
