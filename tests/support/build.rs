//! Builds the components the tests load besides the host's built-in ones: the fixture provider
//! they swap in, and the provider template (`plugin/template`), to prove that it fits the
//! contract as it is.

fn main() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    guest_build::build(
        &here.join("../providers/fixture"),
        "release",
        "fixture_provider.wasm",
    );
    guest_build::build(
        &here.join("../../plugin/template"),
        "release",
        "template_provider.wasm",
    );
}
