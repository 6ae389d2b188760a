//! Static tables the synthetic organization is drawn from: names, regions, address ranges and
//! user agents as they appear in real logs. Kept apart from the generation logic so realism can
//! be tuned in one place.

/// Company names; the org's bucket, account and e-mail names derive from one of them.
pub(crate) const COMPANIES: &[&str] = &[
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "vandelay",
    "wonka",
    "tyrell",
    "cyberdyne",
    "soylent",
    "aperture",
    "stark",
    "oscorp",
    "nakatomi",
    "gringotts",
    "monarch",
];

pub(crate) const FIRST_NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yasmin", "zoe",
    "arjun", "priya", "chen", "mei", "lukas", "sofia", "mateo", "amara", "kenji", "fatima", "omar",
    "ingrid", "tomasz", "aisha", "diego", "hannah", "noah", "leila", "ravi",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "nguyen",
    "smith",
    "garcia",
    "kowalski",
    "mueller",
    "tanaka",
    "okafor",
    "silva",
    "patel",
    "johansson",
    "rossi",
    "dubois",
    "kim",
    "lopez",
    "brown",
    "novak",
    "ivanova",
    "haddad",
    "singh",
    "obrien",
    "schmidt",
    "fischer",
    "costa",
    "yamamoto",
    "reyes",
    "walsh",
    "khan",
    "berg",
];

/// Home regions the org may run in (primary first, secondary drawn from the rest).
pub(crate) const HOME_REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"];

/// Regions the org never uses: where a cryptominer would spin up GPUs.
pub(crate) const UNUSUAL_REGIONS: &[&str] = &[
    "ap-southeast-1",
    "sa-east-1",
    "ap-northeast-3",
    "ap-south-2",
    "af-south-1",
    "me-south-1",
];

/// Availability zone ids per region prefix, for flow log `az-id`.
pub(crate) fn az_id(region: &str, n: usize) -> String {
    let short = match region {
        "us-east-1" => "use1",
        "us-west-2" => "usw2",
        "eu-west-1" => "euw1",
        "eu-central-1" => "euc1",
        "ap-southeast-1" => "apse1",
        "sa-east-1" => "sae1",
        "ap-northeast-3" => "apne3",
        "ap-south-2" => "aps2",
        "af-south-1" => "afs1",
        _ => "mes1",
    };
    format!("{short}-az{}", n % 3 + 1)
}

/// An office: city and country, UTC offset in minutes (fixed: the simulated weeks are short),
/// and the office's public /24 (documentation ranges: they never collide with real owners).
#[derive(Debug, Clone, Copy)]
pub struct OfficeDef {
    pub city: &'static str,
    /// ISO 3166-1 alpha-2; staff working from home are in the same country.
    pub country: &'static str,
    pub tz_min: i32,
    pub net: [u8; 3],
    /// Residential ISP prefixes (first two octets) for staff working from home there.
    pub home_nets: &'static [[u8; 2]],
}

pub(crate) const OFFICES: &[OfficeDef] = &[
    OfficeDef {
        city: "San Francisco",
        country: "US",
        tz_min: -7 * 60,
        net: [203, 0, 113],
        home_nets: &[[73, 162], [98, 207], [24, 6], [67, 169]],
    },
    OfficeDef {
        city: "New York",
        country: "US",
        tz_min: -4 * 60,
        net: [198, 51, 100],
        home_nets: &[[71, 190], [108, 41], [24, 44], [100, 2]],
    },
    OfficeDef {
        city: "London",
        country: "GB",
        tz_min: 60,
        net: [192, 0, 2],
        home_nets: &[[86, 12], [81, 98], [92, 40], [2, 24]],
    },
    OfficeDef {
        city: "Berlin",
        country: "DE",
        tz_min: 120,
        net: [192, 88, 99],
        home_nets: &[[84, 128], [91, 64], [79, 200], [87, 122]],
    },
    OfficeDef {
        city: "Bangalore",
        country: "IN",
        tz_min: 330,
        net: [198, 18, 7],
        home_nets: &[[49, 36], [106, 51], [117, 96], [122, 171]],
    },
];

/// Networks a traveller connects from once (hotel Wi-Fi abroad): never used by anyone else.
pub(crate) const TRAVEL_NETS: &[([u8; 2], &str)] = &[
    ([126, 72], "JP"),
    ([177, 37], "BR"),
    ([41, 13], "ZA"),
    ([1, 145], "AU"),
    ([88, 27], "ES"),
];

/// Residential networks (first two octets, country) far from every office, never used by the organization:
/// where a thief signs in with a stolen password or session from an ordinary home connection,
/// so no hosting or VPN list gives it away.
pub(crate) const REMOTE_HOME_NETS: &[([u8; 2], &str)] = &[
    ([14, 52], "KR"),
    ([189, 6], "BR"),
    ([105, 112], "NG"),
    ([113, 161], "VN"),
];

/// Address blocks attackers come from: VPS/bulletproof hosting and Tor exits, disjoint from
/// every network the organization's people and workloads use.
pub(crate) const ATTACKER_NETS: &[[u8; 3]] = &[
    [185, 220, 101],
    [45, 137, 21],
    [193, 142, 146],
    [5, 188, 206],
    [91, 92, 240],
    [103, 75, 190],
    [194, 26, 192],
    [80, 94, 95],
    [179, 43, 180],
    [23, 129, 64],
    [62, 102, 148],
    [141, 98, 10],
    [146, 70, 199],
    [162, 247, 74],
    [209, 141, 58],
    [37, 120, 206],
];

/// Internet background scanners (Shodan-like noise hitting public ENIs all day).
pub(crate) const NOISE_NETS: &[[u8; 2]] = &[
    [167, 94],
    [71, 6],
    [162, 142],
    [198, 235],
    [64, 62],
    [89, 248],
    [156, 96],
    [218, 92],
];

/// Public client networks reaching the org's load balancers.
pub(crate) const CLIENT_NETS: &[[u8; 2]] = &[
    [73, 15],
    [86, 140],
    [99, 231],
    [174, 62],
    [90, 200],
    [109, 147],
    [180, 150],
    [201, 81],
];

/// AWS-owned ranges: EC2 public addresses, Lambda and NAT egress, service endpoints.
pub(crate) const AWS_NETS: &[[u8; 2]] = &[
    [3, 91],
    [3, 228],
    [18, 208],
    [34, 201],
    [44, 192],
    [52, 23],
    [54, 172],
    [35, 171],
];

/// GitHub-hosted runner egress (Azure ranges).
pub(crate) const GITHUB_NETS: &[[u8; 2]] = &[[4, 175], [20, 57], [20, 102], [172, 183]];

/// External API endpoints workloads talk to (payment provider, SaaS, package mirrors).
pub(crate) const SAAS_NETS: &[[u8; 3]] = &[
    [104, 16, 132],
    [151, 101, 1],
    [140, 82, 112],
    [13, 107, 42],
    [34, 117, 59],
];

pub(crate) const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
];

/// CLI user agents; `{cmd}` is replaced by the command (`s3.ls`, `ec2.describe-instances`).
pub(crate) const CLIS: &[&str] = &[
    "aws-cli/2.17.59 md/awscrt#0.21.2 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#{cmd}",
    "aws-cli/2.18.2 md/awscrt#0.21.5 ua/2.0 os/linux#6.8.0-45-generic md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#{cmd}",
    "aws-cli/2.17.40 md/awscrt#0.21.2 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#{cmd}",
    "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.36",
];

pub(crate) const TERRAFORM_UA: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.9.7 (+https://www.terraform.io) terraform-provider-aws/5.70.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.0 ua/2.1 os/linux lang/go#1.23.1 md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.0.0";

pub(crate) const SSM_AGENT_UA: &str =
    "aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.987.0";

pub(crate) const ATTACKER_UAS: &[&str] = &[
    "aws-cli/1.22.34 Python/3.11.8 Linux/6.6.9-amd64 botocore/1.24.46 distrib/kali.2024",
    "Boto3/1.24.46 Python/3.11.8 Linux/6.6.9-amd64 Botocore/1.27.46 pacu/1.5.2",
    "aws-sdk-go/1.44.109 (go1.19.2; linux; amd64) scoutsuite/5.14.0",
    "python-requests/2.31.0",
    "aws-cli/2.13.0 Python/3.11.4 Linux/5.15.0-1040-aws exe/x86_64.kali.2023 prompt/off command/sts.get-caller-identity",
];

/// First/last words for resource names.
pub(crate) const APPS: &[&str] = &[
    "orders",
    "payments",
    "catalog",
    "search",
    "checkout",
    "billing",
    "inventory",
    "shipping",
    "notifications",
    "reports",
    "auth",
    "profiles",
];
