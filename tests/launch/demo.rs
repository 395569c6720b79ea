//! `cargo demo`: runs the demo (`src/bin/demo.rs`, the binary `shared-folder-demo`) with the
//! arguments given.
//!
//! The alias goes through `cargo test` rather than `cargo run` on purpose: `cargo run` resolves
//! the dependencies' features without the tests' dev-dependencies, and so would build wasmtime
//! and most of the rest a second time for `cargo test`. Through here the demo and the tests are
//! one build: the same profile and the same features. This binary only hands over to the demo;
//! a failing demo's exit status comes back through `cargo test`, which then adds a line of its
//! own ("test failed, to rerun pass …").

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let demo = env!("CARGO_BIN_EXE_shared-folder-demo");
    let mut arguments = std::env::args_os().skip(1).peekable();
    // `cargo demo -- --provider opencloud`: the alias ends with `--` already, so a `--` typed
    // after it arrives here; the demo takes no positional arguments, so it is only that.
    if arguments.peek().is_some_and(|first| first == "--") {
        arguments.next();
    }
    let mut command = Command::new(demo);
    command.args(arguments);
    #[cfg(unix)]
    {
        // The demo takes this process over: its output, its signals and its exit status.
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        eprintln!("error: the demo ({demo}) could not be started: {error}");
        ExitCode::FAILURE
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: the demo ({demo}) could not be started: {error}");
            ExitCode::FAILURE
        }
    }
}
