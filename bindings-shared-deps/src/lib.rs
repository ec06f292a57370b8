//! No code: this crate only asks for the features of the dependencies the two bindings share
//! (see its `Cargo.toml`), so that building one binding after the other reuses them.
