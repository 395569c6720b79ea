//! What the baselines have in common: the path OpenTalk's controller takes today, with a
//! storage's native client crate, called in the controller's order — `baseline.rs` for
//! NextCloud, `opencloud_baseline.rs` for OpenCloud.

use crate::Failure;

/// Where and as whom a native client works (the `[shared_folder]` section's fields).
#[derive(Clone)]
pub struct Account {
    pub url: url::Url,
    pub username: String,
    pub password: String,
    pub directory: String,
    pub expiry_days: u64,
}

/// A native client called as the controller calls it: a client for each call, the requests in
/// the controller's order.
pub trait Native {
    /// What the controller keeps of a folder to delete it later.
    type Folder;

    fn new(account: Account) -> Self;

    /// Makes `room`'s folder (in the account's directory) and its two links.
    async fn create(&self, room: &str) -> Result<Self::Folder, Failure>;

    /// Deletes a folder [`Native::create`] made, and its links.
    async fn delete(&self, folder: &Self::Folder) -> Result<(), Failure>;
}
