//! Runnable examples of the tarif engine; `src/bin/demo.rs` is what `make demo` runs.
//!
//! This crate's documentation is the repository's README, so that the Rust snippet there runs as
//! a doctest and cannot drift from the API (`tests/readme.rs` checks its JSON document).
#![doc = include_str!("../../../README.md")]
