//! The NextCloud stand-in as a program, to try `shared-folder-host serve` without a NextCloud:
//! `cargo standin` (port 8090), then `cargo host serve --config examples/host.toml`.
//!
//! It is a test double on 127.0.0.1 that answers like the recorded NextCloud 32, not
//! NextCloud; its state lives in memory and goes when it stops (Ctrl-C).

use std::process::ExitCode;

use clap::Parser;
use shared_folder_harness::{Options, StandIn};

#[derive(Parser)]
#[command(about = "A local NextCloud stand-in (a test double) on 127.0.0.1")]
struct Args {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8090)]
    port: u16,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        port: args.port,
        ..Options::default()
    };
    let standin = match StandIn::start(options).await {
        Ok(standin) => standin,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    let options = standin.options();
    println!("NextCloud stand-in at {}", standin.url());
    println!(
        "account: username {:?}, password {:?} (a test account of the stand-in)",
        options.username, options.password
    );
    println!("Ctrl-C stops it.");
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
