//! What the binary's end-to-end tests share: a configuration file pointing at a NextCloud
//! stand-in, the binary run as a command or as a service.

#![allow(dead_code)] // Each test file uses its own part of this.

pub mod publishing;
pub mod sessions;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shared_folder_test_support::client::{self, Reply};
use shared_folder_test_support::{COMPILED_COMPONENTS, StandIn, TestHost};

pub const BINARY: &str = env!("CARGO_BIN_EXE_shared-folder-host");
pub const TOKEN: &str = "controller-token-0123456789";

/// A folder with a configuration file (and the database, plugins folder, …) for one test.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Setup {
    /// A configuration for `standin` with `[host]` lines `host` (database and plugins in the
    /// test's folder, short timeouts, listening on a free port).
    ///
    /// Compiled components are kept in the tests' shared folder
    /// ([`shared_folder_test_support::COMPILED_COMPONENTS`]), so that a host started by a test
    /// loads its component rather than compiling it; a test that looks into its host's cache
    /// names its own `component_cache` in `host`.
    pub fn new(standin: &StandIn, host: &str) -> Self {
        let shared_folder = TestHost::on(standin).shared_folder_toml();
        let cache = if host.contains("component_cache") {
            String::new()
        } else {
            format!("component_cache = {COMPILED_COMPONENTS:?}\n")
        };
        Self::with_text(&format!(
            "{shared_folder}\n[host]\nallow_plain_http = true\nlisten = \"127.0.0.1:0\"\napi_tokens = [\"{TOKEN}\"]\n\
             call_timeout = 20\nconnect_timeout = 2\nanswer_timeout = 2\nshutdown_grace = 10\n{cache}{host}\n"
        ))
    }

    pub fn with_text(text: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let config = dir.path().join("host.toml");
        std::fs::write(&config, text).expect("configuration written");
        Setup { dir, config }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Replaces `from` (which must be there) by `to` in the configuration file.
    pub fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(&self.config).expect("configuration read");
        assert!(text.contains(from), "{from:?} is not in the configuration");
        std::fs::write(&self.config, text.replace(from, to)).expect("configuration written");
    }

    /// The configuration's text.
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.config).expect("configuration read")
    }

    /// Runs `shared-folder-host <command> --config <file> <args>` to its end.
    pub async fn run(&self, command: &str, args: &[&str]) -> Outcome {
        self.run_with_env(command, args, &[]).await
    }

    /// As [`Setup::run`], with environment variables set for the command.
    pub async fn run_with_env(
        &self,
        command: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Outcome {
        let mut cmd = Command::new(BINARY);
        cmd.arg(command)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .envs(env.iter().copied());
        run(cmd).await
    }

    /// Starts `serve` and waits until it listens.
    pub fn serve(&self) -> Server {
        Server::start(&self.config, &[])
    }

    /// As [`Setup::serve`], with environment variables set for the service (e.g. `RUST_LOG`).
    pub fn serve_with_env(&self, env: &[(&str, &str)]) -> Server {
        Server::start(&self.config, env)
    }
}

/// How a command ended.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

/// Runs `shared-folder-host <args>` to its end (a command that needs no configuration).
pub async fn run_binary(args: &[&str]) -> Outcome {
    let mut command = Command::new(BINARY);
    command.args(args);
    run(command).await
}

async fn run(mut command: Command) -> Outcome {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("runner thread")
        .expect("the binary runs");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `shared-folder-host serve`, stopped (SIGKILL) when dropped if still running.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    pub fn start(config: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(BINARY)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let stdout = child.stdout.take().expect("stdout piped");
        let stderr = child.stderr.take().expect("stderr piped");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let collected = std::sync::Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = collected.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(address) = line.strip_prefix("listening on ") {
                        break address.to_owned();
                    }
                }
                _ => {
                    let status = child.wait().expect("serve ended");
                    std::thread::sleep(Duration::from_millis(100));
                    panic!("serve stopped ({status}): {}", log.lock().unwrap());
                }
            }
        };
        Server {
            child: Some(child),
            base,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws{}{path}", self.base.trim_start_matches("http"))
    }

    /// What it logged so far (stderr).
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// A controller's call with the bearer token.
    pub async fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> Reply {
        self.call_as(Some(TOKEN), method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer.as_str()));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        client::send(method, &self.url(path), None, &headers, body.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// A controller's `PUT` of `path`, running on its own task (so that the server can be
    /// stopped while it is in flight).
    pub fn put_in_background(&self, path: &str) -> tokio::task::JoinHandle<Result<Reply, String>> {
        let url = self.url(path);
        tokio::spawn(async move {
            let bearer = format!("Bearer {TOKEN}");
            client::send("PUT", &url, None, &[("authorization", &bearer)], b"").await
        })
    }

    /// Sends SIGTERM and waits for the exit (at most `within`).
    pub async fn terminate(mut self, within: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "TERM");
        tokio::task::spawn_blocking(move || {
            let start = Instant::now();
            loop {
                if let Some(status) = child.try_wait().expect("wait") {
                    return status;
                }
                if start.elapsed() > within {
                    let _ = child.kill();
                    panic!("serve did not stop within {within:?}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .await
        .expect("waiter thread")
    }

    /// Sends SIGHUP: read the configuration again.
    pub fn hang_up(&self) {
        signal(self.child.as_ref().expect("running").id(), "HUP");
    }

    /// Kills it at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits until `condition` holds, checking every 20 ms, for at most `within`.
pub async fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}
