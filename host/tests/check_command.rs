//! `shared-folder-host check`: a configuration and a component checked as the host loads them.

use std::path::PathBuf;
use std::process::Command;

use shared_folder_test_support::TestHost;

const PASSWORD: &str = "account-Secret-4711";

fn write(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shared-folder-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn check(args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_shared-folder-host"))
        .arg("check")
        .args(args)
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn config(extra: &str) -> String {
    TestHost::at("https://cloud.example.com/nc/", "opentalk", PASSWORD)
        .line(extra)
        .shared_folder_toml()
}

#[test]
fn a_good_configuration_and_the_built_in_component_pass() {
    let path = write("good.toml", config("expiry = 7\n").as_bytes());
    let (ok, stdout, stderr) = check(&["--config".as_ref(), path.as_os_str()]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("storage origin https://cloud.example.com:443"),
        "{stdout}"
    );
    assert!(
        stdout.contains("contract: shared-folder:provider@0.4.x — served by this host"),
        "{stdout}"
    );
    assert!(
        stdout.contains("validate: the provider accepts the settings"),
        "{stdout}"
    );
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
}

#[test]
fn a_component_built_for_contract_0_2_is_checked_as_0_2() {
    let path = write("good-02.toml", config("expiry = 7\n").as_bytes());
    let component = write(
        "nextcloud-0.2.0.wasm",
        shared_folder_test_support::NEXTCLOUD_PROVIDER_0_2,
    );
    let (ok, stdout, stderr) = check(&[
        "--config".as_ref(),
        path.as_os_str(),
        "--component".as_ref(),
        component.as_os_str(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("contract: shared-folder:provider@0.2.x — served by this host"),
        "{stdout}"
    );
    assert!(stdout.contains("validate: not in contract 0.2"), "{stdout}");
}

#[test]
fn settings_the_provider_refuses_are_named_without_contacting_the_storage() {
    // cloud.example.com is not contacted: `validate` runs without any request.
    let path = write("bad-expiry.toml", config("expiry = 0\n").as_bytes());
    let output = Command::new(env!("CARGO_BIN_EXE_shared-folder-host"))
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("[shared_folder].expiry: must be between 1 and"),
        "{stderr}"
    );
    assert!(!stderr.contains(PASSWORD));
}

#[test]
fn a_bad_field_is_named_and_the_exit_code_says_so() {
    let path = write(
        "bad.toml",
        config("").replace("https://", "ftp://").as_bytes(),
    );
    let (ok, _, stderr) = check(&["--config".as_ref(), path.as_os_str()]);
    assert!(!ok);
    assert!(stderr.contains("[shared_folder].url"), "{stderr}");
    assert!(!stderr.contains(PASSWORD));
}

#[test]
fn a_broken_component_is_refused() {
    let path = write("ok.toml", config("").as_bytes());
    let component = write("broken.wasm", b"\0asm\x01\0\0\0");
    let (ok, _, stderr) = check(&[
        "--config".as_ref(),
        path.as_os_str(),
        "--component".as_ref(),
        component.as_os_str(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("not a WebAssembly component"), "{stderr}");
}

#[test]
fn the_provider_template_fits_the_current_contract_and_validates() {
    let path = write("template.toml", config("expiry = 7\n").as_bytes());
    let component = write(
        "template.wasm",
        shared_folder_test_support::TEMPLATE_PROVIDER,
    );
    let (ok, stdout, stderr) = check(&[
        "--config".as_ref(),
        path.as_os_str(),
        "--component".as_ref(),
        component.as_os_str(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("contract: shared-folder:provider@0.4.x — served by this host"),
        "{stdout}"
    );
    assert!(
        stdout.contains("validate: the provider accepts the settings"),
        "{stdout}"
    );
    // Its validate reads the settings as create would: a bad field is named.
    let bad = write(
        "template-bad.toml",
        config("expiry = \"soon\"\n").as_bytes(),
    );
    let (ok, _, stderr) = check(&[
        "--config".as_ref(),
        bad.as_os_str(),
        "--component".as_ref(),
        component.as_os_str(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("[shared_folder].expiry"), "{stderr}");
}
