//! End-to-end tests: a real `phantom` process, started per test on a fresh
//! data directory, driven through the SDK.

// A test that cannot go on should stop loudly, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod graph;
mod harness;
mod input;
mod intent;
mod missions;
mod restart;
mod tokens;
