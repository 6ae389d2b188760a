//! The CloudTrail parser never panics and never loses count: on any input, every record read is
//! an event or a reject (`records == events + rejects`).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use detector_core::parse::{Batch, cloudtrail};
use proptest::prelude::*;

fn parse(bytes: &[u8]) -> Batch {
    let mut out = Batch::default();
    cloudtrail::parse(&Arc::from("prop"), bytes, &mut out);
    out
}

fn holds(out: &Batch) -> bool {
    out.records as usize == out.events.len() + out.rejects.len()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/cloudtrail/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).unwrap()
}

/// Valid inputs of every shape, as starting points for mutation.
fn seeds() -> Vec<Vec<u8>> {
    [
        "org_trail.json",
        "trail.json",
        "lines.jsonl",
        "eventbridge.json",
        "eventbridge_lines.jsonl",
        "eventbridge_array.json",
        "cwl_data.json",
        "insights.json",
    ]
    .iter()
    .map(|n| fixture(n))
    .collect()
}

/// Cutting a delivered (one-line) trail file anywhere keeps every record before the cut, so the
/// number of events only grows with the cut position, and the cut costs at most one reject.
#[test]
fn truncation_at_every_position() {
    let full = fixture("org_trail.json");
    let total = parse(&full).events.len();
    let mut last = 0;
    for cut in 0..full.len() {
        let out = parse(&full[..cut]);
        assert!(holds(&out), "cut at {cut}");
        assert!(out.events.len() >= last, "cut at {cut}: events went down");
        assert!(out.rejects.len() <= 1, "cut at {cut}: {:?}", out.rejects);
        last = out.events.len();
    }
    assert_eq!(last, total);
}

#[test]
fn truncation_of_every_seed() {
    for seed in seeds() {
        for cut in (0..seed.len()).step_by(7) {
            assert!(holds(&parse(&seed[..cut])));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert!(holds(&parse(&bytes)));
    }

    /// Text made of JSON's structural characters reaches deeper into the parser than random
    /// bytes do.
    #[test]
    fn json_like_text(text in r#"[\[\]{}",:0-9a-zA-Z\\ \n.\-]{0,400}"#) {
        prop_assert!(holds(&parse(text.as_bytes())));
    }

    #[test]
    fn keyed_json_like_text(
        key in prop::sample::select(vec!["Records", "logEvents", "messageType", "detail-type", "detail", "eventTime", "digestS3Object"]),
        rest in r#"[\[\]{}",:0-9a-z\\ \n]{0,200}"#,
    ) {
        let text = format!(r#"{{"{key}":{rest}"#);
        prop_assert!(holds(&parse(text.as_bytes())));
    }

    #[test]
    fn byte_flips_in_valid_input(
        seed in 0..8usize,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = seeds().swap_remove(seed);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let out = parse(&bytes);
        prop_assert!(holds(&out));
    }

    #[test]
    fn cut_and_spliced_input(seed in 0..8usize, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let bytes = seeds().swap_remove(seed);
        let (i, j) = (a.index(bytes.len()), b.index(bytes.len()));
        let (lo, hi) = (i.min(j), i.max(j));
        // Drop a slice from the middle: records straddling it break, the others survive.
        let spliced = [&bytes[..lo], &bytes[hi..]].concat();
        prop_assert!(holds(&parse(&spliced)));
    }
}
