//! Property tests: the engine against a deliberately simple reference evaluator, and the
//! parsers against random and mutated input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop
)]

mod api;
mod reference;
mod robustness;
