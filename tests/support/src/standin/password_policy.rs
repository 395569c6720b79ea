//! The password policy app: the policy's refusal of a share password, and its generator
//! (docs/nextcloud-behaviour.md, "Password policy"; recordings `05`, `11`).

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::json;

use super::answers::{self, Answer};
use super::call::Call;

pub(super) const GENERATE: &str = "/ocs/v2.php/apps/password_policy/api/v1/generate";

/// Passwords NextCloud's policy refuses as common (a few of its list of a million).
const COMMON_PASSWORDS: &[&str] = &[
    "passwordpassword",
    "1234567890",
    "qwertyuiop",
    "password123",
    "administrator",
];

impl Call<'_> {
    pub(super) fn generate_password(&self) -> Answer {
        // ownCloud has no generator: OCS v2 500 (docs/owncloud-behaviour.md, "Password policy").
        if self.shared.options.flavour == super::Flavour::OwnCloud {
            return answers::ocs_error(
                500,
                "Invalid query, please check the syntax. API specifications are here: \
                 http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.",
            );
        }
        // A fresh password that satisfies the policy (docs/nextcloud-behaviour.md, "Password
        // policy"; recording `11 [1]`).
        let length = self.shared.options.password_min_length.max(10) + 6;
        let mut rng = rand::rng();
        let mut password: String = (&mut rng)
            .sample_iter(&Alphanumeric)
            .take(length)
            .map(char::from)
            .collect();
        password.push_str("a1-Z");
        answers::ocs_ok(json!({"password": password}))
    }
}

/// The policy's refusal of `password`, in NextCloud's words (docs/nextcloud-behaviour.md, "Password
/// policy"; recording `05 [1], [2]`).
pub(super) fn policy_refusal(password: &str, min_length: usize) -> Option<String> {
    let mut reasons = Vec::new();
    if COMMON_PASSWORDS.contains(&password.to_ascii_lowercase().as_str()) || password.len() < 4 {
        reasons.push(
            "Password is among the 1,000,000 most common ones. Please make it unique.".to_owned(),
        );
    }
    if password.chars().count() < min_length {
        reasons.push(format!(
            "Password needs to be at least {min_length} characters long."
        ));
    }
    (!reasons.is_empty()).then(|| reasons.join(" "))
}
