//! What a provider's publisher does, through the binary's own commands: keys, signatures,
//! pushes; and how a test reads which component a server serves.

use std::path::Path;

use super::{Outcome, Server, run_binary};

pub fn text(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// A key pair `name`.key / `name`.pub in `dir`, made by `keygen`; returns its key id.
pub async fn keygen(dir: &Path, name: &str) -> String {
    let (secret, public) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pub")),
    );
    let made = run_binary(&[
        "keygen",
        "--secret-key",
        text(&secret),
        "--public-key",
        text(&public),
    ])
    .await;
    assert_eq!(made.code, Some(0), "{made:?}");
    made.json()["key_id"].as_str().expect("a key id").to_owned()
}

/// `component` signed by the key `name` of `dir`, through `sign --output`.
pub async fn signed(dir: &Path, name: &str, component: &[u8]) -> Vec<u8> {
    let (input, output) = (dir.join("unsigned.wasm"), dir.join("signed.wasm"));
    std::fs::write(&input, component).expect("written");
    let _ = std::fs::remove_file(&output);
    let key = dir.join(format!("{name}.key"));
    let outcome = run_binary(&[
        "sign",
        "--secret-key",
        text(&key),
        text(&input),
        "--output",
        text(&output),
    ])
    .await;
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    std::fs::read(output).expect("the signed component")
}

/// `genuine`'s signature section (first after the header) put in front of `other`'s sections:
/// a signature taken from other bytes.
pub fn grafted(genuine: &[u8], unsigned_length: usize, other: &[u8]) -> Vec<u8> {
    let section = &genuine[8..genuine.len() - (unsigned_length - 8)];
    [&other[..8], section, &other[8..]].concat()
}

/// `shared-folder-host push` of `component` to `reference`, with `extra` arguments.
pub async fn push(dir: &Path, component: &[u8], reference: &str, extra: &[&str]) -> Outcome {
    let file = dir.join("push.wasm");
    std::fs::write(&file, component).expect("written");
    let mut args = vec!["push", text(&file), reference];
    args.extend_from_slice(extra);
    run_binary(&args).await
}

/// The digest of the component `server` serves.
pub async fn serving(server: &Server) -> String {
    let health = server.call_as(None, "GET", "/health", None).await;
    health.json()["provider"]["digest"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Whether `server` serves the component of digest `expected` within `within`.
pub async fn serves(server: &Server, expected: &str, within: std::time::Duration) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < within {
        if serving(server).await == expected {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}
