//! `shared-folder-host new-provider NAME DIR`: writes a standalone provider crate, made from the
//! provider template (`plugin/template/`), that builds anywhere.
//!
//! Every file of the template is embedded in the binary (the WIT contract and the guest runtime,
//! symlinks in the repository, as the files they point to), with the package renamed
//! `<name>-provider` and `TemplateProvider` renamed `<Name>Provider`; a `README.md` for the new
//! crate and a `.gitignore` come with it. The older contracts (`wit/v0.2.0/`, `wit/v0.3.0/`) are left
//! out: a new provider is written against the current one.

use std::io;
use std::path::{Path, PathBuf};

/// One file of the template: its path in the crate, and its text.
struct Embedded {
    path: &'static str,
    text: &'static str,
}

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(Embedded {
            path: $path,
            text: include_str!(concat!("../../plugin/template/", $path)),
        }),*]
    };
}

/// The template's files, as the repository has them (symlinks resolved). The unit test
/// `the_embedded_files_are_the_templates` keeps this list equal to the template's files.
const TEMPLATE: &[Embedded] = embed![
    ".gitignore",
    "Cargo.lock",
    "Cargo.toml",
    "src/errors.rs",
    "src/expiry.rs",
    "src/guest_runtime.rs",
    "src/handle.rs",
    "src/http.rs",
    "src/lib.rs",
    "src/password.rs",
    "src/paths.rs",
    "src/procedures.rs",
    "src/settings.rs",
    "src/storage.rs",
    "wit/provider.wit",
    "wit/deps/cli.wit",
    "wit/deps/clocks.wit",
    "wit/deps/filesystem.wit",
    "wit/deps/http.wit",
    "wit/deps/io.wit",
    "wit/deps/random.wit",
    "wit/deps/sockets.wit",
];

/// The longest provider name accepted.
const MAX_NAME: usize = 40;

/// What [`write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The crate's package name: `<name>-provider`.
    pub package: String,
    /// The component a release build makes, relative to the crate (without `CARGO_TARGET_DIR`):
    /// `target/wasm32-wasip2/release/<name>_provider.wasm`.
    pub component: PathBuf,
    /// The files written, relative to the crate.
    pub files: Vec<PathBuf>,
}

/// Why no crate was written, or not all of it.
#[derive(Debug, thiserror::Error)]
pub enum NewProviderError {
    #[error(
        "provider name {name:?}: {reason} (lowercase ASCII letters, digits and '-', starting with a letter, at most {MAX_NAME} characters)"
    )]
    InvalidName { name: String, reason: &'static str },
    #[error("{}: exists and is not empty; name a new or empty directory", .0.display())]
    NotEmpty(PathBuf),
    #[error("{}: exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Writes a provider crate for the storage `name` (e.g. `acme`: package `acme-provider`,
/// component `acme_provider.wasm`) into `dir`, which must not exist or be empty. Nothing is
/// written when `name` or `dir` is refused.
pub fn write(name: &str, dir: &Path) -> Result<Written, NewProviderError> {
    check_name(name)?;
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => return Err(NewProviderError::NotADirectory(dir.into())),
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(|source| NewProviderError::Write {
                path: dir.into(),
                source,
            })?;
            if entries.next().is_some() {
                return Err(NewProviderError::NotEmpty(dir.into()));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(NewProviderError::Write {
                path: dir.into(),
                source,
            });
        }
    }

    let package = format!("{name}-provider");
    let component = component(name);
    let mut files: Vec<(PathBuf, String)> = TEMPLATE
        .iter()
        .map(|file| (PathBuf::from(file.path), rename(file, name)))
        .collect();
    files.push(("README.md".into(), readme(name)));
    for (path, text) in &files {
        let full = dir.join(path);
        let written = full
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&full, text));
        written.map_err(|source| NewProviderError::Write { path: full, source })?;
    }
    Ok(Written {
        package,
        component,
        files: files.into_iter().map(|(path, _)| path).collect(),
    })
}

/// The component a release build of provider `name` makes, relative to its crate.
pub fn component(name: &str) -> PathBuf {
    PathBuf::from(format!(
        "target/wasm32-wasip2/release/{}_provider.wasm",
        name.replace('-', "_")
    ))
}

fn check_name(name: &str) -> Result<(), NewProviderError> {
    let refuse = |reason| {
        Err(NewProviderError::InvalidName {
            name: name.into(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("empty");
    }
    if name.len() > MAX_NAME {
        return refuse("too long");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return refuse("must start with a lowercase letter");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return refuse("has a character other than a-z, 0-9 and '-'");
    }
    if name.ends_with('-') || name.contains("--") {
        return refuse("'-' only between letters or digits");
    }
    Ok(())
}

/// `acme-cloud` → `AcmeCloud`.
fn camel(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// A template file as the new crate has it.
fn rename(file: &Embedded, name: &str) -> String {
    let package = format!("{name}-provider");
    match file.path {
        "Cargo.toml" => file
            .text
            .replace(
                "name = \"template-provider\"",
                &format!("name = \"{package}\""),
            )
            .replace(
                "description = \"A starting point for a shared-folder provider: the contract's structure, without any storage system's calls.\"",
                &format!(
                    "description = \"A shared-folder provider for {name} (made from the provider template).\""
                ),
            ),
        "Cargo.lock" => sort_lock(&file.text.replace(
            "name = \"template-provider\"",
            &format!("name = \"{package}\""),
        )),
        "src/lib.rs" => file
            .text
            .replace("TemplateProvider", &format!("{}Provider", camel(name)))
            .replace(
                "//! A template for a shared-folder provider: `shared-folder-host new-provider NAME DIR` writes\n//! it out as a crate of its own, renamed; then fill in the storage calls.",
                &format!(
                    "//! The shared-folder provider for {name}, made from the provider template: fill in the\n//! storage calls."
                ),
            ),
        _ => file.text.to_owned(),
    }
}

/// A `Cargo.lock` with its packages in Cargo's order (by name, then version), as Cargo writes
/// it: the renamed package moves, and a build with `--locked` must find nothing to change.
fn sort_lock(lock: &str) -> String {
    const PACKAGE: &str = "[[package]]\n";
    let Some(first) = lock.find(PACKAGE) else {
        return lock.to_owned();
    };
    let (head, packages) = lock.split_at(first);
    let mut blocks: Vec<&str> = packages
        .split(PACKAGE)
        .filter(|block| !block.is_empty())
        .map(|block| block.trim_end_matches('\n'))
        .collect();
    let key = |block: &&str| {
        let field = |name: &str| {
            block
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .unwrap_or("")
                .to_owned()
        };
        (field("name = "), field("version = "))
    };
    blocks.sort_by_key(key);
    let mut sorted = head.to_owned();
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            sorted.push('\n');
        }
        sorted.push_str(PACKAGE);
        sorted.push_str(block);
        sorted.push('\n');
    }
    sorted
}

fn readme(name: &str) -> String {
    let component = component(name);
    let component = component.display();
    format!(
        r#"# {name}-provider

A shared-folder provider for {name}: a WebAssembly component (`wasm32-wasip2`) that the
shared-folder host runs for each meeting room. Made with `shared-folder-host new-provider`
from the provider template; the storage's own calls are still to be written in
`src/storage.rs` (until then every function but `validate` fails with `remote` 501). The guide
is `docs/writing-a-provider.md` in the shared-folder repository.

This crate stands alone: `wit/` is the contract (`shared-folder:provider@0.4.0`, with the WASI
packages it uses in `wit/deps/`), and `src/guest_runtime.rs` the allocator, `cabi_realloc` and
panic handler the `no_std` component needs. Do not edit `wit/provider.wit`.

## Build and test

```sh
rustup target add wasm32-wasip2          # once
cargo test                               # the unit tests, natively
cargo build --release --target wasm32-wasip2
cargo clippy --all-targets -- -D warnings
cargo clippy --target wasm32-wasip2 -- -D warnings
```

The component is `{component}` (under `$CARGO_TARGET_DIR` instead of `target/` if you set one).

## Check it with the host

With a configuration naming this provider (`provider = "{name}"`) and its settings:

```sh
shared-folder-host check --config host.toml --component {component}
shared-folder-host conformance --config host.toml --component {component}
```

`check` contacts no storage: it reports whether the configuration is valid, whether the
component fits the contract's world on this host, and what the provider's `validate` says of
the settings. `conformance` puts the component through the contract against the storage the
configuration names (`shared-folder-host conformance --help`). For a local test server on
plain `http://`, add `allow_plain_http = true` to the configuration's `[host]` table.

To install the component, copy it into the host's plugins folder as `{name}.wasm`.

## Sign and ship it

Hosts that set `[host].trusted_keys` serve only signed components. Make a key pair once (the
`.key` stays with you, off the hosts; the `.pub` goes to the operators), then sign each build
and hand out the signed file, or push it to a registry the hosts follow:

```sh
shared-folder-host keygen --secret-key {name}.key --public-key {name}.pub
shared-folder-host sign --secret-key {name}.key {component} --output {name}.wasm
shared-folder-host push {name}.wasm oci://REGISTRY/REPOSITORY:TAG   # prints the digest to pin
```

The host's README, "Shipping providers you can trust", has the rest.
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The template's directories that do not go into a new crate: the old contract.
    const LEFT_OUT: &[&str] = &["wit/v0.2.0", "wit/v0.3.0"];

    fn template_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugin/template")
    }

    /// The files below `dir` (symlinks followed), relative to `root`, without `target/` and
    /// what is left out.
    fn walk(root: &Path, dir: &Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .replace('\\', "/");
            if relative == "target" || LEFT_OUT.contains(&relative.as_str()) {
                continue;
            }
            if std::fs::metadata(&path).unwrap().is_dir() {
                walk(root, &path, found);
            } else {
                found.insert(relative);
            }
        }
    }

    #[test]
    fn the_embedded_files_are_the_templates() {
        let root = template_dir();
        let mut on_disk = BTreeSet::new();
        walk(&root, &root, &mut on_disk);
        let embedded: BTreeSet<String> = TEMPLATE.iter().map(|f| f.path.to_owned()).collect();
        assert_eq!(embedded, on_disk);
        for file in TEMPLATE {
            assert_eq!(
                file.text,
                std::fs::read_to_string(root.join(file.path)).unwrap(),
                "{}",
                file.path
            );
        }
    }

    #[test]
    fn a_new_crate_is_named_and_stands_alone() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("acme-provider");
        let written = write("acme-cloud", &dir).unwrap();
        assert_eq!(written.package, "acme-cloud-provider");
        assert_eq!(
            written.component,
            Path::new("target/wasm32-wasip2/release/acme_cloud_provider.wasm")
        );
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("name = \"acme-cloud-provider\""),
            "{manifest}"
        );
        assert!(
            manifest.contains("description = \"A shared-folder provider for acme-cloud"),
            "{manifest}"
        );
        assert!(!manifest.contains("path ="), "{manifest}");
        assert!(!manifest.contains("template-provider"), "{manifest}");
        let lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap();
        assert!(lock.contains("name = \"acme-cloud-provider\""));
        assert!(!lock.contains("template-provider"));
        // In Cargo's order: the template's lock, sorted again, is as it was.
        let template_lock = TEMPLATE.iter().find(|f| f.path == "Cargo.lock").unwrap();
        assert_eq!(sort_lock(template_lock.text), template_lock.text);
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("struct AcmeCloudProvider;"));
        assert!(lib.contains("export!(AcmeCloudProvider"));
        assert!(!lib.contains("TemplateProvider"));
        assert!(lib.starts_with("//! The shared-folder provider for acme-cloud, made from"));
        assert!(lib.contains("path: \"wit\""));
        for file in [
            "wit/provider.wit",
            "wit/deps/http.wit",
            "src/guest_runtime.rs",
            ".gitignore",
            "README.md",
        ] {
            let meta = std::fs::symlink_metadata(dir.join(file)).unwrap();
            assert!(meta.is_file(), "{file} is not a plain file");
        }
        assert!(!dir.join("wit/v0.2.0").exists());
        assert!(!dir.join("wit/v0.3.0").exists());
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        assert!(readme.contains("acme_cloud_provider.wasm"));
        assert!(readme.contains("rustup target add wasm32-wasip2"));
        assert_eq!(written.files.len(), TEMPLATE.len() + 1);
    }

    #[test]
    fn bad_names_and_a_non_empty_directory_are_refused() {
        let temp = tempfile::tempdir().unwrap();
        let long = "a".repeat(MAX_NAME + 1);
        for name in [
            "", "Acme", "1acme", "-acme", "acme-", "ac--me", "ac_me", "acme.io", "acmé", "ac me",
            &long,
        ] {
            let dir = temp.path().join("new");
            assert!(
                matches!(write(name, &dir), Err(NewProviderError::InvalidName { .. })),
                "{name:?} accepted"
            );
            assert!(!dir.exists(), "{name:?}: something was written");
        }
        assert!(write(&"a".repeat(MAX_NAME), &temp.path().join("longest")).is_ok());
        assert!(write("acme2-x", &temp.path().join("digits")).is_ok());

        // A directory with something in it: refused, nothing written.
        let full = temp.path().join("full");
        std::fs::create_dir(&full).unwrap();
        std::fs::write(full.join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            write("acme", &full),
            Err(NewProviderError::NotEmpty(_))
        ));
        assert_eq!(std::fs::read_dir(&full).unwrap().count(), 1);
        // A file: refused. An empty directory: fine.
        assert!(matches!(
            write("acme", &full.join("notes.txt")),
            Err(NewProviderError::NotADirectory(_))
        ));
        let empty = temp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert!(write("acme", &empty).is_ok());
        assert!(empty.join("Cargo.toml").is_file());
    }
}
