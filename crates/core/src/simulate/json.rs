//! A minimal streaming JSON writer. The simulator renders hundreds of thousands of CloudTrail
//! records per second; building `serde_json::Value` trees for each would dominate the run time,
//! so records are written straight into a byte buffer in AWS's field order.

/// Appends `s` as a JSON string literal (quoted and escaped).
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// `s` as a JSON string literal in a new `String`.
pub(crate) fn quote(s: &str) -> String {
    let mut v = Vec::with_capacity(s.len() + 2);
    push_str(&mut v, s);
    String::from_utf8_lossy(&v).into_owned()
}

/// Writer for one JSON object; nested objects and arrays are written through closures so the
/// braces always balance.
pub(crate) struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Writes `{`, runs `f`, writes `}`.
    pub(crate) fn write(out: &'a mut Vec<u8>, f: impl FnOnce(&mut Obj<'_>)) {
        out.push(b'{');
        let mut o = Obj { out, first: true };
        f(&mut o);
        o.out.push(b'}');
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        push_str(self.out, k);
        self.out.push(b':');
    }

    pub(crate) fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        push_str(self.out, v);
        self
    }

    /// Writes already-valid JSON text as the value.
    pub(crate) fn raw(&mut self, k: &str, json: &str) -> &mut Self {
        self.key(k);
        self.out.extend_from_slice(json.as_bytes());
        self
    }

    pub(crate) fn num(&mut self, k: &str, v: i64) -> &mut Self {
        self.key(k);
        self.out.extend_from_slice(v.to_string().as_bytes());
        self
    }

    pub(crate) fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    pub(crate) fn null(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.out.extend_from_slice(b"null");
        self
    }

    /// A CloudTrail timestamp value.
    pub(crate) fn time(&mut self, k: &str, ms: i64) -> &mut Self {
        self.key(k);
        self.out.push(b'"');
        super::clock::push_ct_time(self.out, ms);
        self.out.push(b'"');
        self
    }

    pub(crate) fn obj(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.key(k);
        Obj::write(self.out, f);
        self
    }

    /// An array whose items are written by `f` through [`Arr`].
    pub(crate) fn arr(&mut self, k: &str, f: impl FnOnce(&mut Arr<'_>)) -> &mut Self {
        self.key(k);
        self.out.push(b'[');
        let mut a = Arr {
            out: self.out,
            first: true,
        };
        f(&mut a);
        a.out.push(b']');
        self
    }

    /// An array of strings.
    pub(crate) fn strs<S: AsRef<str>>(&mut self, k: &str, items: &[S]) -> &mut Self {
        self.arr(k, |a| {
            for s in items {
                a.str(s.as_ref());
            }
        })
    }
}

/// Writer for the items of one JSON array.
pub(crate) struct Arr<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Arr<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    pub(crate) fn str(&mut self, v: &str) -> &mut Self {
        self.sep();
        push_str(self.out, v);
        self
    }

    pub(crate) fn obj(&mut self, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.sep();
        Obj::write(self.out, f);
        self
    }
}

/// Builds one object into a new `String` (request parameters, response elements).
pub(crate) fn object(f: impl FnOnce(&mut Obj<'_>)) -> String {
    let mut v = Vec::with_capacity(128);
    Obj::write(&mut v, f);
    // Only valid UTF-8 is ever written (str inputs and ASCII punctuation).
    String::from_utf8(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json() {
        let s = object(|o| {
            o.str("a", "x\"y\\z\n\u{1}")
                .num("n", -5)
                .bool("b", true)
                .null("z");
            o.obj("o", |o| {
                o.strs("l", &["p", "q"]);
            });
            o.arr("arr", |a| {
                a.obj(|o| {
                    o.str("k", "v");
                });
            });
        });
        let v: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        assert_eq!(v["a"], "x\"y\\z\n\u{1}");
        assert_eq!(v["n"], -5);
        assert_eq!(v["o"]["l"][1], "q");
        assert_eq!(v["arr"][0]["k"], "v");
    }
}
