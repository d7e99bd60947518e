//! Fuzzes the AutumnService's request handling (method, path, headers, body) with an in-memory Autumn.
//! The body and its invariants live in `../fuzz_body.rs`, shared with the stable replay test
//! `tests/fuzz_replay.rs`.
#![no_main]

#[path = "../fuzz_body.rs"]
mod fuzz_body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_body::run(data));
