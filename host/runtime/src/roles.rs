//! Who sees which link: a participant's role decides the access they get.
//!
//! The JSON shapes are OpenTalk's `SharedFolder`: moderators get
//! `{"read": {"url", "password"}, "read_write": {"url", "password"}}`, everyone else only
//! `{"read": {…}}`. A read-write link never reaches a non-moderator.

use serde::{Deserialize, Serialize};

use crate::folder::FolderRecord;
use crate::secret::Secret;

/// A participant's role in a meeting, as far as the shared folder is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees both links.
    Moderator,
    /// Sees the read-only link.
    Participant,
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "moderator" => Ok(Role::Moderator),
            "participant" => Ok(Role::Participant),
            other => Err(format!(
                "unknown role {other:?}; expected moderator or participant"
            )),
        }
    }
}

/// One link as a participant gets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The public URL.
    pub url: String,
    /// Its password.
    pub password: Secret,
}

/// The shared folder as one participant sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// The read-only link.
    pub read: Link,
    /// The read-write link, for moderators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_write: Option<Link>,
}

/// What `role` may see of `folder`.
pub fn access(folder: &FolderRecord, role: Role) -> Access {
    let link = |share: &crate::folder::ShareLink| Link {
        url: share.url.clone(),
        password: share.password.clone(),
    };
    Access {
        read: link(&folder.read),
        read_write: (role == Role::Moderator).then(|| link(&folder.read_write)),
    }
}

/// The update to send a participant whose role changed from `before` to `after`: their new
/// view when moderator rights were granted (read-write added) or revoked (read only), and
/// nothing when their moderator status did not change.
pub fn update_on_role_change(folder: &FolderRecord, before: Role, after: Role) -> Option<Access> {
    (before != after).then(|| access(folder, after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::folder::ShareLink;

    fn folder() -> FolderRecord {
        FolderRecord {
            room: "r".into(),
            maker: crate::folder::Maker {
                provider: "nextcloud".into(),
                contract: crate::contract::Contract::V0_3,
                digest: String::new(),
                storage: String::new(),
                account: String::new(),
            },
            path: "meetings/r".into(),
            handle: "h".into(),
            read: ShareLink {
                url: "https://c/s/ro".into(),
                password: Secret::new("ro-pass"),
            },
            read_write: ShareLink {
                url: "https://c/s/rw".into(),
                password: Secret::new("rw-pass"),
            },
            created_at_unix: 0,
        }
    }

    #[test]
    fn json_shapes_follow_opentalk() {
        let moderator = serde_json::to_value(access(&folder(), Role::Moderator)).unwrap();
        assert_eq!(
            moderator,
            serde_json::json!({
                "read": {"url": "https://c/s/ro", "password": "ro-pass"},
                "read_write": {"url": "https://c/s/rw", "password": "rw-pass"},
            })
        );
        let participant = serde_json::to_value(access(&folder(), Role::Participant)).unwrap();
        assert_eq!(
            participant,
            serde_json::json!({"read": {"url": "https://c/s/ro", "password": "ro-pass"}})
        );
    }

    #[test]
    fn updates_follow_moderator_status() {
        let f = folder();
        let granted = update_on_role_change(&f, Role::Participant, Role::Moderator).unwrap();
        assert_eq!(granted.read_write.unwrap().url, "https://c/s/rw");
        let revoked = update_on_role_change(&f, Role::Moderator, Role::Participant).unwrap();
        assert!(revoked.read_write.is_none());
        assert!(update_on_role_change(&f, Role::Moderator, Role::Moderator).is_none());
        assert!(update_on_role_change(&f, Role::Participant, Role::Participant).is_none());
    }
}
