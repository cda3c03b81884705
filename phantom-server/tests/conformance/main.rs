//! Conformance suites of Phantom's peers, run against the graph engine:
//! OpenFGA's query suites (consolidated_1_1_tests.yaml, abac_tests.yaml), OpenFGA's language
//! corpus, and SpiceDB's consistency-suite files.
//!
//! Run with `cargo test --test conformance -- --nocapture` to see each suite's counts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod known;
mod language;
mod openfga;
mod spicedb;
mod tally;

use std::path::PathBuf;

/// The folder holding the copied suites.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Reads a YAML file as JSON values.
pub fn read_yaml(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
