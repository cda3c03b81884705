//! Fuzz target `model_parser`: `cargo +nightly fuzz run model_parser`, or on stable
//! `cargo run --bin model_parser -- FILE...` to replay inputs.

#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| phantom_server_fuzz::model_parser(data));

#[cfg(not(fuzzing))]
fn main() {
    phantom_server_fuzz::replay(phantom_server_fuzz::model_parser);
}
