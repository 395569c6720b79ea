//! What the stand-in stores: one account's files and folders, and its public-link shares.

use std::collections::BTreeMap;

/// A node of the account's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Folder,
    File(Vec<u8>),
}

/// A public-link share as NextCloud keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkShare {
    pub id: u64,
    pub token: String,
    /// The shared folder, as segments joined by `/` (no leading slash).
    pub path: String,
    /// As stored and returned: the requested bits plus share (16).
    pub permissions: u32,
    pub password: Option<String>,
    /// `YYYY-MM-DD 00:00:00`, as OCS returns it.
    pub expiration: Option<String>,
}

impl LinkShare {
    pub fn can(&self, bit: u32) -> bool {
        self.permissions & bit != 0
    }
}

pub const READ: u32 = 1;
pub const UPDATE: u32 = 2;
pub const CREATE: u32 = 4;
pub const DELETE: u32 = 8;
pub const SHARE: u32 = 16;

/// A deleted node in the trash bin, as NextCloud keeps it (docs/nextcloud-behaviour.md, "Trash
/// bin"; recording `19`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrashEntry {
    /// `<name>.d<unix time of deletion>`.
    pub name: String,
    /// ownCloud's name for it: the deleted node's file id.
    pub id: u64,
    /// Where it was: its path below the account's root, without a leading slash.
    pub original_location: String,
    pub deleted_at: u64,
    /// The node and everything that was below it, by path relative to it (`""`: itself).
    pub nodes: BTreeMap<String, Node>,
}

/// The whole state: paths are `/`-joined decoded segments without a leading slash; the
/// account's root (`""`) always exists.
#[derive(Debug, Clone, Default)]
pub struct Storage {
    pub nodes: BTreeMap<String, Node>,
    pub shares: BTreeMap<u64, LinkShare>,
    pub next_share_id: u64,
    /// The trash bin, newest entry first.
    pub trash: Vec<TrashEntry>,
    /// The id the next trash entry gets (ownCloud names entries by it).
    pub next_trash_id: u64,
}

/// Why a tree operation did not happen, in Sabre's words (docs/nextcloud-behaviour.md, "Folders and
/// files over WebDAV"; recordings `01`, `03`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeError {
    Exists,
    ParentMissing,
    ParentNotFolder,
    Missing,
}

pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

impl Storage {
    pub fn new() -> Self {
        Storage {
            next_share_id: 40,
            ..Storage::default()
        }
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        if path.is_empty() {
            return Some(&Node::Folder);
        }
        self.nodes.get(path)
    }

    pub fn is_folder(&self, path: &str) -> bool {
        matches!(self.get(path), Some(Node::Folder))
    }

    fn check_parent(&self, path: &str) -> Result<(), TreeError> {
        match self.get(parent(path)) {
            Some(Node::Folder) => Ok(()),
            Some(Node::File(_)) => Err(TreeError::ParentNotFolder),
            None => Err(TreeError::ParentMissing),
        }
    }

    pub fn mkcol(&mut self, path: &str) -> Result<(), TreeError> {
        if self.get(path).is_some() {
            return Err(TreeError::Exists);
        }
        self.check_parent(path)?;
        self.nodes.insert(path.to_owned(), Node::Folder);
        Ok(())
    }

    /// Writes a file; `Ok(true)` when it is new.
    pub fn put(&mut self, path: &str, content: Vec<u8>) -> Result<bool, TreeError> {
        self.check_parent(path)?;
        match self.nodes.get(path) {
            Some(Node::Folder) => Err(TreeError::Exists),
            existing => {
                let new = existing.is_none();
                self.nodes.insert(path.to_owned(), Node::File(content));
                Ok(new)
            }
        }
    }

    /// Removes a node and everything below it, and the shares on any of them (a share goes
    /// with its folder: docs/nextcloud-behaviour.md, "Deleting a link"; recording `12 [9]`).
    pub fn delete(&mut self, path: &str) -> Result<(), TreeError> {
        if path.is_empty() || self.nodes.remove(path).is_none() {
            return Err(TreeError::Missing);
        }
        let below = format!("{path}/");
        self.nodes.retain(|p, _| !p.starts_with(&below));
        self.shares
            .retain(|_, s| s.path != path && !s.path.starts_with(&below));
        Ok(())
    }

    /// As [`Storage::delete`], keeping what was deleted in the trash bin as `<name>.d<now>`.
    /// An entry of the same name and second is replaced: its content is lost, as on NextCloud
    /// (docs/nextcloud-behaviour.md, "Trash bin"; recording `19 [6]`).
    pub fn move_to_trash(&mut self, path: &str, now_unix: u64) -> Result<(), TreeError> {
        let below = format!("{path}/");
        let mut nodes: BTreeMap<String, Node> = self
            .nodes
            .iter()
            .filter(|(p, _)| p.starts_with(&below))
            .map(|(p, n)| (p[below.len()..].to_owned(), n.clone()))
            .collect();
        let node = self.get(path).cloned();
        self.delete(path)?;
        nodes.extend(node.map(|n| (String::new(), n)));
        let name = format!("{}.d{now_unix}", path.rsplit('/').next().unwrap_or(path));
        self.trash.retain(|entry| entry.name != name);
        self.trash.insert(
            0,
            TrashEntry {
                id: {
                    self.next_trash_id += 1;
                    self.next_trash_id
                },
                name,
                original_location: path.to_owned(),
                deleted_at: now_unix,
                nodes,
            },
        );
        Ok(())
    }

    /// Direct children of a folder.
    pub fn children(&self, path: &str) -> Vec<(String, Node)> {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        self.nodes
            .iter()
            .filter(|(p, _)| p.starts_with(&prefix) && !p[prefix.len()..].contains('/'))
            .map(|(p, n)| (p.clone(), n.clone()))
            .collect()
    }

    pub fn share_by_token(&self, token: &str) -> Option<&LinkShare> {
        self.shares.values().find(|s| s.token == token)
    }

    pub fn folders(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| **n == Node::Folder)
            .map(|(p, _)| p.clone())
            .collect()
    }
}
