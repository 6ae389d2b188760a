//! Throughput of the CloudTrail parser alone, on synthetic but realistic records (~1.4 KB each:
//! assumed-role callers with session context, request parameters, response elements,
//! resources and TLS details), in memory so that no IO or decompression is measured.
//!
//! `cargo run --release -p detector-core --example bench_cloudtrail [records] [per_file]`

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use detector_core::parse::{Batch, cloudtrail};

/// xorshift64*: deterministic variety without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const CALLS: &[(&str, &str)] = &[
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("s3.amazonaws.com", "GetObject"),
    ("s3.amazonaws.com", "PutObject"),
    ("sts.amazonaws.com", "AssumeRole"),
    ("iam.amazonaws.com", "ListRoles"),
    ("kms.amazonaws.com", "Decrypt"),
    ("lambda.amazonaws.com", "Invoke"),
    ("dynamodb.amazonaws.com", "GetItem"),
    ("iam.amazonaws.com", "CreateAccessKey"),
    ("signin.amazonaws.com", "ConsoleLogin"),
];

fn record(rng: &mut Rng, i: u64) -> String {
    let (source, name) = CALLS[(rng.next() % CALLS.len() as u64) as usize];
    let account = 100_000_000_000 + rng.next() % 900_000_000_000;
    let role = rng.pick(&[
        "Admin",
        "DeployRole",
        "ReadOnly",
        "LambdaExec",
        "DataPipeline",
    ]);
    let region = rng.pick(&["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"]);
    let agent = rng.pick(&[
        "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.amzn.2 prompt/off",
        "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.210 Botocore/1.34.69",
        "aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/s3#1.51.4",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    ]);
    let ip = format!(
        "{}.{}.{}.{}",
        rng.next() % 223 + 1,
        rng.next() % 256,
        rng.next() % 256,
        rng.next() % 254 + 1
    );
    let (sec, min) = (i % 60, (i / 60) % 60);
    let mut id = String::new();
    for _ in 0..2 {
        let _ = write!(id, "{:016x}", rng.next());
    }
    let key = format!("AKIA{:016X}", rng.next());
    let bucket = rng.pick(&["prod-data", "logs-archive", "ml-artifacts", "web-assets"]);
    format!(
        r#"{{"eventVersion":"1.09","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLE{role}:session-{i}","arn":"arn:aws:sts::{account}:assumed-role/{role}/session-{i}","accountId":"{account}","accessKeyId":"{key}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROAEXAMPLE{role}","arn":"arn:aws:iam::{account}:role/{role}","accountId":"{account}","userName":"{role}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"2024-03-05T11:{min:02}:{sec:02}Z","mfaAuthenticated":"false"}}}}}},"eventTime":"2024-03-05T12:{min:02}:{sec:02}Z","eventSource":"{source}","eventName":"{name}","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"{agent}","requestParameters":{{"bucketName":"{bucket}","key":"reports/2024/03/05/part-{i:06}.parquet","Host":"{bucket}.s3.{region}.amazonaws.com"}},"responseElements":{{"x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:{region}:{account}:key/{id}"}},"additionalEventData":{{"SignatureVersion":"SigV4","bytesTransferredOut":48213}},"requestID":"{}","eventID":"{}-{}-{}-{}-{}","readOnly":true,"resources":[{{"accountId":"{account}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"{account}","eventCategory":"Data"}}"#,
        &id[..16].to_uppercase(),
        &id[..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..32],
    )
}

/// CPU time of this thread (Linux `/proc`, in clock ticks of 10 ms), so that the rate stays
/// meaningful on a machine shared with other work; `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let total: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let per_file: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000)
        .max(1);

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut files = Vec::new();
    let mut lines = String::new();
    let mut n = 0;
    while n < total {
        let mut body = String::from("{\"Records\":[");
        for j in 0..per_file.min(total - n) {
            if j > 0 {
                body.push(',');
            }
            let rec = record(&mut rng, n);
            body.push_str(&rec);
            lines.push_str(&rec);
            lines.push('\n');
            n += 1;
        }
        body.push_str("]}");
        files.push(body);
    }
    let bytes: usize = files.iter().map(String::len).sum();
    println!(
        "{total} records, {:.1} MB, {:.0} bytes/record, {} files",
        bytes as f64 / 1e6,
        bytes as f64 / total as f64,
        files.len()
    );

    let source: Arc<str> = Arc::from("bench");
    let measure = |label: &str, bodies: &[&[u8]]| {
        // One warm-up pass, then the best of three.
        let mut best = (f64::MAX, f64::MAX);
        let mut events = 0;
        for _ in 0..4 {
            let (start, start_cpu) = (Instant::now(), cpu_seconds());
            events = 0;
            for body in bodies {
                let mut out = Batch::default();
                cloudtrail::parse(&source, body, &mut out);
                assert!(out.rejects.is_empty(), "{:?}", out.rejects.first());
                events += out.events.len();
            }
            let cpu = match (start_cpu, cpu_seconds()) {
                (Some(a), Some(b)) => b - a,
                _ => f64::NAN,
            };
            best = (best.0.min(start.elapsed().as_secs_f64()), best.1.min(cpu));
        }
        let size = bodies.iter().map(|b| b.len()).sum::<usize>() as f64 / 1e6;
        println!(
            "{label:<14} {events} events  wall {:.2} s: {:>8.0} events/s {:>6.1} MB/s  \
             cpu {:.2} s: {:>8.0} events/s {:>6.1} MB/s",
            best.0,
            events as f64 / best.0,
            size / best.0,
            best.1,
            events as f64 / best.1,
            size / best.1,
        );
    };
    let records: Vec<&[u8]> = files.iter().map(|f| f.as_bytes()).collect();
    measure("Records files", &records);
    measure("JSON lines", &[lines.as_bytes()]);
}
