//! What the stand-in stores: the account's personal drive (its folders and files, each with an
//! opaque id), the links made on them, and the drive's trash bin (API-NOTES §1 "IDs", §3.5,
//! §3.8; docs/opencloud-behaviour.md, "IDs" and "Deleting the folder").

use std::collections::BTreeMap;

pub use crate::standin::storage::Node;

use super::ids;

/// A folder or file of the drive, with its opaque id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub node: Node,
    /// The `<opaque>` of its item id; the root's is the space id (API-NOTES §1).
    pub opaque: String,
    /// Unix seconds of its creation or last write.
    pub modified: i64,
}

/// A public link as the stand-in keeps it (API-NOTES §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The permission id: 15 letters.
    pub id: String,
    /// The link type as sent: `view`, `edit`, `upload`, `createOnly`, `internal`.
    pub link_type: String,
    /// The password in clear, as the client sent it (for tests; the server keeps a hash).
    pub password: Option<String>,
    /// `{base url}/s/{token}`.
    pub web_url: String,
    /// The request's `displayName` ("" when none was sent).
    pub display_name: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`, after the rounding to the end of the day (API-NOTES §3.5).
    pub expiration: Option<String>,
    /// 15 letters.
    pub token: String,
    /// The item it was made on: `<storage>$<space>!<opaque>`.
    pub item_id: String,
    /// `createdDateTime`.
    pub created: String,
    /// `@libre.graph.quickLink`.
    pub quick_link: bool,
}

/// A deleted folder or file in the drive's trash bin (API-NOTES §3.8; docs/opencloud-behaviour.md,
/// "Trash bin").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrashEntry {
    /// The id it had: `<storage>$<space>!<opaque>`.
    pub item_id: String,
    /// Its path in the drive, without a leading slash.
    pub original_location: String,
    /// Unix seconds.
    pub deleted_at: i64,
    /// It and everything that was below it, by path relative to it (`""`: itself).
    pub nodes: BTreeMap<String, Node>,
}

impl TrashEntry {
    /// Its key in the trash bin's WebDAV (`…/trash-bin/<drive>/<key>`): the part of its item id
    /// after `!` (docs/opencloud-behaviour.md, "Trash bin").
    pub fn key(&self) -> &str {
        self.item_id.rsplit_once('!').map_or("", |(_, key)| key)
    }

    /// Its name when it was deleted.
    pub fn name(&self) -> &str {
        self.original_location
            .rsplit('/')
            .next()
            .unwrap_or_default()
    }

    pub fn is_folder(&self) -> bool {
        self.nodes.get("") == Some(&Node::Folder)
    }
}

/// Why a change of the tree did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TreeError {
    Exists,
    ParentMissing,
    ParentNotFolder,
    Missing,
    /// The space's root cannot be deleted or written.
    Root,
}

/// The personal drive. Paths are decoded segments joined by `/`, without a leading slash; the
/// root is `""`.
#[derive(Debug, Clone)]
pub(crate) struct Drive {
    /// The users' storage provider's id, a UUID (docs/opencloud-behaviour.md, "IDs").
    pub storage_id: String,
    /// The space's id, also its owner's user id (docs/opencloud-behaviour.md, "IDs").
    pub space_id: String,
    entries: BTreeMap<String, Entry>,
    /// In the order they were made.
    pub links: Vec<Link>,
    /// Newest first.
    pub trash: Vec<TrashEntry>,
}

pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

fn is_below(path: &str, folder: &str) -> bool {
    folder.is_empty() && !path.is_empty()
        || path
            .strip_prefix(folder)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Drive {
    pub fn new() -> Drive {
        let space_id = ids::uuid();
        let mut entries = BTreeMap::new();
        entries.insert(
            String::new(),
            Entry {
                node: Node::Folder,
                opaque: space_id.clone(),
                modified: super::expiry::now_unix(),
            },
        );
        Drive {
            storage_id: ids::uuid(),
            space_id,
            entries,
            links: Vec::new(),
            trash: Vec::new(),
        }
    }

    pub fn drive_id(&self) -> String {
        ids::drive_id(&self.storage_id, &self.space_id)
    }

    /// The item id of the node with this opaque id: `<storage>$<space>!<opaque>`.
    pub fn item_id_of(&self, opaque: &str) -> String {
        ids::item_id(&self.storage_id, &self.space_id, opaque)
    }

    /// The id Graph reports for an item: the drive id for the space's root, whose opaque id is
    /// the space id (API-NOTES §1: "the opaque part is cleared when it equals the space id").
    pub fn graph_item_id(&self, opaque: &str) -> String {
        if opaque == self.space_id {
            self.drive_id()
        } else {
            self.item_id_of(opaque)
        }
    }

    /// Whether an id names a place in this drive.
    pub fn owns(&self, id: &ids::ParsedId) -> bool {
        id.is_in(&self.storage_id, &self.space_id)
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    pub fn is_folder(&self, path: &str) -> bool {
        self.get(path).is_some_and(|e| e.node == Node::Folder)
    }

    /// The path of the node with this opaque id.
    pub fn path_of(&self, opaque: &str) -> Option<String> {
        self.entries
            .iter()
            .find(|(_, e)| e.opaque == opaque)
            .map(|(p, _)| p.clone())
    }

    /// The full item id of the node at `path`, as HEAD and PROPFIND report it (API-NOTES §1, §6).
    pub fn item_id(&self, path: &str) -> Option<String> {
        self.get(path).map(|e| self.item_id_of(&e.opaque))
    }

    fn check_parent(&self, path: &str) -> Result<(), TreeError> {
        match self.get(parent(path)).map(|e| &e.node) {
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
        self.entries.insert(
            path.to_owned(),
            Entry {
                node: Node::Folder,
                opaque: ids::uuid(),
                modified: super::expiry::now_unix(),
            },
        );
        Ok(())
    }

    /// Writes a file; `Ok(true)` when it is new. An existing file keeps its id.
    pub fn put(&mut self, path: &str, content: Vec<u8>) -> Result<bool, TreeError> {
        if path.is_empty() {
            return Err(TreeError::Root);
        }
        self.check_parent(path)?;
        let modified = super::expiry::now_unix();
        match self.entries.get_mut(path) {
            Some(Entry {
                node: Node::Folder, ..
            }) => Err(TreeError::Exists),
            Some(entry) => {
                entry.node = Node::File(content);
                entry.modified = modified;
                Ok(false)
            }
            None => {
                self.entries.insert(
                    path.to_owned(),
                    Entry {
                        node: Node::File(content),
                        opaque: ids::uuid(),
                        modified,
                    },
                );
                Ok(true)
            }
        }
    }

    /// Takes a node and everything below it out of the tree: its id and the nodes by relative
    /// path. Links stay where they are, on an id that no longer resolves.
    fn take(&mut self, path: &str) -> Result<(String, BTreeMap<String, Node>), TreeError> {
        if path.is_empty() {
            return Err(TreeError::Root);
        }
        let entry = self.entries.remove(path).ok_or(TreeError::Missing)?;
        let below: Vec<String> = self
            .entries
            .keys()
            .filter(|p| is_below(p, path))
            .cloned()
            .collect();
        let mut nodes = BTreeMap::from([(String::new(), entry.node)]);
        for p in below {
            if let Some(e) = self.entries.remove(&p) {
                nodes.insert(p[path.len() + 1..].to_owned(), e.node);
            }
        }
        Ok((self.item_id_of(&entry.opaque), nodes))
    }

    /// Deletes recursively into the trash bin, as a WebDAV DELETE does (API-NOTES §3.8).
    pub fn trash_path(&mut self, path: &str, now: i64) -> Result<(), TreeError> {
        let (item_id, nodes) = self.take(path)?;
        self.trash.insert(
            0,
            TrashEntry {
                item_id,
                original_location: path.to_owned(),
                deleted_at: now,
                nodes,
            },
        );
        Ok(())
    }

    /// Deletes for good, without the trash bin.
    pub fn purge(&mut self, path: &str) -> Result<(), TreeError> {
        self.take(path).map(|_| ())
    }

    /// Purges the trash entry with this key; whether there was one (docs/opencloud-behaviour.md,
    /// "Trash bin").
    pub fn purge_trash_entry(&mut self, key: &str) -> bool {
        let before = self.trash.len();
        self.trash.retain(|entry| entry.key() != key);
        self.trash.len() < before
    }

    /// The direct children of a folder, by path.
    pub fn children(&self, path: &str) -> Vec<(&String, &Entry)> {
        self.entries
            .iter()
            .filter(|(p, _)| is_below(p, path) && parent(p) == path)
            .collect()
    }

    /// Bytes of the files at and below `path`: a folder's size (reva's tree size).
    pub fn size(&self, path: &str) -> usize {
        self.entries
            .iter()
            .filter(|(p, _)| p.as_str() == path || is_below(p, path))
            .map(|(_, e)| match &e.node {
                Node::File(content) => content.len(),
                Node::Folder => 0,
            })
            .sum()
    }

    /// The files at and below `path`, by path relative to it.
    pub fn files_in(&self, path: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(p, e)| is_below(p, path) && matches!(e.node, Node::File(_)))
            .map(|(p, _)| {
                p.strip_prefix(path)
                    .unwrap_or(p)
                    .trim_start_matches('/')
                    .to_owned()
            })
            .collect()
    }

    /// The links made on the item with this opaque id.
    pub fn links_on(&self, opaque: &str) -> Vec<&Link> {
        let item_id = self.item_id_of(opaque);
        self.links.iter().filter(|l| l.item_id == item_id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletes_take_everything_below_into_the_trash() {
        let mut drive = Drive::new();
        drive.mkcol("a").unwrap();
        drive.mkcol("a/b").unwrap();
        drive.mkcol("ab").unwrap();
        assert_eq!(drive.mkcol("x/y"), Err(TreeError::ParentMissing));
        assert_eq!(drive.put("a/b/f.txt", b"hi".to_vec()), Ok(true));
        assert_eq!(drive.put("a/b/f.txt", b"hey".to_vec()), Ok(false));
        assert_eq!(drive.mkcol("a/b/f.txt/z"), Err(TreeError::ParentNotFolder));
        assert_eq!(drive.size("a"), 3);
        assert_eq!(drive.files_in("a"), vec!["b/f.txt".to_owned()]);
        let id = drive.item_id("a").unwrap();
        drive.trash_path("a", 7).unwrap();
        assert!(drive.get("a/b").is_none());
        assert!(drive.is_folder("ab"));
        let entry = &drive.trash[0];
        assert_eq!((entry.item_id.as_str(), entry.deleted_at), (id.as_str(), 7));
        assert_eq!(entry.nodes.keys().collect::<Vec<_>>(), ["", "b", "b/f.txt"]);
        assert_eq!(entry.key(), id.rsplit_once('!').unwrap().1);
        assert_eq!((entry.name(), entry.is_folder()), ("a", true));
        assert_eq!(drive.trash_path("", 7), Err(TreeError::Root));
        assert_eq!(drive.trash_path("a", 7), Err(TreeError::Missing));
    }
}
