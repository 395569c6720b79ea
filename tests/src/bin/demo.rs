//! The shared-folder demo: one meeting room's shared folder, end to end, through the real host
//! running a real provider component (NextCloud's, or OpenCloud's with `--provider opencloud`).
//!
//! Without `--config` it starts a local *stand-in* of that storage (a test double on
//! 127.0.0.1, not the storage system). With `--config FILE` it talks to the storage that file's
//! `[shared_folder]` section names; the same binary, the same components.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use shared_folder_harness::stand_ins::{AnyStandIn, Kind};
use shared_folder_harness::{FIXTURE_PROVIDER, public_link};
use shared_folder_host::components;
use shared_folder_host::public_links::PublicDav;
use shared_folder_host::{
    FolderRecord, HostConfig, Options, Records, Role, Runtime, ShareLink, SharedFolders,
};

#[derive(Parser)]
#[command(
    about = "Create, show per role, hot-swap, switch storage and delete a meeting's shared folder"
)]
struct Args {
    /// An OpenTalk-style configuration file with a `[shared_folder]` section. Without it, a
    /// local stand-in of the provider's storage is started and used.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The provider to run against its stand-in: `nextcloud`, `owncloud` (the NextCloud
    /// component on the stand-in answering as ownCloud 10) or `opencloud` (with `--config`, the
    /// file's `provider` is used).
    #[arg(long, value_parser = ["nextcloud", "owncloud", "opencloud"])]
    provider: Option<String>,
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

fn kind_of(provider: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.provider() == provider)
}

async fn run(args: Args) -> Result<(), String> {
    let (standin, config, allow_plain_http) = match &args.config {
        Some(path) => {
            // Read as the host binary reads it: the password may come from [host].password_file
            // or password_env, and a plain-http url needs [host].allow_plain_http.
            let file = HostConfig::load(path).map_err(|e| e.to_string())?;
            if let Some(provider) = args
                .provider
                .as_ref()
                .filter(|p| **p != file.shared_folder.provider)
            {
                return Err(format!(
                    "--provider {provider} but {} says provider = {:?}",
                    path.display(),
                    file.shared_folder.provider
                ));
            }
            println!(
                "Storage: the {} at {} (from {})",
                file.shared_folder.provider,
                file.shared_folder.url,
                path.display()
            );
            (None, file.shared_folder, file.host.allow_plain_http)
        }
        None => {
            let kind = kind_of(args.provider.as_deref().unwrap_or("nextcloud"))
                .ok_or("unknown provider")?;
            let standin = AnyStandIn::start(kind).await;
            let name = match kind {
                Kind::NextCloud => "NEXTCLOUD",
                Kind::OwnCloud => "OWNCLOUD",
                Kind::OpenCloud => "OPENCLOUD",
            };
            println!("Storage: a LOCAL {name} STAND-IN at {}", standin.url());
            println!("         (a test double that answers as the storage's documented behaviour");
            println!("          says; not the storage system. Point this demo at a real one with");
            println!("          --config FILE.)");
            let config = standin
                .host()
                .line("expiry = 7")
                .try_config()
                .map_err(|e| e.to_string())?;
            // The stand-in on loopback speaks plain http.
            (Some(standin), config, true)
        }
    };
    let component = components::built_in(&config.provider)
        .ok_or_else(|| format!("no built-in provider {:?}", config.provider))?;

    step(
        1,
        &format!(
            "Load the {} provider component into the host",
            config.provider
        ),
    );
    let options = Options {
        allow_plain_http,
        ..Options::default()
    };
    let runtime = Runtime::new(config, component, options).map_err(|e| e.to_string())?;
    let records = Records::in_memory().map_err(|e| e.to_string())?;
    let host = SharedFolders::new(runtime, records);
    let provider = host.runtime().provider();
    println!(
        "   provider {:?}, contract {}, {} bytes, sha256 {}…",
        provider.name,
        provider.contract,
        component.len(),
        &provider.digest[..16]
    );
    println!(
        "   validate: {:?}",
        host.runtime().validate().await.map_err(|e| e.to_string())?
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
    standin: Option<&AnyStandIn>,
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
        let links = standin.links_on(&record.path);
        println!(
            "   on the stand-in: folder exists = {}, {} links, writable: {:?}",
            standin.folder_exists(&record.path),
            links.len(),
            links.iter().map(|l| l.writable).collect::<Vec<_>>()
        );
    }

    step(3, "What each role sees (OpenTalk's SharedFolder JSON)");
    show(
        "moderator  ",
        &host.access(&args.room, Role::Moderator).await,
    );
    show(
        "participant",
        &host.access(&args.room, Role::Participant).await,
    );

    step(4, "Use the links as participants would");
    use_links(standin, record).await;

    step(
        5,
        "A participant is made moderator, then the right is revoked",
    );
    show(
        "granted: update",
        &host
            .role_changed(&args.room, Role::Participant, Role::Moderator)
            .await
            .map(|u| u.expect("a grant changes the view")),
    );
    show(
        "revoked: update",
        &host
            .role_changed(&args.room, Role::Moderator, Role::Participant)
            .await
            .map(|u| u.expect("a revoke changes the view")),
    );

    step(6, "Hot swap: replace the provider while the host runs");
    let first = host.runtime().config();
    let first_component = components::built_in(&first.provider).unwrap_or_default();
    let swapped = host
        .runtime()
        .swap_provider("fixture", FIXTURE_PROVIDER)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "   now serving {:?} (contract {}, sha256 {}…), no restart, no rebuild",
        swapped.name,
        swapped.contract,
        &swapped.digest[..16]
    );
    let other_room = format!("{}-on-fixture", args.room);
    let other = host
        .create(&other_room)
        .await
        .map_err(|e| e.to_string())?
        .record;
    println!(
        "   room {other_room:?} created by {:?}: {}",
        other.maker.provider, other.path
    );
    host.delete(&other_room, false)
        .await
        .map_err(|e| e.to_string())?;
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
        .swap_provider(&first.provider, first_component)
        .await
        .map_err(|e| e.to_string())?;
    println!("   back to {:?} (compiled once, reused)", back.name);

    if let Some(standin) = standin {
        let other_kind = match standin.kind() {
            Kind::NextCloud | Kind::OwnCloud => Kind::OpenCloud,
            Kind::OpenCloud => Kind::NextCloud,
        };
        step(
            7,
            &format!(
                "Switch storage while serving: {} → {}",
                standin.kind().provider(),
                other_kind.provider()
            ),
        );
        let second = AnyStandIn::start(other_kind).await;
        let config = second.host().try_config().map_err(|e| e.to_string())?;
        let component = components::built_in(other_kind.provider()).unwrap_or_default();
        let switched = host
            .runtime()
            .reconfigure(config, component)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "   new rooms now go to {:?} at {} (a config reload does this in `serve`)",
            switched.name,
            second.url()
        );
        let new_room = format!("{}-on-{}", args.room, other_kind.provider());
        let made = host
            .create(&new_room)
            .await
            .map_err(|e| e.to_string())?
            .record;
        println!(
            "   room {new_room:?} made by {:?} on the second stand-in: folder exists = {}",
            made.maker.provider,
            second.folder_exists(&made.path)
        );
        println!(
            "   room {:?} stays on the first: folder exists = {}",
            args.room,
            standin.folder_exists(&record.path)
        );
        host.delete(&new_room, false)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "   room {new_room:?} deleted: folder exists = {}, links left = {}",
            second.folder_exists(&made.path),
            second.link_count()
        );
    } else {
        step(7, "Switch storage while serving: skipped");
        println!("   it needs a second storage; `shared-folder-host serve` switches on SIGHUP or");
        println!("   when the configuration file's [shared_folder] changes");
    }

    step(
        8,
        &format!("Delete the shared folder of room {:?}", args.room),
    );
    host.delete(&args.room, false)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "   by the provider and settings that made it ({}): both links, then the folder with its files",
        record.maker.provider
    );
    if let Some(standin) = standin {
        println!(
            "   on the stand-in: folder exists = {}, links left = {}",
            standin.folder_exists(&record.path),
            standin.link_count()
        );
    }
    println!(
        "   host still has a record: {}",
        matches!(host.folder(&args.room).await, Ok(Some(_)))
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

async fn use_links(standin: Option<&AnyStandIn>, record: &FolderRecord) {
    if !record.read.url.starts_with("http://") {
        // This demo's small client speaks plain HTTP only.
        println!(
            "   skipped for an https server; open the links in a browser with their passwords"
        );
        return;
    }
    let (rw, ro) = (&record.read_write, &record.read);
    let attempts: [(&str, &ShareLink, &str, &str, &[u8]); 3] = [
        (
            "read-write link: upload agenda.txt",
            rw,
            "PUT",
            "agenda.txt",
            b"1. Shared folders\n",
        ),
        (
            "read-only link:  read agenda.txt  ",
            ro,
            "GET",
            "agenda.txt",
            b"",
        ),
        (
            "read-only link:  upload notes.txt ",
            ro,
            "PUT",
            "notes.txt",
            b"x",
        ),
    ];
    for (label, link, method, file, body) in attempts {
        let status = match (standin, PublicDav::of_provider(&record.maker.provider)) {
            (Some(standin), _) => standin.use_link(link, method, file, body).await,
            (None, Some(dav)) => {
                public_link::request(dav, &link.url, link.password.expose(), method, file, body)
                    .await
                    .map(|(status, _)| status)
            }
            (None, None) => {
                println!(
                    "   {label} -> not tried: the demo does not know how {:?}'s links open",
                    record.maker.provider
                );
                continue;
            }
        };
        match status {
            Ok(status) => println!("   {label} -> HTTP {status}{}", meaning(status)),
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
