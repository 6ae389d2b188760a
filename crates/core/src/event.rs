//! The normalized event every later stage reads, and the reject record for input that could not
//! become one.
//!
//! Field names follow OCSF 1.6 where a field has an OCSF home; [`Event::to_ocsf`] writes the
//! OCSF JSON object (API Activity 6003, Authentication 3002, Account Change 3001, Network
//! Activity 4001) the way Amazon Security Lake maps these sources.

use std::sync::Arc;

use serde::Serialize;

use crate::parse::cloudtrail::CloudTrailRecord;
use crate::parse::s3access::S3AccessRecord;
use crate::parse::vpcflow::FlowRecord;

/// OCSF event class of a normalized event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum EventClass {
    /// 3001: IAM users, groups, keys, login profiles, policies attached to identities.
    AccountChange,
    /// 3002: console sign-in and other sign-in events.
    Authentication,
    /// 4001: VPC Flow Log records.
    NetworkActivity,
    /// 6003: every other API call (CloudTrail management/data events, S3 access log lines).
    ApiActivity,
}

impl EventClass {
    pub fn class_uid(self) -> u32 {
        match self {
            EventClass::AccountChange => 3001,
            EventClass::Authentication => 3002,
            EventClass::NetworkActivity => 4001,
            EventClass::ApiActivity => 6003,
        }
    }

    pub fn category_uid(self) -> u32 {
        self.class_uid() / 1000
    }

    pub fn name(self) -> &'static str {
        match self {
            EventClass::AccountChange => "Account Change",
            EventClass::Authentication => "Authentication",
            EventClass::NetworkActivity => "Network Activity",
            EventClass::ApiActivity => "API Activity",
        }
    }
}

/// Which log a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    CloudTrail,
    VpcFlow,
    S3Access,
}

impl LogKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::CloudTrail => "cloudtrail",
            LogKind::VpcFlow => "vpcflow",
            LogKind::S3Access => "s3access",
        }
    }
}

/// Source-specific payload of an event. Boxed so that `Event` stays small in queues.
#[derive(Debug, Clone)]
pub enum EventData {
    CloudTrail(Box<CloudTrailRecord>),
    Flow(Box<FlowRecord>),
    S3Access(Box<S3AccessRecord>),
}

/// One normalized event.
#[derive(Debug, Clone)]
pub struct Event {
    pub class: EventClass,
    /// Event time, ms since the Unix epoch (CloudTrail `eventTime`, flow `start`, S3 `[time]`).
    pub time_ms: i64,
    /// The file path or `s3://bucket/key` the record came from, as given by the user.
    pub source: Arc<str>,
    /// Position in the source: 0-based record index for CloudTrail `Records` arrays, 1-based
    /// line number for line-oriented input (JSON lines, flow logs, S3 access logs).
    pub index: u64,
    /// Source record uid per the findings contract: CloudTrail `eventID` (or
    /// `<source>#<index>` when a record has none), `<source>#<line>` for flow and S3 lines.
    pub uid: String,
    pub data: EventData,
}

impl Event {
    pub fn kind(&self) -> LogKind {
        match self.data {
            EventData::CloudTrail(_) => LogKind::CloudTrail,
            EventData::Flow(_) => LogKind::VpcFlow,
            EventData::S3Access(_) => LogKind::S3Access,
        }
    }

    pub fn cloudtrail(&self) -> Option<&CloudTrailRecord> {
        match &self.data {
            EventData::CloudTrail(r) => Some(r),
            _ => None,
        }
    }

    pub fn flow(&self) -> Option<&FlowRecord> {
        match &self.data {
            EventData::Flow(r) => Some(r),
            _ => None,
        }
    }

    pub fn s3access(&self) -> Option<&S3AccessRecord> {
        match &self.data {
            EventData::S3Access(r) => Some(r),
            _ => None,
        }
    }

    /// The OCSF JSON object for this event.
    pub fn to_ocsf(&self) -> serde_json::Value {
        match &self.data {
            EventData::CloudTrail(r) => crate::parse::cloudtrail::to_ocsf(self, r),
            EventData::Flow(r) => crate::parse::vpcflow::to_ocsf(self, r),
            EventData::S3Access(r) => crate::parse::s3access::to_ocsf(self, r),
        }
    }
}

/// A record that could not become an event. Nothing is dropped silently: every reject is
/// counted, reported with its position and reason, and can be written to a quarantine file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    pub source: Arc<str>,
    /// Same convention as [`Event::index`]; for a whole-body failure, the index of the first
    /// record that could not be read.
    pub index: u64,
    pub reason: String,
    /// The raw record (lossily decoded as UTF-8 and capped at [`Reject::RAW_CAP`] bytes).
    pub raw: String,
}

impl Reject {
    /// Raw bytes kept per reject, so a quarantine file of a hostile input stays bounded.
    pub const RAW_CAP: usize = 64 * 1024;

    pub fn new(source: &Arc<str>, index: u64, reason: impl Into<String>, raw: &[u8]) -> Self {
        let cut = raw.len().min(Self::RAW_CAP);
        Reject {
            source: Arc::clone(source),
            index,
            reason: reason.into(),
            raw: String::from_utf8_lossy(&raw[..cut]).into_owned(),
        }
    }
}
