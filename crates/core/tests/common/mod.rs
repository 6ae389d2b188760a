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
