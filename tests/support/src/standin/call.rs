//! One request as the stand-in reads it: what its handlers, protocol by protocol, look at.

use bytes::Bytes;
use http::{HeaderMap, Method, header};
use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::Shared;

/// One request, read.
pub(super) struct Call<'a> {
    pub(super) shared: &'a Shared,
    pub(super) method: Method,
    /// The path below the base path, still encoded.
    pub(super) path: String,
    pub(super) query: String,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
    pub(super) authenticated: bool,
    /// Session cookies for the answer: the request was authenticated by its password.
    pub(super) new_session: Vec<String>,
    /// The password of a basic-auth header, whatever the user (public links ignore it).
    pub(super) basic_password: Option<String>,
    /// The user of a basic-auth header (`/public.php/webdav/` names the share by it).
    pub(super) basic_user: Option<String>,
    /// Whether, when it arrived, a request in flight held what this one conflicts with
    /// (`locks::Locks::conflicts`).
    pub(super) conflicted: bool,
}

impl Call<'_> {
    /// The request's fields, from a JSON object or a form.
    pub(super) fn fields(&self) -> Vec<(String, Value)> {
        let is_json = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            match serde_json::from_slice::<Value>(&self.body) {
                Ok(Value::Object(map)) => map.into_iter().collect(),
                _ => Vec::new(),
            }
        } else {
            form_urlencoded::parse(&self.body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect()
        }
    }
}

/// The segments of an encoded path, decoded.
pub(crate) fn decode_segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}
