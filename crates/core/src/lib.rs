//! Pure core of the AWS security-log anomaly detector.
//!
//! Everything here is synchronous and free of IO: bytes come in, normalized events,
//! entities and findings come out. The `detector` crate owns files, S3, SQS, HTTP and the CLI.
#![forbid(unsafe_code)]

pub mod attack;
pub mod detect;
pub mod entity;
pub mod evaluate;
pub mod event;
pub mod feedback;
pub mod finding;
pub mod format;
pub mod geo;
pub mod incident;
pub mod parse;
pub mod simulate;
pub mod store;
pub mod time;

pub use event::{Event, EventClass, EventData, Reject};
