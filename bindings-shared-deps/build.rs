//! Empty: it exists so that the host dependencies of `Cargo.toml` take part in the build.
fn main() {}
