//! The binary against REAL storage servers — NextCloud, ownCloud 10 and OpenCloud — when some
//! are given, each put through the same checks, and a matrix (server × check) at the end:
//!
//! ```text
//! REAL_SERVERS=servers.toml cargo test -p shared-folder-host --test real_servers
//! ```
//!
//! `servers.toml` lists the servers (see [`servers`] for every field; a password may come from
//! the environment instead of the file):
//!
//! ```toml
//! [[server]]
//! name = "nextcloud-32"
//! kind = "nextcloud"          # nextcloud | owncloud | opencloud
//! url = "http://127.0.0.1:8132/"
//! username = "admin"
//! password_env = "NC32_APP_PASSWORD"
//! ```
//!
//! One server can also be given by `REAL_SERVER_KIND`, `REAL_SERVER_URL`, `REAL_SERVER_USER`
//! and `REAL_SERVER_PASSWORD`. Without either it prints one line saying it was skipped, and
//! passes: CI has no storage servers (docs/real-servers.md says how to run them here).
//!
//! On each server, in a folder of this run's own below `shared-folder-tests/`, removed at the
//! end ([`checks`] has each check):
//! - `preflight`: the command runs and finds no problem;
//! - `contract`: what every provider promises — both links, distinct passwords, each role's
//!   view, the expiry set on both links, a folder that exists refused and left alone, wrong
//!   credentials refused as such, a second delete, a room with non-ASCII characters;
//! - `links`: the links used by role as participants would (read-write uploads, read-only
//!   reads and refuses uploads, a wrong password refused, dead after the delete);
//! - `service`: `serve`'s REST API and signaling — sessions by role, a role granted and revoked,
//!   JSON errors, the delete reaching the sessions;
//! - `recovery`: `serve` killed (`SIGKILL`) in the middle of a create; the next start purges
//!   what it left;
//! - `cycles`: 100 create + delete cycles through the REST API with 8 in flight, each at its
//!   first try;
//! - `leftovers`: no folder, link or trash entry of the run left on the server.

#[path = "../common/mod.rs"]
mod common;

mod checks;
mod servers;

use std::process::ExitCode;
use std::time::Instant;

use servers::RealServer;

/// The checks, in the order they run and appear in the matrix.
const CHECKS: [&str; 8] = [
    "preflight",
    "contract",
    "links",
    "service",
    "recovery",
    "repair",
    "cycles",
    "leftovers",
];

/// What one check found on one server.
#[derive(Default)]
pub struct Findings {
    failed: Vec<String>,
    passed: usize,
}

impl Findings {
    /// Records one expectation, printed as it is met or not.
    pub fn expect(&mut self, ok: bool, what: impl Into<String>) {
        let what = what.into();
        println!("    {} {what}", if ok { "✓" } else { "✗" });
        if ok {
            self.passed += 1;
        } else {
            self.failed.push(what);
        }
    }

    fn cell(&self) -> String {
        if self.failed.is_empty() {
            format!("✓ {}", self.passed)
        } else {
            format!(
                "✗ {}/{}",
                self.failed.len(),
                self.failed.len() + self.passed
            )
        }
    }
}

fn main() -> ExitCode {
    let servers = match servers::configured() {
        Ok(Some(servers)) => servers,
        Ok(None) => {
            println!(
                "real_servers: skipped — neither REAL_SERVERS nor REAL_SERVER_KIND/URL/USER/PASSWORD \
                 is set (these tests need real storage servers: docs/real-servers.md)"
            );
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            println!("real_servers: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut matrix: Vec<(String, String, Vec<Findings>)> = Vec::new();
    for server in &servers {
        let started = Instant::now();
        let version = runtime.block_on(server.version());
        println!(
            "\n=== {} ({} {version}) at {} as {:?}, in {}",
            server.name,
            server.kind.name(),
            server.url,
            server.user,
            server.root
        );
        let findings = runtime.block_on(run_all(server));
        println!(
            "=== {}: {:.0} s",
            server.name,
            started.elapsed().as_secs_f64()
        );
        matrix.push((server.name.clone(), version, findings));
    }
    print_matrix(&matrix);
    let failed: Vec<String> = matrix
        .iter()
        .flat_map(|(name, _, findings)| {
            findings.iter().zip(CHECKS).flat_map(move |(f, check)| {
                f.failed
                    .iter()
                    .map(move |what| format!("{name} / {check}: {what}"))
            })
        })
        .collect();
    if failed.is_empty() {
        println!(
            "real_servers: every check passed on {} server(s)",
            matrix.len()
        );
        ExitCode::SUCCESS
    } else {
        println!("real_servers: {} expectation(s) failed:", failed.len());
        for what in &failed {
            println!("  - {what}");
        }
        ExitCode::FAILURE
    }
}

async fn run_all(server: &RealServer) -> Vec<Findings> {
    let mut all = Vec::new();
    for check in CHECKS {
        println!("\n  {check}");
        let mut findings = Findings::default();
        match check {
            "preflight" => checks::preflight(server, &mut findings).await,
            "contract" => checks::contract(server, &mut findings).await,
            "links" => checks::links(server, &mut findings).await,
            "service" => checks::service(server, &mut findings).await,
            "recovery" => checks::recovery(server, &mut findings).await,
            "repair" => checks::repair(server, &mut findings).await,
            "cycles" => checks::cycles(server, &mut findings).await,
            _ => checks::leftovers(server, &mut findings).await,
        }
        all.push(findings);
    }
    server.remove_run().await;
    all
}

/// The matrix: a row per server, a column per check; `✓ n` — n expectations met, `✗ f/n` — f of
/// n failed.
fn print_matrix(matrix: &[(String, String, Vec<Findings>)]) {
    let mut header = "| server | version |".to_owned();
    let mut rule = "|---|---|".to_owned();
    for check in CHECKS {
        header.push_str(&format!(" {check} |"));
        rule.push_str("---|");
    }
    println!("\n{header}\n{rule}");
    for (name, version, findings) in matrix {
        let cells: Vec<String> = findings.iter().map(Findings::cell).collect();
        println!("| {name} | {version} | {} |", cells.join(" | "));
    }
}
