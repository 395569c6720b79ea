//! Builds the components the tests load besides the host's built-in ones: the fixture provider
//! they swap in, and the provider template (`plugin/template`), to prove that it fits the
//! contract as it is.

fn main() {
    let here = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    guest_build::build(&here.join("../providers/fixture"), "fixture_provider.wasm");
    guest_build::build(
        &here.join("../../plugin/template"),
        "template_provider.wasm",
    );
    // Where the tests keep the components they compiled (`TestHost`'s compile cache): in this
    // build's own folder, so that `cargo clean` empties it with the rest.
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo::rustc-env=SHARED_FOLDER_TEST_COMPILED={out_dir}/compiled-components");
}
