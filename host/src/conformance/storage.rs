//! The storage looked at with the account's own credentials, for the storages the host knows
//! (NextCloud and ownCloud through WebDAV and OCS, OpenCloud through its spaces' WebDAV and
//! LibreGraph): each link's expiry date, and what a run left under `directory`. These are the
//! requests the providers themselves make (docs/nextcloud-behaviour.md, "Shares";
//! docs/opencloud-behaviour.md, "Links"), sent by the host outside any fault plan.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use shared_folder_host::runtime::FolderRecord;

use crate::probe::{Answer, Probe, encode};

/// How the host reads a known storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// NextCloud and ownCloud.
    NextCloudLike,
    OpenCloud,
}

impl Kind {
    pub fn of_provider(provider: &str) -> Option<Kind> {
        match provider {
            "nextcloud" | "owncloud" => Some(Kind::NextCloudLike),
            "opencloud" => Some(Kind::OpenCloud),
            _ => None,
        }
    }
}

pub struct StorageView {
    pub kind: Kind,
    pub probe: Probe,
}

impl StorageView {
    /// The expiry date (`YYYY-MM-DD`, or `None` for none) of each of `record`'s two links, as
    /// the storage holds them: read-only first.
    pub async fn expiries(&self, record: &FolderRecord) -> Result<[Option<String>; 2], String> {
        let links = self.links(record).await?;
        let find = |url: &str| {
            links
                .iter()
                .find(|(link, _)| link == url)
                .map(|(_, expiry)| expiry.clone())
                .ok_or_else(|| format!("the storage does not list the link {url} on the folder"))
        };
        Ok([find(&record.read.url)?, find(&record.read_write.url)?])
    }

    /// The public links the storage holds on `record`'s folder: URL and expiry date.
    pub async fn links(
        &self,
        record: &FolderRecord,
    ) -> Result<Vec<(String, Option<String>)>, String> {
        Ok(match self.kind {
            Kind::NextCloudLike => {
                let path = format!(
                    "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&path=/{}",
                    encode_path(&record.path)
                );
                let answer = ok(
                    self.probe
                        .send("GET", &path, &[("OCS-APIRequest", "true")], "")
                        .await?,
                    "the folder's links",
                )?;
                let json = answer.json();
                let data = json["ocs"]["data"].as_array().cloned().unwrap_or_default();
                data.iter()
                    .map(|share| (text(share, "url"), date(&share["expiration"])))
                    .collect()
            }
            Kind::OpenCloud => {
                let drive = self.drive().await?;
                let item = self
                    .probe
                    .send(
                        "HEAD",
                        &format!(
                            "/remote.php/dav/spaces/{}/{}",
                            encode(&drive),
                            encode_path(&record.path)
                        ),
                        &[],
                        "",
                    )
                    .await?;
                let item = item
                    .headers
                    .get("oc-fileid")
                    .and_then(|v| v.to_str().ok())
                    .ok_or("the folder has no OC-FileId")?
                    .to_owned();
                let answer = ok(
                    self.probe
                        .send(
                            "GET",
                            &format!(
                                "/graph/v1beta1/drives/{}/items/{}/permissions",
                                encode(&drive),
                                encode(&item)
                            ),
                            &[],
                            "",
                        )
                        .await?,
                    "the folder's permissions",
                )?;
                let json = answer.json();
                let value = json["value"].as_array().cloned().unwrap_or_default();
                value
                    .iter()
                    .filter(|p| p.get("link").is_some())
                    .map(|p| (text(&p["link"], "webUrl"), date(&p["expirationDateTime"])))
                    .collect()
            }
        })
    }

    /// Entries under `directory` whose names start with `prefix`, and (NextCloud, ownCloud)
    /// links of the account to a path containing it.
    pub async fn leftovers(&self, directory: &str, prefix: &str) -> Result<Vec<String>, String> {
        let folder = match self.kind {
            Kind::NextCloudLike => format!(
                "/remote.php/dav/files/{}/{}",
                encode(&self.probe.username),
                encode_path(directory)
            ),
            Kind::OpenCloud => format!(
                "/remote.php/dav/spaces/{}/{}",
                encode(&self.drive().await?),
                encode_path(directory)
            ),
        };
        let listing = self
            .probe
            .send(
                "PROPFIND",
                &folder,
                &[("depth", "1"), ("content-type", "application/xml")],
                PROPFIND_NAMES,
            )
            .await?;
        let mut left: Vec<String> = match listing.status.as_u16() {
            207 => String::from_utf8_lossy(&listing.body)
                .split("<d:href>")
                .skip(1)
                .filter_map(|rest| rest.split("</d:href>").next())
                .filter(|href| href.contains(prefix))
                .map(|href| format!("folder {href}"))
                .collect(),
            // The directory itself is gone: nothing below it.
            404 => Vec::new(),
            status => return Err(format!("listing {directory:?} answered {status}")),
        };
        if self.kind == Kind::NextCloudLike {
            let answer = ok(
                self.probe
                    .send(
                        "GET",
                        "/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json",
                        &[("OCS-APIRequest", "true")],
                        "",
                    )
                    .await?,
                "the account's links",
            )?;
            let json = answer.json();
            for share in json["ocs"]["data"].as_array().into_iter().flatten() {
                let path = text(share, "path");
                if path.contains(prefix) {
                    left.push(format!("link {} to {path}", text(share, "url")));
                }
            }
        }
        Ok(left)
    }

    async fn drive(&self) -> Result<String, String> {
        let answer = ok(
            self.probe
                .send("GET", "/graph/v1.0/me/drive", &[], "")
                .await?,
            "the personal drive",
        )?;
        answer.json()["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no personal drive ({})", answer.status))
    }
}

/// `answer` when the storage answered 200; else what it answered, for the row.
fn ok(answer: Answer, what: &str) -> Result<Answer, String> {
    if answer.status.as_u16() == 200 {
        Ok(answer)
    } else {
        Err(format!("reading {what} answered {}", answer.status))
    }
}

const PROPFIND_NAMES: &str = "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\">\
     <d:prop><d:resourcetype/></d:prop></d:propfind>";

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

/// The date part of an expiry (`2026-12-14 00:00:00`, `2026-12-14T23:59:59Z`).
fn date(value: &Value) -> Option<String> {
    value.as_str()?.get(..10).map(str::to_owned)
}

/// Each segment of a `/`-separated path percent-encoded.
fn encode_path(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// `YYYY-MM-DD` of the UTC day `days` from today.
pub fn date_in(days: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date(
        i64::try_from(now / 86_400)
            .unwrap_or(0)
            .saturating_add(days.clamp(-36_500, 36_500)),
    )
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_from_the_epoch_are_civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(59), "1970-03-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_794), "2026-12-07");
    }
}
