//! Reading a legacy browser body the way autumn-js 0.1.85 does: keys camelCase to snake_case (except
//! inside `checkoutSessionParams` and `properties`), repeated keys refused, `errorOnNotFound` noted; and
//! the query's `expand` and percent-encoded path ids.

use std::cell::Cell;

use serde_json::Value;

use crate::json::{KeyRule, Strict, Top};

/// The value of the last `expand` parameter of a query string, decoded as `URLSearchParams` does.
pub(super) fn expand_param(query: &str) -> Option<String> {
    let mut found = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if form_decode(name) == "expand" {
            found = Some(form_decode(value));
        }
    }
    found
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte, invalid UTF-8 replaced.
pub(super) fn form_decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    String::from_utf8_lossy(&percent_decode(&plus)).into_owned()
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is.
pub(super) fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

pub(super) fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A request body after parsing and key conversion.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(super) value: Value,
    /// The body's top-level `errorOnNotFound` (as sent, before conversion) is `false`.
    pub(super) error_on_not_found_false: bool,
}

/// Parses and converts a body: `Ok(None)` when there is none, `Err(message)` when it is not JSON, repeats a
/// key, or (at the top) is neither an object nor an array.
pub(super) fn parse_body(bytes: &[u8]) -> Result<Option<Parsed>, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let flag = Cell::new(false);
    let note = |key: &str, value: &Value| {
        if key == "errorOnNotFound" && *value == Value::Bool(false) {
            flag.set(true);
        }
    };
    let rule = KeyRule {
        rename: snake_case,
        keeps_children: |key| KEEP_CHILDREN.contains(&key),
    };
    let value = Strict {
        rule: Some(rule),
        top: Some(&note),
    }
    .read(bytes)
    .map_err(|e| format!("the request body is not valid JSON: {e}"))?;
    if !matches!(value, Value::Object(_) | Value::Array(_)) {
        return Err("the request body must be a JSON object".to_owned());
    }
    Ok(Some(Parsed {
        value,
        error_on_not_found_false: flag.get(),
    }))
}

/// [`parse_body`]'s verdict without its tree: the same errors, the same `errorOnNotFound` (the value is
/// `Null`).
pub(super) fn check_body(bytes: &[u8]) -> Result<Option<Parsed>, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let top = crate::json::check(bytes, "errorOnNotFound")
        .map_err(|e| format!("the request body is not valid JSON: {e}"))?;
    if top == Top::Other {
        return Err("the request body must be a JSON object".to_owned());
    }
    Ok(Some(Parsed {
        value: Value::Null,
        error_on_not_found_false: top == Top::ObjectWithFalse,
    }))
}

/// Keys whose values autumn-js passes on untouched.
pub(super) const KEEP_CHILDREN: &[&str] = &["checkoutSessionParams", "properties"];

/// autumn-js 0.1.85's key conversion: a lowercase ASCII letter followed by an uppercase one gets a `_`
/// between them (pairs taken left to right, without overlap), runs of `-` and JavaScript whitespace become
/// one `_`, then everything is lowercased (Unicode-aware, as `toLowerCase`).
pub(super) fn snake_case(key: &str) -> String {
    if key
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return key.to_owned();
    }
    let chars: Vec<char> = key.chars().collect();
    let mut split = String::with_capacity(key.len() + 4);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_lowercase() && chars.get(i + 1).is_some_and(char::is_ascii_uppercase) {
            split.push(c);
            split.push('_');
            split.push(chars[i + 1]);
            i += 2;
        } else {
            split.push(c);
            i += 1;
        }
    }
    let mut joined = String::with_capacity(split.len());
    let mut in_run = false;
    for c in split.chars() {
        if c == '-' || js_space(c) {
            if !in_run {
                joined.push('_');
                in_run = true;
            }
        } else {
            joined.push(c);
            in_run = false;
        }
    }
    joined.to_lowercase()
}

/// JavaScript's `\s`: its WhiteSpace and LineTerminator characters.
pub(super) fn js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}
