//! Builds the provider components that the host carries built in: NextCloud's and
//! OpenCloud's.

fn main() {
    let plugins = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("../../plugin");
    guest_build::build(&plugins.join("nextcloud"), "nextcloud_provider.wasm");
    guest_build::build(&plugins.join("opencloud"), "opencloud_provider.wasm");
}
