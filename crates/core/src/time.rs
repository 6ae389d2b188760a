//! Timestamp parsing without a date library on the hot path.
//!
//! AWS logs use three time shapes: ISO 8601 UTC (`2024-01-02T03:04:05Z`, sometimes with
//! fractional seconds or an offset), the S3 access log's `06/Feb/2019:00:00:38 +0000`, and
//! epoch seconds in flow logs. All are converted to milliseconds since the Unix epoch.

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let d = i64::from(d);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(v)
}

fn valid_date(m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> bool {
    (1..=12).contains(&m) && (1..=31).contains(&d) && hh < 24 && mm < 60 && ss <= 60
}

/// Parses ISO 8601 / RFC 3339 timestamps as CloudTrail writes them. Accepts a date alone
/// (`2024-01-02`, midnight UTC), `T` or a space as separator, optional fractional seconds, and
/// `Z` or `±HH:MM` offsets. Returns milliseconds since the epoch.
pub fn parse_iso8601_ms(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = num(&b[0..4])?;
    let mo = num(&b[5..7])?;
    let d = num(&b[8..10])?;
    if b.len() == 10 {
        if !valid_date(mo, d, 0, 0, 0) {
            return None;
        }
        return Some(days_from_civil(i64::from(y), mo, d) * 86_400_000);
    }
    if b.len() < 16 || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') || b[13] != b':' {
        return None;
    }
    let hh = num(&b[11..13])?;
    let mi = num(&b[14..16])?;
    let mut i = 16;
    let mut ss = 0;
    if b.len() >= 19 && b[16] == b':' {
        ss = num(&b[17..19])?;
        i = 19;
    }
    if !valid_date(mo, d, hh, mi, ss) {
        return None;
    }
    let mut ms: i64 = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &b[start..i];
        if frac.is_empty() {
            return None;
        }
        let mut scale = 100;
        for &c in frac.iter().take(3) {
            ms += i64::from(c - b'0') * scale;
            scale /= 10;
        }
    }
    let offset_min: i64 = match &b[i..] {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (num(&[*h1, *h2])?, num(&[*m1, *m2])?),
                [h1, h2] => (num(&[*h1, *h2])?, 0),
                _ => return None,
            };
            let v = i64::from(h * 60 + m);
            if *sign == b'-' { -v } else { v }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(hh) * 3600 + i64::from(mi) * 60 + i64::from(ss);
    Some((secs - offset_min * 60) * 1000 + ms)
}

/// Parses the S3 server access log time, `06/Feb/2019:00:00:38 +0000` (brackets stripped).
pub fn parse_s3_access_time_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // dd/Mon/yyyy:HH:MM:SS +zzzz
    if b.len() != 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
        return None;
    }
    let d = num(&b[0..2])?;
    let mo = match &b[3..6] {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let y = num(&b[7..11])?;
    if b[14] != b':' || b[17] != b':' {
        return None;
    }
    let hh = num(&b[12..14])?;
    let mi = num(&b[15..17])?;
    let ss = num(&b[18..20])?;
    if !valid_date(mo, d, hh, mi, ss) {
        return None;
    }
    let sign = match b[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let oh = num(&b[22..24])?;
    let om = num(&b[24..26])?;
    let off = sign * i64::from(oh * 60 + om);
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(hh) * 3600 + i64::from(mi) * 60 + i64::from(ss);
    Some((secs - off * 60) * 1000)
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_iso8601_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// UTC day (days since epoch) of a timestamp in ms.
pub fn day_of_ms(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_variants() {
        assert_eq!(parse_iso8601_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_iso8601_ms("2022-11-10T16:24:34Z"),
            Some(1_668_097_474_000)
        );
        assert_eq!(
            parse_iso8601_ms("2022-11-10T16:24:34.123Z"),
            Some(1_668_097_474_123)
        );
        assert_eq!(
            parse_iso8601_ms("2022-11-10T17:24:34+01:00"),
            Some(1_668_097_474_000)
        );
        assert_eq!(parse_iso8601_ms("2022-11-10"), Some(1_668_038_400_000));
        assert_eq!(parse_iso8601_ms("2022-13-10T00:00:00Z"), None);
        assert_eq!(parse_iso8601_ms("2022-11-10T16:24:34Q"), None);
        assert_eq!(parse_iso8601_ms(""), None);
        assert_eq!(parse_iso8601_ms("garbage-in"), None);
    }

    #[test]
    fn s3_time() {
        assert_eq!(
            parse_s3_access_time_ms("06/Feb/2019:00:00:38 +0000"),
            Some(1_549_411_238_000)
        );
        assert_eq!(
            parse_s3_access_time_ms("06/Feb/2019:01:00:38 +0100"),
            Some(1_549_411_238_000)
        );
        assert_eq!(parse_s3_access_time_ms("06/Fxb/2019:00:00:38 +0000"), None);
    }

    #[test]
    fn roundtrip_civil() {
        for days in [-800_000, -1, 0, 1, 19_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(
            format_iso8601_ms(1_668_097_474_123),
            "2022-11-10T16:24:34.123Z"
        );
    }
}
