//! Host-side bindings of the `shared-folder-provider` world (`wit/provider.wit`).
//!
//! The WASI interfaces the world imports are the ones `wasmtime-wasi` and
//! `wasmtime-wasi-http` implement; `engine.rs` links exactly those.

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

pub use self::shared_folder::provider::types::{
    ConfigError as WitConfigError, Error as WitError, RemoteError, Setting, SettingValue, Share,
    SharedFolder,
};
