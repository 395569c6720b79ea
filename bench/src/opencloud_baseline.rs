//! The OpenCloud baseline: the native path OpenTalk's controller takes, with the
//! `opentalk-opencloud-client` crate (0.1), in the controller's order (the controller's
//! `controller_backend/events/shared_folder/opencloud.rs` at c9b3818b, which
//! `/work/shared/opencloud/API-NOTES.md` §3 reads), one request after another.
//!
//! Create (as `create_shared_folder` does): a client for the call; the personal drive
//! (`GET me/drive`); the folder, one `MKCOL` per segment of `<directory>/<room>` (405, there
//! already, counts as made); a password for each link, each from a capabilities request
//! (`generate_password` reads the password policy every time); the `edit` link, then the
//! `view` link — each `create_link` first walks the path from the drive's root, one `children`
//! listing per segment, to find the folder's item id. The expiry is now + `expiry` days. With
//! a directory of two segments: 14 requests, all in sequence.
//! Delete (as `delete_shared_folders` does): a client for the call; the read link's `DELETE`,
//! the write link's (a failure only logged there, a link not found counts as gone), then the
//! folder's `DELETE` (not found counts as deleted): 3 requests in sequence.

use chrono::{Days, Utc};
use opentalk_opencloud_client::{
    Client, CreateLinkOptions, CreatedShareLink, DriveId, Error, ItemId, PermissionId,
    SharingLinkType,
};

use crate::Failure;
use crate::native::{Account, Native};

/// The OpenCloud baseline, working as its [`Account`] (the password an app token).
pub struct OpenCloudBaseline(Account);

/// One link as the controller keeps it (`ShareReference`) to delete it.
pub struct ShareReference {
    drive: DriveId,
    item: ItemId,
    permission: PermissionId,
}

/// What the controller keeps of a folder: its path and both links.
pub struct OpenCloudFolder {
    path: String,
    write: ShareReference,
    read: ShareReference,
}

impl OpenCloudBaseline {
    fn client(&self) -> Result<Client, Error> {
        let account = &self.0;
        Client::new(
            account.url.clone(),
            account.username.clone(),
            account.password.clone(),
        )
    }
}

impl Native for OpenCloudBaseline {
    type Folder = OpenCloudFolder;

    fn new(account: Account) -> Self {
        OpenCloudBaseline(account)
    }

    async fn create(&self, room: &str) -> Result<OpenCloudFolder, Failure> {
        let client = self.client()?;
        let drive = client.get_personal_drive().await?.id;
        let expiration = Utc::now()
            .checked_add_days(Days::new(self.0.expiry_days))
            .ok_or("invalid expiry date")?;
        let path = format!("{}/{room}", self.0.directory.trim_matches('/'));
        client.create_folder(&drive, &path).await?;
        let write_password = client.generate_password().await?;
        let read_password = client.generate_password().await?;
        let link = |link_type, display_name: &str, password| {
            create_link(
                &client,
                &drive,
                &path,
                CreateLinkOptions {
                    link_type,
                    expiration: Some(expiration),
                    password: Some(password),
                    display_name: Some(display_name.to_owned()),
                    quick_link: false,
                },
            )
        };
        let write = link(SharingLinkType::Edit, "OpenTalk read-write", write_password).await?;
        let read = link(SharingLinkType::View, "OpenTalk read-only", read_password).await?;
        Ok(OpenCloudFolder { path, write, read })
    }

    async fn delete(&self, folder: &OpenCloudFolder) -> Result<(), Failure> {
        let client = self.client()?;
        for (link, label) in [(&folder.read, "read"), (&folder.write, "write")] {
            match client
                .delete_link(&link.drive, &link.item, &link.permission)
                .await
            {
                Ok(()) | Err(Error::PermissionNotFound { .. }) => {}
                // The controller logs it and goes on.
                Err(error) => eprintln!("  could not delete the {label} link: {error}"),
            }
        }
        match client
            .delete_folder(&folder.write.drive, &folder.path)
            .await
        {
            Ok(()) | Err(Error::FolderNotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

/// One link, as the controller's `create_link` makes it: the item found by path, the link
/// created, its URL required.
async fn create_link(
    client: &Client,
    drive: &DriveId,
    path: &str,
    options: CreateLinkOptions,
) -> Result<ShareReference, Failure> {
    let CreatedShareLink {
        item_id,
        permission,
    } = client.create_link(drive, path, options).await?;
    permission.link.ok_or("the created link has no URL")?;
    Ok(ShareReference {
        drive: drive.clone(),
        item: item_id,
        permission: permission.id,
    })
}
