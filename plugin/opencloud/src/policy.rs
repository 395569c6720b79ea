//! Link passwords that OpenCloud's password policy accepts, made here: OpenCloud has no
//! password generator (API-NOTES §3.4 [V], "Capabilities").
//!
//! The policy is the one the capabilities publish, `GET /ocs/v1.php/cloud/capabilities?format=json`
//! → `ocs.data.capabilities.password_policy` (API-NOTES §3.4 [V]), e.g.
//! `{"min_characters":8,"max_characters":72,"min_lowercase_characters":1,
//! "min_uppercase_characters":1,"min_digits":1,"min_special_characters":1}`; with the policy
//! disabled only `max_characters` is there, and a server without one has none of it. The banned
//! list is never published (API-NOTES §3.4 [V]) — a random password of 16 characters or more is
//! not on one.
//!
//! A password is made as OpenTalk's client makes it (API-NOTES §3.4 [V]):
//! - length: the largest of `min_characters`, the sum of the classes' minimums and 16, but at
//!   most `max_characters` and at most 72 — bcrypt refuses a longer one when the link is stored
//!   (API-NOTES §3.5, §6 [V]; "Creating a link", "Password rules"), and every character here is
//!   one byte;
//! - every class at least once, or as often as the policy asks: a–z, A–Z, 0–9 and the special
//!   set `` !#$%&()*+,-./:;<=>?@[]^_{|}~ `` — the server's OWASP set without space, `"`, `'`,
//!   `` ` `` and `\` (API-NOTES §3.4, §4 [V], "Password rules"), so that no password needs
//!   quoting anywhere;
//! - shuffled, every draw from the host's CSPRNG (`provider_kit::password`).
//!
//! A policy no such password meets (its minimums add up to more than its maximum, or to more
//! than 72) is an error, said before anything is created.

use serde::Deserialize;

use crate::errors::{self, Error};
use crate::http::{Request, Response};
use crate::prelude::*;
use crate::settings::Settings;
use provider_kit::password::{self, Class, DIGITS, LOWER, UPPER};

/// The special characters used (see the module's doc).
pub const SPECIAL: &[u8] = b"!#$%&()*+,-./:;<=>?@[]^_{|}~";

/// The shortest password made, whatever the policy allows (API-NOTES §3.4 [V]: OpenTalk's 16).
pub const SHORTEST: usize = 16;

/// The longest password bcrypt stores, in bytes (API-NOTES §3.5, §6 [V]).
pub const BCRYPT_MAX: usize = 72;

/// `password_policy` as the capabilities publish it; a field not given is no rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Policy {
    pub min_characters: Option<u32>,
    pub max_characters: Option<u32>,
    pub min_lowercase_characters: Option<u32>,
    pub min_uppercase_characters: Option<u32>,
    pub min_digits: Option<u32>,
    pub min_special_characters: Option<u32>,
}

#[derive(Deserialize)]
struct Data {
    capabilities: Capabilities,
}

#[derive(Deserialize)]
struct Capabilities {
    #[serde(default)]
    password_policy: Option<Policy>,
}

/// `GET {base}/ocs/v1.php/cloud/capabilities?format=json` (API-NOTES §3.4 [V]).
pub fn capabilities(settings: &Settings) -> Request {
    Request::new(
        "GET",
        format!(
            "{}/ocs/v1.php/cloud/capabilities?format=json",
            settings.origin.base_path
        ),
    )
    .header("accept", "application/json")
}

/// The policy in the capabilities' answer: an OCS v1 envelope, `statuscode` 100 on success
/// (API-NOTES §3.4 [V for the data], "Answer shapes"). No `password_policy` is no rule.
pub fn policy(response: &Response) -> Result<Policy, Error> {
    let data: Data = provider_kit::ocs::data(response, refused)?;
    Ok(data.capabilities.password_policy.unwrap_or_default())
}

/// What a failed capabilities request reports. The proxy's 401 has no body (API-NOTES §6 [V],
/// "Authentication"); OCS' `997` is "unauthorised" as in NextCloud's OCS.
fn refused(status: u16, statuscode: u16, message: Option<&str>) -> Error {
    let message = message.filter(|m| !m.trim().is_empty());
    let status = if statuscode == 997 { 401 } else { status };
    errors::refusal(status, message, crate::graph::STORAGE)
}

/// The length and classes of the passwords the policy asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    pub length: usize,
    pub classes: [Class; 4],
}

impl Policy {
    /// What passwords meeting this policy are made of, or why none can.
    pub fn recipe(&self) -> Result<Recipe, Error> {
        let least = |rule: Option<u32>| usize::try_from(rule.unwrap_or(0)).unwrap_or(usize::MAX);
        let classes = [
            (LOWER, self.min_lowercase_characters),
            (UPPER, self.min_uppercase_characters),
            (DIGITS, self.min_digits),
            (SPECIAL, self.min_special_characters),
        ]
        .map(|(symbols, min)| Class {
            symbols,
            min: least(min).max(1),
        });
        let sum = classes
            .iter()
            .fold(0usize, |sum, class| sum.saturating_add(class.min));
        let min_characters = least(self.min_characters);
        let most = match self.max_characters {
            // 0 is Go's "not set" (API-NOTES §3.4 [V]: OpenTalk falls back to 72).
            None | Some(0) => BCRYPT_MAX,
            Some(max) => least(Some(max)).min(BCRYPT_MAX),
        };
        let length = min_characters.max(sum).max(SHORTEST).min(most);
        if length < sum || length < min_characters {
            return Err(Error::Protocol(format!(
                "OpenCloud's password policy cannot be met: it asks for at least {} characters \
                 ({} in all from its classes: lower case {}, upper case {}, digits {}, special \
                 {}) but allows at most {most}{}",
                min_characters.max(sum),
                sum,
                classes[0].min,
                classes[1].min,
                classes[2].min,
                classes[3].min,
                if most == BCRYPT_MAX {
                    " (bcrypt stores no more than 72 bytes)"
                } else {
                    ""
                }
            )));
        }
        Ok(Recipe { length, classes })
    }
}

impl Recipe {
    /// A fresh password from the host's CSPRNG.
    pub fn generate(&self) -> Result<String, Error> {
        password::generate(&self.classes, self.length)
            .ok_or_else(|| Error::Protocol("no password can be made for this policy".into()))
    }

    /// A password from the given source of random bytes.
    pub fn generate_from(&self, random: impl FnMut(usize) -> Vec<u8>) -> Option<String> {
        password::generate_from(random, &self.classes, self.length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_kit::testing::xorshift;

    fn answer(status: u16, body: &str) -> Response {
        Response::new(status, body.as_bytes())
    }

    fn policy_of(fields: &str) -> Policy {
        let body = format!(
            r#"{{"ocs":{{"meta":{{"status":"ok","statuscode":100,"message":"OK"}},"data":{{"capabilities":{{"core":{{"pollinterval":60,"webdav-root":"remote.php/webdav"}},"files_sharing":{{"public":{{"enabled":true,"password":{{"enforced_for":{{"read_only":true,"read_write":true,"read_write_delete":true,"upload_only":true}}}}}}}},"password_policy":{{{fields}}}}}}}}}}}"#
        );
        policy(&answer(200, &body)).unwrap()
    }

    fn count(password: &str, class: &[u8]) -> usize {
        password.bytes().filter(|c| class.contains(c)).count()
    }

    /// Passwords of `policy` meet it, in length and in every class.
    fn check(policy: &Policy, length: usize) {
        let recipe = policy.recipe().unwrap();
        assert_eq!(recipe.length, length, "{policy:?}");
        for seed in 1..100 {
            let p = recipe.generate_from(xorshift(seed)).unwrap();
            assert_eq!(p.len(), length);
            assert!(p.len() <= BCRYPT_MAX);
            for (class, rule) in [
                (LOWER, policy.min_lowercase_characters),
                (UPPER, policy.min_uppercase_characters),
                (DIGITS, policy.min_digits),
                (SPECIAL, policy.min_special_characters),
            ] {
                let least = rule.unwrap_or(0).max(1) as usize;
                assert!(count(&p, class) >= least, "{p} for {policy:?}");
            }
            assert!(!p.contains([' ', '"', '\'', '`', '\\']), "{p}");
        }
    }

    #[test]
    fn the_default_policy_gets_sixteen_characters_of_every_class() {
        // API-NOTES §3.4, §4 [V]: OpenCloud's defaults.
        let default = policy_of(
            r#""min_characters":8,"max_characters":72,"min_lowercase_characters":1,"min_uppercase_characters":1,"min_digits":1,"min_special_characters":1"#,
        );
        assert_eq!(default.min_characters, Some(8));
        check(&default, 16);
    }

    #[test]
    fn longer_or_richer_policies_get_longer_passwords() {
        check(&policy_of(r#""min_characters":30,"max_characters":72"#), 30);
        check(
            &policy_of(
                r#""min_characters":8,"min_lowercase_characters":5,"min_uppercase_characters":5,"min_digits":5,"min_special_characters":5"#,
            ),
            20,
        );
        // Minimums that fill the whole length.
        check(
            &policy_of(
                r#""max_characters":20,"min_lowercase_characters":5,"min_uppercase_characters":5,"min_digits":5,"min_special_characters":5"#,
            ),
            20,
        );
    }

    #[test]
    fn a_disabled_or_missing_policy_still_gets_every_class() {
        // API-NOTES §3.4 [V]: a disabled policy publishes only max_characters.
        check(&policy_of(r#""max_characters":72"#), 16);
        check(&policy_of(""), 16);
        let none = r#"{"ocs":{"meta":{"statuscode":100},"data":{"capabilities":{"core":{}}}}}"#;
        assert_eq!(policy(&answer(200, none)).unwrap(), Policy::default());
        check(&Policy::default(), 16);
    }

    #[test]
    fn passwords_stay_within_72_bytes_and_the_maximum() {
        check(&policy_of(r#""min_characters":72"#), 72);
        check(
            &policy_of(r#""min_lowercase_characters":39,"min_uppercase_characters":31"#),
            72,
        );
        check(&policy_of(r#""min_characters":72,"max_characters":0"#), 72);
        check(&policy_of(r#""max_characters":12"#), 12);
    }

    #[test]
    fn an_unsatisfiable_policy_is_a_clear_error() {
        for fields in [
            // More than 72 bytes asked for.
            r#""min_characters":100"#,
            // Minimums above the maximum.
            r#""max_characters":10,"min_lowercase_characters":4,"min_uppercase_characters":4,"min_digits":4"#,
            r#""min_characters":20,"max_characters":16"#,
            r#""min_special_characters":70"#,
        ] {
            let Err(Error::Protocol(message)) = policy_of(fields).recipe() else {
                panic!("{fields} was met");
            };
            assert!(
                message.starts_with("OpenCloud's password policy cannot be met"),
                "{message}"
            );
        }
        // A rule too large for the platform's integers counts as unmeetable, not as a panic.
        let huge = Policy {
            min_digits: Some(u32::MAX),
            ..Policy::default()
        };
        assert!(huge.recipe().is_err());
    }

    #[test]
    fn refusals_of_the_capabilities_are_typed() {
        assert!(matches!(
            policy(&answer(401, "")),
            Err(Error::Unauthorized(m)) if m == "OpenCloud refused the account's credentials"
        ));
        // "Failures the tests inject", OcsMismatch: HTTP 200, statuscode 996.
        let mismatch = r#"{"ocs":{"meta":{"status":"failure","statuscode":996,"message":"Internal Server Error"},"data":{}}}"#;
        assert!(matches!(
            policy(&answer(200, mismatch)),
            Err(Error::Remote(r)) if r.status == 996 && r.message == "Internal Server Error"
        ));
        assert!(matches!(
            policy(&answer(200, "{\"ocs\":")),
            Err(Error::Protocol(_))
        ));
        let negative = r#"{"ocs":{"meta":{"statuscode":100},"data":{"capabilities":{"password_policy":{"min_digits":-1}}}}}"#;
        assert!(matches!(
            policy(&answer(200, negative)),
            Err(Error::Protocol(_))
        ));
    }
}
