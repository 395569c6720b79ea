//! NextCloud's sessions, as an API client meets them (docs/nextcloud-behaviour.md, "Authentication
//! cost and sessions"; recording `20`): an answer to a request authenticated by its password sets
//! session cookies; a request that sends them back is authenticated by them, without its password
//! being checked (which costs a real NextCloud about 0.6 s with a login password) — and whatever
//! its `Authorization` says. An answer to a login password also sets `cookie_test` (recording
//! `21`).

use std::collections::HashSet;

use rand::Rng;
use rand::distr::Alphanumeric;

/// The session cookie's name (NextCloud's is `oc` + the instance id).
pub const SESSION_COOKIE: &str = "ocstandin1234";

#[derive(Debug, Default)]
pub struct Sessions {
    live: HashSet<String>,
    /// How many requests had their password checked.
    pub password_checks: usize,
}

/// How a request was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authenticated {
    /// By a live session cookie.
    BySession,
    /// By its password; the answer carries these `Set-Cookie` values.
    ByPassword(Vec<String>),
    No,
}

fn random(length: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(length)
        .map(char::from)
        .collect()
}

impl Sessions {
    /// Authenticates a request from its `Cookie` header and basic credentials.
    pub fn authenticate(
        &mut self,
        cookies: &str,
        credentials: Option<(&str, &str)>,
        account: (&str, &str),
        app_password: bool,
    ) -> Authenticated {
        let cookie = |name: &str| {
            cookies.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                (key == name).then_some(value)
            })
        };
        if cookie(SESSION_COOKIE).is_some_and(|id| self.live.contains(id)) {
            return Authenticated::BySession;
        }
        let Some(credentials) = credentials else {
            return Authenticated::No;
        };
        self.password_checks += 1;
        if credentials != account {
            return Authenticated::No;
        }
        let id = random(26);
        self.live.insert(id.clone());
        let mut set = vec![
            format!(
                "oc_sessionPassphrase={}; path=/; HttpOnly; SameSite=Lax",
                random(64)
            ),
            format!("{SESSION_COOKIE}={id}; path=/; HttpOnly; SameSite=Lax"),
        ];
        if !app_password && cookie("cookie_test").is_none() {
            set.push("cookie_test=test; Max-Age=3600".into());
        }
        Authenticated::ByPassword(set)
    }

    /// The session ids handed out and still live.
    pub fn ids(&self) -> Vec<String> {
        self.live.iter().cloned().collect()
    }

    pub fn end_all(&mut self) {
        self.live.clear();
    }
}
