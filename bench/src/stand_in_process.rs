//! A stand-in in a process of its own, for the memory row: the stand-in records every request
//! it answers, so in the benchmark's process its per-request state would be counted on the
//! side under test as well. The benchmark's binary is started again with a hidden argument
//! (`--serve-stand-in`), which starts the storage's stand-in, prints where it listens and with
//! which account, and serves until its standard input closes (the parent went away).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::Failure;
use crate::native::Account;
use crate::storage::{NextCloud, OpenCloud, Storage};

/// The hidden argument that makes the binary a stand-in.
pub const ARGUMENT: &str = "--serve-stand-in";

/// A stand-in running in a child process; stopped when dropped.
pub struct StandInProcess {
    child: Child,
    /// Where it listens, and the account both sides use.
    pub account: Account,
}

impl StandInProcess {
    /// Starts `S`'s stand-in with `latency` per request in a child process.
    pub fn start<S: Storage>(latency: Duration) -> Result<Self, Failure> {
        let mut child = Command::new(std::env::current_exe()?)
            .args([
                ARGUMENT,
                S::PROVIDER,
                "--stand-in-latency-ms",
                &latency.as_millis().to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut line = String::new();
        let stdout = child
            .stdout
            .take()
            .ok_or("the stand-in's output is missing")?;
        BufReader::new(stdout).read_line(&mut line)?;
        let mut fields = line.trim_end().split('\t');
        let (Some(url), Some(username), Some(password)) =
            (fields.next(), fields.next(), fields.next())
        else {
            let _ = child.kill();
            return Err(format!("the stand-in process said {line:?}").into());
        };
        let account = crate::storage::account(url, username, password)?;
        Ok(StandInProcess { account, child })
    }
}

impl Drop for StandInProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's side: serves `provider`'s stand-in with `latency` per request until standard
/// input closes.
pub async fn serve(provider: &str, latency: Duration) -> Result<(), Failure> {
    match provider {
        p if p == NextCloud::PROVIDER => serve_storage::<NextCloud>(latency).await,
        p if p == OpenCloud::PROVIDER => serve_storage::<OpenCloud>(latency).await,
        other => Err(format!("no stand-in for {other:?}").into()),
    }
}

async fn serve_storage<S: Storage>(latency: Duration) -> Result<(), Failure> {
    let stand_in = S::stand_in(latency).await?;
    let account = S::account(&stand_in)?;
    println!(
        "{}\t{}\t{}",
        account.url, account.username, account.password
    );
    // Until the parent closes the pipe (or dies).
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await??;
    drop(stand_in);
    Ok(())
}
