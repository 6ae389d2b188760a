//! Extraction never panics and keeps its invariants on arbitrary input.
#![allow(clippy::unwrap_used)]

use detector_core::entity::{Extractor, json, pii, text};
use proptest::prelude::*;

fn ex() -> &'static Extractor {
    static EX: std::sync::OnceLock<Extractor> = std::sync::OnceLock::new();
    EX.get_or_init(Extractor::default)
}

fn check(path: &str, s: &str) {
    let mut out = Vec::new();
    ex().extract_field(path, "iam", s, &mut out);
    for e in &out {
        assert!((0.0..=1.0).contains(&e.score));
        if let Some([a, b]) = e.origin.span {
            assert!(a <= b);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_text_is_safe(s in "\\PC{0,200}") {
        check("errorMessage", &s);
        check("requestParameters.policyDocument", &s);
        check("requestParameters.targetBucket", &s);
        let mut v = Vec::new();
        pii::scan(&s, &mut v);
        let mut t = Vec::new();
        text::tokenize(&s, &mut t);
        for (a, b) in t {
            prop_assert!(s.get(a..b).is_some());
        }
    }

    #[test]
    fn entity_shaped_text_is_safe(s in "[a-zA-Z0-9:/._@ ,'\"{}\\[\\]=+-]{0,160}") {
        check("errorMessage", &s);
        check("requestParameters.x", &s);
        let _ = json::walk(&s, &mut |_, _| {});
    }

    #[test]
    fn json_like_text_is_safe(s in "[\\[\\]{}\":,a-z0-9 \\\\]{0,120}") {
        check("requestParameters.policy", &s);
        let _ = json::walk(&s, &mut |_, l| { let _ = l.value(); });
    }
}
