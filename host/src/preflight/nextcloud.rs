//! What the preflight checks on NextCloud and ownCloud 10, which the NextCloud provider serves
//! both (docs/nextcloud-behaviour.md, docs/owncloud-behaviour.md): the credentials and what
//! kind of password they are, the capabilities (enforced expiry, the share rate limit), and the
//! trash bin.

use serde_json::Value;
use shared_folder_host::HostConfig;

use super::{Finding, deletes_from_trash, expiry_days};
use crate::probe::{Probe, Trash, encode, median};

/// Which of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    NextCloud,
    OwnCloud,
}

impl Flavour {
    pub fn name(self) -> &'static str {
        match self {
            Flavour::NextCloud => "NextCloud",
            Flavour::OwnCloud => "ownCloud",
        }
    }
}

/// Requests without a session timed to tell what a credentials check costs: the median of
/// these, never one timing (a server that was idle answers its first request slowly whatever
/// the password).
const TIMED_CHECKS: usize = 3;

fn files(probe: &Probe) -> String {
    format!("/remote.php/dav/files/{}/", encode(&probe.username))
}

/// Reaches the storage with the credentials and tells a login password from an app password.
/// Returns whether the credentials were accepted.
pub async fn credentials(flavour: Flavour, probe: &Probe, findings: &mut Vec<Finding>) -> bool {
    let name = flavour.name();
    let first = match probe
        .send("PROPFIND", &files(probe), &[("depth", "0")], "")
        .await
    {
        Ok(answer) => answer,
        Err(error) => {
            findings.push(Finding::problem(
                format!("the storage at {} cannot be reached: {error}", probe.base),
                "check [shared_folder].url, the network, and for a private CA [host].ca_bundle",
            ));
            return false;
        }
    };
    match first.status.as_u16() {
        207 => {}
        401 => {
            findings.push(Finding::problem(
                format!(
                    "{name} refused the credentials of {:?} (401)",
                    probe.username
                ),
                match flavour {
                    Flavour::NextCloud => {
                        "check [shared_folder].username and the password; an app password is \
                         made under Settings → Security → Devices & sessions"
                    }
                    Flavour::OwnCloud => {
                        "check [shared_folder].username and the password; an app password is \
                         made under Settings → Security → App passwords"
                    }
                },
            ));
            return false;
        }
        429 => {
            findings.push(Finding::problem(
                format!("{name} throttles this address after failed logins (429)"),
                "fix the credentials, then reset the brute-force attempts: occ security:bruteforce:reset <ip>",
            ));
            return false;
        }
        status => {
            findings.push(Finding::problem(
                format!("{name} answered {status} to a WebDAV request of the account's files"),
                "check [shared_folder].url (a sub-path?) and the account",
            ));
            return false;
        }
    }
    // What a check of these credentials costs: requests without a session, each checked anew.
    let mut timings = Vec::new();
    let mut login = is_login_password(&first.headers);
    for _ in 0..TIMED_CHECKS {
        if let Ok(answer) = probe
            .send_sessionless("PROPFIND", &files(probe), &[("depth", "0")])
            .await
            && answer.status.as_u16() == 207
        {
            login |= is_login_password(&answer.headers);
            timings.push(answer.took);
        }
    }
    let cost = median(timings.clone()).map_or(String::new(), |m| {
        format!(
            "; a check of them costs {} ms (median of {} requests without a session)",
            m.as_millis(),
            timings.len()
        )
    });
    findings.push(Finding::ok(format!(
        "{name} accepted the credentials of {:?}{cost}",
        probe.username
    )));
    match flavour {
        // NextCloud marks every answer to a login password with a `cookie_test` cookie, and
        // never an app password's (docs/nextcloud-behaviour.md, "Authentication cost and
        // sessions"; seen on 28, 29, 32 and 34): the verdict rests on that, not on a timing.
        Flavour::NextCloud if login => findings.push(Finding::warning(
            format!(
                "the password is the account's login password (NextCloud says so with a \
                 cookie_test cookie){cost}; each session starts with that check and leaves a \
                 browser token in the account's device list"
            ),
            "make an app password (Settings → Security → Devices & sessions, or occ \
             user:auth-tokens:add) and configure it: about 0.08 s a check instead of 0.6 s, \
             and it survives a change of the login password",
        )),
        Flavour::NextCloud => findings.push(Finding::ok("the password is an app password")),
        // ownCloud tells neither apart; its login password costs little more than an app
        // password (docs/owncloud-behaviour.md, "Authentication cost").
        Flavour::OwnCloud => {}
    }
    true
}

fn is_login_password(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .any(|c| c.as_bytes().starts_with(b"cookie_test="))
}

/// The OCS capabilities' `data.capabilities`.
pub async fn capabilities(probe: &Probe) -> Option<Value> {
    let answer = probe
        .send(
            "GET",
            "/ocs/v2.php/cloud/capabilities?format=json",
            &[("ocs-apirequest", "true"), ("accept", "application/json")],
            "",
        )
        .await
        .ok()?;
    Some(answer.json()["ocs"]["data"]["capabilities"].clone())
}

/// What the capabilities say of sharing: public links allowed, an enforced expiry, and on
/// NextCloud the share rate limit.
pub fn settings(
    flavour: Flavour,
    config: &HostConfig,
    capabilities: Option<&Value>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = flavour.name();
    if let Some(public) = capabilities.map(|c| &c["files_sharing"]["public"]) {
        if public["enabled"].as_bool() == Some(false) {
            findings.push(Finding::problem(
                format!("{name} does not allow public links"),
                "allow sharing by public link (Settings → Sharing)",
            ));
        }
        if let Some(finding) = expiry(name, config, public) {
            findings.push(finding);
        }
    }
    if flavour == Flavour::NextCloud {
        findings.push(rate_limit(capabilities));
    }
    findings
}

/// What the capabilities say of expiry.
fn expiry(name: &str, config: &HostConfig, public: &Value) -> Option<Finding> {
    let enforced = public["expire_date"]["enforced"].as_bool() == Some(true);
    if !enforced {
        return None;
    }
    let days = public["expire_date"]["days"]
        .as_i64()
        .or_else(|| public["expire_date"]["days"].as_str()?.parse().ok())?;
    match expiry_days(config) {
        Some(ours) if ours <= days => Some(Finding::ok(format!(
            "{name} enforces link expiry within {days} days; expiry = {ours} fits"
        ))),
        ours => Some(Finding::problem(
            format!(
                "{name} enforces link expiry within {days} days, but [shared_folder].expiry is {}",
                ours.map_or("not set".to_owned(), |d| d.to_string())
            ),
            format!("set [shared_folder].expiry to at most {days}"),
        )),
    }
}

/// What can be told of NextCloud's share rate limit without using it up.
fn rate_limit(capabilities: Option<&Value>) -> Finding {
    let allow_listed = capabilities.and_then(|c| c["bruteforce"]["allow-listed"].as_bool());
    match allow_listed {
        Some(true) => Finding::ok(
            "this host's address is on NextCloud's brute-force allowlist: the share rate limit is \
             lifted for it if bruteforcesettings apply_allowlist_to_ratelimit is true (not visible \
             to clients)",
        ),
        _ => Finding::warning(
            "NextCloud lets one account create 20 shares per 10 minutes, that is 10 rooms, unless \
             its administrator lifted the limit; this host's address is not on the brute-force \
             allowlist",
            RATE_LIMIT_FIX,
        ),
    }
}

pub const RATE_LIMIT_FIX: &str = "to lift it for this host: occ config:app:set bruteForce \
     whitelist_1 --value=<this host's address>/32, then occ config:app:set bruteforcesettings \
     apply_allowlist_to_ratelimit --value=true --type=boolean; `preflight --rate-limit` measures \
     it (using up to 22 shares of the 10-minute quota)";

/// The trash bin's listing path: NextCloud's `trashbin/<user>/trash/`, ownCloud's
/// `trash-bin/<user>/`, and the namespace of the original-location property.
fn trash_bin(flavour: Flavour, probe: &Probe) -> (String, &'static str) {
    let user = encode(&probe.username);
    match flavour {
        Flavour::NextCloud => (
            format!("/remote.php/dav/trashbin/{user}/trash/"),
            "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" \
             xmlns:nc=\"http://nextcloud.org/ns\"><d:prop><nc:trashbin-original-location/>\
             </d:prop></d:propfind>",
        ),
        Flavour::OwnCloud => (
            format!("/remote.php/dav/trash-bin/{user}/"),
            "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" \
             xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:trashbin-original-location/>\
             </d:prop></d:propfind>",
        ),
    }
}

/// Whether the deleted probe is in the trash bin; takes it out if so.
pub async fn trash(flavour: Flavour, probe: &Probe, config: &HostConfig, path: &str) -> Finding {
    let name = flavour.name();
    let (bin, listing) = trash_bin(flavour, probe);
    let look = format!("look in {name}'s trash bin for the probe folder");
    match probe.take_from_trash(&bin, listing, path).await {
        Trash::Missing => {
            return Finding::ok(format!(
                "{name} has no trash bin here: a deleted folder is gone"
            ));
        }
        Trash::Unreadable(why) => {
            return Finding::warning(format!("the trash bin could not be listed {why}"), look);
        }
        Trash::Taken(0) => {
            return Finding::ok(if deletes_from_trash(config) {
                "deleted folders are removed from the trash bin too (delete_from_trash = true)"
            } else {
                "the deleted probe is not in the trash bin"
            });
        }
        Trash::Taken(_) => {}
    }
    Finding::warning(
        format!(
            "deleted folders stay in {name}'s trash bin, with the files participants uploaded, \
             until the trash bin's retention removes them (the probe's entry was removed)"
        ),
        "set [shared_folder].delete_from_trash = true to remove them from the trash bin too",
    )
}
