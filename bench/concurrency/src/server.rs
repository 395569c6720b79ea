//! The server the probe's calls wait on: this binary again, in a child process (so that its
//! memory is not counted), answering every request `200 ok` after holding it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

/// The child process; killed on drop.
pub struct ServerProcess {
    child: Child,
    port: u16,
}

impl ServerProcess {
    /// Starts `<this binary> --serve --hold-ms <hold>` and reads the port it listens on.
    pub fn start(hold: Duration) -> wasmtime::Result<ServerProcess> {
        let child = Command::new(std::env::current_exe()?)
            .args(["--serve", "--hold-ms", &hold.as_millis().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        // Owned by `ServerProcess` from here, so that every way out below kills it.
        let mut server = ServerProcess { child, port: 0 };
        let mut line = String::new();
        if let Some(stdout) = server.child.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        server.port = line.trim().parse().map_err(|_| {
            wasmtime::Error::msg(format!(
                "the server process did not say its port (it said {line:?})"
            ))
        })?;
        Ok(server)
    }

    /// `127.0.0.1:<port>`.
    pub fn authority(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's side: listens on a free loopback port, prints it, answers every request with
/// `200 ok` after `hold`.
pub async fn serve(hold: Duration) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("the probe's server cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(address) => println!("{}", address.port()),
        Err(e) => {
            eprintln!("the probe's server has no address: {e}");
            return ExitCode::FAILURE;
        }
    }
    let app = axum::Router::new().fallback(move || async move {
        tokio::time::sleep(hold).await;
        "ok"
    });
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("the probe's server stopped: {e}");
            ExitCode::FAILURE
        }
    }
}
