//! Contract 0.2 (`wit/v0.2.0/provider.wit`), served for components built before 0.3:
//! bindings and conversions.
//!
//! A 0.2 provider returns share ids and a path instead of a handle, and its `delete` wants
//! the whole created folder back. The host keeps the ids and the path as the record's handle
//! ([`Handle`], JSON) and rebuilds the folder from the record for `delete`.

wasmtime::component::bindgen!({
    path: "../../wit/v0.2.0",
    world: "shared-folder-provider",
    exports: { default: async },
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
    },
});

use serde::{Deserialize, Serialize};

use crate::contract::{Created, CreatedLink};
use crate::folder::FolderRecord;

crate::contract::convert_values!(self::shared_folder::provider::types);

/// What the host keeps as the handle of a folder a 0.2 provider made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handle {
    /// The folder's path, as the provider returned it.
    pub path: String,
    /// The read-only share's id.
    pub read: String,
    /// The read-write share's id.
    pub read_write: String,
}

/// What `create` returned, in the host's terms.
pub(crate) fn created(folder: wit::SharedFolder) -> Created {
    let handle = Handle {
        path: folder.path.clone(),
        read: folder.read.id.clone(),
        read_write: folder.read_write.id.clone(),
    };
    let link = |share: wit::Share| CreatedLink {
        url: share.url,
        password: share.password,
    };
    Created {
        location: folder.path,
        read: link(folder.read),
        read_write: link(folder.read_write),
        handle: serde_json::to_string(&handle).unwrap_or_default(),
    }
}

/// Checks what a 0.2 provider returned that only the host sees: the share ids.
pub(crate) fn usable(folder: &wit::SharedFolder) -> Result<(), String> {
    for (which, id) in [
        ("read", &folder.read.id),
        ("read_write", &folder.read_write.id),
    ] {
        if id.is_empty() {
            return Err(format!("{which}.id is empty"));
        }
    }
    if folder.read.id == folder.read_write.id {
        return Err("read and read_write are the same share".into());
    }
    Ok(())
}

/// The folder `record` describes, as a 0.2 provider's `delete` wants it.
pub(crate) fn folder(record: &FolderRecord) -> Result<wit::SharedFolder, String> {
    let handle: Handle = serde_json::from_str(&record.handle)
        .map_err(|e| format!("the record's handle is not a 0.2 folder's: {e}"))?;
    let share = |id: String, link: &crate::folder::ShareLink| wit::Share {
        id,
        url: link.url.clone(),
        password: link.password.expose().to_owned(),
    };
    Ok(wit::SharedFolder {
        path: handle.path,
        read: share(handle.read, &record.read),
        read_write: share(handle.read_write, &record.read_write),
    })
}
