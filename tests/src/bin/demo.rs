//! The shared-folder demo: one meeting room's shared folder, end to end, through the real host
//! running the real NextCloud component.
//!
//! Without `--config` it starts a local NextCloud *stand-in* (a test double on 127.0.0.1, not
//! NextCloud). With `--config FILE` it talks to the NextCloud that file's `[shared_folder]`
//! section names; the same binary, the same component.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use shared_folder_harness::{FIXTURE_PROVIDER, StandIn, TestHost, public_link};
use shared_folder_host::{
    FolderRecord, HostConfig, NEXTCLOUD_PROVIDER, Options, Records, Role, Runtime, SharedFolders,
};

#[derive(Parser)]
#[command(about = "Create, show per role, hot-swap and delete a meeting's shared folder")]
struct Args {
    /// An OpenTalk-style configuration file with a `[shared_folder]` section. Without it, a
    /// local NextCloud stand-in is started and used.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The meeting room whose folder is created and deleted.
    #[arg(long, default_value = "demo-room")]
    room: String,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "error".into())
                // The storage's session cookie is a credential; its jar logs it at debug.
                .add_directive("cookie_store=warn".parse().expect("a valid directive")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let (standin, config, allow_plain_http) = match &args.config {
        Some(path) => {
            // Read as the host binary reads it: the password may come from [host].password_file
            // or password_env, and a plain-http url needs [host].allow_plain_http.
            let file = HostConfig::load(path).map_err(|e| e.to_string())?;
            println!(
                "Storage: the NextCloud at {} (from {})",
                file.shared_folder.url,
                path.display()
            );
            (None, file.shared_folder, file.host.allow_plain_http)
        }
        None => {
            let standin = StandIn::start(shared_folder_harness::Options::default())
                .await
                .map_err(|e| format!("cannot start the stand-in: {e}"))?;
            println!("Storage: a LOCAL NEXTCLOUD STAND-IN at {}", standin.url());
            println!("         (a test double that answers like NextCloud 32; not NextCloud.");
            println!("          Point this demo at a real NextCloud with --config FILE.)");
            let config = TestHost::on(&standin)
                .line("expiry = 7")
                .try_config()
                .map_err(|e| e.to_string())?;
            // The stand-in on loopback speaks plain http.
            (Some(standin), config, true)
        }
    };

    step(1, "Load the NextCloud provider component into the host");
    let options = Options {
        allow_plain_http,
        ..Options::default()
    };
    let runtime = Runtime::new(config, NEXTCLOUD_PROVIDER, options).map_err(|e| e.to_string())?;
    let records = Records::in_memory().map_err(|e| e.to_string())?;
    let host = SharedFolders::new(runtime, records);
    let provider = host.runtime().provider();
    println!(
        "   provider {:?}, {} bytes, sha256 {}…",
        provider.name,
        NEXTCLOUD_PROVIDER.len(),
        &provider.digest[..16]
    );

    step(
        2,
        &format!("Create the shared folder of room {:?}", args.room),
    );
    // A create that fails leaves nothing behind (the contract's all-or-nothing, and the host
    // purges what a storage failure left). Once it succeeded, whatever fails later, the demo
    // deletes what it made before it gives up.
    let record = host
        .create(&args.room)
        .await
        .map_err(|e| e.to_string())?
        .record;
    if let Err(message) = walk_through(&host, &args, standin.as_ref(), &record).await {
        eprintln!("error: {message}");
        clean_up(&host, &args.room).await;
        return Err("the demo stopped early".into());
    }
    println!("\nDone.");
    Ok(())
}

/// Steps 2 (the rest) to 7, on the folder `record` of `args.room`.
async fn walk_through(
    host: &SharedFolders,
    args: &Args,
    standin: Option<&StandIn>,
    record: &FolderRecord,
) -> Result<(), String> {
    println!("   folder      {}", record.path);
    println!(
        "   made by     {} (contract {}, sha256 {}…)",
        record.maker.provider,
        record.maker.contract,
        record.maker.digest.get(..16).unwrap_or_default()
    );
    println!("   read-only   {}", record.read.url);
    println!("   read-write  {}", record.read_write.url);
    if let Some(standin) = standin {
        let shares = standin.shares_on(&record.path);
        let permissions: Vec<u32> = shares.iter().map(|s| s.permissions).collect();
        println!(
            "   on the stand-in: folder exists = {}, {} shares with permissions {:?}",
            standin.folder_exists(&record.path),
            shares.len(),
            permissions
        );
    }

    step(3, "What each role sees (OpenTalk's SharedFolder JSON)");
    show("moderator  ", &host.access(&args.room, Role::Moderator));
    show("participant", &host.access(&args.room, Role::Participant));

    step(4, "Use the links as participants would");
    use_links(record).await;

    step(
        5,
        "A participant is made moderator, then the right is revoked",
    );
    show(
        "granted: update",
        &host
            .role_changed(&args.room, Role::Participant, Role::Moderator)
            .map(|u| u.expect("a grant changes the view")),
    );
    show(
        "revoked: update",
        &host
            .role_changed(&args.room, Role::Moderator, Role::Participant)
            .map(|u| u.expect("a revoke changes the view")),
    );

    step(6, "Hot swap: replace the provider while the host runs");
    let swapped = host
        .runtime()
        .swap_provider("fixture", FIXTURE_PROVIDER)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "   now serving {:?} (sha256 {}…), no restart, no rebuild",
        swapped.name,
        &swapped.digest[..16]
    );
    let other_room = format!("{}-on-fixture", args.room);
    let other = host.create(&other_room).await;
    let other = match other {
        Ok(other) => other.record,
        Err(error) => {
            // Back to the provider that made the room's folder, for the clean-up.
            let _ = host
                .runtime()
                .swap_provider("nextcloud", NEXTCLOUD_PROVIDER)
                .await;
            return Err(error.to_string());
        }
    };
    println!(
        "   room {other_room:?} created by {:?}: {}",
        other.maker.provider, other.path
    );
    let deleted = host.delete(&other_room, false).await;
    let refused = host
        .runtime()
        .swap_provider("broken", b"not a component")
        .await;
    println!(
        "   a broken component is refused: {}",
        refused.err().map_or("?".to_owned(), |e| e.to_string())
    );
    let back = host
        .runtime()
        .swap_provider("nextcloud", NEXTCLOUD_PROVIDER)
        .await
        .map_err(|e| e.to_string())?;
    deleted.map_err(|e| e.to_string())?;
    println!("   back to {:?} (compiled once, reused)", back.name);

    step(
        7,
        &format!("Delete the shared folder of room {:?}", args.room),
    );
    host.delete(&args.room, false)
        .await
        .map_err(|e| e.to_string())?;
    println!("   both shares, then the folder with its files deleted: two round trips");
    if let Some(standin) = standin {
        println!(
            "   on the stand-in: folder exists = {}, shares left = {}",
            standin.folder_exists(&record.path),
            standin.storage().shares.len()
        );
    }
    println!(
        "   host still has a record: {}",
        matches!(host.folder(&args.room), Ok(Some(_)))
    );
    Ok(())
}

/// Deletes the room's folder after a failed step, and says how that went.
async fn clean_up(host: &SharedFolders, room: &str) {
    match host.delete(room, false).await {
        Ok(_) => eprintln!("cleaned up: the folder of room {room:?} and its links were deleted"),
        Err(error) => eprintln!(
            "could NOT clean up: the folder of room {room:?} may be left on the storage: {error}"
        ),
    }
}

fn step(n: u32, title: &str) {
    println!("\n{n}. {title}");
}

fn show<E: std::fmt::Display>(label: &str, view: &Result<shared_folder_host::Access, E>) {
    match view {
        Ok(view) => println!(
            "   {label}: {}",
            serde_json::to_string(view).unwrap_or_else(|e| e.to_string())
        ),
        Err(e) => println!("   {label}: error: {e}"),
    }
}

async fn use_links(record: &FolderRecord) {
    if !record.read.url.starts_with("http://") {
        // This demo's small client speaks plain HTTP only.
        println!("   skipped for an https server; try it by hand:");
        println!(
            "   curl -u anonymous:<password> -T agenda.txt <base>/public.php/dav/files/<token>/agenda.txt"
        );
        return;
    }
    let rw = &record.read_write;
    let ro = &record.read;
    let attempts = [
        (
            "read-write link: upload agenda.txt",
            rw,
            "PUT",
            "agenda.txt",
            &b"1. Shared folders\n"[..],
        ),
        (
            "read-only link:  read agenda.txt  ",
            ro,
            "GET",
            "agenda.txt",
            &b""[..],
        ),
        (
            "read-only link:  upload notes.txt ",
            ro,
            "PUT",
            "notes.txt",
            &b"x"[..],
        ),
    ];
    for (label, link, method, file, body) in attempts {
        match public_link::request(&link.url, link.password.expose(), method, file, body).await {
            Ok((status, _)) => println!("   {label} -> HTTP {status}{}", meaning(status)),
            Err(e) => println!("   {label} -> failed: {e}"),
        }
    }
}

fn meaning(status: u16) -> &'static str {
    match status {
        200 => " (read)",
        201 | 204 => " (written)",
        403 => " (refused: read-only)",
        401 => " (wrong password)",
        _ => "",
    }
}
