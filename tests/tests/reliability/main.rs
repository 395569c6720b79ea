//! The reliability suite: evidence that the host loses nothing, leaks nothing and lets no one
//! in, printed as figures. A test target without libtest's harness:
//!
//! ```text
//! cargo test -p shared-folder-harness --test reliability
//! ```
//!
//! Sections, each in its own module:
//! - [`matrix`]: every step of create and delete × every storage fault;
//! - [`hostile`]: misbehaving provider components;
//! - [`load`]: 1,000 rooms with 32 in flight, random faults and hot swaps, then the share
//!   passwords of the run put through a statistical check ([`passwords`]).
//!
//! Arguments name the sections to run (`matrix`, `hostile`, `load`; all without any), e.g.
//! `cargo test -p shared-folder-harness --test reliability -- load`; `RELIABILITY_ROOMS`
//! changes the number of rooms of the load. Every check that fails is listed at the end, and
//! the process exits 1.

mod audit;
mod hostile;
mod load;
mod matrix;
mod outcome;
mod passwords;

use std::process::ExitCode;

/// What went wrong across the sections, printed at the end.
#[derive(Default)]
pub struct Failures(Vec<String>);

impl Failures {
    /// Records `what` as a failure unless `ok`.
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |section: &str| named.is_empty() || named.iter().any(|n| n == section);
    let mut failures = Failures::default();
    runtime.block_on(async {
        if wanted("matrix") {
            matrix::run(&mut failures).await;
        }
        if wanted("hostile") {
            hostile::run(&mut failures).await;
        }
        if wanted("load") {
            let passwords = load::run(&mut failures).await;
            passwords::check(&passwords, &mut failures);
        }
    });
    if failures.0.is_empty() {
        println!("\nreliability: every check passed");
        ExitCode::SUCCESS
    } else {
        println!("\nreliability: {} check(s) failed:", failures.0.len());
        for failure in &failures.0 {
            println!("  - {failure}");
        }
        ExitCode::FAILURE
    }
}
