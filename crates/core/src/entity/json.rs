//! A streaming walk over raw JSON that reports every scalar leaf with its key path and byte
//! offset, without building a DOM. Request parameters are kept as raw JSON by the parser; this
//! walk reads them in one pass and borrows every string that needs no unescaping.

use std::borrow::Cow;

/// Deepest nesting followed; deeper parts are skipped (and counted as malformed).
pub const MAX_DEPTH: usize = 48;

/// One scalar value.
#[derive(Debug, Clone, Copy)]
pub struct Leaf<'a> {
    /// The text between the quotes (raw, escapes not decoded), or the literal for numbers.
    pub raw: &'a str,
    /// Byte offset of `raw` in the walked text.
    pub offset: usize,
    pub is_string: bool,
    /// The string holds backslash escapes: use [`Leaf::value`] to decode.
    pub escaped: bool,
}

impl<'a> Leaf<'a> {
    /// The decoded value (borrowed unless the string holds escapes).
    pub fn value(&self) -> Cow<'a, str> {
        if !self.escaped {
            return Cow::Borrowed(self.raw);
        }
        Cow::Owned(unescape(self.raw))
    }
}

/// Decodes JSON string escapes; invalid escapes are kept as written.
pub fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16) {
                    Ok(hi) if hex.len() == 4 => {
                        for _ in 0..4 {
                            chars.next();
                        }
                        let mut code = hi;
                        if (0xD800..0xDC00).contains(&hi) {
                            // Surrogate pair: the low half must follow as another \u escape.
                            let rest = chars.as_str();
                            if let Some(lo) = rest
                                .strip_prefix("\\u")
                                .and_then(|r| r.get(..4))
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .filter(|lo| (0xDC00..0xE000).contains(lo))
                            {
                                code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                for _ in 0..6 {
                                    chars.next();
                                }
                            }
                        }
                        out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                    }
                    _ => out.push_str("\\u"),
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Walks `src`, calling `f(path, leaf)` for every scalar. Array elements share their parent's
/// path. Returns false when the text is not well-formed JSON (leaves before the fault are
/// still reported).
pub fn walk<'a>(src: &'a str, f: &mut dyn FnMut(&[&'a str], Leaf<'a>)) -> bool {
    let mut w = Walker {
        src,
        b: src.as_bytes(),
        pos: 0,
        path: Vec::with_capacity(8),
    };
    w.value(0, f) && {
        w.ws();
        w.pos == w.b.len()
    }
}

struct Walker<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    path: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    fn ws(&mut self) {
        while self.pos < self.b.len() && self.b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Scans a string starting at the opening quote; returns (content start, end, escaped).
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            let rel = memchr::memchr2(b'"', b'\\', self.b.get(i..)?)?;
            i += rel;
            if self.b[i] == b'\\' {
                escaped = true;
                i += 2;
                continue;
            }
            self.pos = i + 1;
            return Some((start, i, escaped));
        }
    }

    fn value(&mut self, depth: usize, f: &mut dyn FnMut(&[&'a str], Leaf<'a>)) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        self.ws();
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return true;
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return false;
                    }
                    let Some((s, e, _)) = self.string() else {
                        return false;
                    };
                    let key = self.src.get(s..e).unwrap_or("");
                    self.ws();
                    if self.peek() != Some(b':') {
                        return false;
                    }
                    self.pos += 1;
                    self.path.push(key);
                    let ok = self.value(depth + 1, f);
                    self.path.pop();
                    if !ok {
                        return false;
                    }
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return true;
                        }
                        _ => return false,
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return true;
                }
                loop {
                    if !self.value(depth + 1, f) {
                        return false;
                    }
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return true;
                        }
                        _ => return false,
                    }
                }
            }
            Some(b'"') => {
                let Some((s, e, escaped)) = self.string() else {
                    return false;
                };
                let Some(raw) = self.src.get(s..e) else {
                    return false;
                };
                f(
                    &self.path,
                    Leaf {
                        raw,
                        offset: s,
                        is_string: true,
                        escaped,
                    },
                );
                true
            }
            Some(c) if c == b'-' || c.is_ascii_alphanumeric() => {
                let s = self.pos;
                while self.pos < self.b.len()
                    && (self.b[self.pos].is_ascii_alphanumeric()
                        || matches!(self.b[self.pos], b'-' | b'+' | b'.'))
                {
                    self.pos += 1;
                }
                let raw = self.src.get(s..self.pos).unwrap_or("");
                if c.is_ascii_digit() || c == b'-' {
                    f(
                        &self.path,
                        Leaf {
                            raw,
                            offset: s,
                            is_string: false,
                            escaped: false,
                        },
                    );
                    true
                } else {
                    matches!(raw, "true" | "false" | "null")
                }
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn leaves(src: &str) -> (Vec<(String, String, usize)>, bool) {
        let mut v = Vec::new();
        let ok = walk(src, &mut |p, l| {
            v.push((p.join("."), l.value().into_owned(), l.offset))
        });
        (v, ok)
    }

    #[test]
    fn walks_nested_objects_and_arrays() {
        let src = r#"{"instancesSet":{"items":[{"instanceId":"i-1"},{"instanceId":"i-2"}]},"n":12,"b":true,"z":null}"#;
        let (v, ok) = leaves(src);
        assert!(ok);
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].0, "instancesSet.items.instanceId");
        assert_eq!(v[1].1, "i-2");
        assert_eq!(&src[v[1].2..v[1].2 + 3], "i-2");
        assert_eq!(
            v[2],
            ("n".to_string(), "12".to_string(), src.find("12").unwrap())
        );
    }

    #[test]
    fn decodes_escapes() {
        let (v, ok) = leaves(r#"{"p":"{\"a\":\"x\\y\u00e9\ud83d\ude00\"}"}"#);
        assert!(ok);
        assert_eq!(v[0].1, "{\"a\":\"x\\yé😀\"}");
        assert_eq!(unescape(r"bad\u12"), "bad\\u12");
        assert_eq!(unescape("end\\"), "end\\");
    }

    #[test]
    fn malformed_input_is_reported_not_panicking() {
        for bad in [
            "",
            "{",
            "{\"a\"",
            "{\"a\":}",
            "[1,",
            "\"abc",
            "{\"a\":1,}",
            "nul",
            "{\"a\" 1}",
            "]",
        ] {
            let (_, ok) = leaves(bad);
            assert!(!ok, "{bad}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(!leaves(&deep).1);
        assert!(leaves("[]").1);
        assert!(leaves(" {} ").1);
    }
}
