//! Pulled components on disk, in `<component_cache>/registry/`: each component's bytes as
//! `<sha256 hex>.wasm`, and per reference a small file naming the manifest and the content
//! it last named — written only once that component served (or passed `check`), so that a
//! restart while the registry is away serves the last good one.
//!
//! Several hosts may share the folder: every file is written to a temporary file of its own,
//! synced, then renamed into place, so a reader sees a whole file or none; what is read back
//! is hashed again before it is used.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use shared_folder_runtime::content_digest;

/// The registry part of the component cache.
pub(super) struct Cache {
    folder: PathBuf,
}

/// What the cache kept of a reference.
pub(super) struct Kept {
    pub manifest: String,
    pub bytes: Vec<u8>,
}

impl Cache {
    /// The cache in `component_cache`'s `registry/`.
    pub(super) fn new(component_cache: &Path) -> Cache {
        Cache {
            folder: component_cache.join("registry"),
        }
    }

    /// The folder of the reference files, and a reference's file name in it.
    fn refs(&self) -> PathBuf {
        self.folder.join("refs")
    }

    fn reference_name(reference: &str) -> String {
        content_digest(reference.as_bytes())
    }

    /// Keeps `bytes` as what `reference` named (manifest `manifest`).
    pub(super) fn keep(
        &self,
        reference: &str,
        manifest: &str,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        let content = content_digest(bytes);
        let refs = self.refs();
        std::fs::create_dir_all(&refs)?;
        write_whole(&self.folder, &format!("{content}.wasm"), bytes)?;
        let name = Self::reference_name(reference);
        write_whole(&refs, &name, format!("{manifest}\n{content}\n").as_bytes())
    }

    /// What `reference` last named, if its bytes are still there and still hash right.
    pub(super) fn recall(&self, reference: &str) -> Option<Kept> {
        let text =
            std::fs::read_to_string(self.refs().join(Self::reference_name(reference))).ok()?;
        let mut lines = text.lines();
        let (manifest, content) = (lines.next()?.to_owned(), lines.next()?);
        if content.len() != 64 || !content.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let bytes = std::fs::read(self.folder.join(format!("{content}.wasm"))).ok()?;
        (content_digest(&bytes) == content).then_some(Kept { manifest, bytes })
    }
}

/// Writes `name` in `folder` whole or not at all: a temporary file of this writer's own,
/// synced, renamed into place.
fn write_whole(folder: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(folder)?;
    partial.write_all(bytes)?;
    partial.as_file().sync_all()?;
    partial
        .persist(folder.join(name))
        .map(drop)
        .map_err(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_gives_back_only_what_still_hashes_right() {
        let dir = tempfile::tempdir().expect("a folder");
        let cache = Cache::new(dir.path());
        let reference = "oci://localhost:5000/acme:1";
        assert!(cache.recall(reference).is_none());
        cache
            .keep(reference, "sha256:m", b"component")
            .expect("kept");
        let kept = cache.recall(reference).expect("recalled");
        assert_eq!(kept.manifest, "sha256:m");
        assert_eq!(kept.bytes, b"component");
        let content = content_digest(b"component");
        std::fs::write(
            dir.path().join(format!("registry/{content}.wasm")),
            b"changed",
        )
        .expect("changed");
        assert!(cache.recall(reference).is_none());
        // Nothing but the files themselves is left in the folder.
        let names: Vec<String> = std::fs::read_dir(dir.path().join("registry"))
            .expect("the folder")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
    }
}
