//! Contract 0.3 (`wit/v0.3.0/provider.wit`), served for components built before 0.4:
//! bindings and conversions.

wasmtime::component::bindgen!({
    path: "../../wit/v0.3.0",
    world: "shared-folder-provider",
    exports: { default: async },
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
    },
});

crate::contract::convert_values!(self::shared_folder::provider::types);
crate::contract::convert_handled_folder!();
