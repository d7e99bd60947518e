//! Fuzzes the offline Autumn's request handling: arbitrary operation paths and JSON bodies into one
//! in-memory Autumn. The body and its invariants live in `../fuzz_offline.rs`, shared with the stable
//! replay test `tests/fuzz_replay.rs`.
#![no_main]

#[path = "../fuzz_offline.rs"]
mod fuzz_offline;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_offline::run(data));
