//! Builds a guest crate into a `wasm32-wasip2` component from a build script.
//!
//! The guest crates compile for another target with another profile: the providers
//! (`plugin/nextcloud`, `plugin/opencloud`) are members of the workspace; the fixture provider
//! (`tests/providers/fixture/`), the provider template (`plugin/template/`) and the concurrency
//! probe (`bench/concurrency/guest/`) are workspaces of their own. A build script of the crate
//! that needs a component calls [`build`]. The nested cargo builds every guest with one profile,
//! [`PROFILE`] (given on its command line, so that the crates outside the workspace have it
//! too), in one target folder beside the outer build's (`target/<profile>/guest`): what the
//! guests share — wit-bindgen's macros and the crates they are built from, the guest runtime —
//! is built once for all of them, not once per build script, while the nested cargo neither
//! waits on the outer build's lock nor inherits its flags. When the `wasm32-wasip2` target is
//! missing, it is installed with rustup, so a fresh clone needs no manual step.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "wasm32-wasip2";

/// The profile every guest is built with: small components. The workspace's `[profile.guest]`
/// (`Cargo.toml`, for building a provider by hand) says the same; a test holds them equal.
pub const PROFILE: &str = "guest";

/// [`PROFILE`]'s settings, as `profile.guest.<key>=<value>` for cargo's `--config`.
pub const PROFILE_SETTINGS: [(&str, &str); 6] = [
    ("inherits", "\"release\""),
    ("opt-level", "\"s\""),
    ("lto", "true"),
    ("strip", "true"),
    ("codegen-units", "1"),
    ("panic", "\"abort\""),
];

/// Builds the guest crate at `manifest_dir` with [`PROFILE`] and copies its component to
/// `OUT_DIR/<file_name>`. Returns that path. Panics with an explanation on failure, as build
/// scripts do.
pub fn build(manifest_dir: &Path, file_name: &str) -> PathBuf {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    watch(manifest_dir);
    ensure_target();

    let target_dir = shared_target_dir(&out_dir);
    let mut command = Command::new(&cargo);
    command.args(["build", "--profile", PROFILE, "--target", TARGET]);
    for (key, value) in PROFILE_SETTINGS {
        command
            .arg("--config")
            .arg(format!("profile.{PROFILE}.{key}={value}"));
    }
    // Two build scripts of one build may run this at once: the second waits for the target
    // folder's lock, then finds the shared crates built.
    let status = command
        .arg("--manifest-path")
        .arg(manifest_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // The outer build's settings are for the host target; none of them apply here.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo for {}: {e}", manifest_dir.display()));
    assert!(
        status.success(),
        "building {} for {TARGET} failed ({status})",
        manifest_dir.display()
    );

    let built = target_dir.join(TARGET).join(PROFILE).join(file_name);
    let copied = out_dir.join(file_name);
    std::fs::copy(&built, &copied)
        .unwrap_or_else(|e| panic!("cannot copy {}: {e}", built.display()));
    copied
}

/// The target folder of every guest built by this outer build: `target/<profile>/guest`, found
/// from `OUT_DIR` (`target/<profile>/build/<package>-<hash>/out`); below `OUT_DIR` if it is not
/// laid out so.
fn shared_target_dir(out_dir: &Path) -> PathBuf {
    let build = out_dir.parent().and_then(Path::parent);
    match build.filter(|build| build.file_name() == Some("build".as_ref())) {
        Some(build) => build.with_file_name("guest"),
        None => out_dir.join("guest-target"),
    }
}

/// Reruns the build script when the guest's sources or manifest change, or what every guest
/// builds on: the WIT contract, the guest runtime and the providers' kit. The repository is
/// found from the guest crate at run time, never from a path compiled in: cargo reuses this
/// crate's build when the clone moves (its fingerprint holds paths relative to the workspace),
/// and a stale path would watch nothing.
fn watch(manifest_dir: &Path) {
    let Some(repository) = manifest_dir
        .ancestors()
        .find(|dir| dir.join("tools/guest-runtime").is_dir())
    else {
        panic!(
            "{} is not inside the shared-folder repository (no tools/guest-runtime above it)",
            manifest_dir.display()
        );
    };
    let watched = [
        manifest_dir.join("src"),
        manifest_dir.join("wit"),
        manifest_dir.join("Cargo.toml"),
        manifest_dir.join("Cargo.lock"),
        repository.join("wit"),
        repository.join("tools/guest-runtime"),
        repository.join("plugin/kit"),
        repository.join("Cargo.lock"),
    ];
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// Installs the `wasm32-wasip2` standard library with rustup when this toolchain lacks it.
fn ensure_target() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = sysroot
        .as_ref()
        .is_some_and(|root| root.join("lib/rustlib").join(TARGET).join("lib").is_dir());
    if installed {
        return;
    }
    println!("cargo:warning=installing the {TARGET} target with rustup (one-time set-up)");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    match status {
        Ok(status) if status.success() => {}
        other => panic!(
            "the {TARGET} target is missing and `rustup target add {TARGET}` failed ({other:?}); \
             install it by hand and build again"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workspace's `[profile.guest]`, which `cargo build --profile guest` by hand uses, is
    /// the profile the build scripts give on the command line.
    #[test]
    fn the_workspace_profile_is_the_one_given_to_cargo() {
        let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets it");
        let manifest = Path::new(&crate_dir).join("../../Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("the workspace's Cargo.toml");
        let workspace: toml::Table = text.parse().expect("Cargo.toml is TOML");
        let profile = workspace["profile"][PROFILE]
            .as_table()
            .expect("a [profile.guest] table");
        let given: toml::Table = PROFILE_SETTINGS
            .iter()
            .map(|(key, value)| format!("{key} = {value}"))
            .collect::<Vec<_>>()
            .join("\n")
            .parse()
            .expect("the settings are TOML");
        assert_eq!(profile, &given);
    }

    #[test]
    fn guests_are_built_beside_the_outer_build() {
        let out = Path::new("/repo/target/debug/build/shared-folder-runtime-0123/out");
        assert_eq!(
            shared_target_dir(out),
            Path::new("/repo/target/debug/guest")
        );
        let elsewhere = Path::new("/somewhere/out");
        assert_eq!(
            shared_target_dir(elsewhere),
            Path::new("/somewhere/out/guest-target")
        );
    }
}
