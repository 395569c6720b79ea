//! Contract 0.3 (`wit/provider.wit`), the current one: bindings and conversions.

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

use crate::contract::{Created, CreatedLink};

crate::contract::convert_values!(self::shared_folder::provider::types);

/// What `create` returned, in the host's terms.
pub(crate) fn created(folder: wit::SharedFolder) -> Created {
    let link = |share: wit::Share| CreatedLink {
        url: share.url,
        password: share.password,
    };
    Created {
        location: folder.location,
        read: link(folder.read),
        read_write: link(folder.read_write),
        handle: folder.handle,
    }
}
