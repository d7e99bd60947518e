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
//! Most of the answer is copied rather than written: the scanner keeps the input from `pend` to
//! where it stands as output not yet copied, and copies it in one piece only where the output must
//! differ (a renamed key, a dropped member, a converted value, a default). An object member whose
//! name needs no renaming and whose value is kept as spelled costs no write at all.
//!
//! Whenever this pass cannot be sure of giving the tree path's answer (input serde_json might
//! refuse, a repeated key, nesting past the limits, an escaped key) it gives up and returns `None`;
//! the caller then runs the tree path, which produces the answer or the precise error. So errors
//! never come from here.
//!
//! Differences from the tree path's bytes, all invisible to a JSON parser: keys in input order,
//! strings keep their escapes as the input spelled them (`\u00e9` stays, `\/` stays), and numbers
//! of free-form values keep their spelling (`1e3` stays `1e3`; the tree writes `1000.0`).

mod scan;

use serde_json::Value;

use self::scan::{plain_run, same, Scan};
use super::response::{self, Ctx};
use super::{js_number_value, node, union_better, Candidate, Def, Field, Node, MAX_DEPTH};

/// Converts Autumn's answer for the node `root`; `None` when the tree path must decide.
pub(super) fn convert(root: u16, input: &[u8]) -> Option<Vec<u8>> {
    convert_counting(root, input).map(|(out, _)| out)
}

/// [`convert`], with how loosely the answer matched (what a union around it would weigh).
pub(super) fn convert_counting(root: u16, input: &[u8]) -> Option<(Vec<u8>, Ctx)> {
    // No UTF-8 check of the whole answer: outside strings only ASCII is grammatical, and strings
    // check their non-ASCII characters as they are scanned.
    let mut s = Scan {
        b: input,
        i: 0,
        pend: 0,
        out: Vec::with_capacity(input.len() + 128),
        ctx: Ctx::default(),
        keys: KEY_SPANS.take(),
        nest: 0,
    };
    let converted = s.run(root);
    let mut keys = std::mem::take(&mut s.keys);
    if keys.capacity() <= MAX_KEPT_SPANS {
        keys.clear();
        KEY_SPANS.set(keys);
    }
    match converted? {
        Wrote::Value => Some((s.out, s.ctx)),
        Wrote::Absent => None,
    }
}

thread_local! {
    /// The key-span buffer of the last conversion on this thread, kept for the next (its spans
    /// cleared): a conversion meeting free-form objects then allocates nothing for their keys.
    static KEY_SPANS: std::cell::Cell<Vec<(usize, usize)>> = const { std::cell::Cell::new(Vec::new()) };
}

#[cfg(test)]
thread_local! {
    /// How many values this thread's conversions handed to the tree path inside the stream (tests
    /// check that the common spellings never need it).
    pub(super) static TREE_SPANS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };

    /// How many object field values this thread's conversions left to the general `conv` (tests
    /// check that the common kinds of field value take `field_value`'s short paths).
    pub(super) static GENERAL_FIELDS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Key-span buffers larger than this are dropped rather than kept for the next conversion.
const MAX_KEPT_SPANS: usize = 1024;

impl Scan<'_> {
    /// The whole answer: one value between optional whitespace.
    fn run(&mut self, root: u16) -> Option<Wrote> {
        self.ws();
        self.pend = self.i;
        let wrote = self.conv(root, NullRule::Convert, 0).ok()?;
        self.flush(self.i);
        self.ws();
        (self.i == self.b.len()).then_some(wrote)
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

/// `"name":` after a comma unless the member is the object's first (`name`: a key as the input spells
/// it, already checked to hold no escape).
fn write_name(out: &mut Vec<u8>, first: bool, name: &[u8]) {
    out.reserve(name.len() + 4);
    if !first {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(name);
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
    out.extend_from_slice(&f.key.as_bytes()[usize::from(first)..]);
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

/// Counts the leaf values of JSON text this pass wrote, as `count_leaves` counts them in a tree.
fn count_leaves_text(t: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < t.len() {
        match t[i] {
            b'"' => {
                i += 1;
                loop {
                    i = plain_run(t, i);
                    match t.get(i) {
                        Some(b'"') | None => break,
                        Some(b'\\') => i += 2,
                        Some(_) => i += 1,
                    }
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

impl Scan<'_> {
    /// The output so far is `out` followed by the input from `pend` to `upto`: copies that input.
    #[inline]
    fn flush(&mut self, upto: usize) {
        self.out.extend_from_slice(&self.b[self.pend..upto]);
        self.pend = upto;
    }

    /// Takes back a member of an object or array that came out absent: the output is again what it
    /// was when the member began (`out_len` written, the input from `pend` on pending) followed by
    /// the input up to `start`, and nothing of the member's input is pending.
    fn take_back(&mut self, out_len: usize, pend: usize, start: usize) {
        let keep = out_len + (start - pend);
        if self.out.len() < keep {
            // Nothing of the member was written: what preceded it was still pending.
            self.flush(start);
        } else {
            self.out.truncate(keep);
        }
        self.pend = self.i;
    }

    /// Moves past the value at the current position, kept as it is spelled (a free-form value).
    #[inline(never)]
    fn copy(&mut self) -> R<Wrote> {
        self.skip(true)?;
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
        #[cfg(test)]
        TREE_SPANS.set(TREE_SPANS.get() + 1);
        let text = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| Stop::GiveUp)?;
        let v: Value = serde_json::from_str(text).map_err(|_| Stop::GiveUp)?;
        self.flush(start);
        self.pend = self.i;
        match response::convert(n, Some(v), &mut self.ctx, depth) {
            Ok(Some(v)) => {
                write_value(&mut self.out, &v);
                Ok(Wrote::Value)
            }
            Ok(None) => Ok(Wrote::Absent),
            Err(_) => Err(Stop::Fail),
        }
    }

    /// The literal `word` (`null`, `true`, `false`), kept as it is.
    #[inline]
    fn pass_literal(&mut self, word: &'static [u8]) -> R<Wrote> {
        self.literal(word)?;
        Ok(Wrote::Value)
    }

    /// Writes `text` in place of the input from `start` to the current position.
    #[cold]
    fn replace(&mut self, start: usize, text: &[u8]) {
        self.flush(start);
        self.out.extend_from_slice(text);
        self.pend = self.i;
    }

    /// A `null` where the node has a zero value: read, counted as zero-filled, written as `zero`.
    #[inline]
    fn null_as_zero(&mut self, zero: &'static [u8]) -> R<Wrote> {
        let start = self.i;
        self.literal(b"null")?;
        self.zero();
        self.replace(start, zero);
        Ok(Wrote::Value)
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
                    return self.pass_literal(b"null");
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
                self.pass_literal(b"null")
            }
            Node::Str => match c {
                b'"' => {
                    self.string()?;
                    Ok(Wrote::Value)
                }
                b'n' => self.null_as_zero(b"\"\""),
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
                    Ok(Wrote::Value)
                }
                b'n' => {
                    let start = self.i;
                    self.literal(b"null")?;
                    self.zero();
                    self.flush(start);
                    write_str(&mut self.out, k);
                    self.pend = self.i;
                    Ok(Wrote::Value)
                }
                _ => Err(Stop::Fail),
            },
            Node::Num | Node::Int => match c {
                b'-' | b'0'..=b'9' => {
                    let start = self.i;
                    // Kept as spelled when that is what `js_number_value` keeps.
                    if !self.number()? {
                        self.rewrite_number(start)?;
                    }
                    Ok(Wrote::Value)
                }
                b'n' => self.null_as_zero(b"0"),
                // A numeric string becomes its number.
                b'"' => self.tree(n, depth),
                _ => Err(Stop::Fail),
            },
            Node::Bool => match c {
                b't' => self.pass_literal(b"true"),
                b'f' => self.pass_literal(b"false"),
                b'n' => self.null_as_zero(b"false"),
                b'"' => self.tree(n, depth),
                _ => Err(Stop::Fail),
            },
            Node::Array(item) => {
                if c != b'[' {
                    return Err(Stop::Fail);
                }
                if !self.open(b']')? {
                    loop {
                        let (out_len, pend, start) = (self.out.len(), self.pend, self.i);
                        // An element that comes out absent is JSON `null`.
                        if let Wrote::Absent = self.conv(*item, NullRule::Convert, depth + 1)? {
                            self.take_back(out_len, pend, start);
                            self.out.extend_from_slice(b"null");
                        }
                        if self.next_or_end(b']')? {
                            break;
                        }
                    }
                    self.nest -= 1;
                }
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

    /// The value of field `f`: the common scalars kept as spelled here, the rest by `conv`.
    #[inline]
    fn field_value(&mut self, f: &Field, depth: u32) -> R<Wrote> {
        if depth <= MAX_DEPTH {
            match (node(f.node), self.peek()) {
                (Node::Str, b'"') => {
                    self.string()?;
                    return Ok(Wrote::Value);
                }
                (Node::Int | Node::Num, b'-' | b'0'..=b'9') => {
                    let start = self.i;
                    if !self.number()? {
                        self.rewrite_number(start)?;
                    }
                    return Ok(Wrote::Value);
                }
                (Node::Bool, b't') => return self.pass_literal(b"true"),
                (Node::Bool, b'f') => return self.pass_literal(b"false"),
                (_, b'n') if f.nullable => return self.pass_literal(b"null"),
                (Node::Object(fields), b'{') => return self.object(fields, depth),
                _ => {}
            }
        }
        #[cfg(test)]
        GENERAL_FIELDS.set(GENERAL_FIELDS.get() + 1);
        let null = if f.nullable {
            NullRule::Keep
        } else if f.drops_null() {
            NullRule::Drop
        } else {
            NullRule::Convert
        };
        self.conv(f.node, null, depth)
    }

    /// The number from `start` to the current position written as the tree path writes it.
    #[cold]
    #[inline(never)]
    fn rewrite_number(&mut self, start: usize) -> R<()> {
        let v = js_number_value(self.parse_number(start)?);
        self.flush(start);
        write_value(&mut self.out, &v);
        self.pend = self.i;
        Ok(())
    }

    /// A missing or `null` scalar filled with its zero value.
    fn zero(&mut self) {
        self.ctx.zero += 1;
        self.ctx.inexact += 1;
    }

    #[inline(never)]
    fn record(&mut self, val: u16, depth: u32) -> R<Wrote> {
        if !self.open(b'}')? {
            let mark = self.keys.len();
            // Whether nothing is written yet, and whether this is the input's first member: while
            // they agree, the member's comma (or its absence) is the output's.
            let (mut first, mut input_first) = (true, true);
            loop {
                // Where the member starts (before its comma): what came before is kept.
                let (out_len, pend, start) = (self.out.len(), self.pend, self.i);
                if !input_first {
                    self.next_member();
                }
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
                if first != input_first {
                    self.flush(start);
                    write_name(&mut self.out, first, &self.b[k + 1..key_end - 1]);
                    self.pend = self.i;
                }
                match self.conv(val, NullRule::Convert, depth + 1)? {
                    Wrote::Value => first = false,
                    Wrote::Absent => self.take_back(out_len, pend, start),
                }
                input_first = false;
                if self.at_end(b'}')? {
                    break;
                }
            }
            // A repeated user key: the last one wins in a tree; let the tree path say.
            self.check_repeats(mark)?;
            self.nest -= 1;
        }
        Ok(Wrote::Value)
    }

    fn object(&mut self, fields: &'static [Field], depth: u32) -> R<Wrote> {
        if fields.len() > 64 {
            // Wider than `seen` tracks (the generator keeps objects narrower).
            return Err(Stop::GiveUp);
        }
        // Whether nothing is written yet, and whether this is the input's first member: while they
        // agree, the member's comma (or its absence) is the output's.
        let (mut first, mut input_first) = (true, true);
        let mut seen: u64 = 0;
        if !self.open(b'}')? {
            let mut next = 0;
            // One past the highest field index found.
            let mut above = 0;
            loop {
                // Where the member starts (before its comma): what came before is kept.
                let (out_len, pend, start) = (self.out.len(), self.pend, self.i);
                if !input_first {
                    self.next_member();
                }
                if self.peek() != b'"' {
                    return Err(Stop::GiveUp);
                }
                // Autumn writes an object's keys in the tables' order: the expected field's name is
                // compared in place first (names are plain identifiers, so a match is the whole key).
                let found = match fields.get(next) {
                    Some(f) if self.key_is(f.snake.as_bytes()) => Some(next),
                    _ => {
                        let k = self.i;
                        if self.string()? {
                            // An escaped key might spell a known name: the tree path decides.
                            return Err(Stop::GiveUp);
                        }
                        let key_end = self.i;
                        self.colon()?;
                        find_field(fields, next, &self.b[k + 1..key_end - 1])
                    }
                };
                if let Some(i) = found {
                    next = i + 1;
                    // `fields` has at most 64 entries (checked above).
                    let bit = 1u64 << (i & 63);
                    // Past every field found so far, the key cannot be a repeat.
                    if i < above {
                        if seen & bit != 0 {
                            // A repeated key (the tree keeps the last one).
                            return Err(Stop::GiveUp);
                        }
                    } else {
                        above = next;
                    }
                    seen |= bit;
                    let f = &fields[i];
                    // The same length means the same name (a table test checks it): then the key
                    // as the input spells it is the output's.
                    if f.camel.len() != f.snake.len() || first != input_first {
                        self.flush(start);
                        self.out
                            .extend_from_slice(&f.key.as_bytes()[usize::from(first)..]);
                        self.pend = self.i;
                    }
                    match self.field_value(f, depth + 1)? {
                        Wrote::Value => first = false,
                        Wrote::Absent => self.take_back(out_len, pend, start),
                    }
                } else {
                    // Unknown keys are dropped (their values still checked: the tree parses them).
                    self.skip(false)?;
                    self.take_back(out_len, pend, start);
                }
                input_first = false;
                if self.at_end(b'}')? {
                    break;
                }
            }
            self.nest -= 1;
        }
        // The fields the answer lacks, in order: the clear bits of `seen` below the field count,
        // written before the closing brace.
        let close = self.i - 1;
        let mut missing = !seen & (u64::MAX >> (64 - fields.len().clamp(1, 64)));
        if fields.is_empty() {
            missing = 0;
        }
        while missing != 0 {
            let i = missing.trailing_zeros() as usize;
            missing &= missing - 1;
            let f = &fields[i];
            // Without a default nothing is written here, so the pending input stays pending.
            if matches!(f.default, Def::None) {
                if f.required && !matches!(node(f.node), Node::Any) {
                    return Err(Stop::Fail);
                }
                continue;
            }
            self.flush(close);
            if write_default(&mut self.out, first, f) {
                first = false;
            } else if f.required && !matches!(node(f.node), Node::Any) {
                return Err(Stop::Fail);
            }
        }
        Ok(Wrote::Value)
    }

    /// A union, resolved as the tree path's `union` does: each member that may take the value
    /// converts it, the best fitting output stays.
    #[inline(never)]
    fn union(&mut self, n: u16, members: &'static [u16], depth: u32) -> R<Wrote> {
        let start = self.i;
        let (nest, keys) = (self.nest, self.keys.len());
        let c = self.peek();
        // A string's contents, for the members that compare it. Containers are not looked through
        // first: a member that converts one consumes exactly it, so every success ends at the same
        // place.
        let text = if c == b'"' {
            if self.string()? {
                // A constant might match the decoded string: the tree path decides.
                return self.tree_span(n, start, depth);
            }
            Some(&self.b[start + 1..self.i - 1])
        } else {
            None
        };
        let mut fits = members
            .iter()
            .copied()
            .filter(|&m| may_accept(m, c, text, depth + 1));
        let Some(first) = fits.next() else {
            self.i = start;
            return Err(Stop::Fail);
        };
        let Some(second) = fits.next() else {
            // Only one member can take this value: converted in place.
            self.i = start;
            return self.conv(first, NullRule::Convert, depth + 1);
        };
        if let (Some(text), true) = (text, depth < MAX_DEPTH) {
            if let Some(inexact) = string_members(members, c, text, depth + 1) {
                // Every candidate is this string as spelled: only how exactly it matched differs.
                self.ctx.inexact += inexact;
                return Ok(Wrote::Value);
            }
        }
        if let Some(m) = number_member(members, c, depth + 1) {
            // A number, where the only other candidates are strings: the number member wins.
            self.i = start;
            return self.conv(m, NullRule::Convert, depth + 1);
        }
        let outer = std::mem::take(&mut self.ctx);
        self.flush(start);
        let mark = self.out.len();
        // The best output so far sits at `mark..mark + best_len`; each try is written after it.
        let mut best: Option<(Candidate, usize, bool)> = None;
        let best_len = |b: &Option<(Candidate, usize, bool)>| b.as_ref().map_or(0, |b| b.1);
        // Where the value ends: where the first member that converts it stops.
        let mut end = None;
        for m in [first, second].into_iter().chain(fits) {
            self.i = start;
            self.pend = start;
            self.nest = nest;
            self.keys.truncate(keys);
            self.ctx = Ctx::default();
            let at = mark + best_len(&best);
            match self.conv(m, NullRule::Convert, depth + 1) {
                Ok(wrote) if *end.get_or_insert(self.i) == self.i => {
                    self.flush(self.i);
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
                    self.pend = start;
                    self.ctx = outer;
                    self.nest = nest;
                    self.keys.truncate(keys);
                    // Where the value ends (and that it is JSON), for the tree path.
                    self.i = start;
                    self.skip(false)?;
                    return self.tree_span(n, start, depth);
                }
            }
        }
        self.nest = nest;
        self.keys.truncate(keys);
        self.ctx = outer;
        match (best, end) {
            (Some((c, _, value)), Some(end)) => {
                self.i = end;
                self.pend = end;
                self.ctx.inexact += c.inexact;
                self.ctx.zero += c.zero;
                Ok(if value { Wrote::Value } else { Wrote::Absent })
            }
            _ => {
                self.i = start;
                self.pend = start;
                Err(Stop::Fail)
            }
        }
    }
}

/// When every member of a union that may take the plain string `text` is a string, an enum or a
/// constant, each converts it to itself: how loosely the best of them matches (0, or 1 when it is
/// in none of the enums); `None` otherwise. Numbers and booleans may be among the members when one
/// of the others matches exactly: they take a string only as a coercion (inexact, or a failure),
/// which an exact match beats.
fn string_members(members: &[u16], c: u8, text: &[u8], depth: u32) -> Option<u32> {
    let (mut exact, mut coerced) = (false, false);
    for &m in members {
        if !may_accept(m, c, Some(text), depth) {
            continue;
        }
        match node(m) {
            // A constant may take it only when it is that constant.
            Node::Str | Node::Const(_) => exact = true,
            Node::Enum(values) => exact |= values.iter().any(|v| v.as_bytes() == text),
            Node::Num | Node::Int | Node::Bool => coerced = true,
            _ => return None,
        }
    }
    if coerced && !exact {
        return None;
    }
    Some(u32::from(!exact))
}

/// For a number (first byte `c`), the union member that converts it when every other member that
/// may take it is a string: the first number member, which converts it exactly where a string
/// member would be a coercion (inexact), so the tree keeps it. `None` otherwise.
fn number_member(members: &[u16], c: u8, depth: u32) -> Option<u16> {
    if !matches!(c, b'-' | b'0'..=b'9') {
        return None;
    }
    let mut number = None;
    for &m in members {
        if !may_accept(m, c, None, depth) {
            continue;
        }
        match node(m) {
            Node::Num | Node::Int => {
                number.get_or_insert(m);
            }
            Node::Str => {}
            _ => return None,
        }
    }
    number
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tables::NODES;

    /// `string_members` decides the unions whose candidates for a plain string are all strings,
    /// enums or constants (the tree would convert each and keep the best), or numbers and booleans
    /// beside a string member that matches exactly, and only those: a string member matches
    /// exactly, an enum exactly when it lists the text, and any other kind of member that may take
    /// a string leaves the union to the general path.
    #[test]
    fn string_members_decides_string_unions_only() {
        let (mut decided, mut coerced_and_decided) = (0, 0);
        for n in &NODES {
            let Node::Union(members) = n else { continue };
            let takes_string = |m: u16| may_accept(m, b'"', Some(b"zz_none"), 0);
            let kinds: Vec<&Node> = members
                .iter()
                .filter(|&&m| takes_string(m))
                .map(|&m| node(m))
                .collect();
            let stringy = kinds.iter().all(|k| {
                matches!(
                    k,
                    Node::Str | Node::Const(_) | Node::Enum(_) | Node::Num | Node::Int | Node::Bool
                )
            });
            let any_str = kinds.iter().any(|k| matches!(k, Node::Str));
            let coerced = kinds
                .iter()
                .any(|k| matches!(k, Node::Num | Node::Int | Node::Bool));
            let got = string_members(members, b'"', b"zz_none", 0);
            // A coercion could win unless a string member matches exactly.
            if !stringy || (coerced && !any_str) {
                assert_eq!(got, None, "{members:?}");
                continue;
            }
            decided += 1;
            assert_eq!(
                got,
                Some(u32::from(!any_str)),
                "{members:?} on an unknown text"
            );
            for k in &kinds {
                if let Node::Enum(values) = k {
                    let text = values[0].as_bytes();
                    assert_eq!(
                        string_members(members, b'"', text, 0),
                        Some(0),
                        "{members:?} on {:?}",
                        values[0]
                    );
                }
            }
            coerced_and_decided += usize::from(coerced);
        }
        assert!(decided > 0, "the tables have string unions");
        assert!(
            coerced_and_decided > 0,
            "the tables have a union of a string and a number or boolean"
        );
    }

    /// `number_member` picks the first number member of the unions whose other candidates for a
    /// number are strings, and decides no other union nor anything but a number.
    #[test]
    fn number_member_decides_number_or_string_unions_only() {
        let mut decided = 0;
        for n in &NODES {
            let Node::Union(members) = n else { continue };
            let candidates: Vec<u16> = members
                .iter()
                .copied()
                .filter(|&m| may_accept(m, b'1', None, 0))
                .collect();
            let first_number = candidates
                .iter()
                .copied()
                .find(|&m| matches!(node(m), Node::Num | Node::Int));
            let others_strings = candidates
                .iter()
                .all(|&m| matches!(node(m), Node::Num | Node::Int | Node::Str));
            let expected = if others_strings { first_number } else { None };
            for c in *b"-0123456789" {
                assert_eq!(number_member(members, c, 0), expected, "{members:?} on {c}");
            }
            for c in *b"\"tfn[{" {
                assert_eq!(number_member(members, c, 0), None, "{members:?} on {c}");
            }
            decided += usize::from(expected.is_some());
        }
        assert!(
            decided > 0,
            "the tables have a union of a number and a string"
        );
    }

    fn scan(b: &[u8]) -> Scan<'_> {
        Scan {
            b,
            i: 0,
            pend: 0,
            out: Vec::new(),
            ctx: Ctx::default(),
            keys: Vec::new(),
            nest: 0,
        }
    }

    /// `key_is` matches a key only as a whole, with its colon, and then stands past them and the
    /// whitespace after them; otherwise it does not move.
    #[test]
    fn key_is_matches_the_whole_key_and_its_colon() {
        let mut s = scan(br#"{"name": 1}"#);
        s.i = 1;
        assert!(s.key_is(b"name"));
        assert_eq!(s.i, 9, "past the key, its colon and the space");
        for (text, name) in [
            (r#"{"name":1}"#, "nam"),
            (r#"{"names":1}"#, "name"),
            (r#"{"name"1}"#, "name"),
            (r#"{"nbme":1}"#, "name"),
            (r#"{"name""#, "name"),
        ] {
            let mut s = scan(text.as_bytes());
            s.i = 1;
            assert!(!s.key_is(name.as_bytes()), "{text} is not {name}");
            assert_eq!(s.i, 1);
        }
    }

    /// `number` moves past a number and says whether the tree writes it back as spelled, wherever
    /// it stands in the answer.
    #[test]
    fn number_says_which_spellings_stay() {
        let cases: [(&str, bool); 15] = [
            ("0", true),
            ("-12", true),
            ("1771409161016", true),
            ("123456789012345678", true),
            ("1234567890123456789", false),
            ("-0", false),
            ("188.5", true),
            ("0.002", true),
            // Leading zeros of the fraction are not significant digits, however many.
            ("0.0000000001234", true),
            ("0.000000000000000012", true),
            ("12345.123456", true),
            ("1.0", false),
            ("1.2345678901234567", false),
            ("1e3", false),
            ("2.5E-7", false),
        ];
        for pad in [0, 40] {
            for (text, stays) in cases {
                let input = format!("{}{text}]", " ".repeat(pad));
                let mut s = scan(input.as_bytes());
                s.i = pad;
                assert_eq!(s.number().ok(), Some(stays), "{text} after {pad} bytes");
                assert_eq!(s.i, pad + text.len(), "{text} after {pad} bytes");
            }
        }
    }

    /// `same` compares every byte, whatever the length (the short loop, the eight-byte words and
    /// the last, overlapping word).
    #[test]
    fn same_compares_every_byte() {
        for n in 0..40 {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same(&a, &a.clone()), "length {n}");
            for p in 0..n {
                let mut b = a.clone();
                b[p] = b'_';
                assert!(!same(&a, &b), "length {n}, differing at {p}");
            }
            let longer = [a.as_slice(), b"x"].concat();
            assert!(!same(&a, &longer), "lengths {n} and {}", n + 1);
        }
    }

    /// `count_leaves_text` counts what the tree's `count_leaves` counts in the same text, wherever the
    /// text has whitespace (a pretty-printed answer's runs are copied as spelled) and whatever its
    /// strings hold.
    #[test]
    fn count_leaves_text_agrees_with_the_tree() {
        let texts = [
            r#"{"a":1,"b":"x","c":[true,null,false]}"#,
            r#"{"a" : 1, "b"	:"x",
              "c"
              :[true, null ,-2.5e3], "d" : {}, "e" : []}"#,
            r#"{"key with \"quotes\" and \\":"value with \"quotes\" :","k":"\u00e9"}"#,
            r#"{"":"","x":{"y":{"z":"deep"}},"list":[{"a" :1},{"b": "two"}]}"#,
            r#"["a", "b" ,"c:", 1, {"k" :"v"}]"#,
            r#""a single string""#,
            "12345",
        ];
        for text in texts {
            let tree: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                count_leaves_text(text.as_bytes()),
                crate::schema::count_leaves(&tree),
                "{text}"
            );
        }
    }
}
