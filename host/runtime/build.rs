//! Builds the NextCloud provider component that the host carries built in.

fn main() {
    let plugin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugin/nextcloud");
    guest_build::build(&plugin, "guest", "nextcloud_provider.wasm");
}
