//! The credentials the host adds for a provider (`[shared_folder].auth`): HTTP Basic with a
//! password or app token, or a Bearer token from a file — read again when it changes, so an
//! outside refresher can rotate it while the host serves — or from the environment. The
//! component never sees them.

use shared_folder_harness::TestHost;
use shared_folder_harness::opencloud::{OpenCloudStandIn, Options};
use shared_folder_host::runtime::{Credentials, TokenSource};
use shared_folder_host::{ErrorKind, SharedFolderConfig};

/// `[shared_folder]` for the OpenCloud stand-in with a Bearer token instead of the app token.
fn bearer_section(standin: &OpenCloudStandIn, source: &str) -> String {
    let basic = TestHost::on_opencloud(standin).shared_folder_toml();
    let app_token = &standin.options().app_token;
    basic.replace(
        &format!("password = \"{app_token}\"\n"),
        &format!("auth = \"bearer\"\n{source}\n"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_file_is_used_and_its_rotation_followed_while_serving() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "access-token-1\n").unwrap();
    standin.accept_bearer("access-token-1");
    let text = bearer_section(
        &standin,
        &format!("token_file = {:?}", file.display().to_string()),
    );
    let config = SharedFolderConfig::from_toml(&text).unwrap();
    assert!(matches!(
        &config.credentials,
        Credentials::Bearer(TokenSource::File(path)) if *path == file
    ));
    assert!(!format!("{config:?}").contains("access-token-1"));
    let host = TestHost::on_opencloud(&standin)
        .records(shared_folder_host::Records::in_memory().unwrap())
        .config_text(&text)
        .build();

    let first = host.create("room-1").await.unwrap().record;
    assert!(standin.folder_exists(&first.path));

    // The identity provider rotates the token; the refresher writes the new one.
    standin.accept_bearer("access-token-2-rotated");
    let refused = host.create("room-2").await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unauthorized, "{refused}");
    std::fs::write(&file, "access-token-2-rotated\n").unwrap();
    host.create("room-2").await.unwrap();
    assert!(host.delete("room-1", false).await.unwrap().deleted());
    assert!(host.delete("room-2", false).await.unwrap().deleted());
    assert_eq!(standin.link_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_from_the_environment_is_used() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    standin.accept_bearer("env-access-token");
    // SAFETY: no other thread of this test binary reads or writes this variable.
    unsafe { std::env::set_var("SHARED_FOLDER_TEST_TOKEN", "env-access-token") };
    let text = bearer_section(&standin, "token_env = \"SHARED_FOLDER_TEST_TOKEN\"");
    let host = TestHost::on_opencloud(&standin).config_text(&text).build();
    let record = host.create("room").await.unwrap().record;
    assert!(host.delete("room", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&record.path));
}

#[test]
fn bearer_settings_that_cannot_work_are_named() {
    let section = |lines: &str| {
        format!(
            "[shared_folder]\nprovider = \"opencloud\"\nurl = \"https://cloud.example.com/\"\n\
             username = \"u\"\n{lines}\n"
        )
    };
    let cases = [
        ("auth = \"bearer\"", "[shared_folder].token_file: missing"),
        (
            "auth = \"bearer\"\npassword = \"secret-pw\"\ntoken_env = \"X\"",
            "[shared_folder].password: is not used with auth = \"bearer\"",
        ),
        (
            "auth = \"bearer\"\ntoken_file = \"/nonexistent/token\"",
            "[shared_folder].token_file: cannot read /nonexistent/token",
        ),
        (
            "auth = \"bearer\"\ntoken_env = \"SHARED_FOLDER_TEST_UNSET_TOKEN\"",
            "[shared_folder].token_env: the environment variable SHARED_FOLDER_TEST_UNSET_TOKEN is not set",
        ),
        (
            "password = \"secret-pw\"\ntoken_file = \"t\"",
            "[shared_folder].token_file: is only read with auth = \"bearer\"",
        ),
        (
            "auth = \"digest\"\npassword = \"secret-pw\"",
            "[shared_folder].auth: unknown variant `digest`",
        ),
    ];
    for (lines, expected) in cases {
        let error = SharedFolderConfig::from_toml(&section(lines))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with(expected), "{lines}: {error}");
        assert!(!error.contains("secret-pw"), "{error}");
    }
}
