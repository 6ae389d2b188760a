//! Builders shared by the core integration tests: CloudTrail records in, events out, and the
//! engine run over them. Each test file uses only some of them.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use detector_core::detect::{Activity, Engine};
use detector_core::event::Event;
use detector_core::finding::Finding;
use detector_core::parse::Batch;
use serde_json::{Value, json};

/// CloudTrail's `eventTime` text for epoch milliseconds.
pub fn time(t: i64) -> String {
    detector_core::time::format_iso8601_ms(t)
}

/// Parses `records` as one CloudTrail log file; every record must parse.
pub fn ct(records: Vec<Value>) -> Vec<Event> {
    let body = json!({ "Records": records }).to_string();
    let mut batch = Batch::default();
    detector_core::parse::cloudtrail::parse(&Arc::from("t.json"), body.as_bytes(), &mut batch);
    assert!(batch.rejects.is_empty(), "{:?}", batch.rejects);
    batch.events
}

/// Feeds `events`, in the order given, through `engine` and returns all it found.
pub fn run_engine(mut engine: Engine, events: &[Event]) -> Vec<Finding> {
    for e in events {
        if let Some(a) = Activity::from_event(e) {
            engine.push(a);
        }
    }
    engine.finish();
    engine.take_findings()
}

/// `events` in time order.
pub fn sorted(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by_key(|e| e.time_ms);
    events
}

/// What every line-oriented parse (flow logs, S3 access logs) must keep: each record is counted
/// once as an event or a reject, on its own 1-based line, and events carry `source#line` uids
/// and map to the OCSF class given.
pub fn check_line_invariants(bytes: &[u8], b: &Batch, class_uid: u32) {
    assert_eq!(b.records, (b.events.len() + b.rejects.len()) as u64);
    let lines = bytes.split(|&c| c == b'\n').count() as u64;
    let mut last = 0;
    let mut indexes: Vec<u64> = b.events.iter().map(|e| e.index).collect();
    indexes.extend(b.rejects.iter().map(|r| r.index));
    indexes.sort_unstable();
    for i in indexes {
        assert!(i >= 1 && i <= lines, "index {i} outside 1..={lines}");
        assert!(i > last, "two records on line {i}");
        last = i;
    }
    for e in &b.events {
        assert_eq!(e.uid, format!("p.log#{}", e.index));
        assert_eq!(e.to_ocsf()["class_uid"], class_uid);
    }
}

/// `base` after byte edits (overwrite, insert, remove, truncate at a position), for fuzz-like
/// property tests.
pub fn mutate(base: &[u8], edits: &[(proptest::sample::Index, u8, u8)]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for (at, byte, kind) in edits {
        if bytes.is_empty() {
            break;
        }
        let i = at.index(bytes.len());
        match kind {
            0 => bytes[i] = *byte,
            1 => bytes.insert(i, *byte),
            2 => {
                bytes.remove(i);
            }
            _ => bytes.truncate(i),
        }
    }
    bytes
}
