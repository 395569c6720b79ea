//! What the stand-in answers differently as an ownCloud 10 (`Options::flavour` =
//! [`Flavour::OwnCloud`]), each as docs/owncloud-behaviour.md describes it (the section named at
//! each rule):
//! - OCS answers XML unless the URL (or the form) asks for `format=json`; `Accept` is ignored
//!   ("Answer shapes");
//! - `status.php` and the capabilities name ownCloud, without NextCloud's `bruteforce`
//!   section ("Telling ownCloud from NextCloud");
//! - the trash bin is `/remote.php/dav/trash-bin/<user>/`, entries by file id, the original
//!   location as `oc:trashbin-original-location`; NextCloud's trash path answers 404 ("Trash
//!   bin");
//! - public links open at `/public.php/webdav/` and `/remote.php/dav/public-files/<token>/`
//!   (user `public`); NextCloud's `/public.php/dav/files/` is a 500 page ("Public links over
//!   WebDAV");
//! - shares keep the permissions asked for (no share bit), no share rate limit, no password
//!   generator (500) ("Creating a public link", "Password policy").
//!
//! The rest — WebDAV, the shares' JSON, 401s, locking — is NextCloud's, as the stand-in
//! answers it anyway.

use bytes::Bytes;
use http::header;
use http_body_util::Full;
use serde_json::{Value, json};

use super::World;
use super::answers::{self, Answer};
use super::call::{Call, decode_segments};

/// Which server the stand-in answers as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Flavour {
    /// NextCloud 32, as recorded (docs/nextcloud-behaviour.md).
    #[default]
    NextCloud,
    /// ownCloud 10.13 (docs/owncloud-behaviour.md).
    OwnCloud,
}

/// ownCloud's trash bin.
pub(super) const DAV_TRASH_BIN: &str = "/remote.php/dav/trash-bin/";
/// ownCloud's (and OpenCloud's) public-link WebDAV.
pub(super) const PUBLIC_FILES: &str = "/remote.php/dav/public-files/";

/// `status.php` ("Telling ownCloud from NextCloud"; NextCloud 32's as seen on the real server).
pub(super) fn status(flavour: Flavour) -> Answer {
    let body = match flavour {
        Flavour::NextCloud => json!({
            "installed": true, "maintenance": false, "needsDbUpgrade": false,
            "version": "32.0.1.2", "versionstring": "32.0.1", "edition": "",
            "productname": "Nextcloud", "extendedSupport": false
        }),
        Flavour::OwnCloud => json!({
            "installed": true, "maintenance": false, "needsDbUpgrade": false,
            "version": "10.13.1.3", "versionstring": "10.13.1", "edition": "Community",
            "productname": "ownCloud", "product": "ownCloud"
        }),
    };
    let mut answer = answers::status(200);
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/json".parse().expect("a header"),
    );
    *answer.body_mut() = Full::new(Bytes::from(body.to_string()));
    answer
}

/// ownCloud's capabilities, the parts a client of shares reads ("Telling ownCloud from
/// NextCloud").
pub(super) fn capabilities() -> Value {
    json!({
        "version": {"major": 10, "minor": 13, "micro": 1, "string": "10.13.1", "edition": "Community", "product": "ownCloud"},
        "capabilities": {
            "core": {"webdav-root": "remote.php/webdav", "status": {"productname": "ownCloud", "versionstring": "10.13.1"}},
            "dav": {"chunking": "1.0", "trashbin": "1.0"},
            "files": {"undelete": true, "versioning": true},
            "files_sharing": {
                "api_enabled": true,
                "public": {
                    "enabled": true,
                    "password": {"enforced": false, "enforced_for": {"read_only": false, "read_write": false, "upload_only": false, "read_write_delete": false}},
                    "expire_date": {"enabled": false},
                    "upload": true,
                    "multiple": true,
                },
                "default_permissions": 31,
            },
        },
    })
}

/// The OCS answer as ownCloud sends it to a request that did not ask for JSON: the same
/// envelope in XML ("Answer shapes").
pub(super) fn as_xml(answer: Answer) -> Answer {
    let (mut parts, body) = answer.into_parts();
    let bytes = body.into_inner().unwrap_or_default();
    let Ok(envelope) = serde_json::from_slice::<Value>(&bytes) else {
        return Answer::from_parts(parts, Full::new(bytes));
    };
    let mut xml = String::from("<?xml version=\"1.0\"?>\n");
    write_xml(&mut xml, "ocs", &envelope["ocs"], 0);
    parts.headers.insert(
        header::CONTENT_TYPE,
        "application/xml; charset=utf-8".parse().expect("a header"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Answer::from_parts(parts, Full::new(Bytes::from(xml)))
}

fn write_xml(out: &mut String, name: &str, value: &Value, depth: usize) {
    let indent = " ".repeat(depth);
    match value {
        Value::Null => out.push_str(&format!("{indent}<{name}/>\n")),
        Value::Object(map) => {
            out.push_str(&format!("{indent}<{name}>\n"));
            for (key, value) in map {
                write_xml(out, key, value, depth + 1);
            }
            out.push_str(&format!("{indent}</{name}>\n"));
        }
        Value::Array(items) if items.is_empty() => out.push_str(&format!("{indent}<{name}/>\n")),
        Value::Array(items) => {
            out.push_str(&format!("{indent}<{name}>\n"));
            for item in items {
                write_xml(out, "element", item, depth + 1);
            }
            out.push_str(&format!("{indent}</{name}>\n"));
        }
        Value::String(text) if text.is_empty() => out.push_str(&format!("{indent}<{name}/>\n")),
        Value::String(text) => out.push_str(&format!(
            "{indent}<{name}>{}</{name}>\n",
            answers::xml_escape(text)
        )),
        other => out.push_str(&format!("{indent}<{name}>{other}</{name}>\n")),
    }
}

impl Call<'_> {
    /// Whether an OCS request asked for JSON the way ownCloud honours: `format=json` in the
    /// URL or in the form.
    pub(super) fn wants_json(&self) -> bool {
        let in_query = form_urlencoded::parse(self.query.as_bytes())
            .any(|(k, v)| k == "format" && v == "json");
        in_query
            || self
                .fields()
                .iter()
                .any(|(k, v)| k == "format" && v.as_str() == Some("json"))
    }

    /// ownCloud's trash bin: `PROPFIND` lists it, `DELETE` of an entry removes it.
    pub(super) fn owncloud_trash(&self, world: &mut World, rest: &str) -> Answer {
        if !self.authenticated {
            return answers::dav_unauthenticated();
        }
        let segments = decode_segments(rest);
        let user = &self.shared.options.username;
        if segments.first() != Some(user) {
            let name = segments.first().map_or("", String::as_str);
            return answers::sabre(
                404,
                "Sabre\\DAV\\Exception\\NotFound",
                &format!("Principal with name {name} not found"),
            );
        }
        let trash = &mut world.storage.trash;
        match (self.method.as_str(), segments.get(1)) {
            ("PROPFIND", None) => {
                let base = format!(
                    "{}{DAV_TRASH_BIN}{}/",
                    self.shared.options.base_path,
                    percent_encoding::utf8_percent_encode(user, percent_encoding::NON_ALPHANUMERIC)
                );
                answers::owncloud_trash_listing(&base, trash)
            }
            ("DELETE", None) => {
                trash.clear();
                answers::status(204)
            }
            ("DELETE", Some(id)) => {
                let before = trash.len();
                trash.retain(|entry| entry.id.to_string() != *id);
                if trash.len() < before {
                    answers::status(204)
                } else {
                    answers::sabre(404, "Sabre\\DAV\\Exception\\NotFound", "")
                }
            }
            _ => answers::status(405),
        }
    }

    /// `/remote.php/dav/public-files/<token>/<rest…>`: the user name must be `public`.
    pub(super) fn public_files(&self, world: &mut World, rest: &str) -> Answer {
        let mut segments = decode_segments(rest);
        let token = if segments.is_empty() {
            String::new()
        } else {
            segments.remove(0)
        };
        if world.storage.share_by_token(&token).is_none() {
            return answers::sabre(404, "Sabre\\DAV\\Exception\\NotFound", "");
        }
        if self.basic_user.as_deref() != Some("public") {
            return answers::public_unauthenticated();
        }
        let base = format!("{}{PUBLIC_FILES}{token}", self.shared.options.base_path);
        self.public_share(world, &token, &segments, &base)
    }
}

/// ownCloud's page for a path no app serves (`/public.php/dav/files/…`): 500 "App not
/// installed" ("Public links over WebDAV").
pub(super) fn app_not_installed() -> Answer {
    let mut answer = answers::status(500);
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/html; charset=UTF-8".parse().expect("a header"),
    );
    *answer.body_mut() = Full::new(Bytes::from_static(
        b"<!DOCTYPE html>\n<html><head><title>ownCloud</title></head><body><h2>App not installed: </h2></body></html>\n",
    ));
    answer
}
