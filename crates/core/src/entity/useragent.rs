//! User agent tool families. Offensive tooling is checked first: `aws-cli` on Kali or a Pacu
//! session is still the AWS CLI by its first token, and the distribution is what matters.

/// Tool family of a user agent string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentFamily {
    Console,
    AwsCli,
    AwsSdk,
    AwsPowershell,
    Terraform,
    CloudFormation,
    /// Pacu, or an AWS tool running on Kali, Parrot or Pentoo.
    Offensive,
    /// ScoutSuite, Prowler, CloudSploit and other posture scanners.
    SecurityScanner,
    Curl,
    /// Generic HTTP libraries (python-requests, Go net/http, wget, Postman).
    HttpClient,
    /// AWS services calling on a principal's behalf (`AWS Internal`, `*.amazonaws.com`).
    AwsService,
    Browser,
    Unknown,
}

impl AgentFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentFamily::Console => "console",
            AgentFamily::AwsCli => "aws_cli",
            AgentFamily::AwsSdk => "aws_sdk",
            AgentFamily::AwsPowershell => "aws_powershell",
            AgentFamily::Terraform => "terraform",
            AgentFamily::CloudFormation => "cloudformation",
            AgentFamily::Offensive => "offensive",
            AgentFamily::SecurityScanner => "security_scanner",
            AgentFamily::Curl => "curl",
            AgentFamily::HttpClient => "http_client",
            AgentFamily::AwsService => "aws_service",
            AgentFamily::Browser => "browser",
            AgentFamily::Unknown => "unknown",
        }
    }
}

const RULES: &[(&str, AgentFamily)] = &[
    ("pacu", AgentFamily::Offensive),
    ("kali", AgentFamily::Offensive),
    ("parrot", AgentFamily::Offensive),
    ("pentoo", AgentFamily::Offensive),
    ("cloudgoat", AgentFamily::Offensive),
    ("weirdaal", AgentFamily::Offensive),
    ("scoutsuite", AgentFamily::SecurityScanner),
    ("scout suite", AgentFamily::SecurityScanner),
    ("prowler", AgentFamily::SecurityScanner),
    ("cloudsploit", AgentFamily::SecurityScanner),
    ("cloudmapper", AgentFamily::SecurityScanner),
    ("steampipe", AgentFamily::SecurityScanner),
    ("cloudformation", AgentFamily::CloudFormation),
    ("terraform", AgentFamily::Terraform),
    ("console.amazonaws.com", AgentFamily::Console),
    ("signin.amazonaws.com", AgentFamily::Console),
    ("aws-console", AgentFamily::Console),
    ("s3console", AgentFamily::Console),
    ("aws-internal/3 aws-sdk-java/1.11.", AgentFamily::AwsService),
    ("aws-cli/", AgentFamily::AwsCli),
    ("awspowershell", AgentFamily::AwsPowershell),
    ("boto3/", AgentFamily::AwsSdk),
    ("botocore/", AgentFamily::AwsSdk),
    ("aws-sdk-", AgentFamily::AwsSdk),
    ("awssdk", AgentFamily::AwsSdk),
    ("aws-chalice", AgentFamily::AwsSdk),
    ("curl/", AgentFamily::Curl),
    ("python-requests", AgentFamily::HttpClient),
    ("go-http-client", AgentFamily::HttpClient),
    ("wget/", AgentFamily::HttpClient),
    ("okhttp", AgentFamily::HttpClient),
    ("postmanruntime", AgentFamily::HttpClient),
    ("python-urllib", AgentFamily::HttpClient),
    ("aws internal", AgentFamily::AwsService),
    (".amazonaws.com", AgentFamily::AwsService),
    ("mozilla/", AgentFamily::Browser),
];

thread_local! {
    /// Recently seen user agents: CloudTrail repeats a handful of agents millions of times,
    /// and ~36 substring searches per event would cost more than the rest of extraction.
    static CACHE: std::cell::RefCell<Vec<(Box<str>, AgentFamily)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

const CACHE_SLOTS: usize = 64;

/// Classifies a user agent (cached per thread). Matching is ASCII case-insensitive on the
/// first 512 bytes.
pub fn classify(ua: &str) -> AgentFamily {
    if let Some(f) = CACHE.with(|c| {
        c.borrow()
            .iter()
            .find(|(k, _)| k.len() == ua.len() && **k == *ua)
            .map(|(_, f)| *f)
    }) {
        return f;
    }
    let f = classify_uncached(ua);
    if ua.len() <= 1024 {
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= CACHE_SLOTS {
                c.remove(0);
            }
            c.push((ua.into(), f));
        });
    }
    f
}

fn classify_uncached(ua: &str) -> AgentFamily {
    let bytes = ua.as_bytes();
    let n = bytes.len().min(512);
    let mut buf = [0u8; 512];
    for (d, s) in buf.iter_mut().zip(&bytes[..n]) {
        *d = s.to_ascii_lowercase();
    }
    let hay = &buf[..n];
    for (needle, fam) in RULES {
        if memchr::memmem::find(hay, needle.as_bytes()).is_some() {
            return *fam;
        }
    }
    AgentFamily::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        let cases = [
            (
                "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.kali.2024 prompt/off",
                AgentFamily::Offensive,
            ),
            (
                "aws-cli/1.18.69 Python/3.8.2 Linux/5.4.0-kali3-amd64 botocore/1.16.19",
                AgentFamily::Offensive,
            ),
            (
                "Boto3/1.9.201 Python/3.7.3 Linux/4.19.0-kali5-amd64 Botocore/1.12.201",
                AgentFamily::Offensive,
            ),
            ("Pacu/1.0 boto3/1.26", AgentFamily::Offensive),
            ("Scout Suite/5.12.0", AgentFamily::SecurityScanner),
            (
                "aws-cli/2.13.5 Python/3.11.4 Darwin/22.5.0 exe/x86_64 prompt/off command/s3.ls",
                AgentFamily::AwsCli,
            ),
            (
                "Boto3/1.28.1 md/Botocore#1.31.1 ua/2.0 os/linux#5.10 lang/python#3.11.4",
                AgentFamily::AwsSdk,
            ),
            (
                "aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21.0",
                AgentFamily::AwsSdk,
            ),
            (
                "APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.17.0 aws-sdk-go/1.45.11",
                AgentFamily::Terraform,
            ),
            ("cloudformation.amazonaws.com", AgentFamily::CloudFormation),
            ("AWS-Console", AgentFamily::Console),
            ("signin.amazonaws.com", AgentFamily::Console),
            (
                "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]",
                AgentFamily::Console,
            ),
            ("curl/8.4.0", AgentFamily::Curl),
            ("python-requests/2.31.0", AgentFamily::HttpClient),
            ("AWS Internal", AgentFamily::AwsService),
            ("ec2.amazonaws.com", AgentFamily::AwsService),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
                AgentFamily::Browser,
            ),
            (
                "AWSPowerShell/4.1.400.0 .NET_Runtime/4.0",
                AgentFamily::AwsPowershell,
            ),
            ("my-custom-tool/0.1", AgentFamily::Unknown),
            ("", AgentFamily::Unknown),
        ];
        for (ua, fam) in cases {
            assert_eq!(classify(ua), fam, "{ua}");
            // Second call is served from the cache with the same answer.
            assert_eq!(classify(ua), fam, "{ua}");
        }
    }
}
