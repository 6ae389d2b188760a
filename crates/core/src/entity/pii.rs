//! PII recognizers that match spans across separators (card numbers in groups, IBANs in blocks
//! of four, phone numbers with spaces), so they run on the text before it is cut into tokens.
//! Each has a checksum or structural validator: Luhn for cards, ISO 7064 mod 97 for IBANs,
//! SSA rules for US social security numbers, the HMRC prefix rules for UK NINOs.

use super::types::EntityType;

/// A PII match: byte span in the text, type, base score, normalized value (separators removed).
#[derive(Debug, Clone, PartialEq)]
pub struct PiiMatch {
    pub start: usize,
    pub end: usize,
    pub kind: EntityType,
    pub base: f32,
    pub recognizer: &'static str,
    pub validator: &'static str,
    pub value: String,
}

/// Cheap gate: PII scanning only runs on text with enough digits to hold any of these.
pub fn worth_scanning(text: &str) -> bool {
    let mut digits = 0;
    for b in text.bytes() {
        if b.is_ascii_digit() {
            digits += 1;
            if digits >= 6 {
                return true;
            }
        }
    }
    false
}

pub fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Issuer prefixes of the major card networks (Visa, Mastercard, Amex, Discover, JCB, Diners,
/// UnionPay, Maestro).
fn card_prefix_ok(d: &[u8]) -> bool {
    let n2 = (d[0] - b'0') as u32 * 10 + (d[1] - b'0') as u32;
    let n4 = d[..4]
        .iter()
        .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'));
    match d[0] {
        b'4' => true,
        b'5' => (51..=55).contains(&n2) || n2 == 50 || (56..=58).contains(&n2),
        b'2' => (2221..=2720).contains(&n4),
        b'3' => matches!(n2, 34 | 37 | 35 | 36 | 38 | 30),
        b'6' => n4 == 6011 || n2 == 65 || (644..=649).contains(&(n4 / 10)) || n2 == 62 || n2 == 67,
        _ => false,
    }
}

pub fn iban_valid(iban: &[u8]) -> bool {
    if iban.len() < 15 || iban.len() > 34 {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        if c.is_ascii_digit() {
            rem = (rem * 10 + u32::from(c - b'0')) % 97;
        } else if c.is_ascii_uppercase() {
            let v = u32::from(c - b'A') + 10;
            rem = (rem * 100 + v) % 97;
        } else {
            return false;
        }
    }
    rem == 1
}

fn boundary_before(b: &[u8], i: usize) -> bool {
    i == 0 || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != b'-' && b[i - 1] != b'.'
}

fn boundary_after(b: &[u8], i: usize) -> bool {
    i >= b.len()
        || !(b[i].is_ascii_alphanumeric()
            || b[i] == b'-'
            || (b[i] == b'.' && b.get(i + 1).is_some_and(|c| c.is_ascii_digit())))
}

/// Digits with single separators between them, starting at `i`: (end, digits).
fn digit_run(b: &[u8], i: usize, seps: &[u8]) -> (usize, Vec<u8>) {
    let mut digits = Vec::with_capacity(20);
    let mut j = i;
    let mut end = i;
    while j < b.len() {
        if b[j].is_ascii_digit() {
            digits.push(b[j]);
            j += 1;
            end = j;
        } else if seps.contains(&b[j]) && b.get(j + 1).is_some_and(|c| c.is_ascii_digit()) && j > i
        {
            j += 1;
        } else {
            break;
        }
        if digits.len() > 19 {
            break;
        }
    }
    (end, digits)
}

/// All PII matches in `text`, non-overlapping, in order.
pub fn scan(text: &str, out: &mut Vec<PiiMatch>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() && boundary_before(b, i) {
            if let Some(m) = card_at(b, i)
                .or_else(|| ssn_at(b, i))
                .or_else(|| nanp_at(b, i))
            {
                i = m.end;
                out.push(m);
                continue;
            }
        } else if c == b'+'
            && b.get(i + 1).is_some_and(|d| d.is_ascii_digit())
            && boundary_before(b, i)
        {
            if let Some(m) = intl_phone_at(b, i) {
                i = m.end;
                out.push(m);
                continue;
            }
        } else if c == b'(' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            if let Some(m) = nanp_at(b, i) {
                i = m.end;
                out.push(m);
                continue;
            }
        } else if c.is_ascii_uppercase()
            && boundary_before(b, i)
            && let Some(m) = iban_at(b, i).or_else(|| nino_at(b, i))
        {
            i = m.end;
            out.push(m);
            continue;
        }
        i += 1;
    }
}

fn card_at(b: &[u8], i: usize) -> Option<PiiMatch> {
    let (end, digits) = digit_run(b, i, b" -");
    if !(13..=19).contains(&digits.len()) || !boundary_after(b, end) {
        return None;
    }
    // A separated number must use one separator kind in groups of 4 (Amex 4-6-5).
    let span = &b[i..end];
    let has_sep = span.iter().any(|c| !c.is_ascii_digit());
    if has_sep {
        let sep = span
            .iter()
            .find(|c| !c.is_ascii_digit())
            .copied()
            .unwrap_or(b' ');
        let groups: Vec<usize> = span.split(|c| *c == sep).map(<[u8]>::len).collect();
        let ok = span.iter().all(|c| c.is_ascii_digit() || *c == sep)
            && (groups.iter().take(groups.len() - 1).all(|g| *g == 4) || groups == [4, 6, 5]);
        if !ok {
            return None;
        }
    }
    if !card_prefix_ok(&digits) || !luhn_valid(&digits) {
        return None;
    }
    Some(PiiMatch {
        start: i,
        end,
        kind: EntityType::PaymentCard,
        base: 0.95,
        recognizer: "payment_card",
        validator: "luhn",
        value: String::from_utf8_lossy(&digits).into_owned(),
    })
}

fn ssn_at(b: &[u8], i: usize) -> Option<PiiMatch> {
    let s = b.get(i..i + 11)?;
    let shape = s.iter().enumerate().all(|(k, c)| match k {
        3 | 6 => *c == b'-',
        _ => c.is_ascii_digit(),
    });
    if !shape || !boundary_after(b, i + 11) {
        return None;
    }
    let area = &s[..3];
    let valid = area != b"000"
        && area != b"666"
        && area[0] != b'9'
        && &s[4..6] != b"00"
        && &s[7..11] != b"0000";
    if !valid {
        return None;
    }
    Some(PiiMatch {
        start: i,
        end: i + 11,
        kind: EntityType::NationalId,
        base: 0.7,
        recognizer: "us_ssn",
        validator: "ssa_rules",
        value: String::from_utf8_lossy(s).into_owned(),
    })
}

/// North American numbers: `(555) 123-4567`, `555-123-4567`, `555.123.4567`.
fn nanp_at(b: &[u8], i: usize) -> Option<PiiMatch> {
    let mut j = i;
    let mut digits = Vec::with_capacity(10);
    let take = |j: &mut usize, n: usize, digits: &mut Vec<u8>| -> bool {
        for _ in 0..n {
            match b.get(*j) {
                Some(c) if c.is_ascii_digit() => {
                    digits.push(*c);
                    *j += 1;
                }
                _ => return false,
            }
        }
        true
    };
    if b[j] == b'(' {
        j += 1;
        if !take(&mut j, 3, &mut digits) || b.get(j) != Some(&b')') {
            return None;
        }
        j += 1;
        if b.get(j) == Some(&b' ') {
            j += 1;
        }
    } else {
        if !take(&mut j, 3, &mut digits) {
            return None;
        }
        if !matches!(b.get(j), Some(b'-' | b'.' | b' ')) {
            return None;
        }
        j += 1;
    }
    let sep = *b.get(j + 3)?;
    if !take(&mut j, 3, &mut digits) || !matches!(sep, b'-' | b'.' | b' ') {
        return None;
    }
    j += 1;
    if !take(&mut j, 4, &mut digits) || !boundary_after(b, j) {
        return None;
    }
    // Area and exchange codes never start with 0 or 1.
    if digits[0] < b'2' || digits[3] < b'2' {
        return None;
    }
    Some(PiiMatch {
        start: i,
        end: j,
        kind: EntityType::Phone,
        base: 0.75,
        recognizer: "phone_nanp",
        validator: "nanp_rules",
        value: format!("+1{}", String::from_utf8_lossy(&digits)),
    })
}

/// `+CC ...` international numbers: 8 to 15 digits (E.164) with spaces, dashes, dots or a
/// parenthesised area code.
fn intl_phone_at(b: &[u8], i: usize) -> Option<PiiMatch> {
    let mut j = i + 1;
    let mut digits = Vec::with_capacity(15);
    let mut end = j;
    while j < b.len() && digits.len() <= 15 {
        let c = b[j];
        if c.is_ascii_digit() {
            digits.push(c);
            j += 1;
            end = j;
        } else if matches!(c, b' ' | b'-' | b'.' | b'(' | b')')
            && b.get(j + 1)
                .is_some_and(|d| d.is_ascii_digit() || *d == b'(')
        {
            j += 1;
        } else {
            break;
        }
    }
    if !(8..=15).contains(&digits.len()) || digits[0] == b'0' || !boundary_after(b, end) {
        return None;
    }
    Some(PiiMatch {
        start: i,
        end,
        kind: EntityType::Phone,
        base: 0.9,
        recognizer: "phone_e164",
        validator: "e164_length",
        value: format!("+{}", String::from_utf8_lossy(&digits)),
    })
}

fn iban_at(b: &[u8], i: usize) -> Option<PiiMatch> {
    let head = b.get(i..i + 4)?;
    if !(head[0].is_ascii_uppercase()
        && head[1].is_ascii_uppercase()
        && head[2].is_ascii_digit()
        && head[3].is_ascii_digit())
    {
        return None;
    }
    let mut compact = Vec::with_capacity(34);
    let mut j = i;
    let mut end = i;
    while j < b.len() && compact.len() <= 34 {
        let c = b[j];
        if c.is_ascii_uppercase() || c.is_ascii_digit() {
            compact.push(c);
            j += 1;
            end = j;
        } else if c == b' '
            && compact.len() % 4 == 0
            && b.get(j + 1)
                .is_some_and(|d| d.is_ascii_uppercase() || d.is_ascii_digit())
        {
            j += 1;
        } else {
            break;
        }
    }
    if !boundary_after(b, end) || !iban_valid(&compact) {
        // Grouped IBANs may be followed by another word: retry without the last group.
        return None;
    }
    Some(PiiMatch {
        start: i,
        end,
        kind: EntityType::Iban,
        base: 0.97,
        recognizer: "iban",
        validator: "mod97",
        value: String::from_utf8_lossy(&compact).into_owned(),
    })
}

/// UK National Insurance number: two prefix letters (not D, F, I, Q, U, V; second not O),
/// six digits, suffix A-D; spaces allowed between pairs.
fn nino_at(b: &[u8], i: usize) -> Option<PiiMatch> {
    let mut compact = Vec::with_capacity(9);
    let mut j = i;
    let mut end = i;
    while j < b.len() && compact.len() < 9 {
        let c = b[j];
        if c.is_ascii_alphanumeric() {
            compact.push(c);
            j += 1;
            end = j;
        } else if c == b' ' && compact.len() % 2 == 0 && compact.len() < 9 {
            j += 1;
        } else {
            break;
        }
    }
    if compact.len() != 9 || !boundary_after(b, end) {
        return None;
    }
    let bad_first = b"DFIQUV";
    let ok = compact[0].is_ascii_uppercase()
        && compact[1].is_ascii_uppercase()
        && !bad_first.contains(&compact[0])
        && !bad_first.contains(&compact[1])
        && compact[1] != b'O'
        && !matches!(
            &compact[..2],
            b"BG" | b"GB" | b"NK" | b"KN" | b"TN" | b"NT" | b"ZZ"
        )
        && compact[2..8].iter().all(u8::is_ascii_digit)
        && (b'A'..=b'D').contains(&compact[8]);
    if !ok {
        return None;
    }
    Some(PiiMatch {
        start: i,
        end,
        kind: EntityType::NationalId,
        base: 0.7,
        recognizer: "uk_nino",
        validator: "hmrc_prefix_rules",
        value: String::from_utf8_lossy(&compact).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(EntityType, String, &str)> {
        let mut v = Vec::new();
        scan(text, &mut v);
        v.into_iter()
            .map(|m| (m.kind, m.value.clone(), &text[m.start..m.end]))
            .collect()
    }

    #[test]
    fn cards() {
        assert_eq!(
            found("card 4111 1111 1111 1111 exp"),
            vec![(
                EntityType::PaymentCard,
                "4111111111111111".into(),
                "4111 1111 1111 1111"
            )]
        );
        assert_eq!(found("5500-0000-0000-0004").len(), 1);
        assert_eq!(found("amex 3782 822463 10005").len(), 1);
        assert_eq!(found("4111111111111111").len(), 1);
        // Luhn failure, wrong prefix, mixed grouping, embedded in a longer number.
        assert!(found("4111 1111 1111 1112").is_empty());
        assert!(found("9111111111111111").is_empty());
        assert!(found("41111 111 1111 1111").is_empty());
        assert!(found("x41111111111111111").is_empty());
    }

    #[test]
    fn ibans() {
        let v = found("pay to DE89 3704 0044 0532 0130 00 today");
        assert_eq!(
            v,
            vec![(
                EntityType::Iban,
                "DE89370400440532013000".into(),
                "DE89 3704 0044 0532 0130 00"
            )]
        );
        assert_eq!(found("GB82WEST12345698765432").len(), 1);
        assert!(found("GB82WEST12345698765433").is_empty());
        assert!(found("DE89").is_empty());
    }

    #[test]
    fn phones() {
        assert_eq!(found("call +1 206-555-0142 now")[0].1, "+12065550142");
        assert_eq!(found("+44 20 7946 0958")[0].1, "+442079460958");
        assert_eq!(found("tel (206) 555-0142")[0].1, "+12065550142");
        assert_eq!(found("206.555.0142")[0].0, EntityType::Phone);
        assert!(found("+12").is_empty());
        assert!(found("2024-05-01").is_empty());
        assert!(found("106-555-0142").is_empty());
    }

    #[test]
    fn national_ids() {
        assert_eq!(found("ssn 123-45-6789")[0].0, EntityType::NationalId);
        assert!(found("000-12-3456").is_empty());
        assert!(found("666-12-3456").is_empty());
        assert!(found("123-00-4567").is_empty());
        assert_eq!(found("NI AB 12 34 56 C ok")[0].1, "AB123456C");
        assert!(found("QQ123456C").is_empty());
        assert_eq!(found("AB123456D")[0].0, EntityType::NationalId);
        assert!(found("DA123456C").is_empty());
        assert!(found("AB123456E").is_empty());
    }

    #[test]
    fn luhn_and_gate() {
        assert!(luhn_valid(b"79927398713"));
        assert!(!luhn_valid(b"79927398710"));
        assert!(worth_scanning("a 123456"));
        assert!(!worth_scanning("no digits 12345"));
    }
}
