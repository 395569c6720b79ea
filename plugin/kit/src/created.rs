//! What `create` (and `recover`) return, the handle `delete` gets back, and the folders
//! `list-folders` finds (contract 0.4): the parts every provider builds the same way.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::shared_folder::provider::types::{
    Access, ConfigError, FoundFolder, FoundLink, Share, SharedFolder,
};
use crate::errors::Error;
use crate::json;
use crate::paths::FolderPath;
use crate::prelude::*;

/// One public link a provider made: its id on the storage (`Id`, to delete it), its URL and
/// its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link<Id> {
    pub id: Id,
    pub url: String,
    pub password: String,
}

impl<Id> Link<Id> {
    /// The link as the host shows it: URL and password.
    pub fn share(self) -> Share {
        Share {
            url: self.url,
            password: self.password,
        }
    }
}

/// `create`'s result: the folder's path as its location, both links, and the handle.
pub fn shared_folder<Id>(
    folder: &FolderPath,
    read: Link<Id>,
    read_write: Link<Id>,
    handle: String,
) -> SharedFolder {
    SharedFolder {
        location: folder.display(),
        read: read.share(),
        read_write: read_write.share(),
        handle,
    }
}

/// A folder `list-folders` found: the room is the folder's name, its location the path as
/// `create` gives it, and its password-protected links with what each allows.
pub fn found_folder(
    folder: &FolderPath,
    links: impl IntoIterator<Item = (Access, String)>,
) -> FoundFolder {
    FoundFolder {
        room: folder.segments().last().cloned().unwrap_or_default(),
        location: folder.display(),
        links: links
            .into_iter()
            .map(|(access, url)| FoundLink { url, access })
            .collect(),
    }
}

/// `validate`'s answer from reading the settings as `create` would: only a configuration
/// error is one (reading reports nothing else).
pub fn validation<T>(read: Result<T, Error>) -> Result<(), ConfigError> {
    match read {
        Ok(_) => Ok(()),
        Err(Error::InvalidConfig(problem)) => Err(problem),
        Err(_) => Err(ConfigError {
            field: String::new(),
            reason: "the settings cannot be read".into(),
        }),
    }
}

/// A handle written as JSON: a provider's handle type gets [`JsonHandle::encode`] and
/// [`JsonHandle::decode`] by naming this trait.
pub trait JsonHandle: Serialize + DeserializeOwned {
    /// The handle as JSON text. Only a handle over 1 MiB fails to encode, which ids and a path
    /// of at most 255-byte segments are not; the empty text it then gives is refused by
    /// [`JsonHandle::decode`].
    fn encode(&self) -> String {
        json::encode(self).unwrap_or_default()
    }

    /// Reads `text` as such a handle; `provider` names whose it should be, for the error
    /// (`a NextCloud provider`).
    fn decode(text: &str, provider: &str) -> Result<Self, Error> {
        json::parse(text.as_bytes())
            .ok_or_else(|| Error::Protocol(format!("the folder's handle is not {provider}'s")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        path: String,
    }

    impl JsonHandle for Sample {}

    #[test]
    fn a_handle_reads_back_or_names_its_provider() {
        let sample = Sample {
            path: "a/\"b\"".into(),
        };
        assert_eq!(Sample::decode(&sample.encode(), "mine").unwrap(), sample);
        assert!(matches!(
            Sample::decode("{}", "a test provider"),
            Err(Error::Protocol(m)) if m == "the folder's handle is not a test provider's"
        ));
    }

    #[test]
    fn the_shared_folder_shows_the_path_and_both_links() {
        let folder = FolderPath::for_room(&["m".into()], "r").unwrap();
        let link = |url: &str| Link {
            id: 1,
            url: url.into(),
            password: "pw".into(),
        };
        let made = shared_folder(&folder, link("https://r"), link("https://rw"), "h".into());
        assert_eq!(made.location, "m/r");
        assert_eq!(made.read.url, "https://r");
        assert_eq!(made.read_write.url, "https://rw");
        assert_eq!(made.handle, "h");
    }

    #[test]
    fn only_configuration_errors_fail_validation() {
        assert!(validation(Ok(())).is_ok());
        let problem = validation::<()>(Err(crate::errors::config("url", "bad"))).unwrap_err();
        assert_eq!(
            (problem.field.as_str(), problem.reason.as_str()),
            ("url", "bad")
        );
        assert_eq!(
            validation::<()>(Err(Error::Protocol("x".into())))
                .unwrap_err()
                .field,
            ""
        );
    }
}
