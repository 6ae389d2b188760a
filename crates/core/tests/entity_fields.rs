//! Structured mappings: each CloudTrail field, the security-relevant request and response
//! parameters, flow records and S3 access lines give typed entities with score 1.0 and the
//! field path as explanation.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use detector_core::entity::{Decision, Entity, EntityType, Extractor, account_of, principal_of};
use detector_core::event::{Event, EventClass, EventData};
use detector_core::parse::Batch;
use detector_core::parse::cloudtrail;
use detector_core::parse::s3access::S3AccessRecord;
use detector_core::parse::vpcflow::FlowRecord;

use EntityType as T;

fn ct(json: &str) -> Event {
    let src: Arc<str> = Arc::from("test");
    let mut b = Batch::default();
    cloudtrail::parse(&src, json.as_bytes(), &mut b);
    assert!(b.rejects.is_empty(), "{:?}", b.rejects);
    b.events.pop().unwrap()
}

/// A record with the given identity, source, name, params and extra top-level fields.
fn record(identity: &str, source: &str, name: &str, req: &str, resp: &str, extra: &str) -> Event {
    ct(&format!(
        r#"{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"2024-05-01T08:00:00Z","eventSource":"{source}","eventName":"{name}","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64","requestParameters":{req},"responseElements":{resp},"eventID":"e1","recipientAccountId":"111122223333"{extra}}}"#
    ))
}

const IAM_USER: &str = r#"{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"alice"}"#;

fn entities(ev: &Event) -> Vec<Entity<'_>> {
    let ex = Extractor::default();
    let mut out = Vec::new();
    ex.extract(ev, &mut out);
    out
}

fn find<'e, 'a>(es: &'e [Entity<'a>], kind: EntityType, value: &str) -> &'e Entity<'a> {
    es.iter()
        .find(|e| e.kind == kind && e.value == value)
        .unwrap_or_else(|| {
            panic!(
                "no {kind} {value} in {:#?}",
                es.iter()
                    .map(|e| (e.kind, e.value.to_string(), e.origin.path.to_string()))
                    .collect::<Vec<_>>()
            )
        })
}

fn typed<'e>(es: &'e [Entity<'_>], kind: EntityType, value: &str, path: &str) -> &'e Entity<'e> {
    let e = find(es, kind, value);
    assert_eq!(e.score, 1.0, "{kind} {value}");
    assert_eq!(e.explanation.recognizer, "field");
    assert_eq!(e.origin.path, path, "{kind} {value}");
    e
}

#[test]
fn iam_user_identity_and_top_level_fields() {
    let ev = record(
        IAM_USER,
        "iam.amazonaws.com",
        "ListUsers",
        "null",
        "null",
        "",
    );
    let es = entities(&ev);
    typed(
        &es,
        T::IamUser,
        "arn:aws:iam::111122223333:user/alice",
        "userIdentity.arn",
    );
    let k = typed(
        &es,
        T::AccessKey,
        "AKIAIOSFODNN7EXAMPLE",
        "userIdentity.accessKeyId",
    );
    assert_eq!(k.class, Some("long_term"));
    typed(&es, T::AccountId, "111122223333", "userIdentity.accountId");
    let ip = typed(&es, T::Ipv4, "198.51.100.7", "sourceIPAddress");
    assert_eq!(ip.class, Some("documentation"));
    let ua = find(
        &es,
        T::UserAgent,
        "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
    );
    assert_eq!(ua.class, Some("aws_cli"));
    typed(&es, T::Region, "eu-west-1", "awsRegion");
    // recipientAccountId equals the caller's account: one entity per event.
    assert_eq!(es.iter().filter(|e| e.kind == T::AccountId).count(), 1);
    assert_eq!(
        principal_of(&ev),
        Some("arn:aws:iam::111122223333:user/alice")
    );
    assert_eq!(account_of(&ev), Some("111122223333"));
}

#[test]
fn assumed_role_with_session_issuer_and_sso() {
    let id = r#"{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice@example.com","arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@example.com","accountId":"111122223333","accessKeyId":"ASIAY34FZKBOKMUTVV7A","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef","accountId":"111122223333","userName":"AWSReservedSSO_AdministratorAccess_0123456789abcdef"},"attributes":{"creationDate":"2024-05-01T07:00:00Z","mfaAuthenticated":"false"}}}"#;
    let ev = record(id, "s3.amazonaws.com", "ListBuckets", "null", "null", "");
    let es = entities(&ev);
    let ar = typed(
        &es,
        T::AssumedRole,
        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@example.com",
        "userIdentity.arn",
    );
    assert_eq!(ar.class, Some("sso"));
    find(&es, T::SsoUser, "alice@example.com");
    typed(
        &es,
        T::IamRole,
        "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef",
        "userIdentity.sessionContext.sessionIssuer.arn",
    );
    let k = find(&es, T::AccessKey, "ASIAY34FZKBOKMUTVV7A");
    assert_eq!(k.class, Some("temporary"));
}

#[test]
fn other_identity_types() {
    let root = record(
        r#"{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}"#,
        "signin.amazonaws.com",
        "ConsoleLogin",
        "null",
        r#"{"ConsoleLogin":"Success"}"#,
        "",
    );
    typed(
        &entities(&root),
        T::Root,
        "arn:aws:iam::111122223333:root",
        "userIdentity.arn",
    );

    let svc = record(
        r#"{"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"}"#,
        "kms.amazonaws.com",
        "GenerateDataKey",
        "null",
        "null",
        "",
    );
    typed(
        &entities(&svc),
        T::AwsService,
        "cloudtrail.amazonaws.com",
        "userIdentity.invokedBy",
    );
    assert_eq!(principal_of(&svc), Some("cloudtrail.amazonaws.com"));

    let fed = record(
        r#"{"type":"FederatedUser","principalId":"111122223333:bob","arn":"arn:aws:sts::111122223333:federated-user/bob","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/broker","accountId":"111122223333","userName":"broker"}}}"#,
        "s3.amazonaws.com",
        "ListBuckets",
        "null",
        "null",
        "",
    );
    let es = entities(&fed);
    typed(
        &es,
        T::FederatedUser,
        "arn:aws:sts::111122223333:federated-user/bob",
        "userIdentity.arn",
    );
    typed(
        &es,
        T::IamUser,
        "arn:aws:iam::111122223333:user/broker",
        "userIdentity.sessionContext.sessionIssuer.arn",
    );

    let saml = record(
        r#"{"type":"SAMLUser","principalId":"SAMLProvider:bob@corp.example","userName":"bob@corp.example","identityProvider":"arn:aws:iam::111122223333:saml-provider/Okta"}"#,
        "sts.amazonaws.com",
        "AssumeRoleWithSAML",
        "null",
        "null",
        "",
    );
    let es = entities(&saml);
    let f = find(&es, T::FederatedUser, "bob@corp.example");
    assert_eq!(f.class, Some("saml"));

    let web = record(
        r#"{"type":"WebIdentityUser","principalId":"accounts.google.com:1234","userName":"1234","identityProvider":"accounts.google.com"}"#,
        "sts.amazonaws.com",
        "AssumeRoleWithWebIdentity",
        "null",
        "null",
        "",
    );
    find(&entities(&web), T::WebIdentity, "accounts.google.com:1234");

    let sso = record(
        r#"{"type":"IdentityCenterUser","accountId":"111122223333","onBehalfOf":{"userId":"906aa0bc-0011-7000-aaaa-123456789abc","identityStoreArn":"arn:aws:identitystore::111122223333:identitystore/d-1234567890"},"credentialId":"x"}"#,
        "sso.amazonaws.com",
        "ListAccounts",
        "null",
        "null",
        "",
    );
    find(
        &entities(&sso),
        T::SsoUser,
        "906aa0bc-0011-7000-aaaa-123456789abc",
    );
}

#[test]
fn source_ip_variants() {
    let svc = ct(&format!(
        r#"{{"eventTime":"2024-05-01T08:00:00Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","userIdentity":{IAM_USER},"sourceIPAddress":"s3.amazonaws.com"}}"#
    ));
    typed(
        &entities(&svc),
        T::AwsService,
        "s3.amazonaws.com",
        "sourceIPAddress",
    );
    let v6 = ct(&format!(
        r#"{{"eventTime":"2024-05-01T08:00:00Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","userIdentity":{IAM_USER},"sourceIPAddress":"2001:DB8:0:0::1"}}"#
    ));
    // IPv6 is normalized to its canonical form.
    typed(&entities(&v6), T::Ipv6, "2001:db8::1", "sourceIPAddress");
}

#[test]
fn sts_assume_role_request_and_response() {
    let ev = record(
        IAM_USER,
        "sts.amazonaws.com",
        "AssumeRole",
        r#"{"roleArn":"arn:aws:iam::444455556666:role/OrganizationAccountAccessRole","roleSessionName":"alice","durationSeconds":3600}"#,
        r#"{"credentials":{"accessKeyId":"ASIAIOSFODNN7EXAMPLE","sessionToken":"IQoJb3JpZ2luX2VjEKz","expiration":"May 1, 2024, 9:00:00 AM"},"assumedRoleUser":{"assumedRoleId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::444455556666:assumed-role/OrganizationAccountAccessRole/alice"}}"#,
        "",
    );
    let es = entities(&ev);
    let r = typed(
        &es,
        T::IamRole,
        "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole",
        "requestParameters.roleArn",
    );
    assert_eq!(
        r.origin.span.map(|s| s[1] - s[0]),
        Some(r.value.len() as u32)
    );
    assert_eq!(r.account(), Some("444455556666"));
    typed(
        &es,
        T::AccessKey,
        "ASIAIOSFODNN7EXAMPLE",
        "responseElements.credentials.accessKeyId",
    );
    typed(
        &es,
        T::AssumedRole,
        "arn:aws:sts::444455556666:assumed-role/OrganizationAccountAccessRole/alice",
        "responseElements.assumedRoleUser.arn",
    );
    // The session name and token are not entities.
    assert!(
        es.iter()
            .all(|e| e.value != "alice" && !e.value.starts_with("IQo"))
    );
}

#[test]
fn iam_policy_documents_inside_parameters() {
    let doc = r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::999988887777:root\",\"Service\":\"lambda.amazonaws.com\"},\"Action\":[\"sts:AssumeRole\",\"iam:*\"],\"Resource\":[\"arn:aws:s3:::acme-data/*\",\"*\"],\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"},\"StringEquals\":{\"aws:SourceVpc\":\"vpc-1a2b3c4d\",\"aws:PrincipalAccount\":\"999988887777\"}}}]}"#;
    let ev = record(
        IAM_USER,
        "iam.amazonaws.com",
        "UpdateAssumeRolePolicy",
        &format!(r#"{{"roleName":"Admin","policyDocument":"{doc}"}}"#),
        "null",
        "",
    );
    let es = entities(&ev);
    typed(&es, T::IamRole, "Admin", "requestParameters.roleName");
    let p = "requestParameters.policyDocument";
    typed(
        &es,
        T::Root,
        "arn:aws:iam::999988887777:root",
        &format!("{p}.Statement.Principal.AWS"),
    );
    typed(
        &es,
        T::AwsService,
        "lambda.amazonaws.com",
        &format!("{p}.Statement.Principal.Service"),
    );
    typed(
        &es,
        T::IamAction,
        "sts:AssumeRole",
        &format!("{p}.Statement.Action"),
    );
    typed(&es, T::IamAction, "iam:*", &format!("{p}.Statement.Action"));
    typed(
        &es,
        T::S3Object,
        "arn:aws:s3:::acme-data/*",
        &format!("{p}.Statement.Resource"),
    );
    typed(
        &es,
        T::IpCidr,
        "203.0.113.0/24",
        &format!("{p}.Statement.Condition.IpAddress.aws:SourceIp"),
    );
    typed(
        &es,
        T::Vpc,
        "vpc-1a2b3c4d",
        &format!("{p}.Statement.Condition.StringEquals.aws:SourceVpc"),
    );
    typed(
        &es,
        T::AccountId,
        "999988887777",
        &format!("{p}.Statement.Condition.StringEquals.aws:PrincipalAccount"),
    );
    assert!(es.iter().all(|e| e.value != "*"));
}

#[test]
fn s3_data_event_names_the_object() {
    let ev = record(
        IAM_USER,
        "s3.amazonaws.com",
        "GetObject",
        r#"{"bucketName":"acme-data","Host":"acme-data.s3.eu-west-1.amazonaws.com","key":"reports/q1.csv"}"#,
        "null",
        r#","resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::acme-data/reports/q1.csv"},{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::acme-data"}],"additionalEventData":{"SignatureVersion":"SigV4","bytesTransferredOut":42}"#,
    );
    let es = entities(&ev);
    typed(
        &es,
        T::S3Bucket,
        "acme-data",
        "requestParameters.bucketName",
    );
    typed(
        &es,
        T::S3Object,
        "acme-data/reports/q1.csv",
        "requestParameters.key",
    );
    typed(
        &es,
        T::S3Object,
        "arn:aws:s3:::acme-data/reports/q1.csv",
        "resources.ARN",
    );
    typed(&es, T::S3Bucket, "arn:aws:s3:::acme-data", "resources.ARN");
    let host = find(&es, T::Domain, "acme-data.s3.eu-west-1.amazonaws.com");
    assert_eq!(host.class, Some("aws"));
}

#[test]
fn ec2_nested_items_and_security_group_rules() {
    let ev = record(
        IAM_USER,
        "ec2.amazonaws.com",
        "RunInstances",
        r#"{"instancesSet":{"items":[{"imageId":"ami-0abcdef1234567890","keyName":"prod-key"}]},"groupSet":{"items":[{"groupId":"sg-0123456789abcdef0"}]},"subnetId":"subnet-0a1b2c3d4e5f67890","instanceType":"m5.large"}"#,
        r#"{"ownerId":"111122223333","instancesSet":{"items":[{"instanceId":"i-0abcdef1234567890","privateIpAddress":"10.0.1.5","vpcId":"vpc-0a1b2c3d4e5f67890","networkInterfaceSet":{"items":[{"networkInterfaceId":"eni-0a1b2c3d4e5f67890"}]},"blockDeviceMapping":{"items":[{"ebs":{"volumeId":"vol-049df61146c4d7901"}}]}}]}}"#,
        "",
    );
    let es = entities(&ev);
    typed(
        &es,
        T::Ami,
        "ami-0abcdef1234567890",
        "requestParameters.instancesSet.items.imageId",
    );
    typed(
        &es,
        T::SecurityGroup,
        "sg-0123456789abcdef0",
        "requestParameters.groupSet.items.groupId",
    );
    typed(
        &es,
        T::Subnet,
        "subnet-0a1b2c3d4e5f67890",
        "requestParameters.subnetId",
    );
    typed(
        &es,
        T::Ec2Instance,
        "i-0abcdef1234567890",
        "responseElements.instancesSet.items.instanceId",
    );
    let ip = typed(
        &es,
        T::Ipv4,
        "10.0.1.5",
        "responseElements.instancesSet.items.privateIpAddress",
    );
    assert_eq!(ip.class, Some("private"));
    typed(
        &es,
        T::Vpc,
        "vpc-0a1b2c3d4e5f67890",
        "responseElements.instancesSet.items.vpcId",
    );
    typed(
        &es,
        T::Eni,
        "eni-0a1b2c3d4e5f67890",
        "responseElements.instancesSet.items.networkInterfaceSet.items.networkInterfaceId",
    );
    typed(
        &es,
        T::Volume,
        "vol-049df61146c4d7901",
        "responseElements.instancesSet.items.blockDeviceMapping.items.ebs.volumeId",
    );
    // The key pair name and the instance type are not entities.
    assert!(
        es.iter()
            .all(|e| e.value != "prod-key" && e.value != "m5.large")
    );

    let sg = record(
        IAM_USER,
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        r#"{"groupId":"sg-0123456789abcdef0","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0","description":"temp access for bob@example.com"}]},"ipv6Ranges":{"items":[{"cidrIpv6":"::/0"}]}}]}}"#,
        "null",
        "",
    );
    let es = entities(&sg);
    let open = typed(
        &es,
        T::IpCidr,
        "0.0.0.0/0",
        "requestParameters.ipPermissions.items.ipRanges.items.cidrIp",
    );
    assert_eq!(open.class, Some("unspecified"));
    typed(
        &es,
        T::IpCidr,
        "::/0",
        "requestParameters.ipPermissions.items.ipv6Ranges.items.cidrIpv6",
    );
    // Free text in a rule description still yields the email, through the recognizers.
    let mail = find(&es, T::Email, "bob@example.com");
    assert_eq!(mail.explanation.recognizer, "email");
}

#[test]
fn kms_lambda_secrets_cloudtrail_organizations_rds_ssm() {
    let cases: &[(&str, &str, &str, EntityType, &str, &str)] = &[
        (
            "kms.amazonaws.com",
            "Decrypt",
            r#"{"keyId":"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}"#,
            T::KmsKey,
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "requestParameters.keyId",
        ),
        (
            "kms.amazonaws.com",
            "CreateAlias",
            r#"{"aliasName":"alias/prod-data","targetKeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}"#,
            T::KmsKey,
            "alias/prod-data",
            "requestParameters.aliasName",
        ),
        (
            "kms.amazonaws.com",
            "CreateAlias",
            r#"{"aliasName":"alias/prod-data","targetKeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}"#,
            T::KmsKey,
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "requestParameters.targetKeyId",
        ),
        (
            "lambda.amazonaws.com",
            "UpdateFunctionCode20150331v2",
            r#"{"functionName":"process-orders"}"#,
            T::LambdaFunction,
            "process-orders",
            "requestParameters.functionName",
        ),
        (
            "lambda.amazonaws.com",
            "Invoke",
            r#"{"functionName":"arn:aws:lambda:eu-west-1:111122223333:function:process-orders"}"#,
            T::LambdaFunction,
            "arn:aws:lambda:eu-west-1:111122223333:function:process-orders",
            "requestParameters.functionName",
        ),
        (
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            r#"{"secretId":"prod/db/password"}"#,
            T::Secret,
            "prod/db/password",
            "requestParameters.secretId",
        ),
        (
            "secretsmanager.amazonaws.com",
            "CreateSecret",
            r#"{"name":"prod/api-key","kmsKeyId":"alias/secrets"}"#,
            T::Secret,
            "prod/api-key",
            "requestParameters.name",
        ),
        (
            "cloudtrail.amazonaws.com",
            "CreateTrail",
            r#"{"name":"org-trail","s3BucketName":"acme-cloudtrail-logs","kmsKeyId":"arn:aws:kms:eu-west-1:111122223333:alias/trail"}"#,
            T::S3Bucket,
            "acme-cloudtrail-logs",
            "requestParameters.s3BucketName",
        ),
        (
            "cloudtrail.amazonaws.com",
            "StopLogging",
            r#"{"name":"arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail"}"#,
            T::Arn,
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail",
            "requestParameters.name",
        ),
        (
            "guardduty.amazonaws.com",
            "CreateIPSet",
            r#"{"detectorId":"12abc34d567e8fa901bc2d34e56789f0","location":"https://s3.amazonaws.com/acme-sec/trusted.txt"}"#,
            T::Url,
            "https://s3.amazonaws.com/acme-sec/trusted.txt",
            "requestParameters.location",
        ),
        (
            "organizations.amazonaws.com",
            "CreateAccount",
            r#"{"email":"Aws-Prod@Example.com","accountName":"prod"}"#,
            T::Email,
            "aws-prod@example.com",
            "requestParameters.email",
        ),
        (
            "organizations.amazonaws.com",
            "MoveAccount",
            r#"{"accountId":"444455556666","sourceParentId":"r-abcd","destinationParentId":"ou-abcd-12345678"}"#,
            T::AccountId,
            "444455556666",
            "requestParameters.accountId",
        ),
        (
            "rds.amazonaws.com",
            "CreateDBInstance",
            r#"{"dBInstanceIdentifier":"prod-db","vpcSecurityGroupIds":["sg-0123456789abcdef0"],"kmsKeyId":"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}"#,
            T::SecurityGroup,
            "sg-0123456789abcdef0",
            "requestParameters.vpcSecurityGroupIds",
        ),
        (
            "ssm.amazonaws.com",
            "SendCommand",
            r#"{"instanceIds":["i-0abcdef1234567890"],"documentName":"AWS-RunShellScript"}"#,
            T::Ec2Instance,
            "i-0abcdef1234567890",
            "requestParameters.instanceIds",
        ),
        (
            "iam.amazonaws.com",
            "CreateAccessKey",
            r#"{"userName":"bob"}"#,
            T::IamUser,
            "bob",
            "requestParameters.userName",
        ),
        (
            "iam.amazonaws.com",
            "AttachRolePolicy",
            r#"{"roleName":"Admin","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#,
            T::Arn,
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "requestParameters.policyArn",
        ),
    ];
    for (src, name, req, kind, value, path) in cases {
        let ev = record(IAM_USER, src, name, req, "null", "");
        let es = entities(&ev);
        typed(&es, *kind, value, path);
    }
}

#[test]
fn error_message_yields_principal_action_and_resource() {
    let ex = Extractor::default();
    let msg = "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::payroll/2024/05.csv because no identity-based policy allows the s3:GetObject action";
    let mut es = Vec::new();
    ex.extract_field("errorMessage", "s3", msg, &mut es);
    let p = find(&es, T::IamUser, "arn:aws:iam::123456789012:user/bob");
    assert_eq!(p.explanation.recognizer, "arn");
    assert_eq!(p.explanation.validator.map(|v| v.ok), Some(true));
    assert_eq!(
        &msg[p.origin.span.unwrap()[0] as usize..p.origin.span.unwrap()[1] as usize],
        "arn:aws:iam::123456789012:user/bob"
    );
    let a = find(&es, T::IamAction, "s3:GetObject");
    assert!(a.score >= 0.9);
    let r = find(&es, T::S3Object, "arn:aws:s3:::payroll/2024/05.csv");
    assert!(r.score > 0.95);
    assert!(es.iter().all(|e| ex.decide(e) == Decision::Accept));
    assert_eq!(es.len(), 3, "{es:#?}");
}

fn event(data: EventData) -> Event {
    Event {
        class: EventClass::NetworkActivity,
        time_ms: 1_714_550_400_000,
        source: Arc::from("t"),
        index: 1,
        uid: "t#1".into(),
        data,
    }
}

#[test]
fn flow_records() {
    let r = FlowRecord {
        account_id: Some("111122223333".into()),
        interface_id: Some("eni-0a1b2c3d4e5f60718".into()),
        srcaddr: Some("10.0.1.5".parse().unwrap()),
        dstaddr: Some("52.95.110.1".parse().unwrap()),
        vpc_id: Some("vpc-0a1b2c3d".into()),
        subnet_id: Some("subnet-0a1b2c3d".into()),
        instance_id: Some("i-0abcdef1234567890".into()),
        region: Some("eu-west-1".into()),
        pkt_dst_aws_service: Some("S3".into()),
        ..FlowRecord::default()
    };
    let ev = event(EventData::Flow(Box::new(r)));
    let es = entities(&ev);
    typed(&es, T::AccountId, "111122223333", "account_id");
    typed(&es, T::Eni, "eni-0a1b2c3d4e5f60718", "interface_id");
    typed(&es, T::Vpc, "vpc-0a1b2c3d", "vpc_id");
    typed(&es, T::Subnet, "subnet-0a1b2c3d", "subnet_id");
    typed(&es, T::Ec2Instance, "i-0abcdef1234567890", "instance_id");
    assert_eq!(
        typed(&es, T::Ipv4, "10.0.1.5", "srcaddr").class,
        Some("private")
    );
    assert_eq!(
        typed(&es, T::Ipv4, "52.95.110.1", "dstaddr").class,
        Some("aws_service")
    );
    typed(&es, T::Region, "eu-west-1", "region");
}

#[test]
fn s3_access_lines() {
    let r = S3AccessRecord {
        bucket: Some("examplebucket".into()),
        remote_ip: Some("192.0.2.3".into()),
        requester: Some("arn:aws:iam::111122223333:user/alice".into()),
        key: Some("reports/q1.csv".into()),
        user_agent: Some("curl/8.4.0".into()),
        host_header: Some("examplebucket.s3.us-east-1.amazonaws.com".into()),
        ..S3AccessRecord::default()
    };
    let ev = event(EventData::S3Access(Box::new(r)));
    let es = entities(&ev);
    typed(&es, T::S3Bucket, "examplebucket", "bucket");
    typed(&es, T::S3Object, "examplebucket/reports/q1.csv", "key");
    typed(&es, T::Ipv4, "192.0.2.3", "remote_ip");
    typed(
        &es,
        T::IamUser,
        "arn:aws:iam::111122223333:user/alice",
        "requester",
    );
    assert_eq!(find(&es, T::UserAgent, "curl/8.4.0").class, Some("curl"));
    typed(
        &es,
        T::Domain,
        "examplebucket.s3.us-east-1.amazonaws.com",
        "host_header",
    );
    assert_eq!(
        principal_of(&ev),
        Some("arn:aws:iam::111122223333:user/alice")
    );
}

#[test]
fn bad_values_under_typed_keys_fall_back_to_recognizers() {
    // `instanceId` holding something that is not an instance id is not taken at 1.0.
    let ev = record(
        IAM_USER,
        "ec2.amazonaws.com",
        "StopInstances",
        r#"{"instanceId":"not-an-id","roleArn":"arn:aws:iam::12:role/x"}"#,
        "null",
        "",
    );
    let es = entities(&ev);
    assert!(es.iter().all(|e| e.value != "not-an-id"));
    assert!(es.iter().all(|e| !e.value.starts_with("arn:aws:iam::12:")));
}

#[test]
fn every_entity_is_explained_and_deduplicated() {
    let ev = record(
        IAM_USER,
        "s3.amazonaws.com",
        "PutObject",
        r#"{"bucketName":"acme-data","key":"x"}"#,
        "null",
        r#","errorCode":"AccessDenied","errorMessage":"User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::acme-data/x""#,
    );
    let es = entities(&ev);
    let mut seen = std::collections::HashSet::new();
    for e in &es {
        assert!((0.0..=1.0).contains(&e.score));
        assert!(!e.origin.path.is_empty());
        assert!(!e.explanation.recognizer.is_empty());
        assert!(
            seen.insert((e.kind, e.value.to_string())),
            "duplicate {e:?}"
        );
        let json = serde_json::to_value(e).unwrap();
        assert!(json["type"].is_string() && json["explanation"]["recognizer"].is_string());
    }
    // The principal in the error message is the caller: one entity, from the typed field.
    assert_eq!(
        find(&es, T::IamUser, "arn:aws:iam::111122223333:user/alice")
            .explanation
            .recognizer,
        "field"
    );
    find(&es, T::S3Object, "arn:aws:s3:::acme-data/x");
}
