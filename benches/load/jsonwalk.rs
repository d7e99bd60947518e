//! Well-kept JSON crates walking the load fixture's answer, for the side-by-side with the crate's own
//! response conversion (`ladder convert`, see BENCHMARKS.md, "A faster JSON crate?").
//!
//! ```text
//! jsonwalk <walker> <answer.json> <count>
//! ```
//!
//! The answer is minified first (as the fake upstream serves it), then walked `count` times. Walkers,
//! each in its own never-inlined `walk_*` function (callgrind: `--toggle-collect='*walk_*'`):
//! - `serde-skim`: `serde_json` into `IgnoredAny` (checks the grammar, builds nothing);
//! - `serde-value`: `serde_json::Value`, then every member and item visited (this project's serde_json
//!   has `preserve_order` on, for the fake upstream: its maps are `IndexMap`s);
//! - `simd-json-tape`: `simd_json::to_tape` on a fresh copy of the answer (it parses in place), then
//!   every tape node visited;
//! - `sonic-value`: `sonic_rs::Value`, then every member and item visited.
//!
//! None of them renames a key, checks a value against the API's schema or writes an answer: they are the
//! floor under what any conversion built on them would cost.

use std::hint::black_box;

/// Object members, array items and key bytes the walk saw (the same for every walker).
#[derive(Default, Debug, PartialEq, Eq)]
struct Seen {
    members: usize,
    items: usize,
    key_bytes: usize,
}

#[inline(never)]
fn walk_serde_skim(text: &[u8]) -> Seen {
    serde_json::from_slice::<serde::de::IgnoredAny>(text).expect("the answer is JSON");
    Seen::default()
}

fn visit_serde(v: &serde_json::Value, seen: &mut Seen) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                seen.members += 1;
                seen.key_bytes += k.len();
                visit_serde(v, seen);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                seen.items += 1;
                visit_serde(v, seen);
            }
        }
        _ => {}
    }
}

#[inline(never)]
fn walk_serde_value(text: &[u8]) -> Seen {
    let value: serde_json::Value = serde_json::from_slice(text).expect("the answer is JSON");
    let mut seen = Seen::default();
    visit_serde(&value, &mut seen);
    seen
}

#[inline(never)]
fn walk_simd_json_tape(text: &[u8]) -> Seen {
    let mut copy = text.to_vec();
    let tape = simd_json::to_tape(&mut copy).expect("the answer is JSON");
    let mut seen = Seen::default();
    for node in &tape.0 {
        match node {
            simd_json::Node::Object { len, .. } => seen.members += len,
            simd_json::Node::Array { len, .. } => seen.items += len,
            simd_json::Node::String(s) => seen.key_bytes += s.len(),
            simd_json::Node::Static(_) => {}
        }
    }
    // The tape does not tell keys from string values: count only the keys' bytes, as the others do.
    seen.key_bytes = 0;
    seen
}

fn visit_sonic(v: &sonic_rs::Value, seen: &mut Seen) {
    use sonic_rs::JsonContainerTrait;
    if let Some(object) = v.as_object() {
        for (k, v) in object.iter() {
            seen.members += 1;
            seen.key_bytes += k.len();
            visit_sonic(v, seen);
        }
    } else if let Some(items) = v.as_array() {
        for v in items.iter() {
            seen.items += 1;
            visit_sonic(v, seen);
        }
    }
}

#[inline(never)]
fn walk_sonic_value(text: &[u8]) -> Seen {
    let value: sonic_rs::Value = sonic_rs::from_slice(text).expect("the answer is JSON");
    let mut seen = Seen::default();
    visit_sonic(&value, &mut seen);
    seen
}

/// JSON text without the whitespace between tokens (keys keep their order): the same bytes as
/// `examples/ladder.rs`'s `minified` gives the conversion (this project cannot use the crate's examples).
fn minified(text: &[u8]) -> Vec<u8> {
    let (mut out, mut in_string, mut escaped) = (Vec::with_capacity(text.len()), false, false);
    for &c in text {
        if in_string {
            in_string = escaped || c != b'"';
            escaped = !escaped && c == b'\\';
        } else if c.is_ascii_whitespace() {
            continue;
        } else {
            in_string = c == b'"';
        }
        out.push(c);
    }
    out
}

fn main() {
    let usage =
        "usage: jsonwalk <serde-skim|serde-value|simd-json-tape|sonic-value> <answer.json> <count>";
    let mut args = std::env::args().skip(1);
    let walker = args.next().expect(usage);
    let text = minified(&std::fs::read(args.next().expect(usage)).expect("read the answer"));
    let count: usize = args.next().expect(usage).parse().expect(usage);
    let walk: fn(&[u8]) -> Seen = match walker.as_str() {
        "serde-skim" => walk_serde_skim,
        "serde-value" => walk_serde_value,
        "simd-json-tape" => walk_simd_json_tape,
        "sonic-value" => walk_sonic_value,
        _ => panic!("{usage}"),
    };
    let mut seen = Seen::default();
    for _ in 0..count {
        seen = walk(black_box(&text));
    }
    println!(
        "{walker}: {count} walks of {} bytes; members {}, items {}, key bytes {}",
        text.len(),
        seen.members,
        seen.items,
        seen.key_bytes
    );
}
