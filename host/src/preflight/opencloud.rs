//! What the preflight checks on OpenCloud (docs/opencloud-behaviour.md): the credentials (the
//! account's personal drive), the link password policy the capabilities publish, and the
//! space's trash bin.

use serde_json::Value;
use shared_folder_host::HostConfig;

use super::Finding;
use crate::probe::{Probe, Trash, encode};

/// The account's personal drive: reaches OpenCloud with the credentials. Returns whether they
/// were accepted.
pub async fn credentials(probe: &Probe, findings: &mut Vec<Finding>) -> bool {
    match probe.send("GET", "/graph/v1.0/me/drive", &[], "").await {
        Err(error) => {
            findings.push(Finding::problem(
                format!("the storage at {} cannot be reached: {error}", probe.base),
                "check [shared_folder].url, the network, and for a private CA [host].ca_bundle",
            ));
            false
        }
        Ok(answer) if answer.status.as_u16() == 200 => {
            findings.push(Finding::ok(format!(
                "OpenCloud accepted the credentials of {:?} ({} ms); its personal drive is {}",
                probe.username,
                answer.took.as_millis(),
                answer.json()["id"].as_str().unwrap_or("unnamed")
            )));
            true
        }
        Ok(answer) if answer.status.as_u16() == 401 => {
            findings.push(Finding::problem(
                format!(
                    "OpenCloud refused the credentials of {:?} (401)",
                    probe.username
                ),
                "check [shared_folder].username and the app token (POST /auth-app/tokens, or \
                 `opencloud auth-app create`); a login password works only with \
                 PROXY_ENABLE_BASIC_AUTH=true",
            ));
            false
        }
        Ok(answer) => {
            findings.push(Finding::problem(
                format!(
                    "OpenCloud answered {} to a request of the account's personal drive",
                    answer.status
                ),
                "check [shared_folder].url and that the account has a personal space",
            ));
            false
        }
    }
}

/// What the capabilities say of links: their password policy, and whether a password is
/// enforced.
pub async fn settings(probe: &Probe, _config: &HostConfig) -> Vec<Finding> {
    let capabilities = match probe
        .send(
            "GET",
            "/ocs/v1.php/cloud/capabilities?format=json",
            &[("ocs-apirequest", "true")],
            "",
        )
        .await
    {
        Ok(answer) if answer.status.is_success() => {
            answer.json()["ocs"]["data"]["capabilities"].clone()
        }
        Ok(answer) => {
            return vec![Finding::warning(
                format!("OpenCloud's capabilities answered {}", answer.status),
                "the provider reads its password policy there: check the OCS service",
            )];
        }
        Err(error) => {
            return vec![Finding::warning(
                format!("OpenCloud's capabilities could not be read: {error}"),
                "the provider reads its password policy there: check the OCS service",
            )];
        }
    };
    let mut findings = Vec::new();
    if capabilities["files_sharing"]["public"]["enabled"].as_bool() == Some(false) {
        findings.push(Finding::problem(
            "OpenCloud does not allow public links",
            "allow public links (OpenCloud's sharing settings)",
        ));
    }
    findings.push(Finding::ok(format!(
        "OpenCloud's link password policy: {}; the provider makes passwords that meet it",
        describe_policy(&capabilities["password_policy"])
    )));
    findings
}

/// The policy's rules in words.
fn describe_policy(policy: &Value) -> String {
    let rule = |field: &str, what: &str| {
        policy[field]
            .as_u64()
            .filter(|n| *n > 0)
            .map(|n| format!("{n} {what}"))
    };
    let rules: Vec<String> = [
        rule("min_characters", "characters or more"),
        rule("min_lowercase_characters", "lower case"),
        rule("min_uppercase_characters", "upper case"),
        rule("min_digits", "digit(s)"),
        rule("min_special_characters", "special"),
        rule("max_characters", "characters at most"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if rules.is_empty() {
        "none published".to_owned()
    } else {
        rules.join(", ")
    }
}

/// Whether the deleted probe is in the personal space's trash bin; takes it out if so.
pub async fn trash(probe: &Probe, path: &str) -> Finding {
    let look = "look in OpenCloud's trash bin (Deleted files) for the probe folder";
    let drive = match probe.send("GET", "/graph/v1.0/me/drive", &[], "").await {
        Ok(answer) => answer.json()["id"].as_str().map(str::to_owned),
        Err(_) => None,
    };
    let Some(drive) = drive else {
        return Finding::warning("the trash bin was not found (no personal drive)", look);
    };
    let bin = format!("/remote.php/dav/spaces/trash-bin/{}", encode(&drive));
    match probe.take_from_trash(&bin, TRASH_LISTING, path).await {
        Trash::Missing => {
            return Finding::warning("the trash bin could not be listed (404 Not Found)", look);
        }
        Trash::Unreadable(why) => {
            return Finding::warning(format!("the trash bin could not be listed {why}"), look);
        }
        Trash::Taken(0) => return Finding::ok("the deleted probe is not in the trash bin"),
        Trash::Taken(_) => {}
    }
    Finding::warning(
        "deleted folders stay in OpenCloud's trash bin, with the files participants uploaded, \
         until it is emptied (the probe's entry was removed)",
        "set [shared_folder].delete_from_trash = true to remove them from the trash bin too \
         (OpenCloud itself empties it only when an operator runs `opencloud storage-users \
         trash-bin purge-expired`)",
    )
}

const TRASH_LISTING: &str = "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" \
     xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:trashbin-original-location/></d:prop></d:propfind>";
