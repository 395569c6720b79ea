//! The records against the storage: what `shared-folder-host audit` reports and `repair`
//! fixes, and `serve` counts on a schedule.
//!
//! The storage is the truth about folders, links and files; the records are the truth about
//! which meeting a folder belongs to and the passwords participants were given. They part when
//! a database is restored from a backup (records of folders deleted since, none of folders made
//! since), or when someone changes the storage by hand. [`audit`] asks the provider what is
//! under `directory` (contract 0.4's `list-folders`) and compares it with every record of the
//! settings that serve now; [`repair`] fixes each finding the one safe way:
//!
//! | finding | repair |
//! |---|---|
//! | a folder without a record, with a link of each kind (as every folder `create` made has) | the provider's `recover` (links kept, new passwords), then the record written |
//! | a folder without a record, without a link of each kind | left alone: nothing shows a create made it (`recover --room` takes it over on purpose) |
//! | a record without a folder | the record dropped, nothing sent to the storage (a folder in the trash bin stays there, with its files and links, and is found by the next audit if restored); the room's sessions hear `deleted` |
//! | a record's link missing on the folder, or not the one on the folder | `recover`, then the record replaced; the room's sessions get the new view |
//!
//! Nothing on the storage is ever deleted. The records are read before the storage is listed,
//! so a room made meanwhile shows as a folder without a record, never as a record without a
//! folder; and each finding is acted on under the room's lock only while the records still
//! hold what the audit read (the same record, or none). Rooms with a create or delete under
//! way are skipped (`reconcile` finishes them), and so are records made with other
//! `[shared_folder]` settings than those serving (their folders are not under this listing).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use shared_folder_runtime::{FolderRecord, FoundFolder, LinkAccess};

use crate::error::HostError;
use crate::folders::{Expected, SharedFolders};
use crate::records::RoomState;

/// What differs between the records and the storage for one room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// The storage has the room's folder, the records have no row for it (made after the
    /// backup the database was restored from, say): its meeting shows no folder and every
    /// create of the room is refused with "exists".
    FolderWithoutRecord {
        room: String,
        /// Where the folder is.
        location: String,
        /// How many password-protected links it has.
        links: usize,
        /// Whether it has one of each kind, as every folder `create` made does; without,
        /// nothing shows a create made it, and `repair` leaves it alone.
        complete: bool,
    },
    /// The records have a folder the storage does not (deleted after the backup): the
    /// participants' links are dead.
    RecordWithoutFolder { room: String, location: String },
    /// The folder has no link of that kind: participants who should have it hold a dead one.
    LinkMissing { room: String, access: Access },
    /// The folder has links of that kind, but not the recorded one (deleted, or replaced by
    /// hand): participants hold a dead link.
    LinkDead { room: String, access: Access },
}

/// Which link, in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Read,
    ReadWrite,
}

impl From<LinkAccess> for Access {
    fn from(access: LinkAccess) -> Self {
        match access {
            LinkAccess::Read => Access::Read,
            LinkAccess::ReadWrite => Access::ReadWrite,
        }
    }
}

impl Finding {
    /// The room it is about.
    pub fn room(&self) -> &str {
        match self {
            Finding::FolderWithoutRecord { room, .. }
            | Finding::RecordWithoutFolder { room, .. }
            | Finding::LinkMissing { room, .. }
            | Finding::LinkDead { room, .. } => room,
        }
    }

    /// Its kind, as the JSON and the metric name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::FolderWithoutRecord { .. } => "folder_without_record",
            Finding::RecordWithoutFolder { .. } => "record_without_folder",
            Finding::LinkMissing { .. } => "link_missing",
            Finding::LinkDead { .. } => "link_dead",
        }
    }

    /// Every kind, for the metric (a kind with no finding is 0, not absent).
    pub const KINDS: [&'static str; 4] = [
        "folder_without_record",
        "record_without_folder",
        "link_missing",
        "link_dead",
    ];

    /// What it means, for the table.
    pub fn detail(&self) -> String {
        match self {
            Finding::FolderWithoutRecord {
                location,
                links,
                complete: false,
                ..
            } => format!(
                "{location}: no record; {links} link(s), not one of each kind (repair leaves it)"
            ),
            Finding::FolderWithoutRecord {
                location, links, ..
            } => format!("{location}: no record; {links} link(s)"),
            Finding::RecordWithoutFolder { location, .. } => {
                format!("{location}: recorded, not on the storage")
            }
            Finding::LinkMissing { access, .. } => {
                format!("the folder has no {} link", access_word(*access))
            }
            Finding::LinkDead { access, .. } => format!(
                "the recorded {} link is not the folder's",
                access_word(*access)
            ),
        }
    }
}

fn access_word(access: Access) -> &'static str {
    match access {
        Access::Read => "read-only",
        Access::ReadWrite => "read-write",
    }
}

/// What [`audit`] compared and found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Audit {
    /// Folders under `directory` on the storage.
    pub folders: usize,
    /// Records of the settings serving now, compared.
    pub records: usize,
    /// Rooms with a create or delete under way: left to `reconcile`.
    pub unfinished: Vec<String>,
    /// Records made with other `[shared_folder]` settings: not compared.
    pub other_settings: Vec<String>,
    /// The differences, by room.
    pub findings: Vec<Finding>,
    /// The handle of each record compared, by room: what `repair` checks is still there.
    #[serde(skip)]
    handles: BTreeMap<String, String>,
}

impl Audit {
    /// The readable report: one line per finding, then the counts.
    pub fn table(&self) -> String {
        let mut out = String::new();
        if !self.findings.is_empty() {
            let width = self
                .findings
                .iter()
                .map(|f| f.room().chars().count())
                .max()
                .unwrap_or(0)
                .max(4);
            out.push_str(&format!("{:width$}  {:22}  DETAIL\n", "ROOM", "FINDING"));
            for finding in &self.findings {
                out.push_str(&format!(
                    "{:width$}  {:22}  {}\n",
                    finding.room(),
                    finding.kind(),
                    finding.detail()
                ));
            }
        }
        let counts = self.counts();
        out.push_str(&format!(
            "{} folder(s) on the storage, {} record(s) compared: {}\n",
            self.folders,
            self.records,
            if self.agrees() {
                "in agreement".to_owned()
            } else {
                counts
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(kind, n)| format!("{n} {}", kind.replace('_', " ")))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        if !self.unfinished.is_empty() {
            out.push_str(&format!(
                "{} room(s) with a create or delete under way, left to reconcile: {}\n",
                self.unfinished.len(),
                self.unfinished.join(", ")
            ));
        }
        if !self.other_settings.is_empty() {
            out.push_str(&format!(
                "{} record(s) made with other [shared_folder] settings, not compared: {}\n",
                self.other_settings.len(),
                self.other_settings.join(", ")
            ));
        }
        out
    }

    /// Whether records and storage agree.
    pub fn agrees(&self) -> bool {
        self.findings.is_empty()
    }

    /// How many findings of each kind (every kind named).
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> =
            Finding::KINDS.iter().map(|kind| (*kind, 0)).collect();
        for finding in &self.findings {
            *counts.entry(finding.kind()).or_default() += 1;
        }
        counts
    }
}

/// Compares the records with what the serving provider lists under `directory`. Changes
/// nothing. A provider of a contract before 0.4 cannot list: `ErrorKind::NotOffered`.
pub async fn audit(folders: &SharedFolders) -> Result<Audit, HostError> {
    let runtime = folders.runtime();
    let serving = runtime.serving().maker();
    // The records first: a room made while the storage is listed is then a folder without a
    // record (which its repair finds recorded, and leaves), never a record without a folder.
    let records = folders.records();
    let mut states = Vec::new();
    for room in records.rooms().await? {
        if let Some(state) = records.get(&room).await? {
            states.push((room, state));
        }
    }
    let found: BTreeMap<String, FoundFolder> = runtime
        .list_folders()
        .await?
        .into_iter()
        .map(|folder| (folder.room.clone(), folder))
        .collect();
    let mut audit = Audit {
        folders: found.len(),
        ..Audit::default()
    };
    let known: BTreeSet<String> = states.iter().map(|(room, _)| room.clone()).collect();
    for (room, state) in states {
        let record = match state {
            RoomState::Pending { .. } | RoomState::Deleting(_) => {
                audit.unfinished.push(room);
                continue;
            }
            RoomState::Ready(record) => record,
        };
        if record.maker.storage != serving.storage {
            audit.other_settings.push(room);
            continue;
        }
        audit.records += 1;
        match found.get(&room) {
            None => audit.findings.push(Finding::RecordWithoutFolder {
                room: room.clone(),
                location: record.path.clone(),
            }),
            Some(folder) => audit.findings.extend(link_findings(&record, folder)),
        }
        audit.handles.insert(room, record.handle);
    }
    for (room, folder) in &found {
        if !known.contains(room) {
            let has = |access| folder.links.iter().any(|l| l.access == access);
            audit.findings.push(Finding::FolderWithoutRecord {
                room: room.clone(),
                location: folder.location.clone(),
                links: folder.links.len(),
                complete: has(LinkAccess::Read) && has(LinkAccess::ReadWrite),
            });
        }
    }
    audit
        .findings
        .sort_by(|a, b| (a.room(), a.kind()).cmp(&(b.room(), b.kind())));
    Ok(audit)
}

/// The metric of the audits `serve` runs: findings by kind, from the last audit that ran.
pub const FINDINGS: &str = "shared_folder_audit_findings";
/// Audits run while serving, by outcome (`agrees`, `differs`, `failed`).
pub const AUDITS: &str = "shared_folder_audits_total";

/// What `serve` does every `interval` (`[host].audit_interval`): an audit, its counts in
/// [`FINDINGS`], and a warning when records and storage differ. The first runs one interval
/// after the start. A provider that cannot list (a contract before 0.4) is named in a warning
/// each round: one swapped in later may list.
pub async fn keep_auditing(folders: std::sync::Arc<SharedFolders>, interval: std::time::Duration) {
    loop {
        tokio::time::sleep(interval).await;
        match audit(&folders).await {
            Ok(audit) => {
                for (kind, count) in audit.counts() {
                    metrics::gauge!(FINDINGS, "kind" => kind).set(count as f64);
                }
                let outcome = if audit.agrees() { "agrees" } else { "differs" };
                metrics::counter!(AUDITS, "outcome" => outcome).increment(1);
                if !audit.agrees() {
                    tracing::warn!(
                        differences = audit.findings.len(),
                        "the records and the storage differ: `shared-folder-host audit` names them, `repair --apply` fixes them"
                    );
                }
            }
            Err(error) => {
                metrics::counter!(AUDITS, "outcome" => "failed").increment(1);
                tracing::warn!(%error, "audit failed");
            }
        }
    }
}

/// The record's links against the folder's.
fn link_findings(record: &FolderRecord, folder: &FoundFolder) -> Vec<Finding> {
    [
        (LinkAccess::Read, &record.read.url),
        (LinkAccess::ReadWrite, &record.read_write.url),
    ]
    .into_iter()
    .filter_map(|(access, recorded)| {
        let mut of_kind = folder.links.iter().filter(|link| link.access == access);
        let room = record.room.clone();
        let access = Access::from(access);
        match of_kind.clone().next() {
            None => Some(Finding::LinkMissing { room, access }),
            Some(_) if !of_kind.any(|link| &link.url == recorded) => {
                Some(Finding::LinkDead { room, access })
            }
            Some(_) => None,
        }
    })
    .collect()
}

/// What [`repair`] did for one finding.
#[derive(Debug, Clone, Serialize)]
pub struct Repaired {
    pub room: String,
    /// The finding's kind.
    pub finding: &'static str,
    /// What was done.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What was done about a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    /// The folder was taken over: its links have new passwords, the record is written and the
    /// room's sessions got the new view.
    Recovered,
    /// The record was dropped (nothing sent to the storage); the room's sessions heard
    /// `deleted`.
    Dropped,
    /// Not acted on, and why.
    Left(String),
    /// The repair failed; the room is as it was, for the next repair.
    Failed(String),
}

/// Fixes each finding of `audit` (see the module's table), each room under its lock and
/// checked again first: a finding that no longer holds is left. A failure is reported for
/// its room and the others go on.
pub async fn repair(folders: &SharedFolders, audit: &Audit) -> Vec<Repaired> {
    let mut repaired = Vec::with_capacity(audit.findings.len());
    let mut done = BTreeSet::new();
    for finding in &audit.findings {
        let room = finding.room();
        // One repair per room: a recover fixes both of its links.
        if !done.insert(room.to_owned()) {
            continue;
        }
        let outcome = match finding {
            Finding::FolderWithoutRecord {
                complete: false, ..
            } => Outcome::Left(
                "the folder has not a link of each kind: nothing shows a create made it; take \
                 it over with `shared-folder-host recover --room ROOM`, or leave it"
                    .into(),
            ),
            Finding::FolderWithoutRecord { .. } => {
                recovered(folders.recover(room, Expected::Nothing).await)
            }
            Finding::LinkMissing { .. } | Finding::LinkDead { .. } => {
                recovered(folders.recover(room, Expected::Folder).await)
            }
            Finding::RecordWithoutFolder { .. } => {
                match folders
                    .forget_missing(room, audit.handles.get(room).map_or("", String::as_str))
                    .await
                {
                    Ok(()) => Outcome::Dropped,
                    Err(error @ HostError::RecordChanged { .. }) => {
                        Outcome::Left(error.to_string())
                    }
                    Err(error) => Outcome::Failed(error.to_string()),
                }
            }
        };
        match &outcome {
            Outcome::Left(reason) | Outcome::Failed(reason) => {
                tracing::warn!(room, finding = finding.kind(), %reason, "repair: not done")
            }
            done => tracing::info!(room, finding = finding.kind(), outcome = ?done, "repaired"),
        }
        repaired.push(Repaired {
            room: room.to_owned(),
            finding: finding.kind(),
            outcome,
        });
    }
    repaired
}

/// What `repair --apply` did, one line per room.
pub fn repairs_table(repaired: &[Repaired]) -> String {
    let width = repaired
        .iter()
        .map(|r| r.room.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let mut out = String::new();
    for r in repaired {
        let (outcome, reason) = match &r.outcome {
            Outcome::Recovered => ("recovered", ""),
            Outcome::Dropped => ("dropped", ""),
            Outcome::Left(reason) => ("left", reason.as_str()),
            Outcome::Failed(reason) => ("failed", reason.as_str()),
        };
        out.push_str(&format!(
            "{:width$}  {:22}  {outcome:9}  {reason}\n",
            r.room, r.finding
        ));
    }
    out
}

fn recovered(result: Result<FolderRecord, HostError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Recovered,
        Err(error @ HostError::RecordChanged { .. }) => Outcome::Left(error.to_string()),
        Err(error) => Outcome::Failed(error.to_string()),
    }
}
