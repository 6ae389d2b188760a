//! S3 server access log lines in the current layout (26 space-separated fields counting the
//! bracketed time as two): owner, bucket, time, remote IP, requester, request id, operation,
//! key, request URI, status, error code, bytes sent, object size, total time, turn-around time,
//! referer, user agent, version id, host id, signature version, cipher suite, authentication
//! type, host header, TLS version, access point ARN, ACL required.

use super::clock::push_s3_time;
use super::org::Bucket;
use super::rng::{RngExt, SimRng};

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// One request to a bucket.
#[derive(Debug, Clone)]
pub(crate) struct S3Req<'a> {
    pub time_ms: i64,
    pub bucket: &'a Bucket,
    pub remote_ip: &'a str,
    /// Principal ARN, or `-` for anonymous requests.
    pub requester: &'a str,
    /// `REST.GET.OBJECT`, `REST.PUT.OBJECT`, `REST.GET.BUCKET`, `WEBSITE.GET.OBJECT`...
    pub op: &'a str,
    /// Object key, or empty for bucket-level operations.
    pub key: &'a str,
    /// Query string for bucket-level operations (`policy`, `list-type=2&prefix=...`).
    pub query: &'a str,
    pub status: u16,
    pub error: &'a str,
    pub bytes_sent: Option<u64>,
    pub object_size: Option<u64>,
    pub total_ms: u64,
    pub user_agent: &'a str,
    /// `AuthHeader`, `QueryString` (presigned) or `-` (anonymous).
    pub auth: &'a str,
}

impl S3Req<'_> {
    fn method(&self) -> &'static str {
        let op = self.op;
        if op.contains(".GET.") {
            "GET"
        } else if op.contains(".PUT.") || op.contains(".COPY.") {
            "PUT"
        } else if op.contains(".HEAD.") {
            "HEAD"
        } else if op.contains(".DELETE.") {
            "DELETE"
        } else {
            "POST"
        }
    }

    /// Appends the line (without newline); returns the request id.
    pub(crate) fn render(&self, r: &mut SimRng, out: &mut Vec<u8>) -> String {
        let request_id = r.hex(16).to_ascii_uppercase();
        let b = self.bucket;
        let mut push = |s: &str| {
            out.extend_from_slice(s.as_bytes());
            out.push(b' ');
        };
        push(&b.owner_canonical);
        push(&b.name);
        push_s3_time(out, self.time_ms);
        out.push(b' ');
        let mut push = |s: &str| {
            out.extend_from_slice(s.as_bytes());
            out.push(b' ');
        };
        push(self.remote_ip);
        push(self.requester);
        push(&request_id);
        push(self.op);
        push(if self.key.is_empty() { "-" } else { self.key });
        let path = if self.key.is_empty() {
            String::new()
        } else {
            self.key.to_string()
        };
        let uri = if self.op.starts_with("BATCH.") {
            // Objects deleted by a multi-object delete: one line each, no request line.
            "-".to_string()
        } else if self.query.is_empty() {
            format!("\"{} /{path} HTTP/1.1\"", self.method())
        } else {
            format!("\"{} /{path}?{} HTTP/1.1\"", self.method(), self.query)
        };
        push(&uri);
        push(&self.status.to_string());
        push(if self.error.is_empty() {
            "-"
        } else {
            self.error
        });
        push(
            &self
                .bytes_sent
                .map_or_else(|| "-".to_string(), |v| v.to_string()),
        );
        push(
            &self
                .object_size
                .map_or_else(|| "-".to_string(), |v| v.to_string()),
        );
        push(&self.total_ms.to_string());
        let turn = if self.bytes_sent.is_some() || self.method() == "PUT" {
            (self.total_ms / 3).max(1).to_string()
        } else {
            "-".to_string()
        };
        push(&turn);
        push("\"-\"");
        push(&format!("\"{}\"", self.user_agent.replace('"', "'")));
        push("-");
        let mut host_id = String::with_capacity(76);
        for _ in 0..75 {
            host_id.push(char::from(B64[r.index(B64.len())]));
        }
        host_id.push('=');
        push(&host_id);
        let anonymous = self.auth == "-";
        push(if anonymous { "-" } else { "SigV4" });
        let tls13 = r.chance(0.7);
        push(if tls13 {
            "TLS_AES_128_GCM_SHA256"
        } else {
            "ECDHE-RSA-AES128-GCM-SHA256"
        });
        push(self.auth);
        push(&format!("{}.s3.{}.amazonaws.com", b.name, b.region));
        push(if tls13 { "TLSv1.3" } else { "TLSv1.2" });
        push("-");
        out.push(b'-');
        request_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::org::BucketKind;
    use crate::simulate::rng::rng_for;

    #[test]
    fn line_has_26_fields() {
        let b = Bucket {
            account: 0,
            region: "us-east-1",
            name: "bkt".into(),
            kind: BucketKind::Data,
            access_logged: true,
            data_events: false,
            owner_canonical: "ab".repeat(32),
        };
        let req = S3Req {
            time_ms: 1_790_000_000_000,
            bucket: &b,
            remote_ip: "192.0.2.3",
            requester: "-",
            op: "REST.GET.OBJECT",
            key: "a/b.txt",
            query: "",
            status: 200,
            error: "",
            bytes_sent: Some(10),
            object_size: Some(10),
            total_ms: 9,
            user_agent: "curl/8.5.0",
            auth: "-",
        };
        let mut out = Vec::new();
        req.render(&mut rng_for(1, &[]), &mut out);
        let line = String::from_utf8(out).unwrap_or_default();
        // Quoted and bracketed fields contain spaces; count outside them.
        let mut fields = 0;
        let mut in_q = false;
        let mut prev_space = true;
        for c in line.chars() {
            if c == '"' || c == '[' || c == ']' {
                in_q = !in_q;
            }
            if c == ' ' && !in_q {
                prev_space = true;
            } else if prev_space {
                fields += 1;
                prev_space = false;
            }
        }
        assert_eq!(fields, 26, "{line}");
        assert!(line.contains("\"GET /a/b.txt HTTP/1.1\""));
    }
}
