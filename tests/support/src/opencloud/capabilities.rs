//! `GET /ocs/v1.php/cloud/capabilities`: the OCS v1 envelope with the password policy and which
//! links need a password (API-NOTES §3.4, §4; docs/opencloud-behaviour.md, "Capabilities").

use serde_json::json;

use super::answers::{self, Answer};
use super::call::Call;

impl Call<'_> {
    pub(super) fn capabilities(&self) -> Answer {
        if self.method.as_str() != "GET" {
            return answers::empty(405);
        }
        // Every kind of link needs a password: OC_SHARING_PUBLIC_SHARE_MUST_HAVE_PASSWORD's
        // default, true; the policy as configured (API-NOTES §3.4, §4; docs/opencloud-behaviour.md, "Capabilities").
        let data = json!({"capabilities": {
            "files_sharing": {"public": {
                "enabled": true,
                "password": {"enforced_for": {
                    "read_only": true,
                    "read_write": true,
                    "read_write_delete": true,
                    "upload_only": true,
                }},
            }},
            "password_policy": self.shared.options.password_policy.capabilities(),
        }});
        answers::ocs_v1(200, 100, "OK", data)
    }
}
