//! The streaming pass (`super::super::stream`) against the tree path: on every fixture and its
//! mutations, on repeated keys, and on answers generated from the tables.

use serde_json::{json, Value};

use super::*;

/// The streaming response pass and the tree path agree: when the stream answers, its JSON equals the
/// tree's answer; when the tree errs, the stream never answers (it leaves the error to the tree).
fn assert_stream_agrees(op: Op, input: &Value) {
    let bytes = serde_json::to_vec(input).unwrap();
    let root = tables::RESPONSE_ROOTS[op.index()];
    let streamed = stream::convert(root, &bytes);
    let tree = response_to_browser(op, input.clone());
    match (streamed, tree) {
        (Some(out), Ok(expected)) => {
            let out: Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
                panic!(
                    "{op:?}: the stream wrote invalid JSON ({e}): {}",
                    String::from_utf8_lossy(&out)
                )
            });
            assert_eq!(
                out, expected,
                "{op:?}: the stream differs from the tree on {input}"
            );
        }
        (Some(out), Err(e)) => panic!(
            "{op:?}: the tree refuses ({e:?}) what the stream converted to {} (input {input})",
            String::from_utf8_lossy(&out)
        ),
        (None, _) => {}
    }
}

#[test]
fn the_stream_agrees_with_the_tree_on_every_fixture_and_mutation() {
    let replacements = [
        Value::Null,
        json!(true),
        json!(0),
        json!(-1.5),
        json!(1e3),
        json!(""),
        json!("12"),
        json!("TRUE"),
        json!("0x1F"),
        json!([]),
        json!({}),
        json!([null]),
        json!({"a": null}),
    ];
    let (mut streamed, mut total) = (0usize, 0usize);
    for f in fixtures().into_iter().filter(|f| f["side"] == "response") {
        let op = op_named(f["op"].as_str().unwrap_or(""));
        let input = f["input"].clone();
        let root = tables::RESPONSE_ROOTS[op.index()];
        if stream::convert(root, &serde_json::to_vec(&input).unwrap()).is_some() {
            streamed += 1;
        }
        total += 1;
        assert_stream_agrees(op, &input);
        for p in &pointers(&input) {
            for r in &replacements {
                let mut v = input.clone();
                if let Some(slot) = v.pointer_mut(p) {
                    *slot = r.clone();
                }
                assert_stream_agrees(op, &v);
            }
            // the key removed
            let mut v = input.clone();
            if let Some((parent, key)) = p.rsplit_once('/') {
                if let Some(Value::Object(m)) = v.pointer_mut(parent) {
                    m.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
            }
            assert_stream_agrees(op, &v);
        }
    }
    // Most valid answers must take the fast path, or it is not a fast path.
    assert!(
        streamed * 2 > total,
        "only {streamed} of {total} response fixtures streamed"
    );
}

#[test]
fn the_stream_gives_repeated_keys_to_the_tree() {
    let (input, _) = fixture("redeemReferralCode", "response");
    let mut text = serde_json::to_string(&input).unwrap();
    text.insert_str(1, r#""id":"first","#);
    let root = tables::RESPONSE_ROOTS[Op::ReferralsRedeemCode.index()];
    assert!(stream::convert(root, text.as_bytes()).is_none());
    let out = response_bytes_to_browser(Op::ReferralsRedeemCode, text.as_bytes()).unwrap();
    let out: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(out["id"], input["id"], "the last of the repeated keys wins");
    assert!(matches!(
        response_bytes_to_browser(Op::ReferralsRedeemCode, b"<html>"),
        Err(ResponseError::NotJson)
    ));
}

/// The streaming pass writes field names from the tables without escaping them, and matches an
/// answer's key against the expected field's name byte for byte (a key equal to a name can hold no
/// escape).
#[test]
fn table_field_names_need_no_escaping() {
    for n in tables::NODES.iter() {
        if let Node::Object(fields) = n {
            for f in *fields {
                assert_eq!(f.key, format!(",\"{}\":", f.camel));
                // The same length means the same name: the stream keeps such a key as spelled.
                assert!(
                    f.camel.len() != f.snake.len() || f.camel == f.snake,
                    "{f:?}"
                );
                for name in [f.camel, f.snake] {
                    assert!(
                        !name.is_empty()
                            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                        "{name:?}"
                    );
                }
            }
        }
    }
}

/// The `redeemReferralCode` answer of the fixtures, minified, with its `id` spelled `PLACEHOLDER`
/// (for the string tests below), and its response root.
fn redeem_answer() -> (Vec<u8>, u16) {
    let (mut input, _) = fixture("redeemReferralCode", "response");
    input["id"] = json!("PLACEHOLDER");
    let template = serde_json::to_vec(&input).unwrap();
    (
        template,
        tables::RESPONSE_ROOTS[Op::ReferralsRedeemCode.index()],
    )
}

/// `template` with its `id`'s contents spelled `raw` (bytes as they are, unchecked).
fn with_raw_id(template: &[u8], raw: &[u8]) -> Vec<u8> {
    let at = template
        .windows(11)
        .position(|w| w == b"PLACEHOLDER")
        .unwrap();
    [&template[..at], raw, &template[at + 11..]].concat()
}

/// `template` (an object) with a first member `zz_unknown`, which no answer has, spelled `value`
/// (bytes as they are, unchecked).
fn with_unknown_member(template: &[u8], value: &[u8]) -> Vec<u8> {
    [b"{\"zz_unknown\":", value, b",", &template[1..]].concat()
}

/// The stream leaves `text` to the tree path, which refuses it as JSON.
fn assert_both_refuse(root: u16, text: &[u8], what: &str) {
    assert!(stream::convert(root, text).is_none(), "{what}");
    assert!(matches!(
        response_bytes_to_browser(Op::ReferralsRedeemCode, text),
        Err(ResponseError::NotJson)
    ));
}

/// The stream checks strings as serde_json does (it does not check the whole answer first): raw
/// control characters and invalid UTF-8 in a known field's value or in an unknown key's value leave
/// the answer to the tree path, which refuses it; valid characters of every length are copied.
#[test]
fn the_stream_checks_utf8_inside_strings() {
    let (template, root) = redeem_answer();
    let with = |raw: &[u8], unknown: bool| {
        if unknown {
            with_unknown_member(&template, &[b"\"", raw, b"\""].concat())
        } else {
            with_raw_id(&template, raw)
        }
    };
    let invalid: [&[u8]; 10] = [
        // Raw control characters (serde_json wants them escaped).
        b"\x01",
        b"tab\there",
        b"\x1f and more",
        b"\xff",
        b"a\x80b",
        b"\xc0\xaf",
        b"\xed\xa0\x80",
        b"\xe2\x82",
        b"\xf5\x80\x80\x80",
        b"ok\xf0\x9f\x98",
    ];
    for raw in invalid {
        for unknown in [false, true] {
            assert_both_refuse(root, &with(raw, unknown), &format!("{raw:?} {unknown}"));
        }
    }
    let valid = "é € 😀 x\u{7f}";
    for unknown in [false, true] {
        let text = with(valid.as_bytes(), unknown);
        let out = stream::convert(root, &text).expect("valid UTF-8 streams");
        let out: Value = serde_json::from_slice(&out).unwrap();
        if !unknown {
            assert_eq!(out["id"], valid);
        }
        assert_stream_agrees(
            Op::ReferralsRedeemCode,
            &serde_json::from_slice(&text).unwrap(),
        );
    }
}

/// An unknown member's value of any kind is skipped by the stream itself (not left to the tree path):
/// strings, numbers, every literal, arrays and objects, nested.
#[test]
fn the_stream_skips_unknown_values_of_every_kind() {
    let (template, root) = redeem_answer();
    for value in [
        r#""text""#,
        "-12.5e3",
        "true",
        "false",
        "null",
        "[]",
        "{}",
        r#"[1,false,"x",null,[true],{"a":[false]}]"#,
        r#"{"a":{"b":[1,{"c":false}]},"d":true}"#,
    ]
    .into_iter()
    .map(str::to_owned)
    // More sibling containers than the nesting limit: each one skipped leaves the depth as it was.
    .chain([
        format!("[{}[1]]", "[1],".repeat(150)),
        format!("[{}{{\"a\":1}}]", "{\"a\":1},".repeat(150)),
    ]) {
        let text = with_unknown_member(&template, value.as_bytes());
        stream::convert(root, &text).unwrap_or_else(|| panic!("{value} streams"));
        assert_stream_agrees(
            Op::ReferralsRedeemCode,
            &serde_json::from_slice(&text).unwrap(),
        );
    }
}

/// The stream reads escapes itself: the valid ones stream (and agree with the tree), the invalid
/// ones (an unknown letter, a short `\u`, a lone surrogate) leave the answer to the tree, which
/// refuses it.
#[test]
fn the_stream_checks_escapes() {
    let (template, root) = redeem_answer();
    let with = |raw: &str| with_raw_id(&template, raw.as_bytes());
    for raw in [
        r#"a\"b"#,
        r"back\\slash",
        r"line\nfeed and \t tab",
        r"\u00e9t\u00E9",
        r"\ud83d\ude00 smile",
        r"\/\b\f\r",
    ] {
        let text = with(raw);
        let out = stream::convert(root, &text).unwrap_or_else(|| panic!("{raw} streams"));
        let value: Value = serde_json::from_slice(&text).unwrap();
        let expected = response_to_browser(Op::ReferralsRedeemCode, value).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&out).unwrap(),
            expected,
            "{raw}"
        );
    }
    for raw in [
        r"\x41",
        r"\u12",
        r"\u12G4",
        r"\ud800",
        r"\ud800\u0041",
        // A high surrogate followed by another escape or by a `u` that is not an escape: what follows
        // is no low surrogate even when its four characters spell one.
        r"\ud800\ndc00",
        r"\ud800xudc00",
        r"\udc00",
        r"\'",
    ] {
        assert_both_refuse(root, &with(raw), raw);
    }
}

/// A string in the last eight bytes of the answer is read byte by byte (no eight-byte word is left):
/// that path refuses what the word path refuses (control characters, broken UTF-8) and nothing else.
#[test]
fn the_stream_checks_strings_that_end_the_input() {
    let (input, _) = fixture("redeemReferralCode", "response");
    let template = serde_json::to_vec(&input).unwrap();
    let root = tables::RESPONSE_ROOTS[Op::ReferralsRedeemCode.index()];
    // `…,"zz":"RAW"}`: fewer than eight bytes from the string's first byte to the end.
    let ending = |raw: &[u8]| {
        let mut t = template[..template.len() - 1].to_vec();
        t.extend_from_slice(b",\"zz\":\"");
        t.extend_from_slice(raw);
        t.extend_from_slice(b"\"}");
        t
    };
    let refused: [&[u8]; 5] = [b"\t", b"a\x01", b"\x1f", b"\xff", b"\xc3"];
    for raw in refused {
        assert_both_refuse(root, &ending(raw), &format!("{raw:?}"));
    }
    // An answer cut short inside its last string (or anywhere in its last bytes) is refused.
    let whole = ending(b"abc");
    for cut in whole.len() - 16..whole.len() {
        let text = &whole[..cut];
        assert!(stream::convert(root, text).is_none(), "cut at {cut}");
        assert!(response_bytes_to_browser(Op::ReferralsRedeemCode, text).is_err());
    }
    for raw in [" ", "a b", "\u{7f}", "é", "~!"] {
        let text = ending(raw.as_bytes());
        let out = stream::convert(root, &text).unwrap_or_else(|| panic!("{raw:?} streams"));
        let value: Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(
            value["zz"], raw,
            "the test's text holds the string as written"
        );
        let expected = response_to_browser(Op::ReferralsRedeemCode, value).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&out).unwrap(),
            expected,
            "{raw:?}"
        );
    }
}

/// A random answer for node `n`, drawn from the tables: mostly what the schema says, sometimes what
/// the lenient parser coerces (`null`, numeric strings, numbers where strings belong), sometimes
/// what it refuses, with unknown keys, escaped strings and free-form values of every kind.
fn random_answer(n: u16, rng: &mut fastrand::Rng, depth: u32) -> Value {
    fn free(rng: &mut fastrand::Rng, depth: u32) -> Value {
        match rng.u8(..if depth > 3 { 6 } else { 8 }) {
            0 => Value::Null,
            1 => json!(rng.bool()),
            2 => json!(rng.i64(-1_000_000..1_000_000_000_000)),
            3 => json!([0.5, -0.0, 1e3, 2.5e-7, 1e300][rng.usize(..5)]),
            4 | 5 => json!(random_string(rng)),
            6 => Value::Array((0..rng.usize(..3)).map(|_| free(rng, depth + 1)).collect()),
            _ => Value::Object(
                (0..rng.usize(..4))
                    .map(|_| (random_string(rng), free(rng, depth + 1)))
                    .collect(),
            ),
        }
    }
    fn random_string(rng: &mut fastrand::Rng) -> String {
        [
            "",
            "a",
            "month",
            "plan_id",
            "é\"quoted\"\n",
            "back\\slash/",
            "\u{1F600} x",
            "12",
            "true",
            "0x1F",
        ][rng.usize(..10)]
        .to_owned()
    }
    let off = rng.u8(..20) == 0; // one value in twenty is off its schema
    if off || depth > 12 {
        return free(rng, depth);
    }
    match node(n) {
        Node::Any => free(rng, depth),
        Node::Null => Value::Null,
        Node::Str => match rng.u8(..10) {
            0 => Value::Null,
            1 => json!(rng.i32(..)),
            _ => json!(random_string(rng)),
        },
        Node::Num | Node::Int => match rng.u8(..10) {
            0 => Value::Null,
            1 => json!(["12", " 7 ", "1e3", "0x1F", "abc", ""][rng.usize(..6)]),
            2 => json!([0.25, 1000.0, -0.0, 1e21][rng.usize(..4)]),
            _ => json!(rng.i64(-10..2_000_000_000_000)),
        },
        Node::Bool => match rng.u8(..10) {
            0 => Value::Null,
            1 => json!(["true", "FALSE", "yes"][rng.usize(..3)]),
            _ => json!(rng.bool()),
        },
        Node::Enum(values) => {
            if rng.u8(..8) == 0 || values.is_empty() {
                json!("not_in_the_enum")
            } else {
                json!(values[rng.usize(..values.len())])
            }
        }
        Node::Const(c) => {
            if rng.u8(..8) == 0 {
                Value::Null
            } else {
                json!(c)
            }
        }
        Node::Array(item) => Value::Array(
            (0..rng.usize(..3))
                .map(|_| random_answer(*item, rng, depth + 1))
                .collect(),
        ),
        Node::Record(val) => Value::Object(
            (0..rng.usize(..3))
                .map(|_| (random_string(rng), random_answer(*val, rng, depth + 1)))
                .collect(),
        ),
        Node::Object(fields) => {
            let mut m = Map::new();
            for f in *fields {
                let keep = if f.required { 19 } else { 10 };
                if rng.u8(..20) < keep {
                    let v = if rng.u8(..12) == 0 {
                        Value::Null
                    } else {
                        random_answer(f.node, rng, depth + 1)
                    };
                    m.insert(f.snake.to_owned(), v);
                }
            }
            if rng.u8(..6) == 0 {
                m.insert("unknown_key".to_owned(), free(rng, depth + 1));
            }
            Value::Object(m)
        }
        Node::Union(members) => {
            if rng.bool() {
                // Keys of all the members' shapes mixed, so that several members fit and the
                // choice among them (exactness, leaf counts) decides.
                let mut m = Map::new();
                for &member in *members {
                    if let Node::Object(fields) = node(member) {
                        for f in *fields {
                            if rng.u8(..3) == 0 {
                                m.insert(f.snake.to_owned(), random_answer(f.node, rng, depth + 1));
                            }
                        }
                    }
                }
                if !m.is_empty() {
                    return Value::Object(m);
                }
            }
            random_answer(members[rng.usize(..members.len())], rng, depth + 1)
        }
    }
}

/// The stream against the tree on one generated answer, compact and pretty-printed; whether the
/// stream answered.
fn stream_agrees_on_random_answer(seed: u64) -> bool {
    let mut rng = fastrand::Rng::with_seed(seed);
    let op = Op::ALL[rng.usize(..Op::ALL.len())];
    let input = random_answer(tables::RESPONSE_ROOTS[op.index()], &mut rng, 0);
    assert_stream_agrees(op, &input);
    let root = tables::RESPONSE_ROOTS[op.index()];
    let pretty = serde_json::to_vec_pretty(&input).unwrap();
    let streamed = stream::convert(root, &pretty);
    if let Some(out) = &streamed {
        let out: Value = serde_json::from_slice(out).expect("the stream writes JSON");
        assert_eq!(
            Ok(out),
            response_to_browser(op, input.clone()),
            "{op:?}: the stream differs from the tree on the pretty-printed {input}"
        );
    }
    streamed.is_some()
}

#[test]
fn the_stream_agrees_with_the_tree_on_generated_answers() {
    let streamed = (0..3000u64)
        .filter(|&seed| stream_agrees_on_random_answer(seed))
        .count();
    // Enough of them take the fast path for the comparison to mean something.
    assert!(
        streamed > 300,
        "only {streamed} of 3000 generated answers streamed"
    );
}

#[cfg(feature = "__dev")]
proptest::proptest! {
    #[test]
    fn the_stream_agrees_with_the_tree_on_any_generated_answer(seed in proptest::prelude::any::<u64>()) {
        stream_agrees_on_random_answer(seed);
    }
}

/// Unions pick a member by how well each fits (`union_better`: exact enums, fields matched, zero-filled
/// values, leaves). Answers drawn from each member of every union of the tables, converted by the union
/// itself, so that several members take the same value and the tie-breaking decides.
#[test]
fn the_stream_picks_the_trees_union_member() {
    let mut rng = fastrand::Rng::with_seed(16);
    let (mut compared, mut unions, mut numbers_and_booleans, mut zero_filled) = (0, 0, 0, 0);
    for (u, n) in tables::NODES.iter().enumerate() {
        let Node::Union(members) = n else { continue };
        unions += 1;
        let u = u as u16;
        for &m in *members {
            for _ in 0..300 {
                let input = random_answer(m, &mut rng, 0);
                let Some((out, ctx)) =
                    stream::convert_counting(u, &serde_json::to_vec(&input).unwrap())
                else {
                    continue;
                };
                compared += 1;
                numbers_and_booleans += usize::from(input.is_number() || input.is_boolean());
                zero_filled += usize::from(ctx.zero > 0);
                let out: Value = serde_json::from_slice(&out).expect("the stream writes JSON");
                let mut tree_ctx = response::Ctx::default();
                let tree = response::convert(u, Some(input.clone()), &mut tree_ctx, 0);
                match tree {
                    Ok(Some(expected)) => {
                        assert_eq!(
                            out, expected,
                            "union node {u}: the stream picked another member than the tree for {input}"
                        );
                        // How loosely it matched, as a union around this one would weigh it.
                        assert_eq!(
                            (ctx.inexact, ctx.zero),
                            (tree_ctx.inexact, tree_ctx.zero),
                            "union node {u}: (inexact, zero-filled) for {input}"
                        );
                    }
                    other => panic!(
                        "union node {u}: the tree gave {other:?} for {input}, the stream {out}"
                    ),
                }
            }
        }
    }
    assert!(
        unions > 0 && compared > 200,
        "{compared} answers compared over {unions} unions"
    );
    assert!(
        zero_filled > 10,
        "only {zero_filled} of {compared} streamed union answers had a zero-filled value"
    );
    // Numbers and booleans are weighed by the stream itself too (they have no string contents to
    // read first), not left to the tree path.
    assert!(
        numbers_and_booleans > 100,
        "only {numbers_and_booleans} of {compared} streamed union answers were numbers or booleans"
    );
}

/// A record of records with more members than the nesting limit: each inner record read leaves the
/// depth as it was, so the stream converts them all itself (and agrees with the tree).
#[test]
fn the_stream_reads_more_sibling_records_than_the_nesting_limit() {
    // A record of records of numbers (read by the stream's record loop, not copied as `Any`).
    let of_numbers = |n: u16| match tables::NODES[usize::from(n)] {
        Node::Record(v) => matches!(tables::NODES[usize::from(v)], Node::Num | Node::Int),
        _ => false,
    };
    let outer = tables::NODES
        .iter()
        .enumerate()
        .find_map(|(i, n)| match n {
            Node::Record(v) if of_numbers(*v) => Some(i as u16),
            _ => None,
        })
        .expect("the tables have a record of records of numbers");
    let input: Value = (0..150)
        .map(|i| {
            let record: serde_json::Map<String, Value> = (0..2)
                .map(|j| (format!("f{j}"), json!(i * 10 + j)))
                .collect();
            (format!("k{i}"), Value::Object(record))
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    let out = stream::convert(outer, &serde_json::to_vec(&input).unwrap())
        .expect("the stream converts every inner record itself");
    let out: Value = serde_json::from_slice(&out).unwrap();
    let tree = response::convert(outer, Some(input), &mut response::Ctx::default(), 0);
    assert_eq!(Some(out), tree.unwrap());
}

/// Numbers as Autumn might spell them, in every numeric slot of every response fixture: the stream
/// copies the spellings the tree path writes back unchanged and converts the others like the tree.
#[test]
fn the_stream_agrees_with_the_tree_on_number_spellings() {
    let spellings = [
        "0.5",
        "-0.5",
        "1188.5",
        "0.002",
        "0.1000",
        "1.0",
        "-0.0",
        "-0",
        "0.0000001",
        "0.0000000001234",
        "0.000000000000000012",
        "12345.123456",
        "99999999999999.5",
        "123456789012345.5",
        "0.1234567890123456",
        "9007199254740993.0",
        "1234567890123.00001",
        "1e3",
        "2.5E-7",
        "12345678901234567890",
        "1e400",
    ];
    let mut slots = 0;
    for f in fixtures().into_iter().filter(|f| f["side"] == "response") {
        let op = op_named(f["op"].as_str().unwrap_or(""));
        let root = tables::RESPONSE_ROOTS[op.index()];
        let input = f["input"].clone();
        for p in pointers(&input) {
            if !input.pointer(&p).is_some_and(Value::is_number) {
                continue;
            }
            slots += 1;
            let mut v = input.clone();
            if let Some(slot) = v.pointer_mut(&p) {
                *slot = json!("NUMBER_SLOT");
            }
            let template = serde_json::to_string(&v).unwrap();
            for spelling in spellings {
                let text = template.replacen("\"NUMBER_SLOT\"", spelling, 1);
                let tree = serde_json::from_str::<Value>(&text)
                    .map_err(|_| ())
                    .and_then(|v| response_to_browser(op, v).map_err(|_| ()));
                match (stream::convert(root, text.as_bytes()), tree) {
                    (Some(out), Ok(expected)) => {
                        let out: Value = serde_json::from_slice(&out).unwrap();
                        assert_eq!(out, expected, "{op:?} {p} = {spelling}");
                    }
                    (Some(out), Err(())) => panic!(
                        "{op:?} {p} = {spelling}: the tree refuses what the stream wrote as {}",
                        String::from_utf8_lossy(&out)
                    ),
                    (None, _) => {}
                }
            }
        }
    }
    assert!(slots > 20, "only {slots} numeric slots in the fixtures");
}

/// Every union of the tables, given strings (each enum value of its members, and strings in none of
/// them): the stream writes what the tree writes and counts the same inexact and zero-filled
/// matches, which an enclosing union weighs.
#[test]
fn the_stream_weighs_string_unions_like_the_tree() {
    let mut checked = 0;
    for (u, n) in tables::NODES.iter().enumerate() {
        let Node::Union(members) = n else { continue };
        let u = u16::try_from(u).unwrap();
        let mut texts = vec!["zz_in_no_enum".to_owned(), String::new(), "12".to_owned()];
        for &m in *members {
            match node(m) {
                Node::Enum(values) => texts.extend(values.iter().map(|v| (*v).to_owned())),
                Node::Const(k) => texts.push((*k).to_owned()),
                _ => {}
            }
        }
        for text in texts {
            let input = Value::String(text);
            let mut ctx = response::Ctx::default();
            let tree = response::convert(u, Some(input.clone()), &mut ctx, 0);
            let streamed = stream::convert_counting(u, &serde_json::to_vec(&input).unwrap());
            match (streamed, tree) {
                (Some((out, sctx)), Ok(Some(expected))) => {
                    let out: Value = serde_json::from_slice(&out).unwrap();
                    assert_eq!(out, expected, "union {u} on {input}");
                    assert_eq!(
                        (sctx.inexact, sctx.zero),
                        (ctx.inexact, ctx.zero),
                        "union {u} on {input}"
                    );
                    checked += 1;
                }
                (Some((out, _)), tree) => panic!(
                    "union {u} on {input}: the stream wrote {} where the tree gives {tree:?}",
                    String::from_utf8_lossy(&out)
                ),
                (None, _) => {}
            }
        }
    }
    assert!(checked > 20, "only {checked} union cases streamed");
}

/// The first node of the tables that `pick` accepts.
fn node_where(what: &str, pick: impl Fn(&Node) -> bool) -> u16 {
    let i = tables::NODES
        .iter()
        .position(pick)
        .unwrap_or_else(|| panic!("the tables have {what}"));
    u16::try_from(i).unwrap()
}

/// `text` converted by the stream at node `n`: its bytes, how loosely it matched, and how many
/// values it handed to the tree path.
fn stream_at(n: u16, text: &str) -> (String, response::Ctx, usize) {
    stream::TREE_SPANS.set(0);
    let (out, ctx) = stream::convert_counting(n, text.as_bytes())
        .unwrap_or_else(|| panic!("node {n}: {text} does not stream"));
    (
        String::from_utf8(out).unwrap(),
        ctx,
        stream::TREE_SPANS.get(),
    )
}

/// The tree path's bytes for `text` at node `n`.
fn tree_at(n: u16, text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap();
    let out = response::convert(n, Some(v), &mut response::Ctx::default(), 0)
        .unwrap()
        .unwrap();
    serde_json::to_string(&out).unwrap()
}

/// Each kind of value is converted by the stream itself, as spelled where the tree's answer reads
/// the same (escapes and all), without handing it to the tree path; only the coercions (a string
/// where a number or boolean belongs) go to the tree. Enums count a value they do not list as an
/// inexact match (what a union around them weighs), constants and zero-filled nulls as zeroes.
#[test]
fn the_stream_converts_every_kind_of_value_itself() {
    let str_node = node_where("a string", |n| matches!(n, Node::Str));
    let num = node_where("a number", |n| matches!(n, Node::Num));
    let int = node_where("an integer", |n| matches!(n, Node::Int));
    let boolean = node_where("a boolean", |n| matches!(n, Node::Bool));
    let enum_node = node_where("an enum", |n| matches!(n, Node::Enum(v) if !v.is_empty()));
    let Node::Enum(values) = tables::NODES[usize::from(enum_node)] else {
        unreachable!()
    };
    let konst = node_where("a constant", |n| matches!(n, Node::Const(_)));
    let Node::Const(k) = tables::NODES[usize::from(konst)] else {
        unreachable!()
    };
    let of_strings = node_where(
        "an array of strings",
        |n| matches!(n, Node::Array(i) if matches!(tables::NODES[usize::from(*i)], Node::Str)),
    );
    let record = node_where(
        "a record of numbers",
        |n| matches!(n, Node::Record(v) if matches!(tables::NODES[usize::from(*v)], Node::Num | Node::Int)),
    );
    let listed = format!("\"{}\"", values[0]);
    let constant = format!("\"{k}\"");
    // (node, input, output, inexact, zero, values given to the tree)
    let cases: Vec<(u16, &str, &str, u32, u32, usize)> = vec![
        // Strings keep their escapes as spelled (the tree would write `a/bé`).
        (str_node, r#""a\/b\u00e9""#, r#""a\/b\u00e9""#, 0, 0, 0),
        (str_node, "null", r#""""#, 1, 1, 0),
        (enum_node, &listed, &listed, 0, 0, 0),
        (
            enum_node,
            r#""zz_not_listed""#,
            r#""zz_not_listed""#,
            1,
            0,
            0,
        ),
        (konst, &constant, &constant, 0, 0, 0),
        (konst, "null", &constant, 1, 1, 0),
        (num, "-12.5", "-12.5", 0, 0, 0),
        (num, "null", "0", 1, 1, 0),
        (int, "7", "7", 0, 0, 0),
        (boolean, "true", "true", 0, 0, 0),
        (boolean, "false", "false", 0, 0, 0),
        (boolean, "null", "false", 1, 1, 0),
        (of_strings, r#"["a\/b", "c"]"#, r#"["a\/b", "c"]"#, 0, 0, 0),
        (of_strings, "[]", "[]", 0, 0, 0),
        (
            record,
            r#"{"a": 1, "b": 2.5}"#,
            r#"{"a": 1, "b": 2.5}"#,
            0,
            0,
            0,
        ),
    ];
    for (n, input, output, inexact, zero, trees) in cases {
        let (out, ctx, spans) = stream_at(n, input);
        assert_eq!(out, output, "node {n} on {input}");
        assert_eq!(
            (ctx.inexact, ctx.zero, spans),
            (inexact, zero, trees),
            "node {n} on {input}: (inexact, zero, values given to the tree)"
        );
    }
    // Spellings the tree writes otherwise: the stream's bytes are the tree's.
    for (n, input, trees) in [
        (num, "1e3", 0),
        (num, "1.0", 0),
        (num, r#""12""#, 1),
        (boolean, r#""true""#, 1),
    ] {
        let (out, _, spans) = stream_at(n, input);
        assert_eq!(out, tree_at(n, input), "node {n} on {input}");
        assert_eq!(
            spans, trees,
            "node {n} on {input}: values given to the tree"
        );
    }
}

/// An object field's string, number, boolean, object, or `null` where the field may be null, takes
/// `field_value`'s short path, in every object of the tables: none of them reaches the general
/// `conv`. The other kinds do (an enum field here), so the count can tell.
#[test]
fn common_field_values_take_the_short_path() {
    let mut short = 0;
    let mut general = 0;
    for (n, node) in tables::NODES.iter().enumerate() {
        let Node::Object(fields) = node else { continue };
        let n = u16::try_from(n).unwrap();
        for f in fields.iter() {
            // The values to try, and whether they go to `conv`.
            let (values, is_enum): (&[&str], bool) = match tables::NODES[usize::from(f.node)] {
                Node::Str => (&["\"s\""], false),
                Node::Num => (&["-1.5", "7"], false),
                Node::Int => (&["7"], false),
                Node::Bool => (&["true", "false"], false),
                Node::Object(_) => (&["{}"], false),
                Node::Enum(_) => (&["\"zz_not_listed\""], true),
                _ => (&[], false),
            };
            let nulls: &[&str] = if f.nullable { &["null"] } else { &[] };
            for value in values.iter().chain(nulls) {
                let text = format!("{{\"{}\":{value}}}", f.snake);
                stream::GENERAL_FIELDS.set(0);
                // Other required fields are missing, so the object may fail: the field's value was
                // read before that.
                let _ = stream::convert_counting(n, text.as_bytes());
                let taken = stream::GENERAL_FIELDS.get();
                if is_enum && *value != "null" {
                    assert_eq!(taken, 1, "node {n}: {text}: an enum goes to `conv`");
                    general += 1;
                } else {
                    assert_eq!(taken, 0, "node {n}: {text} left the short path");
                    short += 1;
                }
            }
        }
    }
    assert!(
        short > 200 && general > 20,
        "only {short} short and {general} general cases"
    );
}

/// A plain value of node `n`: scalars as the simplest value of their kind, arrays of one element,
/// objects with their required fields, records empty (`None` where there is none).
fn plain_value(n: u16, depth: u32) -> Option<Value> {
    if depth > 8 {
        return None;
    }
    Some(match tables::NODES[usize::from(n)] {
        Node::Str => json!("s"),
        Node::Num | Node::Int => json!(1),
        Node::Bool => json!(true),
        Node::Enum(values) => json!(values.first()?),
        Node::Const(k) => json!(k),
        Node::Array(x) => json!([plain_value(x, depth + 1)?]),
        Node::Record(_) => json!({}),
        Node::Object(fields) => {
            let mut m = serde_json::Map::new();
            for f in fields.iter().filter(|f| f.required) {
                m.insert(f.snake.to_owned(), plain_value(f.node, depth + 1)?);
            }
            Value::Object(m)
        }
        Node::Union(members) => members.iter().find_map(|&m| plain_value(m, depth + 1))?,
        Node::Any | Node::Null => return None,
    })
}

/// An array of more objects than the nesting limit, each holding an array: each inner array read
/// leaves the depth as it was, so the stream converts them all itself (and agrees with the tree).
#[test]
fn the_stream_reads_more_sibling_arrays_than_the_nesting_limit() {
    // An array of objects with an array field; the element built from plain values.
    let element = tables::NODES.iter().enumerate().find_map(|(i, n)| {
        let Node::Array(item) = n else { return None };
        let Node::Object(fields) = tables::NODES[usize::from(*item)] else {
            return None;
        };
        let list = fields
            .iter()
            .find(|f| matches!(tables::NODES[usize::from(f.node)], Node::Array(_)))?;
        let Value::Object(mut m) = plain_value(*item, 0)? else {
            return None;
        };
        m.insert(list.snake.to_owned(), plain_value(list.node, 1)?);
        Some((i as u16, Value::Object(m)))
    });
    let (outer, element) = element.expect("the tables have an array of objects holding an array");
    let input = Value::Array(vec![element; 150]);
    let out = stream::convert(outer, &serde_json::to_vec(&input).unwrap())
        .unwrap_or_else(|| panic!("150 objects holding an array stream: {input}"));
    let out: Value = serde_json::from_slice(&out).unwrap();
    let tree = response::convert(outer, Some(input), &mut response::Ctx::default(), 0);
    assert_eq!(Ok(Some(out)), tree.map_err(|e| e.message));
}

/// `v` as compact JSON with every object's keys in reverse alphabetical order.
fn reversed_keys(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().rev().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                reversed_keys(v, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                reversed_keys(v, out);
            }
            out.push(']');
        }
        _ => out.push_str(&v.to_string()),
    }
}

/// The load comparison's customer (Autumn's key order, pretty-printed), its keys sorted and its
/// keys reversed: each is converted by the stream alone, nothing handed to the tree, as the tree
/// converts it. The same answer with a key repeated (right after itself, or after other keys) goes
/// to the tree, whose last key wins.
#[test]
fn the_stream_reads_an_answer_whatever_its_key_order() {
    let text = include_str!("../../../benches/load/fixtures/customer.json");
    let input: Value = serde_json::from_str(text).unwrap();
    let root = tables::RESPONSE_ROOTS[Op::CustomersGetOrCreate.index()];
    let expected = response_to_browser(Op::CustomersGetOrCreate, input.clone()).unwrap();
    let mut reversed = String::new();
    reversed_keys(&input, &mut reversed);
    for (order, text) in [
        ("Autumn's", text.to_owned()),
        ("sorted", input.to_string()),
        ("reversed", reversed),
    ] {
        stream::TREE_SPANS.set(0);
        let out = stream::convert(root, text.as_bytes())
            .unwrap_or_else(|| panic!("the customer with its keys in {order} order streams"));
        assert_eq!(
            stream::TREE_SPANS.get(),
            0,
            "{order} order: values given to the tree"
        );
        let out: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(out, expected, "{order} order");
    }
    let compact = input.to_string();
    for repeated in [
        compact.replacen(r#""email":"#, r#""email":"x","email":"#, 1),
        compact.replacen(r#""fingerprint":"#, r#""email":"y","fingerprint":"#, 1),
    ] {
        assert!(
            stream::convert(root, repeated.as_bytes()).is_none(),
            "{repeated}"
        );
    }
}

/// A union of scalars with a string member and a number member (a price tier's upper bound, a
/// feature's value) takes a number with its number member and a string with its string member
/// without the tree path, and answers as the tree does: an exact match always beats a coercion.
/// Other spellings (a numeric or boolean string where no string member is exact) stay the tree's.
#[test]
fn the_stream_decides_unions_of_a_number_and_a_string_itself() {
    let mut checked = 0;
    for (u, n) in tables::NODES.iter().enumerate() {
        let Node::Union(members) = n else { continue };
        let kinds: Vec<&Node> = members.iter().map(|&m| node(m)).collect();
        let scalars = kinds
            .iter()
            .all(|k| matches!(k, Node::Str | Node::Num | Node::Int | Node::Bool));
        let has = |pick: fn(&Node) -> bool| kinds.iter().any(|k| pick(k));
        if !scalars
            || !has(|k| matches!(k, Node::Str))
            || !has(|k| matches!(k, Node::Num | Node::Int))
        {
            continue;
        }
        let u = u16::try_from(u).unwrap();
        for text in [
            "12",
            "-0.5",
            "0",
            "10.0",
            "1e3",
            "-7",
            r#""12""#,
            r#""true""#,
            r#""a tier""#,
            r#""""#,
        ] {
            let (out, ctx, spans) = stream_at(u, text);
            assert_eq!(spans, 0, "union {u} handed {text} to the tree path");
            let mut tree_ctx = response::Ctx::default();
            let input: Value = serde_json::from_str(text).unwrap();
            let expected = response::convert(u, Some(input), &mut tree_ctx, 0)
                .unwrap()
                .unwrap();
            assert_eq!(
                serde_json::from_str::<Value>(&out).unwrap(),
                expected,
                "union {u} on {text}"
            );
            assert_eq!(
                (ctx.inexact, ctx.zero),
                (tree_ctx.inexact, tree_ctx.zero),
                "union {u} on {text}"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 20,
        "only {checked} cases: the tables have fewer such unions"
    );
}
