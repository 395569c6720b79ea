//! A stand-in storage as a program, to try `shared-folder-host serve` without a real one:
//! `cargo standin` (NextCloud's, port 8090) or `cargo standin -- --provider opencloud`
//! (OpenCloud's, port 8091), then `cargo host serve --config examples/host.toml`.
//!
//! It is a test double on 127.0.0.1 that answers as the storage's documented behaviour says
//! (docs/nextcloud-behaviour.md, docs/opencloud-behaviour.md), not the storage system; its
//! state lives in memory and goes when it stops (Ctrl-C).

use std::process::ExitCode;

use clap::Parser;
use shared_folder_harness::{Options, StandIn, opencloud};

#[derive(Parser)]
#[command(about = "A local NextCloud or OpenCloud stand-in (a test double) on 127.0.0.1")]
struct Args {
    /// Which storage to stand in for.
    #[arg(long, value_parser = ["nextcloud", "opencloud"], default_value = "nextcloud")]
    provider: String,
    /// Port on 127.0.0.1 (default: 8090 for NextCloud, 8091 for OpenCloud).
    #[arg(long)]
    port: Option<u16>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Kept until Ctrl-C: dropping a stand-in stops it.
    let _running = if args.provider == "opencloud" {
        let port = args.port.unwrap_or(8091);
        let options = opencloud::Options {
            port,
            ..opencloud::Options::default()
        };
        match opencloud::OpenCloudStandIn::start(options).await {
            Ok(standin) => {
                println!("OpenCloud stand-in at {}", standin.url());
                println!(
                    "account: username {:?}, app token {:?} (as password; a test account of the stand-in)",
                    standin.options().username,
                    standin.options().app_token
                );
                Running::OpenCloud(standin)
            }
            Err(e) => {
                eprintln!("error: cannot listen on 127.0.0.1:{port}: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        let port = args.port.unwrap_or(8090);
        let options = Options {
            port,
            ..Options::default()
        };
        match StandIn::start(options).await {
            Ok(standin) => {
                println!("NextCloud stand-in at {}", standin.url());
                println!(
                    "account: username {:?}, password {:?} (a test account of the stand-in)",
                    standin.options().username,
                    standin.options().password
                );
                Running::NextCloud(standin)
            }
            Err(e) => {
                eprintln!("error: cannot listen on 127.0.0.1:{port}: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    println!("Ctrl-C stops it.");
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}

/// The stand-in that runs.
enum Running {
    NextCloud(#[allow(dead_code)] StandIn),
    OpenCloud(#[allow(dead_code)] opencloud::OpenCloudStandIn),
}
