//! Contract 0.4 (`wit/provider.wit`), the current one: bindings and conversions.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "shared-folder-provider",
    exports: { default: async },
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
    },
});

use crate::contract::{FoundFolder, FoundLink, LinkAccess};

crate::contract::convert_values!(self::shared_folder::provider::types);
crate::contract::convert_handled_folder!();

/// What `list` found, in the host's terms.
pub(crate) fn found(folders: Vec<wit::FoundFolder>) -> Vec<FoundFolder> {
    folders
        .into_iter()
        .map(|folder| FoundFolder {
            room: folder.room,
            location: folder.location,
            links: folder
                .links
                .into_iter()
                .map(|link| FoundLink {
                    url: link.url,
                    access: match link.access {
                        wit::Access::Read => LinkAccess::Read,
                        wit::Access::ReadWrite => LinkAccess::ReadWrite,
                    },
                })
                .collect(),
        })
        .collect()
}
