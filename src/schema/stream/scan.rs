//! The lexical layer of the transcoding: the scanner's position over the input and output buffer,
//! whitespace, literals, strings (eight bytes at a time), escapes, numbers, skipping a value, and
//! the repeated-key check, each as strict as serde_json's parser. What the values mean is
//! `super`'s (the transcoding by the generated tables).

use super::{Stop, MAX_NEST, PAIRWISE_KEYS, R};
use crate::schema::response::Ctx;

/// Bytes that end the plain run of a string: `"`, `\`, the control characters, and the bytes of
/// non-ASCII characters (checked as UTF-8 one character at a time).
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    i = 0x80;
    while i < 0x100 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The bytes of `v` (eight bytes of a string, little-endian) that are `"`, `\`, below 0x20 or above
/// 0x7f, each flagged by its high bit. The lowest flag is exact (borrows only run upwards from a flagged byte), so
/// `trailing_zeros() / 8` is the first such byte.
#[inline]
pub(super) fn string_stops(v: u64) -> u64 {
    let quote = v ^ (ONES * u64::from(b'"'));
    let backslash = v ^ (ONES * u64::from(b'\\'));
    ((quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
        | v.wrapping_sub(ONES * 0x20)
        | v)
        & HIGHS
}

#[inline]
pub(super) fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// Byte equality for short names, without a call to `memcmp`.
#[inline]
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
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

pub(super) fn hex4(b: &[u8], i: usize) -> R<u32> {
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
pub(super) fn escape(b: &[u8], i: usize) -> R<usize> {
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

/// Past the UTF-8 character whose first byte `c` is at `i`; fails on anything `str` refuses
/// (overlong forms, surrogates, truncated or stray continuation bytes).
fn utf8_char(b: &[u8], i: usize, c: u8) -> R<usize> {
    let len = match c {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return Err(Stop::GiveUp),
    };
    let bytes = b.get(i..i + len).ok_or(Stop::GiveUp)?;
    std::str::from_utf8(bytes).map_err(|_| Stop::GiveUp)?;
    Ok(i + len)
}

/// Where the plain run of a string starting at `i` ends: the first `"`, `\` or control character (or
/// the end of the input). Eight bytes at a time.
#[inline]
pub(super) fn plain_run(b: &[u8], mut i: usize) -> usize {
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

/// The scanner: the input, where it stands, and the output so far: `out`, then the input from `pend`
/// to `i` (copied when something different must be written).
pub(super) struct Scan<'a> {
    pub(super) b: &'a [u8],
    pub(super) i: usize,
    pub(super) pend: usize,
    pub(super) out: Vec<u8>,
    /// How loosely the current union member matched (the tree path's `Ctx`).
    pub(super) ctx: Ctx,
    /// Spans of the keys of the objects being checked for repeated keys (innermost last).
    pub(super) keys: Vec<(usize, usize)>,
    pub(super) nest: u32,
}

impl Scan<'_> {
    #[inline]
    pub(super) fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    /// Skips whitespace (Autumn's answers are minified: one comparison when there is none).
    #[inline]
    pub(super) fn ws(&mut self) {
        if self.peek() <= b' ' {
            self.ws_run();
        }
    }

    #[inline(never)]
    pub(super) fn ws_run(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    pub(super) fn literal(&mut self, word: &[u8]) -> R<()> {
        let end = self.i + word.len();
        match self.b.get(self.i..end) {
            Some(text) if same(text, word) => {
                self.i = end;
                Ok(())
            }
            _ => Err(Stop::GiveUp),
        }
    }

    /// After a member of an array or object: true at its end (`]` or `}` consumed), false after a
    /// comma.
    #[inline]
    pub(super) fn next_or_end(&mut self, close: u8) -> R<bool> {
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

    /// After a member of an object: true at its end (`}` consumed); false before the comma that
    /// starts the next member.
    #[inline]
    pub(super) fn at_end(&mut self, close: u8) -> R<bool> {
        self.ws();
        match self.peek() {
            b',' => Ok(false),
            c if c == close => {
                self.i += 1;
                Ok(true)
            }
            _ => Err(Stop::GiveUp),
        }
    }

    /// At the comma `at_end` stopped before: moves past it.
    #[inline]
    pub(super) fn next_member(&mut self) {
        self.i += 1;
        self.ws();
    }

    /// At `[` or `{`: steps in; true when the container is empty (and already closed).
    pub(super) fn open(&mut self, close: u8) -> R<bool> {
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

    /// At a `"`: moves past the key and its colon when they are exactly `"name":` (`name` with
    /// nothing to escape), and the whitespace after them.
    #[inline]
    pub(super) fn key_is(&mut self, name: &[u8]) -> bool {
        let start = self.i + 1;
        let end = start + name.len();
        match self.b.get(start..end + 2) {
            Some(k) if k[name.len()..] == *b"\":" && same(&k[..name.len()], name) => {
                self.i = end + 2;
                self.ws();
                true
            }
            _ => false,
        }
    }

    /// At a `"`: moves past the string, checked as serde_json checks it (its UTF-8 too); true when it
    /// holds an escape.
    #[inline]
    pub(super) fn string(&mut self) -> R<bool> {
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
    pub(super) fn escaped_string(&mut self, mut i: usize) -> R<bool> {
        let b = self.b;
        let mut escaped = false;
        loop {
            match b.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    i = plain_run(b, escape(b, i + 1)?);
                }
                Some(&c) if c >= 0x80 => i = plain_run(b, utf8_char(b, i, c)?),
                _ => return Err(Stop::GiveUp),
            }
        }
    }

    /// At a number: moves past it, checked as serde_json checks it. True when the tree path writes it
    /// back as it is spelled, as far as JSON can tell: an integer serde_json reads as one (at most 18
    /// digits, not `-0`), or a decimal fraction without exponent, of at most 15 significant digits,
    /// whose last digit is not `0` (its double is not integral, so the tree keeps it a float, and the
    /// text parses to that same double).
    pub(super) fn number(&mut self) -> R<bool> {
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
        let int_digits = i - int_start;
        let mut as_spelled = int_digits <= 18 && !(negative && b[int_start] == b'0');
        if b.get(i) == Some(&b'.') {
            i += 1;
            let d = i;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            if i == d {
                return Err(Stop::GiveUp);
            }
            let fraction = &b[d..i];
            // Significant digits: a lone `0` before the point and the fraction's leading zeros after
            // it do not count.
            let significant = if b[int_start] == b'0' {
                fraction.len() - fraction.iter().take_while(|&&c| c == b'0').count()
            } else {
                int_digits + fraction.len()
            };
            as_spelled = significant <= 15 && fraction.last() != Some(&b'0');
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
            as_spelled = false;
        }
        self.i = i;
        if !as_spelled {
            // serde_json refuses numbers out of f64's range: let it say.
            self.parse_number(start)?;
        }
        Ok(as_spelled)
    }

    /// The number spelled from `start` to the current position, as serde_json reads it.
    #[cold]
    #[inline(never)]
    pub(super) fn parse_number(&self, start: usize) -> R<serde_json::Number> {
        let text = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| Stop::GiveUp)?;
        serde_json::from_str(text).map_err(|_| Stop::GiveUp)
    }

    /// Moves past any value, checked as serde_json checks it. With `repeats`, an object with a
    /// repeated (or escaped) key is refused: a tree would keep only the last one, the copy both.
    pub(super) fn skip(&mut self, repeats: bool) -> R<()> {
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
    pub(super) fn colon(&mut self) -> R<()> {
        self.ws();
        if self.peek() != b':' {
            return Err(Stop::GiveUp);
        }
        self.i += 1;
        self.ws();
        Ok(())
    }

    /// Refuses a repeated key among the key spans from `mark` on, then forgets them.
    pub(super) fn check_repeats(&mut self, mark: usize) -> R<()> {
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
}
