//! CloudTrail: `{"Records":[...]}` files, JSON lines, EventBridge envelopes, CloudWatch Logs
//! subscription payloads and Insights records.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::event::Event;
use crate::parse::Batch;

/// One CloudTrail record. Free-form parts stay raw JSON so later stages can read only what they
/// need; unknown fields are tolerated.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailRecord {
    #[serde(default)]
    pub event_version: String,
    #[serde(default)]
    pub user_identity: UserIdentity,
    pub event_time: String,
    #[serde(default)]
    pub event_source: String,
    #[serde(default)]
    pub event_name: String,
    #[serde(default)]
    pub aws_region: String,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub request_parameters: Option<Box<RawValue>>,
    pub response_elements: Option<Box<RawValue>>,
    pub additional_event_data: Option<Box<RawValue>>,
    #[serde(rename = "requestID")]
    pub request_id: Option<String>,
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub event_category: Option<String>,
    pub read_only: Option<bool>,
    pub management_event: Option<bool>,
    pub recipient_account_id: Option<String>,
    #[serde(rename = "sharedEventID")]
    pub shared_event_id: Option<String>,
    pub vpc_endpoint_id: Option<String>,
    pub api_version: Option<String>,
    #[serde(default)]
    pub resources: Vec<CtResource>,
    pub service_event_details: Option<Box<RawValue>>,
    pub tls_details: Option<Box<RawValue>>,
    pub insight_details: Option<Box<RawValue>>,
    pub session_credential_from_console: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    #[serde(rename = "type")]
    pub identity_type: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
    pub invoked_by: Option<String>,
    pub identity_provider: Option<String>,
    pub session_context: Option<SessionContext>,
    pub on_behalf_of: Option<Box<RawValue>>,
    pub credential_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    pub attributes: Option<SessionAttributes>,
    pub session_issuer: Option<SessionIssuer>,
    pub web_id_federation_data: Option<Box<RawValue>>,
    pub source_identity: Option<String>,
    pub ec2_role_delivery: Option<String>,
    pub assumed_root: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// CloudTrail writes this as the string "true"/"false".
    pub mfa_authenticated: Option<serde_json::Value>,
    pub creation_date: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    #[serde(rename = "type")]
    pub issuer_type: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub user_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct CtResource {
    #[serde(rename = "ARN", alias = "arn")]
    pub arn: Option<String>,
    #[serde(rename = "accountId")]
    pub account_id: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: Option<String>,
}

/// Parses any CloudTrail-shaped JSON input into `out`.
pub fn parse(_source: &Arc<str>, _bytes: &[u8], _out: &mut Batch) {
    // Implemented by the CloudTrail parser work.
}

/// OCSF object for a CloudTrail event.
pub fn to_ocsf(_event: &Event, _r: &CloudTrailRecord) -> serde_json::Value {
    serde_json::Value::Null
}
