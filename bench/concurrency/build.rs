//! Builds the probe's component (`guest/`, a workspace of its own) for wasm32-wasip2.

fn main() {
    let here = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    guest_build::build(&here.join("guest"), "concurrency_probe.wasm");
}
