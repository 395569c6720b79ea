//! `GET /ocs/v1.php/cloud/capabilities` (and `/ocs/v2.php/…`): the OCS envelope with what
//! OpenCloud 0.1.0 was seen to publish — the password policy, which links need a password,
//! `core.status`, `version`, `dav.trashbin` and the rest (API-NOTES §3.4, §4;
//! docs/opencloud-behaviour.md, "Capabilities").

use serde_json::Value;

use super::answers::{self, Answer};
use super::call::Call;

/// `ocs.data` as OpenCloud 0.1.0 (`ebba861`) answered it with the default configuration
/// (recording `50`; docs/opencloud-behaviour.md, "Capabilities"); `password_policy` is replaced
/// by the stand-in's policy.
const SEEN: &str = r#"{"capabilities":{"core":{"pollinterval":60,"webdav-root":"remote.php/webdav","status":{"installed":true,"maintenance":false,"needsDbUpgrade":false,"version":"0.1.0.0","versionstring":"0.1.0","edition":"Community","productname":"OpenCloud","product":"OpenCloud","productversion":"0.1.0+ebba861"},"support-url-signing":true,"support-sse":true},"checksums":{"supportedTypes":["sha1","md5","adler32"],"preferredUploadType":"sha1"},"files":{"privateLinks":true,"bigfilechunking":false,"undelete":true,"versioning":true,"favorites":false,"full_text_search":false,"tags":true,"blacklisted_files":[],"tus_support":{"version":"1.0.0","resumable":"1.0.0","extension":"creation,creation-with-upload","max_chunk_size":10000000,"http_method_override":""},"archivers":[{"enabled":true,"version":"2.0.0","formats":["tar","zip"],"archiver_url":"/archiver","max_num_files":"10000","max_size":"1073741824"}],"app_providers":[{"enabled":true,"version":"1.1.0","apps_url":"/app/list","open_url":"/app/open","open_web_url":"/app/open-with-web","new_url":"/app/new"}]},"dav":{"chunking":"","trashbin":"1.0","reports":["search-files"],"chunkingParallelUploadDisabled":false},"files_sharing":{"api_enabled":true,"group_sharing":true,"sharing_roles":true,"deny_access":false,"auto_accept_share":true,"share_with_group_members_only":true,"share_with_membership_groups_only":true,"search_min_length":3,"default_permissions":22,"user_enumeration":{"enabled":true,"group_members_only":true},"federation":{"outgoing":false,"incoming":false},"public":{"enabled":true,"send_mail":true,"social_share":true,"upload":true,"multiple":true,"supports_upload_only":true,"password":{"enforced_for":{"read_only":true,"read_write":true,"read_write_delete":true,"upload_only":true},"enforced":false},"expire_date":{"enabled":false},"can_edit":true,"alias":true,"default_permissions":1},"user":{"send_mail":true,"profile_picture":false,"settings":[{"enabled":true,"version":"1.0.0"}],"expire_date":{"enabled":true}},"resharing":false},"spaces":{"version":"1.0.0","enabled":true,"projects":true,"share_jail":true,"max_quota":0},"graph":{"personal-data-export":true,"users":{"read_only_attributes":[],"create_disabled":false,"delete_disabled":false,"change_password_self_disabled":false}},"password_policy":{"min_characters":8,"max_characters":72,"min_lowercase_characters":1,"min_uppercase_characters":1,"min_digits":1,"min_special_characters":1},"search":{"property":{"name":{"enabled":true},"mtime":{"enabled":true,"keywords":["today","last 7 days","last 30 days","this year","last year"]},"size":{"enabled":false},"mediatype":{"enabled":true,"keywords":["document","spreadsheet","presentation","pdf","image","video","audio","folder","archive"]},"type":{"enabled":true},"tag":{"enabled":true},"tags":{"enabled":true},"content":{"enabled":true},"scope":{"enabled":true}}},"theme":{"logo":{"permitted_file_types":{".gif":"image/gif",".jpeg":"image/jpeg",".jpg":"image/jpeg",".png":"image/png"}}},"notifications":{"ocs-endpoints":["list","get","delete"],"configurable":false}},"version":{"major":0,"minor":1,"micro":0,"string":"0.1.0","edition":"Community","product":"OpenCloud","productversion":"0.1.0+ebba861"}}"#;

impl Call<'_> {
    pub(super) fn capabilities(&self, v2: bool) -> Answer {
        if self.method.as_str() != "GET" {
            return answers::empty(405);
        }
        // Every kind of link needs a password (`enforced_for`), while `enforced` says false;
        // no default expiry; the policy as configured (API-NOTES §3.4, §4;
        // docs/opencloud-behaviour.md, "Capabilities").
        let mut data: Value = serde_json::from_str(SEEN).unwrap_or_default();
        data["capabilities"]["password_policy"] =
            self.shared.options.password_policy.capabilities();
        if v2 {
            answers::ocs_v2(200, 200, "OK", data)
        } else {
            answers::ocs_v1(200, 100, "OK", data)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_seen_capabilities_are_json() {
        let data: serde_json::Value = serde_json::from_str(super::SEEN).unwrap();
        let public = &data["capabilities"]["files_sharing"]["public"];
        assert_eq!(public["password"]["enforced"], false);
        assert_eq!(public["expire_date"]["enabled"], false);
        assert_eq!(data["version"]["productversion"], "0.1.0+ebba861");
        assert_eq!(data["capabilities"]["dav"]["trashbin"], "1.0");
    }
}
