//! OCS (`/ocs/v2.php/…`) as the stand-in serves it: who may call it (credentials, and the
//! `OCS-APIRequest` header against CSRF), which endpoint answers, and the capabilities
//! (docs/nextcloud-behaviour.md, "Requests and authentication", "Capabilities").

use http::header;
use serde_json::json;

use super::World;
use super::answers::{self, Answer};
use super::call::Call;
use super::password_policy::GENERATE;
use super::shares::SHARES;

const CAPABILITIES: &str = "/ocs/v2.php/cloud/capabilities";

/// Whether `path` (below the base path) is an OCS endpoint the stand-in serves.
pub(super) fn serves(path: &str) -> bool {
    path == SHARES
        || path.starts_with(&format!("{SHARES}/"))
        || path == GENERATE
        || path == CAPABILITIES
}

impl Call<'_> {
    /// An OCS request: refused without credentials or without `OCS-APIRequest: true`, else
    /// answered by its endpoint.
    pub(super) fn ocs(&self, world: &mut World) -> Answer {
        if !self.authenticated {
            // docs/nextcloud-behaviour.md, "Requests and authentication"; recording `05 [13], [14]`
            if self.headers.contains_key(header::AUTHORIZATION) {
                // Refused credentials come with a challenge (`05 [13]`); none, without (`[14]`).
                let mut answer = answers::ocs_error(401, "Unauthorised");
                answer.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    http::HeaderValue::from_static("Basic realm=\"Authorisation Required\""),
                );
                return answer;
            }
            return answers::ocs_error(401, "Current user is not logged in");
        }
        if self
            .headers
            .get("ocs-apirequest")
            .and_then(|v| v.to_str().ok())
            != Some("true")
        {
            return answers::csrf_failed();
        }
        if self.path == GENERATE {
            return self.generate_password();
        }
        if self.path == CAPABILITIES {
            return self.capabilities();
        }
        self.shares(world)
    }

    /// The parts of the capabilities a client of shares reads (docs/nextcloud-behaviour.md,
    /// "Capabilities"; recording `22 [4]`): nothing in them tells of the share rate limit;
    /// `bruteforce.allow-listed` says whether the caller's address is on the brute-force
    /// allowlist.
    fn capabilities(&self) -> Answer {
        let options = &self.shared.options;
        if options.flavour == super::Flavour::OwnCloud {
            return answers::ocs_ok(super::owncloud::capabilities());
        }
        answers::ocs_ok(json!({
            "version": {"major": 32, "minor": 0, "micro": 1, "string": "32.0.1", "edition": "", "extendedSupport": false},
            "capabilities": {
                "bruteforce": {"delay": 0, "allow-listed": options.allow_listed},
                "files_sharing": {
                    "api_enabled": true,
                    "public": {
                        "enabled": true,
                        "password": {"enforced": false, "askForOptionalPassword": false},
                        "expire_date": {"enabled": false},
                        "multiple_links": true,
                        "upload": true,
                        "upload_files_drop": true,
                    },
                    "default_permissions": 31,
                },
                "password_policy": {
                    "minLength": options.password_min_length,
                    "enforceNonCommonPassword": true,
                },
            },
        }))
    }
}
