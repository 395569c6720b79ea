//! The demo (`cargo demo`) as a user runs it against a storage of their own (`--config`): it
//! runs to its end, and when a step fails it removes what it made before it gives up.

use std::process::Command;

use shared_folder_harness::{Fault, FaultRule, Options, StandIn, Step, TestHost};

const DEMO: &str = env!("CARGO_BIN_EXE_shared-folder-demo");

async fn run_demo(standin: &StandIn) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nextcloud.toml");
    let text = TestHost::on(standin)
        .line("expiry = 7")
        .shared_folder_toml()
        + "\n[host]\nallow_plain_http = true\n";
    std::fs::write(&file, text).unwrap();
    let mut demo = Command::new(DEMO);
    demo.arg("--config")
        .arg(&file)
        .args(["--room", "demo-test"]);
    let output = tokio::task::spawn_blocking(move || demo.output())
        .await
        .unwrap()
        .expect("the demo runs");
    drop(dir);
    output
}

fn nothing_left(standin: &StandIn) -> bool {
    let storage = standin.storage();
    storage.shares.is_empty()
        && !storage
            .nodes
            .keys()
            .any(|path| path.starts_with("opentalk/meetings/"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_to_its_end_and_leaves_nothing() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let output = run_demo(&standin).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains("\n8. Delete") && stdout.contains("Done."),
        "{stdout}"
    );
    assert!(nothing_left(&standin), "{:?}", standin.storage());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_that_fails_leaves_nothing_behind_and_says_so() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    // Step 8's folder DELETE fails at every attempt the provider makes (503, four times).
    for _ in 0..4 {
        standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(503)));
    }
    let output = run_demo(&standin).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{output:?}");
    assert!(stderr.contains("storage answered 503"), "{stderr}");
    assert!(stderr.contains("cleaned up"), "{stderr}");
    assert!(nothing_left(&standin), "{:?}", standin.storage());
}

/// `cargo demo -- --provider P`: both providers, each on its stand-in, through every step,
/// the switch to the other storage while serving included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_against_either_provider() {
    for provider in ["nextcloud", "opencloud"] {
        let mut demo = Command::new(DEMO);
        demo.args(["--provider", provider]);
        let output = tokio::task::spawn_blocking(move || demo.output())
            .await
            .unwrap()
            .expect("the demo runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{provider}: {output:?}");
        assert!(
            stdout.contains(&format!("provider \"{provider}\", contract 0.4")),
            "{stdout}"
        );
        assert!(stdout.contains("Switch storage while serving"), "{stdout}");
        assert!(
            stdout.contains("read-only link:  upload notes.txt  -> HTTP 403"),
            "{stdout}"
        );
        assert_eq!(
            stdout
                .matches("folder exists = false, links left = 0")
                .count(),
            2,
            "{stdout}"
        );
        assert!(stdout.contains("Done."), "{stdout}");
    }
}
