//! `shared-folder-host`: the host as a command (see `--help`).
//!
//! The command line is a contract; keep it stable:
//!
//! ```text
//! shared-folder-host create --config FILE --room ROOM
//!     {"room","path","provider","contract","read":{"url","password"},"read_write":{"url","password"}}
//! shared-folder-host access --config FILE --room ROOM --role moderator|participant
//!     {"read":{"url","password"}} plus "read_write" for moderators
//! shared-folder-host delete --config FILE --room ROOM [--force]
//!     {"room","deleted":true|false}
//! shared-folder-host purge  --config FILE --room ROOM [--force]
//!     {"room","purged":true,"record":"none"|"pending"|"dropped"}
//! shared-folder-host serve  --config FILE      (SIGHUP or a change of FILE: reload [shared_folder])
//! shared-folder-host check  --config FILE [--component FILE]
//! shared-folder-host preflight --config FILE [--rate-limit]
//! shared-folder-host conformance --config FILE [--component FILE]
//!     a table of the contract's promises, kept or broken (exit 1 when one is broken)
//! shared-folder-host rekey  --config FILE      (seal every share password with the first key)
//!     {"resealed": N}
//! shared-folder-host new-provider NAME DIR     (a standalone provider crate from the template)
//!     {"name","dir","package","component"}
//! shared-folder-host keygen --secret-key FILE --public-key FILE
//!     {"key_id","secret_key","public_key"}     (files as `wasmsign2 keygen` writes them)
//! shared-folder-host sign --secret-key FILE COMPONENT (--output FILE | --detached)
//!     {"component","signature","key_id","digest"}
//! shared-folder-host push COMPONENT oci://REGISTRY/REPOSITORY:TAG [--ca-bundle FILE]
//!         [--credentials-file FILE]
//!     {"reference","manifest","digest","signed"} (the layout `wkg oci push` writes)
//! ```
//!
//! Results go to stdout as JSON; errors to stderr with a non-zero exit code: 1 when the
//! storage or provider failed, 2 for usage and configuration errors, 3 when the room has no
//! shared folder. No secret of the configuration is ever printed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

mod conformance;
mod new_provider;
mod participant;
mod preflight;
mod probe;

use clap::{Parser, Subcommand};
use serde_json::json;
use shared_folder_host::components::{
    self, Admitted, ComponentError, Components, Follower, RegistryCredentials, RegistryReference,
};
use shared_folder_host::runtime::{Contract, Validation};
use shared_folder_host::service::{self, Service};
use shared_folder_host::{
    Database, Deletion, ErrorKind, Expected, HostConfig, HostError, LogFormat, Options, Purge,
    Reconciled, Records, Role, Runtime, SharedFolders, audit, reload, signing,
};

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
    /// Create a room's shared folder (or show the one it has), print it with both links.
    Create {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        room: String,
    },
    /// Print what a participant with a role sees of a room's shared folder.
    Access {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        room: String,
        /// `moderator` (both links) or `participant` (the read-only link).
        #[arg(long)]
        role: Role,
    },
    /// Delete a room's shared folder: both links, then the folder with its files.
    Delete {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        room: String,
        /// Drop the record even if the storage's delete fails.
        #[arg(long)]
        force: bool,
    },
    /// Remove whatever a provider may have made on the storage for a room that has no record
    /// (a folder every create of the room answers with "exists"), with the files in it.
    Purge {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        room: String,
        /// Also when the room has a record: purge the storage and drop the record.
        #[arg(long)]
        force: bool,
    },
    /// Compare the records with the storage (contract 0.4's list-folders): folders without a
    /// record, records without a folder, a folder whose link is missing or is not the recorded
    /// one. Changes nothing. Exits 0 when they agree, 4 when they differ.
    Audit {
        #[arg(long)]
        config: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Audit, then fix each difference: a folder without a record (with a link of each kind)
    /// is recovered (links kept, new passwords) and recorded, a record without a folder is
    /// dropped, a missing or dead link is recovered; the rooms' sessions get their new view.
    /// Deletes nothing on the storage. Without --apply, only says what it would do. Exits 0
    /// when records and storage agree afterwards, 4 when not.
    Repair {
        #[arg(long)]
        config: PathBuf,
        /// Do it (without: a dry run).
        #[arg(long)]
        apply: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Take one room's folder over as the storage has it: its links get new passwords (a
    /// missing one is made), the files stay, and the record is written (replaced if there was
    /// one). For a folder `repair` leaves alone.
    Recover {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        room: String,
    },
    /// Try the contract's promises on a provider against the configured storage: create, each
    /// role's view, the links as participants use them (NextCloud, ownCloud, OpenCloud),
    /// delete twice, purge, a folder it did not make, wrong credentials, and all or nothing
    /// with each of the provider's requests failing in turn. Prints a table; exits 1 when a
    /// promise is broken. Makes and removes rooms named conformance-<run>-*.
    Conformance {
        #[arg(long)]
        config: PathBuf,
        /// Provider component to try; default: the plugins folder's, else the built-in.
        #[arg(long)]
        component: Option<PathBuf>,
    },
    /// Run the REST and signaling service until SIGINT or SIGTERM. SIGHUP, or a change of the
    /// configuration file, switches new rooms to a changed [shared_folder].
    Serve {
        #[arg(long)]
        config: PathBuf,
    },
    /// Before the first meeting: create and delete a probe folder on the configured storage,
    /// and report what would break or slow meetings, each with its fix. Leaves nothing behind.
    Preflight {
        #[arg(long)]
        config: PathBuf,
        /// Also measure NextCloud's share rate limit by creating up to 11 probe rooms (22
        /// shares): where the limit is in force, that uses up the account's quota for the next
        /// 10 minutes.
        #[arg(long)]
        rate_limit: bool,
    },
    /// Seal every share password in the records with the first key of records_key_file /
    /// records_key_env, after a key rotation (the old key stays below the new one until this
    /// has run on one host).
    Rekey {
        #[arg(long)]
        config: PathBuf,
    },
    /// Check a configuration and a provider component without contacting the storage: the
    /// contract version the component exports, whether it fits, and what the provider's
    /// `validate` says of the settings.
    Check {
        #[arg(long)]
        config: PathBuf,
        /// Provider component to check; default: the plugins folder's, else the built-in.
        #[arg(long)]
        component: Option<PathBuf>,
    },
    /// Make an Ed25519 key pair for signing provider components: the secret key (mode 0600;
    /// keep it off the hosts) and the public key, for [host].trusted_keys. Files as
    /// `wasmsign2 keygen` writes them; never overwrites.
    Keygen {
        #[arg(long)]
        secret_key: PathBuf,
        #[arg(long)]
        public_key: PathBuf,
    },
    /// Sign a provider component (the WebAssembly signature convention of wasmsign2): the
    /// signature embedded in a custom section (--output), or detached into COMPONENT.sig,
    /// which the plugins folder reads beside the component.
    Sign {
        #[arg(long)]
        secret_key: PathBuf,
        component: PathBuf,
        /// Where to write the signed component.
        #[arg(
            long,
            required_unless_present = "detached",
            conflicts_with = "detached"
        )]
        output: Option<PathBuf>,
        /// Write the signature to COMPONENT.sig and leave the component as it is.
        #[arg(long)]
        detached: bool,
    },
    /// Push a provider component to an OCI registry, in the layout `wkg oci push` writes; a
    /// host whose [host.components.NAME].source names the tag swaps it in.
    Push {
        component: PathBuf,
        /// oci://REGISTRY/REPOSITORY:TAG
        reference: String,
        /// CA certificates (PEM) trusted for the registry besides the system's.
        #[arg(long)]
        ca_bundle: Option<PathBuf>,
        /// The registry's user:password, in a file.
        #[arg(long)]
        credentials_file: Option<PathBuf>,
    },
    /// Write a new provider crate for the storage NAME into DIR (new or empty), made from the
    /// provider template: standalone, it builds anywhere. Needs no configuration.
    NewProvider {
        /// The provider's name (`provider = NAME` in [shared_folder]): lowercase ASCII
        /// letters, digits and '-', starting with a letter, at most 40 characters.
        name: String,
        /// Where to write the crate.
        dir: PathBuf,
    },
}

/// A failure, with the exit code it ends the process with.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl ToString) -> Self {
        Failure {
            code: 2,
            message: message.to_string(),
        }
    }
}

impl From<ComponentError> for Failure {
    /// No component to be found is a usage error (2); one refused, a failure (1).
    fn from(error: ComponentError) -> Self {
        let code = match error {
            ComponentError::Missing { .. }
            | ComponentError::Folder { .. }
            | ComponentError::Read { .. } => 2,
            _ => 1,
        };
        Failure {
            code,
            message: error.to_string(),
        }
    }
}

impl From<HostError> for Failure {
    fn from(error: HostError) -> Self {
        Failure {
            code: exit_code(error.kind()),
            message: error.to_string(),
        }
    }
}

impl From<shared_folder_host::Error> for Failure {
    fn from(error: shared_folder_host::Error) -> Self {
        HostError::from(error).into()
    }
}

/// The exit code for each kind of failure: 3 the room has no folder; 2 usage and
/// configuration (a room id the host or the provider refuses, a component that does not
/// load); 1 the storage or the provider failed.
fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::NoFolder => 3,
        ErrorKind::InvalidRoom | ErrorKind::Configuration | ErrorKind::RefusedAtLoad => 2,
        ErrorKind::Trapped
        | ErrorKind::Deadline
        | ErrorKind::Unusable
        | ErrorKind::Instantiation
        | ErrorKind::Unauthorized
        | ErrorKind::AlreadyExists
        | ErrorKind::NotFound
        | ErrorKind::Remote(_)
        | ErrorKind::Transport
        | ErrorKind::Timeout
        | ErrorKind::Protocol
        | ErrorKind::Records
        | ErrorKind::RecordsUnavailable
        | ErrorKind::NotOffered => 1,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config_path = match &cli.command {
        Command::NewProvider { name, dir } => return finish(new_provider(name, dir)),
        Command::Keygen {
            secret_key,
            public_key,
        } => return finish(keygen(secret_key, public_key)),
        Command::Sign {
            secret_key,
            component,
            output,
            detached,
        } => return finish(sign(secret_key, component, output.as_deref(), *detached)),
        Command::Push {
            component,
            reference,
            ca_bundle,
            credentials_file,
        } => {
            return finish(push(
                component,
                reference,
                ca_bundle.as_deref(),
                credentials_file.as_deref(),
            ));
        }
        Command::Create { config, .. }
        | Command::Access { config, .. }
        | Command::Delete { config, .. }
        | Command::Purge { config, .. }
        | Command::Audit { config, .. }
        | Command::Repair { config, .. }
        | Command::Recover { config, .. }
        | Command::Conformance { config, .. }
        | Command::Serve { config }
        | Command::Preflight { config, .. }
        | Command::Rekey { config }
        | Command::Check { config, .. } => config.clone(),
    };
    let result = HostConfig::load(&config_path)
        .map_err(Failure::usage)
        .and_then(|config| {
            init_logging(config.host.log_format);
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| Failure::usage(format!("cannot start the runtime: {e}")))?;
            runtime.block_on(run(cli.command, config))
        });
    finish(result)
}

/// The exit code of a command's result; a failure's message to stderr.
fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "warn,shared_folder_host=info,shared_folder_runtime=info".into())
        // The cookie jar logs the cookies it keeps at debug level, and the storage's session
        // cookie is a credential: whatever RUST_LOG says, it stays out of the log.
        .add_directive(
            "cookie_store=warn"
                .parse()
                .expect("a valid logging directive"),
        )
        // The registry client logs its token service's answers, a bearer token in them, at
        // debug level: kept out the same way.
        .add_directive(
            "oci_client=info"
                .parse()
                .expect("a valid logging directive"),
        );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(command: Command, config: HostConfig) -> Result<(), Failure> {
    match command {
        Command::Create { room, .. } => {
            let record = host(&config).await?.create(&room).await?.record;
            print_json(&json!({
                "room": record.room,
                "path": record.path,
                "provider": record.maker.provider,
                "contract": record.maker.contract,
                "read": record.read,
                "read_write": record.read_write,
            }));
        }
        Command::Access { room, role, .. } => {
            print_json(&json!(host(&config).await?.access(&room, role).await?));
        }
        Command::Delete { room, force, .. } => {
            let deleted = match host(&config).await?.delete(&room, force).await? {
                Deletion::Deleted => true,
                Deletion::NoFolder => false,
                Deletion::RecordOnly(error) => {
                    eprintln!(
                        "warning: the storage's delete failed, record dropped (--force): {error}"
                    );
                    true
                }
            };
            print_json(&json!({"room": room, "deleted": deleted}));
        }
        Command::Purge { room, force, .. } => {
            let record = match host(&config).await?.purge(&room, force).await? {
                Purge::Unrecorded => "none",
                Purge::Pending => "pending",
                Purge::RecordDropped => "dropped",
            };
            print_json(&json!({"room": room, "purged": true, "record": record}));
        }
        Command::Audit { json, .. } => {
            let audit = audit::audit(&host(&config).await?).await?;
            print_audit(&audit, json);
            disagreement(&audit)?;
        }
        Command::Repair { apply, json, .. } => {
            let folders = host(&config).await?;
            let found = audit::audit(&folders).await?;
            if !apply {
                print_audit(&found, json);
                if !json && !found.agrees() {
                    println!("a dry run: `repair --apply` fixes what it can");
                }
                return disagreement(&found);
            }
            let repaired = audit::repair(&folders, &found).await;
            let after = audit::audit(&folders).await?;
            if json {
                print_json(&json!({"repaired": repaired, "after": after}));
            } else {
                print!("{}", audit::repairs_table(&repaired));
                print_audit(&after, false);
            }
            disagreement(&after)?;
        }
        Command::Recover { room, .. } => {
            let record = host(&config)
                .await?
                .recover(&room, Expected::Either)
                .await?;
            print_json(&json!({
                "room": record.room,
                "path": record.path,
                "provider": record.maker.provider,
                "read": record.read,
                "read_write": record.read_write,
            }));
        }
        Command::Conformance { component, .. } => {
            let admitted = component_bytes(&config, component.as_deref()).await?;
            let report = conformance::run(&config, &admitted.bytes).await?;
            print!("{}", report.table());
            let broken = report.broken();
            if broken > 0 {
                return Err(Failure {
                    code: 1,
                    message: format!("{broken} promise(s) broken; see the table"),
                });
            }
        }
        Command::Serve { config: path } => serve(config, &path).await?,
        Command::Preflight { rate_limit, .. } => {
            let findings = preflight::run(&config, rate_limit).await?;
            print_findings(&config, &findings);
            let problems = findings
                .iter()
                .filter(|f| f.level == preflight::Level::Problem)
                .count();
            if problems > 0 {
                return Err(Failure {
                    code: 1,
                    message: format!("preflight found {problems} problem(s); see above"),
                });
            }
        }
        Command::Check { component, .. } => check(&config, component.as_deref()).await?,
        // Handled before any configuration is read.
        Command::NewProvider { .. }
        | Command::Keygen { .. }
        | Command::Sign { .. }
        | Command::Push { .. } => unreachable!("needs no configuration"),
        Command::Rekey { .. } => {
            let resealed = records(&config)
                .await?
                .rekey()
                .await
                .map_err(HostError::from)?;
            print_json(&json!({"resealed": resealed}));
        }
    }
    Ok(())
}

/// Writes a provider crate from the template; every refusal is a usage error.
fn new_provider(name: &str, dir: &Path) -> Result<(), Failure> {
    let written = new_provider::write(name, dir).map_err(Failure::usage)?;
    print_json(&json!({
        "name": name,
        "dir": dir.display().to_string(),
        "package": written.package,
        "component": dir.join(&written.component).display().to_string(),
    }));
    Ok(())
}

/// The host the configuration describes: its provider component (whose `validate` must
/// accept the settings) and its records.
async fn host(config: &HostConfig) -> Result<SharedFolders, Failure> {
    Ok(host_with_components(config).await?.0)
}

/// [`host`], with where its components come from and the one serving.
async fn host_with_components(
    config: &HostConfig,
) -> Result<(SharedFolders, Arc<Components>, Admitted), Failure> {
    let components = Components::new(config.host.components.clone());
    let admitted = components.initial(&config.shared_folder.provider).await?;
    let records = records(config).await?;
    let runtime = Runtime::new(
        config.shared_folder.clone(),
        &admitted.bytes,
        config.host.runtime_options(),
    )?;
    refuse_invalid(runtime.validate().await?)?;
    // It serves: the copy a restart falls back to while the registry is away.
    components.remember(&admitted);
    Ok((SharedFolders::new(runtime, records), components, admitted))
}

/// The folder records the configuration names, with their keys.
async fn records(config: &HostConfig) -> Result<Records, Failure> {
    let failed = |message: String| Failure { code: 1, message };
    let keys = match &config.host.records_key {
        Some(key) => Some(key.keys().map_err(|e| Failure::usage(e.to_string()))?),
        None => None,
    };
    match (&config.host.database, keys) {
        // An SQLite file without a key named: its own key file beside it.
        (Database::File(path), None) => Records::open(path).map_err(|e| failed(e.to_string())),
        (database, Some(keys)) => Records::open_database(database, keys)
            .await
            .map_err(|e| failed(e.to_string())),
        (Database::Postgres { .. }, None) => Err(Failure::usage(
            "[host].records_key_file: PostgreSQL records need a key",
        )),
    }
}

/// Purges, every `interval`, the creates whose clean-up failed while the storage was away (or
/// whose host died, when hosts share the records), so that none waits for a restart or for its
/// room to be used again; and forgets roles and tickets nobody needs any more.
async fn keep_reconciling(service: Arc<Service>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        match service.folders.reconcile().await {
            Ok(done) => log_reconciled(done, "while serving"),
            Err(error) => tracing::warn!(%error, "unfinished operations could not be looked up"),
        }
        if let Err(error) = service.signaling.forget_stale().await {
            tracing::warn!(%error, "stale roles and tickets could not be forgotten");
        }
    }
}

fn log_reconciled(done: Reconciled, when: &str) {
    if done.lost_creates > 0 {
        tracing::info!(cleaned = done.lost_creates, when, "lost creates cleaned up");
    }
    if done.deletes > 0 {
        tracing::info!(finished = done.deletes, when, "unfinished deletes finished");
    }
}

async fn serve(config: HostConfig, config_path: &Path) -> Result<(), Failure> {
    if config.host.api_tokens.is_empty() {
        return Err(Failure::usage(
            "[host].api_tokens: serve needs at least one token for the controller",
        ));
    }
    // Counted from the start: the provider's validate and the first recovery too.
    if let Err(error) = service::metrics::install() {
        tracing::warn!(%error, "GET /metrics will answer 503");
    }
    let (folders, components, serving) = host_with_components(&config).await?;
    let folders = Arc::new(folders);
    let _reloads = reload::watch(Arc::clone(&folders), config_path, Arc::clone(&components))
        .map_err(|e| Failure::usage(format!("cannot watch for SIGHUP: {e}")))?;
    log_reconciled(folders.reconcile().await?, "left by an earlier run");
    let _watcher = match &config.host.components.plugins {
        Some(folder) => Some(
            components::watch(Arc::clone(&folders), Arc::clone(&components), folder)
                .map_err(Failure::usage)?,
        ),
        None => None,
    };
    // Registry tags are followed whichever provider serves (a reload may switch to one).
    let followed = config
        .host
        .components
        .sources
        .values()
        .any(|source| source.registry.as_ref().is_some_and(|r| !r.is_digest()));
    let _follower = followed.then(|| {
        Follower::start(
            Arc::clone(&folders),
            Arc::clone(&components),
            &serving.origin,
        )
    });
    let listener = tokio::net::TcpListener::bind(config.host.listen)
        .await
        .map_err(|e| {
            Failure::usage(format!(
                "[host].listen: cannot listen on {}: {e}",
                config.host.listen
            ))
        })?;
    let address = listener
        .local_addr()
        .map_err(|e| Failure::usage(e.to_string()))?;
    let service = Arc::new(Service::new(
        folders,
        config.host.api_tokens.clone(),
        config.host.ticket_ttl,
    ));
    // Nobody is let in before room events from the other hosts arrive: a session that joined
    // earlier could miss one.
    if !service
        .folders
        .records()
        .listening(Duration::from_secs(10))
        .await
    {
        tracing::warn!("not listening for other hosts' room events yet; serving anyway");
    }
    let reconciler = tokio::spawn(keep_reconciling(
        Arc::clone(&service),
        config.host.reconcile_interval,
    ));
    let auditor = config
        .host
        .audit_interval
        .map(|every| tokio::spawn(audit::keep_auditing(Arc::clone(&service.folders), every)));
    tracing::info!(%address, "serving");
    // A line on stdout that scripts (and the tests) can wait for.
    println!("listening on http://{address}");
    service::serve(
        listener,
        service,
        shutdown_signal(),
        config.host.shutdown_grace,
    )
    .await
    .map_err(|e| Failure {
        code: 1,
        message: format!("server failed: {e}"),
    })?;
    // A purge cut short here stays pending for the next start.
    reconciler.abort();
    if let Some(auditor) = auditor {
        auditor.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// The component a command tries, admitted as the host would admit it (pin, signature):
/// `--component`, else the one the host starts with.
async fn component_bytes(
    config: &HostConfig,
    component: Option<&Path>,
) -> Result<Admitted, Failure> {
    let components = Components::new(config.host.components.clone());
    admitted(&components, config, component).await
}

/// [`component_bytes`], from `components`.
async fn admitted(
    components: &Components,
    config: &HostConfig,
    component: Option<&Path>,
) -> Result<Admitted, Failure> {
    let provider = &config.shared_folder.provider;
    Ok(match component {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
            components.admit_file(provider, path, bytes)?
        }
        None => components.initial(provider).await?,
    })
}

async fn check(config: &HostConfig, component: Option<&Path>) -> Result<(), Failure> {
    let components = Components::new(config.host.components.clone());
    let admitted = admitted(&components, config, component).await?;
    println!("component: {}", admitted.origin);
    println!("trust: {}", admitted.trust);
    if let Some(pin) = components.source(&config.shared_folder.provider).pin {
        println!("pin: {pin} (the component is that file)");
    }
    let bytes = &admitted.bytes;
    // No compiled component goes into the cache (a registry's component that passes is kept
    // below, as a start keeps it).
    let options = Options {
        cache_dir: None,
        ..config.host.runtime_options()
    };
    let runtime = Runtime::new(config.shared_folder.clone(), bytes, options)?;
    let info = runtime.provider();
    println!(
        "configuration: ok (storage origin {})",
        config.shared_folder.url.origin()
    );
    println!(
        "provider {:?}: {} bytes, sha256:{}",
        info.name,
        bytes.len(),
        info.digest
    );
    println!(
        "contract: shared-folder:provider@{}.x — served by this host (it serves {}); the component fits its world",
        info.contract,
        Contract::served()
    );
    let validation = runtime.validate().await?;
    match &validation {
        Validation::Valid => println!("validate: the provider accepts the settings"),
        Validation::NotOffered => println!(
            "validate: not in contract {} — the provider checks its settings at its first call",
            info.contract
        ),
        Validation::Invalid(problem) => println!(
            "validate: the provider refuses [shared_folder].{}: {}",
            problem.field, problem.reason
        ),
    }
    refuse_invalid(validation)?;
    components.remember(&admitted);
    Ok(())
}

/// A provider's refusal of its settings, as the configuration error it is.
fn refuse_invalid(validation: Validation) -> Result<(), Failure> {
    match validation {
        Validation::Invalid(problem) => Err(shared_folder_host::Error::from(
            shared_folder_host::ConfigError::field(&problem.field, problem.reason),
        )
        .into()),
        Validation::Valid | Validation::NotOffered => Ok(()),
    }
}

fn print_findings(config: &HostConfig, findings: &[preflight::Finding]) {
    println!(
        "preflight of the storage at {} as {:?}:",
        config.shared_folder.url.origin(),
        config.shared_folder.username
    );
    for finding in findings {
        let level = match finding.level {
            preflight::Level::Ok => "ok     ",
            preflight::Level::Warning => "WARNING",
            preflight::Level::Problem => "PROBLEM",
        };
        println!("  {level}  {}", finding.what);
        if let Some(fix) = &finding.fix {
            println!("           fix: {fix}");
        }
    }
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    println!(
        "{} problem(s), {} warning(s)",
        count(preflight::Level::Problem),
        count(preflight::Level::Warning)
    );
}

/// An audit as JSON or as the table.
fn print_audit(audit: &audit::Audit, json: bool) {
    if json {
        print_json(&json!(audit));
    } else {
        print!("{}", audit.table());
    }
}

/// Exit 4 when the records and the storage differ.
fn disagreement(audit: &audit::Audit) -> Result<(), Failure> {
    if audit.agrees() {
        return Ok(());
    }
    Err(Failure {
        code: 4,
        message: format!(
            "the records and the storage differ in {} place(s)",
            audit.findings.len()
        ),
    })
}

fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

/// `keygen`: a new key pair, never over existing files.
fn keygen(secret: &Path, public: &Path) -> Result<(), Failure> {
    let key_id = signing::keygen(secret, public).map_err(Failure::usage)?;
    print_json(&json!({
        "key_id": key_id,
        "secret_key": secret.display().to_string(),
        "public_key": public.display().to_string(),
    }));
    Ok(())
}

/// `sign`: the component signed, embedded (`output`) or detached (`<component>.sig`).
fn sign(
    secret: &Path,
    component: &Path,
    output: Option<&Path>,
    detached: bool,
) -> Result<(), Failure> {
    let bytes = std::fs::read(component)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", component.display())))?;
    let signed = signing::sign(&bytes, &component.display().to_string(), secret, detached)
        .map_err(Failure::usage)?;
    let (written, signature) = match (&signed.signature, output) {
        (Some(signature), _) => {
            let file = components::signature_file(component);
            std::fs::write(&file, signature)
                .map_err(|e| Failure::usage(format!("cannot write {}: {e}", file.display())))?;
            (component.to_owned(), Some(file))
        }
        (None, Some(output)) => {
            std::fs::write(output, &signed.component)
                .map_err(|e| Failure::usage(format!("cannot write {}: {e}", output.display())))?;
            (output.to_owned(), None)
        }
        (None, None) => return Err(Failure::usage("--output or --detached")),
    };
    print_json(&json!({
        "component": written.display().to_string(),
        "signature": signature.map(|f| f.display().to_string()),
        "key_id": signed.key_id,
        "digest": shared_folder_host::runtime::trust::Pin::of(&signed.component).to_string(),
    }));
    Ok(())
}

/// `push`: the component to a registry, as `wkg oci push` lays it out.
fn push(
    component: &Path,
    reference: &str,
    ca_bundle: Option<&Path>,
    credentials_file: Option<&Path>,
) -> Result<(), Failure> {
    let bytes = std::fs::read(component)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", component.display())))?;
    let reference = RegistryReference::parse(reference)
        .map_err(|e| Failure::usage(format!("the reference {e}")))?;
    let credentials = credentials_file
        .map(|file| {
            RegistryCredentials::read(file)
                .map_err(|e| Failure::usage(format!("--credentials-file: {e}")))
        })
        .transpose()?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::usage(format!("cannot start the runtime: {e}")))?;
    let manifest = runtime
        .block_on(async {
            let registry = components::registry::Registry::connect(
                &reference,
                ca_bundle,
                credentials.as_ref(),
                &[],
                u64::MAX,
            )
            .await?;
            registry.push(&reference, &bytes).await
        })
        .map_err(|e| Failure {
            code: 1,
            message: format!("{reference}: {e}"),
        })?;
    let signed = shared_folder_host::runtime::trust::is_signed(&bytes);
    if !signed {
        eprintln!(
            "warning: {} carries no embedded signature: a host with [host].trusted_keys refuses it \
             (sign it first: shared-folder-host sign)",
            component.display()
        );
    }
    print_json(&json!({
        "reference": reference.to_string(),
        "manifest": manifest,
        "digest": shared_folder_host::runtime::trust::Pin::of(&bytes).to_string(),
        "signed": signed,
    }));
    Ok(())
}
