//! Contract 0.4's promises for audit and repair, on the run's main room while it holds a file:
//! `list-folders` names its folder with both links, and `recover` keeps the links' URLs and the
//! file while the old passwords stop opening the links and the new ones open them.

use shared_folder_host::ErrorKind;
use shared_folder_host::runtime::{FolderRecord, LinkAccess};

use super::{Outcome, Run};

const LIST: &str = "list-folders: the room's folder with both links";
const RECOVER: &str = "recover: the same links with new passwords, the files kept";

/// Tries both on the room of `record`; returns the record as `recover` left it (its passwords
/// are the ones that open the links now), or `record` when there was no recover.
pub async fn recovery(
    run: &mut Run,
    record: FolderRecord,
    kept_file: Option<&'static str>,
) -> FolderRecord {
    match run.runtime.list_folders().await {
        Err(error) if error.kind() == ErrorKind::NotOffered => {
            let detail = "the component's contract has no list-folders or recover (0.4)";
            run.row(LIST, Outcome::Skipped, detail);
            run.row(RECOVER, Outcome::Skipped, detail);
            return record;
        }
        listed => {
            let found = listed.map_err(|e| e.to_string()).and_then(|found| {
                let folder = found
                    .iter()
                    .find(|f| f.room == record.room)
                    .ok_or_else(|| format!("{} folder(s) listed, not the room's", found.len()))?;
                for (access, link) in [
                    (LinkAccess::Read, &record.read),
                    (LinkAccess::ReadWrite, &record.read_write),
                ] {
                    if !folder
                        .links
                        .iter()
                        .any(|l| l.access == access && l.url == link.url)
                    {
                        return Err(format!("its {access:?} link {} is not listed", link.url));
                    }
                }
                Ok(format!(
                    "{} of {} folder(s), {} link(s)",
                    folder.location,
                    found.len(),
                    folder.links.len()
                ))
            });
            run.check(LIST, found);
        }
    }
    let recovered = match run.runtime.recover(&record.room).await {
        Ok(recovered) => recovered,
        Err(error) => {
            run.check(RECOVER, Err(format!("{error} ({})", error.kind())));
            return record;
        }
    };
    let kept = kept_promises(run, &record, &recovered, kept_file).await;
    run.check(RECOVER, kept);
    recovered
}

async fn kept_promises(
    run: &Run,
    before: &FolderRecord,
    after: &FolderRecord,
    kept_file: Option<&'static str>,
) -> Result<String, String> {
    for (which, old, new) in [
        ("read-only", &before.read, &after.read),
        ("read-write", &before.read_write, &after.read_write),
    ] {
        if old.url != new.url {
            return Err(format!(
                "the {which} link changed: {} → {}",
                old.url, new.url
            ));
        }
        if old.password == new.password {
            return Err(format!("the {which} link kept its password"));
        }
    }
    let Some(participant) = &run.participant else {
        return Ok(
            "same URLs, new passwords (the storage's links are not known to the host: \
                   not opened)"
                .into(),
        );
    };
    for (which, old, new) in [
        ("read-only", &before.read, &after.read),
        ("read-write", &before.read_write, &after.read_write),
    ] {
        if participant.opens(old).await? {
            return Err(format!(
                "the {which} link still opens with its old password"
            ));
        }
        if !participant.opens(new).await? {
            return Err(format!(
                "the {which} link does not open with its new password"
            ));
        }
    }
    if let Some(file) = kept_file {
        let answer = participant
            .send(&after.read, after.read.password.expose(), "GET", file, "")
            .await?;
        if answer.status.as_u16() != 200 {
            return Err(format!("the file in it answers {}", answer.status));
        }
    }
    Ok("same URLs; the old passwords refused, the new ones open; the file kept".into())
}
