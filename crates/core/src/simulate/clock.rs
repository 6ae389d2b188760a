//! Time formatting in the exact shapes each AWS log uses. Written by hand (no `format!`) on the
//! paths that run once per record, because the simulator renders millions of timestamps.

use crate::time::civil_from_days;

pub(crate) const MINUTE: i64 = 60_000;
pub(crate) const HOUR: i64 = 3_600_000;
pub(crate) const DAY: i64 = 86_400_000;

/// Broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub y: i64,
    pub mo: u32,
    pub d: u32,
    pub h: u32,
    pub mi: u32,
    pub s: u32,
}

pub(crate) fn civil(ms: i64) -> Civil {
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400) as u32;
    Civil {
        y,
        mo,
        d,
        h: rem / 3600,
        mi: (rem % 3600) / 60,
        s: rem % 60,
    }
}

fn push2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10 % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

fn push4(out: &mut Vec<u8>, v: i64) {
    let v = v.clamp(0, 9999) as u32;
    push2(out, v / 100);
    push2(out, v % 100);
}

/// CloudTrail `eventTime`: `2026-10-01T12:34:56Z` (AWS writes whole seconds).
pub(crate) fn push_ct_time(out: &mut Vec<u8>, ms: i64) {
    let c = civil(ms);
    push4(out, c.y);
    out.push(b'-');
    push2(out, c.mo);
    out.push(b'-');
    push2(out, c.d);
    out.push(b'T');
    push2(out, c.h);
    out.push(b':');
    push2(out, c.mi);
    out.push(b':');
    push2(out, c.s);
    out.push(b'Z');
}

/// [`push_ct_time`] as a `String`, for the low-volume paths.
pub(crate) fn ct_time(ms: i64) -> String {
    let mut v = Vec::with_capacity(20);
    push_ct_time(&mut v, ms);
    String::from_utf8_lossy(&v).into_owned()
}

/// RFC 3339 with milliseconds, for the ground truth.
pub(crate) fn rfc3339_ms(ms: i64) -> String {
    crate::time::format_iso8601_ms(ms)
}

/// `YYYY/MM/DD`, the date folder of CloudTrail and flow log keys.
pub(crate) fn date_path(ms: i64) -> String {
    let c = civil(ms);
    format!("{:04}/{:02}/{:02}", c.y, c.mo, c.d)
}

/// `YYYYMMDDTHHMMZ`, the delivery time in CloudTrail and flow log file names.
pub(crate) fn compact_minute(ms: i64) -> String {
    let c = civil(ms);
    format!("{:04}{:02}{:02}T{:02}{:02}Z", c.y, c.mo, c.d, c.h, c.mi)
}

/// `YYYYMMDDTHHMMSSZ`, the delivery time in digest file names.
pub(crate) fn compact_second(ms: i64) -> String {
    let c = civil(ms);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        c.y, c.mo, c.d, c.h, c.mi, c.s
    )
}

/// `YYYY-MM-DD-HH-MM-SS`, the time part of S3 server access log object names.
pub(crate) fn s3_key_time(ms: i64) -> String {
    let c = civil(ms);
    format!(
        "{:04}-{:02}-{:02}-{:02}-{:02}-{:02}",
        c.y, c.mo, c.d, c.h, c.mi, c.s
    )
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// S3 server access log time with its brackets: `[06/Feb/2019:00:00:38 +0000]`.
pub(crate) fn push_s3_time(out: &mut Vec<u8>, ms: i64) {
    let c = civil(ms);
    out.push(b'[');
    push2(out, c.d);
    out.push(b'/');
    out.extend_from_slice(MONTHS[(c.mo.clamp(1, 12) - 1) as usize]);
    out.push(b'/');
    push4(out, c.y);
    out.push(b':');
    push2(out, c.h);
    out.push(b':');
    push2(out, c.mi);
    out.push(b':');
    push2(out, c.s);
    out.extend_from_slice(b" +0000]");
}

/// Day of the week, 0 = Monday, for working-hours patterns.
pub(crate) fn weekday(ms: i64) -> u32 {
    // 1970-01-01 was a Thursday (index 3).
    ((ms.div_euclid(DAY) + 3).rem_euclid(7)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_iso8601_ms, parse_s3_access_time_ms};

    #[test]
    fn formats_round_trip_through_the_parsers() {
        let ms = parse_iso8601_ms("2026-10-01T07:08:09Z").unwrap_or_default();
        assert_eq!(ct_time(ms), "2026-10-01T07:08:09Z");
        let mut s3 = Vec::new();
        push_s3_time(&mut s3, ms);
        let s3 = String::from_utf8(s3).unwrap_or_default();
        assert_eq!(s3, "[01/Oct/2026:07:08:09 +0000]");
        assert_eq!(parse_s3_access_time_ms(&s3[1..s3.len() - 1]), Some(ms));
        assert_eq!(compact_minute(ms), "20261001T0708Z");
        assert_eq!(compact_second(ms), "20261001T070809Z");
        assert_eq!(date_path(ms), "2026/10/01");
        assert_eq!(s3_key_time(ms), "2026-10-01-07-08-09");
        // 2026-10-01 is a Thursday.
        assert_eq!(weekday(ms), 3);
    }
}
