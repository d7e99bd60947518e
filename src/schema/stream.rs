//! The response side in one pass: Autumn's answer bytes to the browser's JSON bytes, with no
//! `Value` tree in between.
//!
//! It produces the same JSON as [`super::response_to_browser`] on the parsed answer (keys may come
//! in another order, which JSON does not see), but reads the input once with a byte scanner made for
//! this transcoding and writes the output as it goes: known keys are written in camelCase straight
//! from the generated tables, strings, numbers and free-form values are copied as the input spells
//! them (after checking them as strictly as serde_json's parser), unknown keys are skipped. Unions
//! are resolved as the tree path does, by converting the value with each member that may accept it
//! and keeping the best fitting output. The rare values that need the tree's coercions (a
//! non-string where a string belongs, a numeric string, an escaped enum value) are parsed alone
//! and handed to the tree path.
//!
//! Whenever this pass cannot be sure of giving the tree path's answer (input serde_json might
//! refuse, a repeated key, nesting past the limits, an escaped key) it gives up and returns `None`;
//! the caller then runs the tree path, which produces the answer or the precise error. So errors
//! never come from here.
//!
//! Differences from the tree path's bytes, all invisible to a JSON parser: keys in input order,
//! strings keep their escapes as the input spelled them (`\u00e9` stays, `\/` stays), and numbers
//! of free-form values keep their spelling (`1e3` stays `1e3`; the tree writes `1000.0`).

use serde_json::Value;

use super::response::{self, Ctx};
use super::{js_number_value, node, union_better, Candidate, Def, Field, Node, MAX_DEPTH};

/// Converts Autumn's answer for the node `root`; `None` when the tree path must decide.
pub(super) fn convert(root: u16, input: &[u8]) -> Option<Vec<u8>> {
    // One UTF-8 check of the whole answer (vectorised): string contents are then copied unchecked.
    std::str::from_utf8(input).ok()?;
    let mut s = Scan {
        b: input,
        i: 0,
        out: Vec::with_capacity(input.len() + 128),
        ctx: Ctx::default(),
        keys: Vec::new(),
        nest: 0,
    };
    s.ws();
    let wrote = s.conv(root, NullRule::Convert, 0).ok()?;
    s.ws();
    if s.i != input.len() {
        return None;
    }
    match wrote {
        Wrote::Value => Some(s.out),
        Wrote::Absent => None,
    }
}

/// What a value came out as.
enum Wrote {
    Value,
    /// Nothing (an optional field that arrived as `null`): the caller removes its key.
    Absent,
}

/// What a `null` becomes where it stands.
#[derive(Clone, Copy)]
enum NullRule {
    /// A nullable field: `null` stays.
    Keep,
    /// An optional field without a default: the field is dropped.
    Drop,
    /// Anything else: the node's own rule (a zero value, or a failure).
    Convert,
}

/// Why a conversion stopped.
#[derive(Debug)]
enum Stop {
    /// Not sure what the tree path would do (or the input is not JSON serde_json takes): the tree
    /// path decides the whole answer, or the whole union member set.
    GiveUp,
    /// The tree path certainly refuses this value at this node (a union then tries other members).
    Fail,
}

type R<T> = Result<T, Stop>;

/// Deepest nesting of arrays and objects followed (serde_json refuses more than 128).
const MAX_NEST: u32 = 100;

/// Repeated-key checks compare every pair up to this many keys, and sort above it.
const PAIRWISE_KEYS: usize = 16;

fn write_value(out: &mut Vec<u8>, v: &Value) {
    // Writing a `Value` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

/// Starts an element of an array or object: a comma unless it is the first. Returns where the element
/// starts, to take it back if it comes out absent.
fn begin(out: &mut Vec<u8>, first: bool) -> usize {
    let mark = out.len();
    if !first {
        out.push(b',');
    }
    mark
}

/// `"name":` for a field name from the generated tables (plain identifiers: nothing to escape).
fn write_field_name(out: &mut Vec<u8>, name: &str) {
    out.reserve(name.len() + 3);
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// A missing field's default, `"name":value`, as the tree path writes it (`Def::to_value`) but without
/// building the value; false when the field has none.
fn write_default(out: &mut Vec<u8>, first: bool, f: &Field) -> bool {
    let structured = match f.default {
        Def::None => return false,
        Def::Float(_) | Def::Json(_) => match f.default.to_value() {
            Some(v) => Some(v),
            None => return false,
        },
        _ => None,
    };
    begin(out, first);
    write_field_name(out, f.camel);
    match (&f.default, structured) {
        (_, Some(v)) => write_value(out, &v),
        (Def::Bool(b), None) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        (Def::Int(i), None) => {
            let _ = serde_json::to_writer(&mut *out, i);
        }
        (Def::Str(s), None) => write_str(out, s),
        _ => {}
    }
    true
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Bytes that end the plain run of a string: `"`, `\` and the control characters.
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The bytes of `v` (eight bytes of a string, little-endian) that are `"`, `\` or below 0x20, each
/// flagged by its high bit. The lowest flag is exact (borrows only run upwards from a flagged byte), so
/// `trailing_zeros() / 8` is the first such byte.
#[inline]
fn string_stops(v: u64) -> u64 {
    let quote = v ^ (ONES * u64::from(b'"'));
    let backslash = v ^ (ONES * u64::from(b'\\'));
    ((quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
        | (v.wrapping_sub(ONES * 0x20) & !v))
        & HIGHS
}

#[inline]
fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// Byte equality for short names, without a call to `memcmp`.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

fn hex4(b: &[u8], i: usize) -> R<u32> {
    let d = b.get(i..i + 4).ok_or(Stop::GiveUp)?;
    let mut v = 0u32;
    for &c in d {
        let x = (c as char).to_digit(16).ok_or(Stop::GiveUp)?;
        v = v * 16 + x;
    }
    Ok(v)
}

/// The escape whose letter is at `i` (after the `\`); returns where the string goes on. A `\u`
/// surrogate must come as a pair (serde_json refuses a lone one).
fn escape(b: &[u8], i: usize) -> R<usize> {
    match b.get(i) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 1),
        Some(b'u') => {
            let u = hex4(b, i + 1)?;
            if (0xD800..0xDC00).contains(&u) {
                if b.get(i + 5) == Some(&b'\\') && b.get(i + 6) == Some(&b'u') {
                    let low = hex4(b, i + 7)?;
                    if (0xDC00..0xE000).contains(&low) {
                        return Ok(i + 11);
                    }
                }
                Err(Stop::GiveUp)
            } else if (0xDC00..0xE000).contains(&u) {
                Err(Stop::GiveUp)
            } else {
                Ok(i + 5)
            }
        }
        _ => Err(Stop::GiveUp),
    }
}

/// Where the plain run of a string starting at `i` ends: the first `"`, `\` or control character (or
/// the end of the input). Eight bytes at a time.
#[inline]
fn plain_run(b: &[u8], mut i: usize) -> usize {
    while i + 8 <= b.len() {
        let stops = string_stops(word(b, i));
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !STRING_STOP[usize::from(b[i])] {
        i += 1;
    }
    i
}

/// Counts the leaf values of JSON text this pass wrote, as `count_leaves` counts them in a tree.
fn count_leaves_text(t: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < t.len() {
        match t[i] {
            b'"' => {
                i += 1;
                while i < t.len() && t[i] != b'"' {
                    i += if t[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                while i < t.len() && matches!(t[i], b' ' | b'\n' | b'\r' | b'\t') {
                    i += 1;
                }
                // A key is no leaf.
                if t.get(i) != Some(&b':') {
                    n += 1;
                }
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                n += 1;
                while i < t.len()
                    && (t[i].is_ascii_alphanumeric() || matches!(t[i], b'+' | b'-' | b'.'))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    n
}

/// The scanner: the input, where it stands, and the output written so far.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    out: Vec<u8>,
    /// How loosely the current union member matched (the tree path's `Ctx`).
    ctx: Ctx,
    /// Spans of the keys of the objects being checked for repeated keys (innermost last).
    keys: Vec<(usize, usize)>,
    nest: u32,
}

impl Scan<'_> {
    #[inline]
    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    /// Skips whitespace (Autumn's answers are minified: one comparison when there is none).
    #[inline]
    fn ws(&mut self) {
        if self.peek() <= b' ' {
            self.ws_run();
        }
    }

    #[inline(never)]
    fn ws_run(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> R<()> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Stop::GiveUp)
        }
    }

    /// After a member of an array or object: true at its end (`]` or `}` consumed), false after a
    /// comma.
    #[inline]
    fn next_or_end(&mut self, close: u8) -> R<bool> {
        self.ws();
        match self.peek() {
            b',' => {
                self.i += 1;
                self.ws();
                Ok(false)
            }
            c if c == close => {
                self.i += 1;
                Ok(true)
            }
            _ => Err(Stop::GiveUp),
        }
    }

    /// At `[` or `{`: steps in; true when the container is empty (and already closed).
    fn open(&mut self, close: u8) -> R<bool> {
        self.nest += 1;
        if self.nest > MAX_NEST {
            return Err(Stop::GiveUp);
        }
        self.i += 1;
        self.ws();
        if self.peek() == close {
            self.i += 1;
            self.nest -= 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// At a `"`: moves past the string, checked as serde_json checks it; true when it holds an escape.
    #[inline]
    fn string(&mut self) -> R<bool> {
        let i = plain_run(self.b, self.i + 1);
        if self.b.get(i) == Some(&b'"') {
            self.i = i + 1;
            return Ok(false);
        }
        self.escaped_string(i)
    }

    /// The rest of a string from `i`, where `plain_run` stopped at something other than its end.
    #[cold]
    #[inline(never)]
    fn escaped_string(&mut self, mut i: usize) -> R<bool> {
        let b = self.b;
        loop {
            match b.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return Ok(true);
                }
                Some(b'\\') => i = plain_run(b, escape(b, i + 1)?),
                _ => return Err(Stop::GiveUp),
            }
        }
    }

    /// At a number: moves past it, checked as serde_json checks it. True when it is an integer
    /// serde_json reads as one and writes back the same (at most 18 digits, not `-0`).
    fn number(&mut self) -> R<bool> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let negative = b.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        let int_start = i;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => return Err(Stop::GiveUp),
        }
        let mut simple = i - int_start <= 18 && !(negative && b[int_start] == b'0');
        if b.get(i) == Some(&b'.') {
            i += 1;
            let d = i;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            if i == d {
                return Err(Stop::GiveUp);
            }
            simple = false;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let d = i;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            if i == d {
                return Err(Stop::GiveUp);
            }
            simple = false;
        }
        self.i = i;
        if !simple {
            // serde_json refuses numbers out of f64's range: let it say.
            self.parse_number(start)?;
        }
        Ok(simple)
    }

    /// The number spelled from `start` to the current position, as serde_json reads it.
    #[cold]
    #[inline(never)]
    fn parse_number(&self, start: usize) -> R<serde_json::Number> {
        let text = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| Stop::GiveUp)?;
        serde_json::from_str(text).map_err(|_| Stop::GiveUp)
    }

    /// Moves past any value, checked as serde_json checks it. With `repeats`, an object with a
    /// repeated (or escaped) key is refused: a tree would keep only the last one, the copy both.
    fn skip(&mut self, repeats: bool) -> R<()> {
        match self.peek() {
            b'"' => {
                self.string()?;
            }
            b'{' => {
                if self.open(b'}')? {
                    return Ok(());
                }
                let mark = self.keys.len();
                loop {
                    if self.peek() != b'"' {
                        return Err(Stop::GiveUp);
                    }
                    let k = self.i;
                    let escaped = self.string()?;
                    if repeats {
                        if escaped {
                            return Err(Stop::GiveUp);
                        }
                        self.keys.push((k, self.i));
                    }
                    self.colon()?;
                    self.skip(repeats)?;
                    if self.next_or_end(b'}')? {
                        break;
                    }
                }
                if repeats {
                    self.check_repeats(mark)?;
                }
                self.nest -= 1;
            }
            b'[' => {
                if self.open(b']')? {
                    return Ok(());
                }
                loop {
                    self.skip(repeats)?;
                    if self.next_or_end(b']')? {
                        break;
                    }
                }
                self.nest -= 1;
            }
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            b'-' | b'0'..=b'9' => {
                self.number()?;
            }
            _ => return Err(Stop::GiveUp),
        }
        Ok(())
    }

    /// `:` between a key and its value, and the whitespace around it.
    #[inline]
    fn colon(&mut self) -> R<()> {
        self.ws();
        if self.peek() != b':' {
            return Err(Stop::GiveUp);
        }
        self.i += 1;
        self.ws();
        Ok(())
    }

    /// Refuses a repeated key among the key spans from `mark` on, then forgets them.
    fn check_repeats(&mut self, mark: usize) -> R<()> {
        let b = self.b;
        let keys = &mut self.keys[mark..];
        let repeated = if keys.len() <= PAIRWISE_KEYS {
            keys.iter()
                .enumerate()
                .any(|(j, &(s, e))| keys[..j].iter().any(|&(s2, e2)| b[s..e] == b[s2..e2]))
        } else {
            keys.sort_unstable_by(|&(s, e), &(s2, e2)| b[s..e].cmp(&b[s2..e2]));
            keys.windows(2)
                .any(|w| b[w[0].0..w[0].1] == b[w[1].0..w[1].1])
        };
        self.keys.truncate(mark);
        if repeated {
            Err(Stop::GiveUp)
        } else {
            Ok(())
        }
    }

    /// Copies the value at the current position as it is spelled (a free-form value).
    #[inline(never)]
    fn copy(&mut self) -> R<Wrote> {
        let start = self.i;
        self.skip(true)?;
        self.out.extend_from_slice(&self.b[start..self.i]);
        Ok(Wrote::Value)
    }

    /// The value from the current position converted by the tree path (for the tree's coercions).
    #[cold]
    #[inline(never)]
    fn tree(&mut self, n: u16, depth: u32) -> R<Wrote> {
        let start = self.i;
        self.skip(false)?;
        self.tree_span(n, start, depth)
    }

    /// The value from `start` to the current position converted by the tree path.
    #[cold]
    #[inline(never)]
    fn tree_span(&mut self, n: u16, start: usize, depth: u32) -> R<Wrote> {
        let text = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| Stop::GiveUp)?;
        let v: Value = serde_json::from_str(text).map_err(|_| Stop::GiveUp)?;
        match response::convert(n, Some(v), &mut self.ctx, depth) {
            Ok(Some(v)) => {
                write_value(&mut self.out, &v);
                Ok(Wrote::Value)
            }
            Ok(None) => Ok(Wrote::Absent),
            Err(_) => Err(Stop::Fail),
        }
    }

    /// The value at the current position (whitespace skipped) converted by node `n` and written.
    fn conv(&mut self, n: u16, null: NullRule, depth: u32) -> R<Wrote> {
        if depth > MAX_DEPTH {
            return Err(Stop::GiveUp);
        }
        let c = self.peek();
        if c == b'n' {
            match null {
                NullRule::Keep => {
                    self.literal(b"null")?;
                    self.out.extend_from_slice(b"null");
                    return Ok(Wrote::Value);
                }
                NullRule::Drop => {
                    self.literal(b"null")?;
                    self.ctx.inexact += 1;
                    return Ok(Wrote::Absent);
                }
                NullRule::Convert => {}
            }
        }
        match node(n) {
            Node::Any => self.copy(),
            Node::Null => {
                if c != b'n' {
                    return Err(Stop::Fail);
                }
                self.literal(b"null")?;
                self.out.extend_from_slice(b"null");
                Ok(Wrote::Value)
            }
            Node::Str => match c {
                b'"' => {
                    let start = self.i;
                    self.string()?;
                    self.out.extend_from_slice(&self.b[start..self.i]);
                    Ok(Wrote::Value)
                }
                b'n' => {
                    self.literal(b"null")?;
                    self.zero();
                    self.out.extend_from_slice(b"\"\"");
                    Ok(Wrote::Value)
                }
                // Any other value becomes its JSON text.
                _ => self.tree(n, depth),
            },
            Node::Enum(values) => {
                if c != b'"' {
                    return Err(Stop::Fail);
                }
                let start = self.i;
                if self.string()? {
                    self.i = start;
                    return self.tree(n, depth);
                }
                let text = &self.b[start + 1..self.i - 1];
                if !values.iter().any(|v| v.as_bytes() == text) {
                    self.ctx.inexact += 1;
                }
                self.out.extend_from_slice(&self.b[start..self.i]);
                Ok(Wrote::Value)
            }
            Node::Const(k) => match c {
                b'"' => {
                    let start = self.i;
                    if self.string()? {
                        self.i = start;
                        return self.tree(n, depth);
                    }
                    if &self.b[start + 1..self.i - 1] != k.as_bytes() {
                        return Err(Stop::Fail);
                    }
                    self.out.extend_from_slice(&self.b[start..self.i]);
                    Ok(Wrote::Value)
                }
                b'n' => {
                    self.literal(b"null")?;
                    self.zero();
                    write_str(&mut self.out, k);
                    Ok(Wrote::Value)
                }
                _ => Err(Stop::Fail),
            },
            Node::Num | Node::Int => match c {
                b'-' | b'0'..=b'9' => {
                    let start = self.i;
                    if self.number()? {
                        // An integer is written as it is (what `js_number_value` keeps it as).
                        self.out.extend_from_slice(&self.b[start..self.i]);
                    } else {
                        let v = js_number_value(self.parse_number(start)?);
                        write_value(&mut self.out, &v);
                    }
                    Ok(Wrote::Value)
                }
                b'n' => {
                    self.literal(b"null")?;
                    self.zero();
                    self.out.push(b'0');
                    Ok(Wrote::Value)
                }
                // A numeric string becomes its number.
                b'"' => self.tree(n, depth),
                _ => Err(Stop::Fail),
            },
            Node::Bool => match c {
                b't' => {
                    self.literal(b"true")?;
                    self.out.extend_from_slice(b"true");
                    Ok(Wrote::Value)
                }
                b'f' => {
                    self.literal(b"false")?;
                    self.out.extend_from_slice(b"false");
                    Ok(Wrote::Value)
                }
                b'n' => {
                    self.literal(b"null")?;
                    self.zero();
                    self.out.extend_from_slice(b"false");
                    Ok(Wrote::Value)
                }
                b'"' => self.tree(n, depth),
                _ => Err(Stop::Fail),
            },
            Node::Array(item) => {
                if c != b'[' {
                    return Err(Stop::Fail);
                }
                self.out.push(b'[');
                if !self.open(b']')? {
                    let mut first = true;
                    loop {
                        begin(&mut self.out, first);
                        first = false;
                        // An element that comes out absent is JSON `null`.
                        if let Wrote::Absent = self.conv(*item, NullRule::Convert, depth + 1)? {
                            self.out.extend_from_slice(b"null");
                        }
                        if self.next_or_end(b']')? {
                            break;
                        }
                    }
                    self.nest -= 1;
                }
                self.out.push(b']');
                Ok(Wrote::Value)
            }
            Node::Record(val) => {
                if c != b'{' {
                    return Err(Stop::Fail);
                }
                if matches!(node(*val), Node::Any) {
                    // User data kept as it is.
                    return self.copy();
                }
                self.record(*val, depth)
            }
            Node::Object(fields) => {
                if c != b'{' {
                    return Err(Stop::Fail);
                }
                self.object(fields, depth)
            }
            Node::Union(members) => self.union(n, members, depth),
        }
    }

    /// A missing or `null` scalar filled with its zero value.
    fn zero(&mut self) {
        self.ctx.zero += 1;
        self.ctx.inexact += 1;
    }

    #[inline(never)]
    fn record(&mut self, val: u16, depth: u32) -> R<Wrote> {
        self.out.push(b'{');
        if !self.open(b'}')? {
            let mark = self.keys.len();
            let mut first = true;
            loop {
                if self.peek() != b'"' {
                    return Err(Stop::GiveUp);
                }
                let k = self.i;
                if self.string()? {
                    return Err(Stop::GiveUp);
                }
                let key_end = self.i;
                self.keys.push((k, key_end));
                self.colon()?;
                let at = begin(&mut self.out, first);
                self.out.extend_from_slice(&self.b[k..key_end]);
                self.out.push(b':');
                match self.conv(val, NullRule::Convert, depth + 1)? {
                    Wrote::Value => first = false,
                    Wrote::Absent => self.out.truncate(at),
                }
                if self.next_or_end(b'}')? {
                    break;
                }
            }
            // A repeated user key: the last one wins in a tree; let the tree path say.
            self.check_repeats(mark)?;
            self.nest -= 1;
        }
        self.out.push(b'}');
        Ok(Wrote::Value)
    }

    fn object(&mut self, fields: &'static [Field], depth: u32) -> R<Wrote> {
        if fields.len() > 128 {
            // Wider than `seen` tracks (the generator keeps objects narrower).
            return Err(Stop::GiveUp);
        }
        self.out.push(b'{');
        let mut first = true;
        let mut seen: u128 = 0;
        if !self.open(b'}')? {
            let mut next = 0;
            loop {
                if self.peek() != b'"' {
                    return Err(Stop::GiveUp);
                }
                let k = self.i;
                if self.string()? {
                    // An escaped key might spell a known name: the tree path decides.
                    return Err(Stop::GiveUp);
                }
                let b = self.b;
                let key = &b[k + 1..self.i - 1];
                self.colon()?;
                let found = find_field(fields, next, key);
                if let Some(i) = found {
                    next = i + 1;
                    // `fields` has at most 128 entries (checked above).
                    let bit = 1u128 << (i & 127);
                    if seen & bit != 0 {
                        // A repeated key (the tree keeps the last one).
                        return Err(Stop::GiveUp);
                    }
                    seen |= bit;
                    let f = &fields[i];
                    let at = begin(&mut self.out, first);
                    write_field_name(&mut self.out, f.camel);
                    let null = if f.nullable {
                        NullRule::Keep
                    } else if f.drops_null() {
                        NullRule::Drop
                    } else {
                        NullRule::Convert
                    };
                    match self.conv(f.node, null, depth + 1)? {
                        Wrote::Value => first = false,
                        Wrote::Absent => self.out.truncate(at),
                    }
                } else {
                    // Unknown keys are dropped (their values still checked: the tree parses them).
                    self.skip(false)?;
                }
                if self.next_or_end(b'}')? {
                    break;
                }
            }
            self.nest -= 1;
        }
        // The fields the answer lacks, in order: the clear bits of `seen` below the field count.
        let mut missing = !seen & (u128::MAX >> (128 - fields.len().clamp(1, 128)));
        if fields.is_empty() {
            missing = 0;
        }
        while missing != 0 {
            let i = missing.trailing_zeros() as usize;
            missing &= missing - 1;
            let f = &fields[i];
            if write_default(&mut self.out, first, f) {
                first = false;
            } else if f.required && !matches!(node(f.node), Node::Any) {
                return Err(Stop::Fail);
            }
        }
        self.out.push(b'}');
        Ok(Wrote::Value)
    }

    /// A union, resolved as the tree path's `union` does: each member that may take the value
    /// converts it, the best fitting output stays.
    #[inline(never)]
    fn union(&mut self, n: u16, members: &'static [u16], depth: u32) -> R<Wrote> {
        let start = self.i;
        let (nest, keys) = (self.nest, self.keys.len());
        // Where the value ends (and that it is JSON), for members that fail half way.
        self.skip(false)?;
        let end = self.i;
        let c = self.b[start];
        let text = if c == b'"' {
            let t = &self.b[start + 1..end - 1];
            if t.contains(&b'\\') {
                // A constant might match the decoded string: the tree path decides.
                return self.tree_span(n, start, depth);
            }
            Some(t)
        } else {
            None
        };
        let mut fits = members
            .iter()
            .copied()
            .filter(|&m| may_accept(m, c, text, depth + 1));
        let Some(first) = fits.next() else {
            return Err(Stop::Fail);
        };
        let Some(second) = fits.next() else {
            // Only one member can take this value: converted in place.
            self.i = start;
            return self.conv(first, NullRule::Convert, depth + 1);
        };
        let outer = std::mem::take(&mut self.ctx);
        let mark = self.out.len();
        // The best output so far sits at `mark..mark + best_len`; each try is written after it.
        let mut best: Option<(Candidate, usize, bool)> = None;
        let best_len = |b: &Option<(Candidate, usize, bool)>| b.as_ref().map_or(0, |b| b.1);
        for m in [first, second].into_iter().chain(fits) {
            self.i = start;
            self.nest = nest;
            self.keys.truncate(keys);
            self.ctx = Ctx::default();
            let at = mark + best_len(&best);
            match self.conv(m, NullRule::Convert, depth + 1) {
                Ok(wrote) if self.i == end => {
                    let value = matches!(wrote, Wrote::Value);
                    let c = Candidate {
                        value: None,
                        inexact: self.ctx.inexact,
                        zero: self.ctx.zero,
                        fields: if value {
                            count_leaves_text(&self.out[at..])
                        } else {
                            0
                        },
                    };
                    match &best {
                        Some(b) if !union_better(&c, &b.0) => self.out.truncate(at),
                        _ => {
                            let len = self.out.len() - at;
                            self.out.copy_within(at.., mark);
                            self.out.truncate(mark + len);
                            best = Some((c, len, value));
                        }
                    }
                }
                Err(Stop::Fail) => self.out.truncate(at),
                Ok(_) | Err(Stop::GiveUp) => {
                    self.out.truncate(mark);
                    self.ctx = outer;
                    self.i = end;
                    self.nest = nest;
                    self.keys.truncate(keys);
                    return self.tree_span(n, start, depth);
                }
            }
        }
        self.i = end;
        self.nest = nest;
        self.keys.truncate(keys);
        self.ctx = outer;
        match best {
            Some((c, _, value)) => {
                self.ctx.inexact += c.inexact;
                self.ctx.zero += c.zero;
                Ok(if value { Wrote::Value } else { Wrote::Absent })
            }
            None => Err(Stop::Fail),
        }
    }
}

/// The index of the field named `key`. Autumn writes an object's keys in its schema's order, which is
/// the tables' order: the search starts at `next` (the field after the last one found) and wraps.
#[inline]
fn find_field(fields: &[Field], next: usize, key: &[u8]) -> Option<usize> {
    let matches = |f: &Field| {
        // Most names differ in length or first byte: skip the full comparison for them.
        f.snake.len() == key.len()
            && f.snake.as_bytes().first() == key.first()
            && same(f.snake.as_bytes(), key)
    };
    let next = next.min(fields.len());
    if let Some(i) = fields[next..].iter().position(matches) {
        return Some(next + i);
    }
    fields[..next].iter().position(matches)
}

/// Whether a value starting with byte `c` (`text`: a string's unescaped contents) can possibly
/// satisfy the node: the tree path's `may_accept`.
fn may_accept(n: u16, c: u8, text: Option<&[u8]>, depth: u32) -> bool {
    match node(n) {
        Node::Any | Node::Str => true,
        Node::Null => c == b'n',
        Node::Num | Node::Int => matches!(c, b'n' | b'"' | b'-' | b'0'..=b'9'),
        Node::Bool => matches!(c, b'n' | b'"' | b't' | b'f'),
        Node::Enum(_) => c == b'"',
        Node::Const(k) => match c {
            b'"' => text == Some(k.as_bytes()),
            b'n' => true,
            _ => false,
        },
        Node::Array(_) => c == b'[',
        Node::Record(_) | Node::Object(_) => c == b'{',
        Node::Union(members) => {
            depth < MAX_DEPTH && members.iter().any(|&m| may_accept(m, c, text, depth + 1))
        }
    }
}
