//! Links the addon against the N-API symbols of the Node process that loads it.
fn main() {
    napi_build::setup();
}
