//! `shared-folder-host`: the host as a command.
//!
//! `check` validates a configuration and a provider component the way the host would load
//! them — the `[shared_folder]` section, the component's fit to the `shared-folder-provider`
//! world — without contacting the storage.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared_folder_host::{HostLimits, NEXTCLOUD_PROVIDER, SharedFolderConfig, SharedFolders};

#[derive(Parser)]
#[command(
    version,
    about = "Reference host for shared-folder provider components"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a configuration and a provider component without contacting the storage.
    Check {
        /// Configuration file with a `[shared_folder]` section.
        #[arg(long)]
        config: PathBuf,
        /// Provider component to check; default: the built-in NextCloud provider.
        #[arg(long)]
        component: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().command {
        Command::Check { config, component } => check(&config, component.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn check(config: &std::path::Path, component: Option<&std::path::Path>) -> Result<(), String> {
    let text = std::fs::read_to_string(config)
        .map_err(|e| format!("cannot read {}: {e}", config.display()))?;
    let config = SharedFolderConfig::from_toml(&text).map_err(|e| e.to_string())?;
    let bytes = match component {
        Some(path) => {
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
        }
        None => NEXTCLOUD_PROVIDER.to_vec(),
    };
    let origin = config.origin.to_string();
    let host =
        SharedFolders::new(config, &bytes, HostLimits::default()).map_err(|e| e.to_string())?;
    let provider = host.provider();
    println!("configuration: ok (storage origin {origin})");
    println!(
        "provider {:?}: ok ({} bytes, sha256 {}, fits shared-folder:provider@0.2.0)",
        provider.name,
        bytes.len(),
        provider.digest
    );
    Ok(())
}
