//! The intent engine through its public API: the concept paper's cases,
//! and the LLM judge against a mock OpenAI-compatible server that really
//! serves HTTP.

// A test that cannot go on should stop loudly, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod concepts;
mod judge;
