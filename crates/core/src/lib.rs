//! Pure core of the AWS security-log anomaly detector.
//!
//! Everything here is synchronous and free of IO: bytes come in, normalized events,
//! entities and findings come out. The `detector` crate owns files, S3, SQS, HTTP and the CLI.
#![forbid(unsafe_code)]

pub mod event;
pub mod parse;
pub mod time;

pub use event::{Event, EventClass, EventData, Reject};
