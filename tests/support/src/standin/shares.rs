//! OCS shares: public-link shares created, listed, read, updated and deleted at
//! `/ocs/v2.php/apps/files_sharing/api/v1/shares` (docs/nextcloud-behaviour.md, "Creating a public
//! link", "Refusals when creating a link", "Listing, reading and updating links", "Deleting a
//! link"; recordings `04`, `05`, `07`, `08`, `12`).

use std::time::Instant;

use http::header;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

use super::World;
use super::answers::{self, Answer};
use super::call::Call;
use super::password_policy::policy_refusal;
use super::storage::{self, CREATE, DELETE, LinkShare, READ, SHARE, UPDATE};

pub(super) const SHARES: &str = "/ocs/v2.php/apps/files_sharing/api/v1/shares";

impl Call<'_> {
    pub(super) fn shares(&self, world: &mut World) -> Answer {
        let id = self
            .path
            .strip_prefix(SHARES)
            .unwrap_or("")
            .trim_start_matches('/');
        match (self.method.as_str(), id.is_empty()) {
            ("POST", true) => self.create_share(world),
            ("GET", true) => self.list_shares(world),
            ("GET", false) => match find_share(world, id) {
                Some(share) => answers::ocs_ok(json!([self.share_json(&world.storage, share)])),
                None => answers::ocs_error(404, "Wrong share ID, share does not exist"),
            },
            ("PUT", false) => self.update_share(world, id),
            ("DELETE", false) => {
                // Lost the race to its folder's DELETE: the share goes with the folder, and the
                // answer is NextCloud's HTML page (docs/nextcloud-behaviour.md, "Locking";
                // recordings `15`, `23 (d)`).
                if self.conflicted {
                    return answers::page_not_found();
                }
                match id
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| world.storage.shares.remove(&id))
                {
                    Some(_) => answers::ocs_ok(json!([])),
                    None => answers::ocs_error(404, "Wrong share ID, share does not exist"),
                }
            }
            _ => answers::ocs_error(405, "Method not allowed"),
        }
    }

    fn create_share(&self, world: &mut World) -> Answer {
        let options = &self.shared.options;
        let owncloud = options.flavour == super::Flavour::OwnCloud;
        // ownCloud has no share rate limit (docs/owncloud-behaviour.md, "Concurrency").
        if let Some(limit) = options.share_rate_limit.filter(|_| !owncloud) {
            // 20 per user per 10 minutes, then 429 with an empty body (docs/nextcloud-behaviour.md,
            // "Share rate limit"; recording `14 [22]`).
            let now = Instant::now();
            world
                .share_times
                .retain(|t| now.duration_since(*t).as_secs() < 600);
            if world.share_times.len() >= limit {
                return answers::empty(429);
            }
            world.share_times.push(now);
        }
        // The refusals in the order of docs/nextcloud-behaviour.md, "Refusals when creating a
        // link".
        let params = self.share_params();
        let Some(path) = params.path.as_deref() else {
            return answers::ocs_error(404, "Please specify a file or folder path");
        };
        let path = path.trim_matches('/').to_owned();
        if world.storage.get(&path).is_none() {
            return answers::ocs_error(404, "Wrong path, file/folder does not exist");
        }
        if params.share_type != Some(3) {
            return answers::ocs_error(400, "Unknown share type");
        }
        let permissions = params.permissions;
        if permissions > 31 || permissions & (READ | CREATE) == 0 {
            return answers::ocs_error(400, "Share must at least have READ or CREATE permissions");
        }
        if permissions & (UPDATE | DELETE) != 0 && permissions & READ == 0 {
            return answers::ocs_error(
                400,
                "Share must have READ permission if UPDATE or DELETE permission is set",
            );
        }
        let expiration = match params.expire_date.as_deref() {
            None | Some("") => None,
            Some(date) => match parse_future_date(date) {
                Ok(date) => Some(format!("{date} 00:00:00")),
                Err(message) => return answers::ocs_error(404, message),
            },
        };
        // ownCloud has no password policy unless its app is installed
        // (docs/owncloud-behaviour.md, "Password policy").
        if let Some(password) = params
            .password
            .as_deref()
            .filter(|p| !p.is_empty() && !owncloud)
            && let Some(message) = policy_refusal(password, options.password_min_length)
        {
            // NextCloud 32 answers 400 (docs/nextcloud-behaviour.md, "Refusals when creating a
            // link"; recording `05 [1], [2]`).
            return answers::ocs_error(400, &message);
        }
        world.storage.next_share_id += 1;
        let share = LinkShare {
            id: world.storage.next_share_id,
            token: rand::rng()
                .sample_iter(&Alphanumeric)
                .take(15)
                .map(char::from)
                .collect(),
            path,
            // The share bit comes back added to a link that can be read: 1 → 17, 15 → 31; a
            // create-only link (4) stays 4 (docs/nextcloud-behaviour.md, "Creating a public
            // link"; recording `04 [1], [2], [4]`).
            // ownCloud keeps the bits asked for, and turns any but 1, 3, 4, 5 and 15 into 1
            // (docs/owncloud-behaviour.md, "Creating a public link").
            permissions: if owncloud {
                if matches!(permissions, 1 | 3 | 4 | 5 | 15) {
                    permissions
                } else {
                    READ
                }
            } else if permissions & READ != 0 {
                permissions | SHARE
            } else {
                permissions
            },
            password: params.password.filter(|p| !p.is_empty()),
            expiration,
        };
        world.shares_created += 1;
        let data = self.share_json(&world.storage, &share);
        world.storage.shares.insert(share.id, share);
        answers::ocs_ok(data)
    }

    /// docs/nextcloud-behaviour.md, "Listing, reading and updating links" (recording `08`): one
    /// field per request; unknown id → 404 (`08 [5]`); permissions without READ or CREATE → 400
    /// (`08 [4]`); the answer is the updated share (`08 [1]`, `08 [3]`).
    fn update_share(&self, world: &mut World, id: &str) -> Answer {
        let host_json = |world: &World, id: u64| {
            world
                .storage
                .shares
                .get(&id)
                .map(|share| self.share_json(&world.storage, share))
        };
        let Some(id) = find_share(world, id).map(|share| share.id) else {
            return answers::ocs_error(404, "Wrong share ID, share does not exist");
        };
        for (name, value) in self.fields() {
            let text = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            let Some(share) = world.storage.shares.get_mut(&id) else {
                break;
            };
            match name.as_str() {
                "permissions" => match text.parse::<u32>() {
                    Ok(bits) if bits <= 31 && bits & (READ | CREATE) != 0 => {
                        share.permissions = bits | SHARE;
                    }
                    _ => {
                        return answers::ocs_error(
                            400,
                            "Share must at least have READ or CREATE permissions",
                        );
                    }
                },
                "expireDate" => match parse_future_date(&text) {
                    Ok(date) => share.expiration = Some(format!("{date} 00:00:00")),
                    Err(message) => return answers::ocs_error(404, message),
                },
                "password" => {
                    if let Some(message) =
                        policy_refusal(&text, self.shared.options.password_min_length)
                    {
                        return answers::ocs_error(400, &message);
                    }
                    share.password = Some(text);
                }
                // Label and note are accepted and not kept: nothing here reads them.
                _ => {}
            }
        }
        match host_json(world, id) {
            Some(data) => answers::ocs_ok(data),
            None => answers::ocs_error(404, "Wrong share ID, share does not exist"),
        }
    }

    /// `GET …/shares`: the account's shares; with `path`, those on exactly that file or
    /// folder, and with `subfiles=true` too, those on what lies directly inside that folder
    /// (docs/nextcloud-behaviour.md, "Listing the rooms' folders and their links").
    fn list_shares(&self, world: &World) -> Answer {
        let query = |name: &str| {
            form_urlencoded::parse(self.query.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let path = query("path").map(|p| p.trim_matches('/').to_owned());
        let subfiles = query("subfiles").as_deref() == Some("true");
        if let Some(path) = &path
            && world.storage.get(path).is_none()
        {
            return answers::ocs_error(404, "Wrong path, file/folder does not exist");
        }
        if let Some(path) = &path
            && subfiles
            && !world.storage.is_folder(path)
        {
            return answers::ocs_error(400, "Not a directory");
        }
        let inside = |share_path: &str, folder: &str| {
            let parent = share_path.rsplit_once('/').map_or("", |(parent, _)| parent);
            parent == folder
        };
        let shares: Vec<Value> = world
            .storage
            .shares
            .values()
            .filter(|s| match &path {
                None => true,
                Some(p) if subfiles => inside(&s.path, p),
                Some(p) => s.path == *p,
            })
            .map(|s| self.share_json(&world.storage, s))
            .collect();
        answers::ocs_ok(Value::Array(shares))
    }

    /// The share as OCS formats it (docs/nextcloud-behaviour.md, "Creating a public link";
    /// recording `04`); the URL follows the request's host ("Links behind a proxy"; recording
    /// `10 [2]`) and has the `/index.php/s/<token>` form.
    fn share_json(&self, storage: &storage::Storage, share: &LinkShare) -> Value {
        let host = self
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let item_type = if storage.is_folder(&share.path) {
            "folder"
        } else {
            "file"
        };
        let user = &self.shared.options.username;
        let name = share.path.rsplit('/').next().unwrap_or_default();
        // NextCloud sends the password's hash, never the password (docs/nextcloud-behaviour.md,
        // "Creating a public link"; recording `04 [1]`); a stand-in marker of that form will do.
        let hashed = share
            .password
            .as_ref()
            .map(|_| format!("3|$argon2id$v=19$m=65536,t=4,p=1$stand-in${}", share.token));
        // Every field of the recorded answer, so that clients that read any of them work.
        json!({
            "id": share.id.to_string(),
            "share_type": 3,
            "uid_owner": user,
            "displayname_owner": user,
            "permissions": share.permissions,
            "can_edit": true,
            "can_delete": true,
            "stime": 1_795_369_152u64,
            "parent": null,
            "expiration": share.expiration,
            "token": share.token,
            "uid_file_owner": user,
            "note": "",
            "label": "",
            "displayname_file_owner": user,
            "path": format!("/{}", share.path),
            "item_type": item_type,
            "item_permissions": 31,
            "is-mount-root": false,
            "mount-type": "",
            "mimetype": if item_type == "folder" { "httpd/unix-directory" } else { "application/octet-stream" },
            "has_preview": false,
            "storage_id": format!("home::{user}"),
            "storage": 1,
            "item_source": 100 + share.id,
            "file_source": 100 + share.id,
            "file_parent": 1,
            "file_target": format!("/{name}"),
            "item_size": 0,
            "item_mtime": 1_795_369_147u64,
            "share_with": hashed,
            "share_with_displayname": "(Shared link)",
            "password": hashed,
            "send_password_by_talk": false,
            "url": format!("{}/index.php/s/{}", self.link_base(host), share.token),
            "mail_send": 1,
            "hide_download": 0,
            "attributes": null,
        })
    }

    /// Where share links point: the stand-in itself as the request named it, or
    /// `Options::link_base` (a NextCloud behind a proxy: docs/nextcloud-behaviour.md, "Links behind
    /// a proxy"; recording `18`).
    fn link_base(&self, host: &str) -> String {
        let options = &self.shared.options;
        match &options.link_base {
            Some(base) => base.trim_end_matches('/').to_owned(),
            None => {
                let scheme = if options.tls.is_some() {
                    "https"
                } else {
                    "http"
                };
                format!("{scheme}://{host}{}", options.base_path)
            }
        }
    }

    pub(super) fn share_params(&self) -> ShareParams {
        let mut fields = self.fields();
        let mut take = |name: &str| {
            fields
                .iter()
                .position(|(k, _)| k == name)
                .map(|i| fields.remove(i).1)
        };
        let text = |v: Option<Value>| match v {
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        ShareParams {
            path: text(take("path")),
            share_type: text(take("shareType")).and_then(|s| s.parse().ok()),
            // A link share without permissions is read-only.
            permissions: text(take("permissions"))
                .and_then(|s| s.parse().ok())
                .unwrap_or(READ),
            password: text(take("password")),
            expire_date: text(take("expireDate")),
        }
    }
}

pub(super) struct ShareParams {
    pub(super) path: Option<String>,
    pub(super) share_type: Option<u32>,
    pub(super) permissions: u32,
    pub(super) password: Option<String>,
    pub(super) expire_date: Option<String>,
}

pub(super) fn find_share<'w>(world: &'w World, id: &str) -> Option<&'w LinkShare> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| world.storage.shares.get(&id))
}

/// `YYYY-MM-DD` (a time after it is dropped: docs/nextcloud-behaviour.md, "Creating a public link";
/// recording `04 [7]`) that lies after today.
fn parse_future_date(text: &str) -> Result<String, &'static str> {
    const INVALID: &str = "Invalid date. Format must be YYYY-MM-DD";
    let day = text.get(..10).ok_or(INVALID)?;
    let mut parts = day.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(INVALID);
    };
    let year: i32 = y.parse().map_err(|_| INVALID)?;
    let month: u8 = m.parse().map_err(|_| INVALID)?;
    let day_of_month: u8 = d.parse().map_err(|_| INVALID)?;
    let month = time::Month::try_from(month).map_err(|_| INVALID)?;
    let date = time::Date::from_calendar_date(year, month, day_of_month).map_err(|_| INVALID)?;
    if date <= time::OffsetDateTime::now_utc().date() {
        // Today counts as the past (docs/nextcloud-behaviour.md, "Refusals when creating a link";
        // recording `05 [4], [5]`).
        return Err("Expiration date is in the past");
    }
    Ok(day.to_owned())
}
