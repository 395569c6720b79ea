//! The password policy for link passwords: what the sharing service enforces when a link is
//! created, and what the capabilities publish of it (API-NOTES §4, §3.4; reva
//! `pkg/password/password_policies.go`; docs/opencloud-behaviour.md, "Password rules" and
//! "Capabilities").

use serde_json::{Value, json};

/// The special characters the policy counts: OWASP's list, the space included (API-NOTES §4).
pub(crate) const SPECIAL_CHARACTERS: &str = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// The most bytes bcrypt hashes; a longer password fails when the link is stored (API-NOTES §4,
/// §6).
pub(crate) const BCRYPT_MAX_BYTES: usize = 72;

/// OpenCloud's password policy for public links (`OC_PASSWORD_POLICY_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Characters (Unicode scalar values, Go's runes) at least.
    pub min_characters: usize,
    pub min_lowercase: usize,
    pub min_uppercase: usize,
    /// Digits `0`–`9` at least.
    pub min_digits: usize,
    /// Characters of [`SPECIAL_CHARACTERS`] at least.
    pub min_special: usize,
    /// Passwords refused whatever else they are (`OC_PASSWORD_POLICY_BANNED_PASSWORDS_LIST`);
    /// never published (API-NOTES §3.4).
    pub banned: Vec<String>,
    /// `OC_PASSWORD_POLICY_DISABLED`: nothing is checked, and the capabilities only say
    /// `max_characters`.
    pub disabled: bool,
}

impl Default for PasswordPolicy {
    /// OpenCloud's defaults: 8 characters with one of each class, no banned list, enabled
    /// (API-NOTES §4 "Defaults").
    fn default() -> Self {
        PasswordPolicy {
            min_characters: 8,
            min_lowercase: 1,
            min_uppercase: 1,
            min_digits: 1,
            min_special: 1,
            banned: Vec::new(),
            disabled: false,
        }
    }
}

impl PasswordPolicy {
    /// The policy's refusal of `password`, in reva's words (API-NOTES §4 "Validator";
    /// docs/opencloud-behaviour.md, "Password rules"): a banned password is refused alone and
    /// first; otherwise every failed rule, one per line.
    pub(crate) fn refusal(&self, password: &str) -> Option<String> {
        if self.disabled {
            return None;
        }
        if self.banned.iter().any(|banned| banned == password) {
            return Some(
                "unfortunately, your password is commonly used. please pick a harder-to-guess password for your safety"
                    .to_owned(),
            );
        }
        let count = |test: fn(char) -> bool| password.chars().filter(|c| test(*c)).count();
        let mut failures = Vec::new();
        // Length in runes, not bytes (API-NOTES §4).
        if password.chars().count() < self.min_characters {
            failures.push(format!(
                "at least {} characters are required",
                self.min_characters
            ));
        }
        if count(is_lower) < self.min_lowercase {
            failures.push(format!(
                "at least {} lowercase letters are required",
                self.min_lowercase
            ));
        }
        if count(is_upper) < self.min_uppercase {
            failures.push(format!(
                "at least {} uppercase letters are required",
                self.min_uppercase
            ));
        }
        if count(|c| c.is_ascii_digit()) < self.min_digits {
            failures.push(format!("at least {} numbers are required", self.min_digits));
        }
        if count(|c| SPECIAL_CHARACTERS.contains(c)) < self.min_special {
            failures.push(format!(
                "at least {} special characters are required {SPECIAL_CHARACTERS}",
                self.min_special
            ));
        }
        // Joined as Go's errors.Join does: with newlines (API-NOTES §4).
        (!failures.is_empty()).then(|| failures.join("\n"))
    }

    /// `capabilities.password_policy`: the minimums and bcrypt's 72, or only the 72 when the
    /// policy is disabled; never the banned list (API-NOTES §3.4).
    pub(crate) fn capabilities(&self) -> Value {
        if self.disabled {
            return json!({"max_characters": BCRYPT_MAX_BYTES});
        }
        json!({
            "min_characters": self.min_characters,
            "max_characters": BCRYPT_MAX_BYTES,
            "min_lowercase_characters": self.min_lowercase,
            "min_uppercase_characters": self.min_uppercase,
            "min_digits": self.min_digits,
            "min_special_characters": self.min_special,
        })
    }
}

/// A letter that has an upper-case form and is its own lower-case form (reva counts by
/// `strings.ToLower`/`ToUpper` of each rune).
fn is_lower(c: char) -> bool {
    c.to_lowercase().eq(std::iter::once(c)) && !c.to_uppercase().eq(std::iter::once(c))
}

fn is_upper(c: char) -> bool {
    c.to_uppercase().eq(std::iter::once(c)) && !c.to_lowercase().eq(std::iter::once(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_as_reva_does() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.refusal("Aa1!aaaa"), None);
        // A space is special; runes, not bytes, are counted.
        assert_eq!(policy.refusal("Ää1 ääää"), None);
        assert_eq!(
            policy.refusal("aaaa").as_deref(),
            Some(
                "at least 8 characters are required\nat least 1 uppercase letters are required\nat least 1 numbers are required\nat least 1 special characters are required  !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
            )
        );
        let banned = PasswordPolicy {
            banned: vec!["aaaa".into()],
            ..PasswordPolicy::default()
        };
        assert!(banned.refusal("aaaa").unwrap().starts_with("unfortunately"));
        let off = PasswordPolicy {
            disabled: true,
            ..PasswordPolicy::default()
        };
        assert_eq!(off.refusal(""), None);
        assert_eq!(off.capabilities(), json!({"max_characters": 72}));
    }
}
