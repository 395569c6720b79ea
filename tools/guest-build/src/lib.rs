//! Builds a guest crate into a `wasm32-wasip2` component from a build script.
//!
//! The guest crates compile for another target with another profile: the providers
//! (`plugin/nextcloud`, `plugin/opencloud`) are members of the workspace, built with its
//! `guest` profile; the fixture provider (`tests/providers/fixture/`) and the provider template
//! (`plugin/template/`) are workspaces of their own. A build script of the crate that needs a
//! component calls [`build`]; the nested cargo runs in its own target directory below
//! `OUT_DIR`, so it neither waits on the outer build's lock nor inherits its flags. When the
//! `wasm32-wasip2` target is missing, it is installed with rustup, so a fresh clone needs no
//! manual step.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "wasm32-wasip2";

/// Builds the guest crate at `manifest_dir` with `profile` (the workspace's `guest` profile for
/// its members, `release` for a crate that is its own workspace) and copies its component to
/// `OUT_DIR/<file_name>`. Returns that path. Panics with an explanation on failure, as build
/// scripts do.
pub fn build(manifest_dir: &Path, profile: &str, file_name: &str) -> PathBuf {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    watch(manifest_dir);
    ensure_target();

    let target_dir = out_dir.join("guest-target");
    let status = Command::new(&cargo)
        .args([
            "build",
            "--profile",
            profile,
            "--target",
            TARGET,
            "--manifest-path",
        ])
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

    let built = target_dir.join(TARGET).join(profile).join(file_name);
    let copied = out_dir.join(file_name);
    std::fs::copy(&built, &copied)
        .unwrap_or_else(|e| panic!("cannot copy {}: {e}", built.display()));
    copied
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
