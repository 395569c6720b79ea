//! The baseline: the native path OpenTalk's controller takes, with the
//! `opentalk-nextcloud-client` crate (0.3), in the controller's order.
//!
//! Create (as `put_shared_folder` does): a client for the call; `MKCOL` of the room's folder;
//! two passwords from NextCloud's `password_policy` generator; the read-write share, then the
//! read-only share — each followed by a permissions update when NextCloud answers with
//! different bits, which it always does (it adds the share bit: 31 and 17, see
//! docs/nextcloud-behaviour.md, "Creating a public link"). Delete (as `delete_shared_folders` does): a client for the
//! call; both share `DELETE`s, then the folder's `DELETE` — one after the other.

use std::collections::HashSet;

use chrono::{Days, NaiveDate, Utc};
use opentalk_nextcloud_client::{Client, ShareId, SharePermission, ShareType};

use crate::Failure;
use crate::native::{Account, Native};

/// The NextCloud baseline, working as its [`Account`].
pub struct Baseline(Account);

/// What the controller keeps of a folder.
pub struct BaselineFolder {
    path: String,
    read: ShareId,
    write: ShareId,
}

pub type BaselineError = opentalk_nextcloud_client::Error;

impl Baseline {
    fn client(&self) -> Result<Client, BaselineError> {
        let account = &self.0;
        Client::new(
            account.url.clone(),
            account.username.clone(),
            account.password.clone(),
        )
    }
}

impl Native for Baseline {
    type Folder = BaselineFolder;

    fn new(account: Account) -> Self {
        Baseline(account)
    }

    async fn create(&self, room: &str) -> Result<BaselineFolder, Failure> {
        let account = &self.0;
        let client = self.client()?;
        let path = format!("{}/{room}", account.directory.trim_matches('/'));
        client
            .create_folder(&format!("files/{}/{path}", account.username))
            .await?;
        let expire = Utc::now().date_naive() + Days::new(account.expiry_days);
        let write_password = client.generate_password().await?;
        let read_password = client.generate_password().await?;
        let write_permissions = HashSet::from([
            SharePermission::Read,
            SharePermission::Create,
            SharePermission::Update,
            SharePermission::Delete,
        ]);
        let write = share(&client, &path, write_permissions, write_password, expire).await?;
        let read_permissions = HashSet::from([SharePermission::Read]);
        let read = share(&client, &path, read_permissions, read_password, expire).await?;
        Ok(BaselineFolder { path, read, write })
    }

    async fn delete(&self, folder: &BaselineFolder) -> Result<(), Failure> {
        let client = self.client()?;
        // The controller logs failed share deletes and goes on; so does this.
        let _ = client.delete_share(folder.read.clone()).await;
        let _ = client.delete_share(folder.write.clone()).await;
        client
            .delete(&format!("files/{}/{}", self.0.username, folder.path))
            .await?;
        Ok(())
    }
}

async fn share(
    client: &Client,
    path: &str,
    permissions: HashSet<SharePermission>,
    password: String,
    expire: NaiveDate,
) -> Result<ShareId, BaselineError> {
    let mut creator = client
        .create_share(path, ShareType::PublicLink)
        .password(password)
        .label("OpenTalk");
    for permission in &permissions {
        creator = creator.permission(*permission);
    }
    let created = creator.expire_date(expire).send().await?;
    if created.data.permissions != permissions {
        client
            .update_share(created.data.id.clone())
            .permissions(permissions)
            .await?;
    }
    Ok(created.data.id)
}
