//! `conformance` (binary only): the contract's promises tried on a provider component against
//! the configured storage, each a row of a table.
//!
//! Every room it makes is named `conformance-<run>-<what>`, and every one is deleted or purged
//! again. The checks need nothing of the storage but the provider; where the host knows how the
//! storage's links are opened (NextCloud, ownCloud, OpenCloud: `public_links`), the links are
//! also used as participants would use them. Faults come from the host's own outbound layer
//! (`runtime::faults`): the request of each number in turn loses its answer, is answered 500,
//! or has its connection reset — no proxy between host and storage.

mod faults;
mod recovery;
mod storage;

use std::sync::Arc;
use std::time::Instant;

use shared_folder_host::public_links::PublicDav;
use shared_folder_host::runtime::faults::FaultPlan;
use shared_folder_host::runtime::{
    Credentials, FolderRecord, Role, Secret, SettingValue, TokenSource, Validation, roles,
};
use shared_folder_host::{ErrorKind, HostConfig, Options, Runtime};

use crate::participant::{self, Participant};
use storage::StorageView;

/// One promise and how the provider kept it.
pub struct Row {
    pub promise: String,
    pub outcome: Outcome,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Kept,
    Broken,
    /// Not tried here, and why is in the detail.
    Skipped,
}

/// What a run found.
pub struct Report {
    pub provider: String,
    pub origin: String,
    pub run: String,
    pub rows: Vec<Row>,
}

impl Report {
    pub fn broken(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.outcome == Outcome::Broken)
            .count()
    }

    /// The table, in Markdown.
    pub fn table(&self) -> String {
        let mut out = format!(
            "conformance of provider {:?} against {} (rooms conformance-{}-*)\n\n\
             | promise | result | detail |\n|---|---|---|\n",
            self.provider, self.origin, self.run
        );
        for row in &self.rows {
            let result = match row.outcome {
                Outcome::Kept => "✓",
                Outcome::Broken => "✗ BROKEN",
                Outcome::Skipped => "– skipped",
            };
            out.push_str(&format!(
                "| {} | {result} | {} |\n",
                row.promise,
                row.detail.replace('|', "\\|").replace('\n', " ")
            ));
        }
        let count = |outcome| self.rows.iter().filter(|r| r.outcome == outcome).count();
        out.push_str(&format!(
            "\n{} kept, {} broken, {} skipped\n",
            count(Outcome::Kept),
            count(Outcome::Broken),
            count(Outcome::Skipped)
        ));
        out
    }
}

/// What the checks share: the runtime (with the fault plan in its outbound layer), the
/// participant's client where the link protocol is known, and the rows so far.
struct Run {
    runtime: Runtime,
    plan: Arc<FaultPlan>,
    participant: Option<Participant>,
    /// The storage as the host reads it, where it knows how.
    storage: Option<StorageView>,
    id: String,
    /// Every room the run named.
    rooms: std::sync::Mutex<Vec<String>>,
    rows: Vec<Row>,
}

impl Run {
    /// The run's room for `what`, remembered for the sweep after a broken promise.
    fn room(&self, what: &str) -> String {
        let room = format!("conformance-{}-{what}", self.id);
        let mut rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        if !rooms.contains(&room) {
            rooms.push(room.clone());
        }
        room
    }

    /// After a broken promise, rooms of the run may hold what the failed check left: each is
    /// purged, and a row says how that went. (When every promise is kept, each room was seen
    /// empty at the end of its check.)
    async fn sweep(&mut self) {
        if !self.rows.iter().any(|r| r.outcome == Outcome::Broken) {
            return;
        }
        let rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let maker = self.runtime.serving().maker();
        let mut failed = Vec::new();
        for room in &rooms {
            if let Err(error) = self.runtime.purge(room, &maker).await {
                failed.push(format!("{room}: {error}"));
            }
        }
        if failed.is_empty() {
            self.row(
                "clean-up after the broken promises",
                Outcome::Kept,
                format!("the run's {} rooms purged", rooms.len()),
            );
        } else {
            self.row(
                "clean-up after the broken promises",
                Outcome::Broken,
                format!("left on the storage: {}", failed.join("; ")),
            );
        }
    }

    fn row(&mut self, promise: impl Into<String>, outcome: Outcome, detail: impl Into<String>) {
        let promise = promise.into();
        let detail = detail.into();
        let mark = match outcome {
            Outcome::Kept => "ok",
            Outcome::Broken => "BROKEN",
            Outcome::Skipped => "skipped",
        };
        eprintln!("conformance: {mark:<7} {promise}");
        self.rows.push(Row {
            promise,
            outcome,
            detail,
        });
    }

    fn check(&mut self, promise: &str, result: Result<String, String>) -> bool {
        let kept = result.is_ok();
        match result {
            Ok(detail) => self.row(promise, Outcome::Kept, detail),
            Err(detail) => self.row(promise, Outcome::Broken, detail),
        }
        kept
    }

    /// Creates `room` as the host does: a failure that may have left work is purged.
    async fn create(&self, room: &str) -> Result<FolderRecord, String> {
        let maker = self.runtime.serving().maker();
        match self.runtime.create(room).await {
            Ok(record) => Ok(record),
            Err(error) => {
                let mut message = format!("{} ({})", error, error.kind());
                if error.kind().may_have_left_work()
                    && let Err(purge) = self.runtime.purge(room, &maker).await
                {
                    message.push_str(&format!("; the purge after it failed too: {purge}"));
                }
                Err(message)
            }
        }
    }

    /// Creates `room` and deletes it again: that it can be created shows nothing of an earlier
    /// create of it is left (a leftover folder answers "exists").
    async fn nothing_left(&self, room: &str) -> Result<(), String> {
        let record = self.create(room).await.map_err(|error| {
            format!("the room cannot be created again, so something was left behind: {error}")
        })?;
        self.runtime
            .delete(&record)
            .await
            .map_err(|error| format!("created again, but not deleted: {error}"))
    }

    /// Both links of `record` dead (no link outlives its folder).
    async fn links_dead(&self, record: &FolderRecord) -> Result<(), String> {
        let Some(participant) = &self.participant else {
            return Ok(());
        };
        for (which, link) in [
            ("read-only", &record.read),
            ("read-write", &record.read_write),
        ] {
            if participant.opens(link).await? {
                return Err(format!("the {which} link {} still opens", link.url));
            }
        }
        Ok(())
    }
}

/// Runs every check. `component`: the provider's bytes.
pub async fn run(
    config: &HostConfig,
    component: &[u8],
) -> Result<Report, shared_folder_host::HostError> {
    let shared = &config.shared_folder;
    let plan = Arc::new(FaultPlan::new());
    let options = Options {
        // Nothing but the storage is written to.
        cache_dir: None,
        outbound_faults: Some(Arc::clone(&plan)),
        ..config.host.runtime_options()
    };
    let connections = options.connections.clone();
    let runtime = Runtime::new(shared.clone(), component, options.clone())?;
    let participant = match PublicDav::of_provider(&shared.provider) {
        Some(dav) => Some(
            Participant::new(dav, &connections)
                .map_err(|e| shared_folder_host::ConfigError::field("ca_bundle", e))?,
        ),
        None => None,
    };
    let storage = match storage::Kind::of_provider(&shared.provider) {
        Some(kind) => Some(StorageView {
            kind,
            probe: crate::probe::Probe::new(config)?,
        }),
        None => None,
    };
    let mut run = Run {
        runtime,
        plan,
        participant,
        storage,
        id: run_id(),
        rooms: std::sync::Mutex::default(),
        rows: Vec::new(),
    };
    let started = Instant::now();

    let validation = run.runtime.validate().await?;
    match validation {
        Validation::Valid => run.row(
            "validate accepts the settings",
            Outcome::Kept,
            "no request sent",
        ),
        Validation::NotOffered => run.row(
            "validate accepts the settings",
            Outcome::Skipped,
            "the component's contract has no validate",
        ),
        Validation::Invalid(problem) => {
            run.row(
                "validate accepts the settings",
                Outcome::Broken,
                format!("{}: {}", problem.field, problem.reason),
            );
            return Ok(report(config, run));
        }
    }

    let room = run.room("main");
    let record = match run.create(&room).await {
        Ok(record) => {
            run.row(
                "create: a folder and two links",
                Outcome::Kept,
                format!(
                    "{} (two links, two passwords; the host checked the answer)",
                    record.path
                ),
            );
            record
        }
        Err(error) => {
            run.row("create: a folder and two links", Outcome::Broken, error);
            run.row(
                "everything after create",
                Outcome::Skipped,
                "each later check needs a folder the provider made",
            );
            run.sweep().await;
            return Ok(report(config, run));
        }
    };
    let roles = views(&record);
    run.check("each role's view", roles);
    let kept_file = links(&mut run, &record).await;
    expiry(&mut run, config, &record).await;
    // From here on the links open with the passwords `recover` gave them.
    let record = recovery::recovery(&mut run, record, kept_file).await;

    let again = run.runtime.create(&room).await;
    let refused = match again {
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Ok(format!("refused: {error}")),
        Err(error) => Err(format!(
            "refused, but not as already-exists ({}): {error}",
            error.kind()
        )),
        Ok(other) => Err(format!(
            "created over a folder it did not make ({}): it would delete someone else's folder",
            other.path
        )),
    };
    let refused_ok = run.check(
        "a folder it did not make: refused as already-exists",
        refused,
    );
    if refused_ok {
        let left_alone = left_alone(&run, &record, kept_file).await;
        run.check("… and left alone", left_alone);
    }

    let deleted = run.runtime.delete(&record).await.map_err(|e| e.to_string());
    let deleted = match deleted {
        Ok(()) => run.links_dead(&record).await.map(|()| {
            if run.participant.is_some() {
                "both links dead afterwards".to_owned()
            } else {
                "deleted".to_owned()
            }
        }),
        Err(error) => Err(error),
    };
    run.check("delete (both links dead afterwards)", deleted);
    let twice = run
        .runtime
        .delete(&record)
        .await
        .map(|()| "a second delete succeeds".to_owned())
        .map_err(|e| format!("a second delete failed: {e}"));
    run.check("delete again", twice);
    let gone = run
        .nothing_left(&room)
        .await
        .map(|()| "the room could be created (and deleted) again".to_owned());
    run.check("nothing left after delete", gone);

    let purged = purge_after_create(&run).await;
    run.check("purge after a create (no handle)", purged);
    let room = run.room("never");
    let maker = run.runtime.serving().maker();
    let nothing = run
        .runtime
        .purge(&room, &maker)
        .await
        .map(|()| "succeeds".to_owned())
        .map_err(|e| e.to_string());
    run.check("purge with nothing there", nothing);

    let refused = wrong_credentials(&run, config, component).await;
    run.check("wrong credentials: unauthorized, nothing made", refused);

    faults::create_under_faults(&mut run).await;
    faults::delete_under_faults(&mut run).await;
    leftovers(&mut run, config).await;
    run.sweep().await;

    let took = started.elapsed();
    eprintln!("conformance: done in {:.1} s", took.as_secs_f64());
    Ok(report(config, run))
}

fn report(config: &HostConfig, run: Run) -> Report {
    Report {
        provider: config.shared_folder.provider.clone(),
        origin: config.shared_folder.url.origin().to_string(),
        run: run.id,
        rows: run.rows,
    }
}

/// A moderator sees both links; a participant the read-only one, and nothing of the other.
fn views(record: &FolderRecord) -> Result<String, String> {
    let moderator = roles::access(record, Role::Moderator);
    let participant = roles::access(record, Role::Participant);
    let read_write = moderator
        .read_write
        .as_ref()
        .ok_or("the moderator's view has no read-write link")?;
    if read_write.url != record.read_write.url || moderator.read.url != record.read.url {
        return Err("the moderator's view holds other links than the folder's".into());
    }
    let shown = serde_json::json!({
        "read": {"url": participant.read.url, "password": participant.read.password.expose()},
        "read_write": participant.read_write.as_ref().map(|l| l.url.clone()),
    })
    .to_string();
    if participant.read_write.is_some()
        || shown.contains(&record.read_write.url)
        || (!record.read_write.password.expose().is_empty()
            && shown.contains(record.read_write.password.expose()))
    {
        return Err("a participant's view shows the read-write link or its password".into());
    }
    Ok("moderator: both links; participant: the read-only link only".into())
}

/// The links used as participants would. Returns the file left in the folder (for "left
/// alone"), when there is one.
async fn links(run: &mut Run, record: &FolderRecord) -> Option<&'static str> {
    let Some(participant) = &run.participant else {
        let provider = run.runtime.provider().name;
        run.row(
            "the links, used as participants would",
            Outcome::Skipped,
            format!(
                "the host does not know how {provider}'s links are opened; try them by hand \
                 (upload through the read-write link, read and be refused an upload through \
                 the read-only one)"
            ),
        );
        return None;
    };
    const FILE: &str = "conformance.txt";
    const TEXT: &str = "written through the read-write link";
    let rw = &record.read_write;
    let ro = &record.read;
    let status = |answer: Result<participant::Answer, String>| answer.map(|a| a.status.as_u16());
    let upload = status(
        participant
            .send(rw, rw.password.expose(), "PUT", FILE, TEXT)
            .await,
    );
    let replace = status(
        participant
            .send(rw, rw.password.expose(), "PUT", FILE, TEXT)
            .await,
    );
    let read = participant
        .send(ro, ro.password.expose(), "GET", FILE, "")
        .await
        .map(|a| (a.status.as_u16(), a.body == TEXT.as_bytes()));
    let ro_upload = status(
        participant
            .send(ro, ro.password.expose(), "PUT", "refused.txt", "no")
            .await,
    );
    let wrong = status(
        participant
            .send(ro, rw.password.expose(), "PROPFIND", "", "")
            .await,
    );
    let scratch = status(
        participant
            .send(rw, rw.password.expose(), "PUT", "scratch.txt", "x")
            .await,
    );
    let delete = status(
        participant
            .send(rw, rw.password.expose(), "DELETE", "scratch.txt", "")
            .await,
    );

    let expect = |what: Result<u16, String>, ok: &[u16], name: &str| match what {
        Ok(status) if ok.contains(&status) => Ok(format!("{name}: {status}")),
        Ok(status) => Err(format!("{name}: answered {status}")),
        Err(error) => Err(format!("{name}: {error}")),
    };
    let results = [
        (
            "read-write link uploads and replaces a file",
            expect(upload, &[201, 204], "upload").and_then(|a| {
                expect(replace.clone(), &[201, 204], "replace").map(|b| format!("{a}, {b}"))
            }),
        ),
        (
            "read-write link deletes a file",
            expect(scratch, &[201, 204], "upload").and_then(|a| {
                expect(delete.clone(), &[204], "delete").map(|b| format!("{a}, {b}"))
            }),
        ),
        (
            "read-only link reads",
            match read {
                Ok((200, true)) => Ok("the file, as written".to_owned()),
                Ok((200, false)) => Err("answered 200 with other content".to_owned()),
                Ok((status, _)) => Err(format!("answered {status}")),
                Err(error) => Err(error),
            },
        ),
        (
            "read-only link refuses an upload",
            expect(ro_upload, &[401, 403], "upload"),
        ),
        (
            "a link refuses the other link's password",
            expect(
                wrong,
                &[401, 403],
                "read-only link with the read-write password",
            ),
        ),
    ];
    let mut uploaded = false;
    for (index, (promise, result)) in results.into_iter().enumerate() {
        uploaded |= index == 0 && result.is_ok();
        run.check(promise, result);
    }
    uploaded.then_some(FILE)
}

/// The links expire when `expiry` says, or never when it is not set.
async fn expiry(run: &mut Run, config: &HostConfig, record: &FolderRecord) {
    let days = match config.shared_folder.setting("expiry") {
        Some(SettingValue::Integer(days)) => Some(*days),
        _ => None,
    };
    let promise = match days {
        Some(days) => format!("both links expire in {days} days (expiry)"),
        None => "no expiry on the links (no expiry set)".to_owned(),
    };
    let Some(storage) = &run.storage else {
        let provider = run.runtime.provider().name;
        run.row(
            promise,
            Outcome::Skipped,
            format!(
                "the host does not know how to read {provider}'s links; look at them on the storage"
            ),
        );
        return;
    };
    let found = storage.expiries(record).await;
    let result = found.and_then(|found| {
        let shown = format!("read-only: {:?}, read-write: {:?}", found[0], found[1]);
        let kept = match days {
            // The storage keeps a date; which day "in N days" is depends on its time zone.
            Some(days) => found.iter().all(|date| {
                date.as_deref().is_some_and(|date| {
                    (days.saturating_sub(1)..=days.saturating_add(1))
                        .any(|d| storage::date_in(d) == date)
                })
            }),
            None => found.iter().all(Option::is_none),
        };
        if kept { Ok(shown) } else { Err(shown) }
    });
    run.check(&promise, result);
}

/// Nothing of the run under `directory` (and, on NextCloud and ownCloud, no link of it).
async fn leftovers(run: &mut Run, config: &HostConfig) {
    let promise = "nothing left at the end";
    let Some(storage) = &run.storage else {
        run.row(
            promise,
            Outcome::Skipped,
            "each room was created again after its checks, so no folder was left; the host \
             cannot list this storage's links",
        );
        return;
    };
    let directory = config.shared_folder.text_setting("directory").unwrap_or("");
    let prefix = format!("conformance-{}-", run.id);
    let result = match storage.leftovers(directory, &prefix).await {
        Ok(left) if left.is_empty() => Ok(format!(
            "no folder{} named {prefix}* under {directory:?}",
            if storage.kind == storage::Kind::NextCloudLike {
                " or link"
            } else {
                ""
            }
        )),
        Ok(left) => Err(left.join(", ")),
        Err(error) => Err(format!("could not look: {error}")),
    };
    run.check(promise, result);
}

/// After the refused create, the folder and its links are as they were.
async fn left_alone(
    run: &Run,
    record: &FolderRecord,
    kept_file: Option<&'static str>,
) -> Result<String, String> {
    let Some(participant) = &run.participant else {
        return Ok("(the storage's links are not known to the host: not looked at)".into());
    };
    for (which, link) in [
        ("read-only", &record.read),
        ("read-write", &record.read_write),
    ] {
        if !participant.opens(link).await? {
            return Err(format!("the {which} link no longer opens"));
        }
    }
    if let Some(file) = kept_file {
        let answer = participant
            .send(&record.read, record.read.password.expose(), "GET", file, "")
            .await?;
        if answer.status.as_u16() != 200 {
            return Err(format!("the file in it answers {}", answer.status));
        }
        return Ok("both links open; the file in it is still there".into());
    }
    Ok("both links open".into())
}

/// A create whose record was lost: purged by the room id alone.
async fn purge_after_create(run: &Run) -> Result<String, String> {
    let room = run.room("purge");
    let record = run.create(&room).await?;
    run.runtime
        .purge(&room, &record.maker)
        .await
        .map_err(|e| format!("purge failed: {e}"))?;
    run.links_dead(&record).await?;
    run.nothing_left(&room).await?;
    Ok("links and folder gone; the room could be created again".into())
}

/// The same settings with credentials the storage must refuse.
async fn wrong_credentials(
    run: &Run,
    config: &HostConfig,
    component: &[u8],
) -> Result<String, String> {
    let mut shared = config.shared_folder.clone();
    let wrong = "conformance-wrong-password";
    shared.credentials = match &shared.credentials {
        Credentials::Basic { username, .. } => Credentials::Basic {
            username: username.clone(),
            password: Secret::new(wrong),
        },
        Credentials::Bearer(_) => Credentials::Bearer(TokenSource::Env {
            name: "CONFORMANCE_WRONG_TOKEN".into(),
            token: Secret::new(wrong),
        }),
    };
    let options = Options {
        cache_dir: None,
        ..config.host.runtime_options()
    };
    let other = Runtime::new(shared, component, options).map_err(|e| e.to_string())?;
    let room = run.room("credentials");
    match other.create(&room).await {
        Ok(record) => {
            let _ = other.delete(&record).await;
            Err("a create with wrong credentials succeeded".into())
        }
        Err(error) if error.kind() == ErrorKind::Unauthorized => {
            let message = error.to_string();
            if message.contains(wrong) {
                return Err("the error quotes the password".into());
            }
            run.nothing_left(&room).await?;
            Ok(format!("refused: {message}"))
        }
        Err(error) => Err(format!(
            "refused as {} instead of unauthorized: {error}",
            error.kind()
        )),
    }
}

/// A run's own name, so that two runs never meet.
fn run_id() -> String {
    let mut bytes = [0u8; 4];
    // Without the system's random source, from the clock.
    if getrandom::fill(&mut bytes).is_err() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        bytes = (now.subsec_nanos() ^ now.as_secs() as u32).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
