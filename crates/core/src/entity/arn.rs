//! ARN grammar: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, with RESOURCE as
//! `type/id`, `type:id` or a bare id. Parsing borrows from the input and never allocates, so it
//! is cheap enough to run on every candidate token.

use serde::Serialize;

use super::types::EntityType;

/// A parsed ARN, borrowing from the text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    /// Everything after the fifth colon.
    pub resource: &'a str,
    /// `user` in `user/bob`, `function` in `function:f`; empty for a bare id (S3 buckets).
    pub resource_type: &'a str,
    pub resource_id: &'a str,
}

const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// Why a string is not an ARN; the explanation of a rejected candidate names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArnError {
    NotArn,
    Partition,
    Service,
    Region,
    Account,
    Resource,
}

impl ArnError {
    pub fn as_str(self) -> &'static str {
        match self {
            ArnError::NotArn => "does not start with arn:",
            ArnError::Partition => "unknown partition",
            ArnError::Service => "bad service name",
            ArnError::Region => "bad region",
            ArnError::Account => "account is not 12 digits",
            ArnError::Resource => "empty or invalid resource",
        }
    }
}

impl<'a> Arn<'a> {
    pub fn parse(s: &'a str) -> Result<Arn<'a>, ArnError> {
        let rest = s.strip_prefix("arn:").ok_or(ArnError::NotArn)?;
        // The four colons after `arn:` by byte scan (hot path: several ARNs per event).
        let b = rest.as_bytes();
        let mut cut = [0usize; 4];
        let mut n = 0;
        for (i, &c) in b.iter().enumerate() {
            if c == b':' {
                cut[n] = i;
                n += 1;
                if n == 4 {
                    break;
                }
            }
        }
        if n < 4 {
            return Err(match n {
                0..=2 => ArnError::Region,
                _ => ArnError::Account,
            });
        }
        let partition = &rest[..cut[0]];
        let service = &rest[cut[0] + 1..cut[1]];
        let region = &rest[cut[1] + 1..cut[2]];
        let account = &rest[cut[2] + 1..cut[3]];
        let resource = &rest[cut[3] + 1..];
        if partition != "aws" && !PARTITIONS.contains(&partition) {
            return Err(ArnError::Partition);
        }
        if service.is_empty()
            || service.len() > 40
            || !service
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(ArnError::Service);
        }
        if !region.is_empty() && !super::recognize::is_region_shape(region) {
            return Err(ArnError::Region);
        }
        // Managed policies use `aws` as the account; everything else is empty or 12 digits.
        if !(account.is_empty()
            || account == "aws"
            || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
        {
            return Err(ArnError::Account);
        }
        if resource.is_empty()
            || resource.len() > 2048
            // Whitespace and control characters are all <= 0x20 or 0x7f.
            || resource
                .bytes()
                .fold(false, |bad, b| bad | (b <= b' ') | (b == b'"') | (b == 0x7f))
        {
            return Err(ArnError::Resource);
        }
        let (resource_type, resource_id) = split_resource(service, resource);
        Ok(Arn {
            partition,
            service,
            region,
            account,
            resource,
            resource_type,
            resource_id,
        })
    }

    /// The most specific entity type this ARN names.
    pub fn entity_type(&self) -> EntityType {
        let t = self.resource_type;
        match self.service {
            "iam" => match t {
                "user" => EntityType::IamUser,
                "role" => EntityType::IamRole,
                "" if self.resource == "root" => EntityType::Root,
                _ => EntityType::Arn,
            },
            "sts" => match t {
                "assumed-role" => EntityType::AssumedRole,
                "federated-user" => EntityType::FederatedUser,
                _ => EntityType::Arn,
            },
            "s3" if self.region.is_empty() && self.account.is_empty() => {
                if self.resource.contains('/') {
                    EntityType::S3Object
                } else {
                    EntityType::S3Bucket
                }
            }
            "kms" if t == "key" || t == "alias" => EntityType::KmsKey,
            "ec2" => match t {
                "instance" => EntityType::Ec2Instance,
                "vpc" => EntityType::Vpc,
                "subnet" => EntityType::Subnet,
                "security-group" => EntityType::SecurityGroup,
                "network-interface" => EntityType::Eni,
                "volume" => EntityType::Volume,
                "snapshot" => EntityType::Snapshot,
                "image" => EntityType::Ami,
                _ => EntityType::Arn,
            },
            "lambda" if t == "function" => EntityType::LambdaFunction,
            "secretsmanager" if t == "secret" => EntityType::Secret,
            _ => EntityType::Arn,
        }
    }

    /// Sub-classification for the entity's `class` field.
    pub fn class(&self) -> Option<&'static str> {
        match (self.service, self.resource_type) {
            ("iam", "role") if self.resource_id.starts_with("aws-service-role/") => {
                Some("service_linked")
            }
            ("sts", "assumed-role") if self.resource_id.starts_with("AWSReservedSSO_") => {
                Some("sso")
            }
            ("kms", "alias") => Some("alias"),
            ("kms", "key") => Some("key"),
            _ => None,
        }
    }

    /// For an assumed-role ARN: (role name, session name).
    pub fn assumed_role_parts(&self) -> Option<(&'a str, &'a str)> {
        if self.service != "sts" || self.resource_type != "assumed-role" {
            return None;
        }
        self.resource_id.rsplit_once('/')
    }
}

fn split_resource<'a>(service: &str, resource: &'a str) -> (&'a str, &'a str) {
    // S3 bucket and object ARNs have no type prefix: the whole resource is `bucket[/key]`.
    if service == "s3" && !resource.starts_with("accesspoint/") && !resource.starts_with("job/") {
        return ("", resource);
    }
    let cut = resource.bytes().position(|c| c == b'/' || c == b':');
    match cut {
        Some(i) => (&resource[..i], &resource[i + 1..]),
        None => ("", resource),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_common_arns() {
        let a =
            Arn::parse("arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob").unwrap();
        assert_eq!(a.service, "iam");
        assert_eq!(a.account, "123456789012");
        assert_eq!(a.resource_type, "user");
        assert_eq!(a.resource_id, "division_abc/subdivision_xyz/Bob");
        assert_eq!(a.entity_type(), EntityType::IamUser);

        let a =
            Arn::parse("arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com").unwrap();
        assert_eq!(a.entity_type(), EntityType::AssumedRole);
        assert_eq!(a.assumed_role_parts(), Some(("Admin", "alice@example.com")));

        let a = Arn::parse("arn:aws:lambda:us-east-1:123456789012:function:my-fn:PROD").unwrap();
        assert_eq!(a.resource_type, "function");
        assert_eq!(a.entity_type(), EntityType::LambdaFunction);

        let a = Arn::parse("arn:aws:s3:::my-bucket/path/to/obj.txt").unwrap();
        assert_eq!(a.entity_type(), EntityType::S3Object);
        assert_eq!(a.resource_id, "my-bucket/path/to/obj.txt");
        assert_eq!(
            Arn::parse("arn:aws:s3:::my-bucket").unwrap().entity_type(),
            EntityType::S3Bucket
        );
        assert_eq!(
            Arn::parse("arn:aws:iam::123456789012:root")
                .unwrap()
                .entity_type(),
            EntityType::Root
        );
        assert_eq!(
            Arn::parse("arn:aws:iam::aws:policy/AdministratorAccess")
                .unwrap()
                .entity_type(),
            EntityType::Arn
        );
        let k = Arn::parse("arn:aws:kms:eu-west-1:123456789012:alias/prod").unwrap();
        assert_eq!(k.entity_type(), EntityType::KmsKey);
        assert_eq!(k.class(), Some("alias"));
        assert_eq!(
            Arn::parse(
                "arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-0abcdef1234567890"
            )
            .unwrap()
            .entity_type(),
            EntityType::Ec2Instance
        );
        assert_eq!(
            Arn::parse("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf")
                .unwrap()
                .entity_type(),
            EntityType::Secret
        );
    }

    #[test]
    fn rejects_malformed_arns() {
        assert_eq!(Arn::parse("arn:aws:iam"), Err(ArnError::Region));
        assert_eq!(Arn::parse("arn:aws:iam::"), Err(ArnError::Account));
        assert_eq!(
            Arn::parse("arn:foo:iam::123456789012:user/x"),
            Err(ArnError::Partition)
        );
        assert_eq!(
            Arn::parse("arn:aws:IAM::123456789012:user/x"),
            Err(ArnError::Service)
        );
        assert_eq!(
            Arn::parse("arn:aws:iam::12345:user/x"),
            Err(ArnError::Account)
        );
        assert_eq!(
            Arn::parse("arn:aws:iam::123456789012:"),
            Err(ArnError::Resource)
        );
        assert_eq!(
            Arn::parse("arn:aws:ec2:mars-1:123456789012:instance/i-1"),
            Err(ArnError::Region)
        );
        assert_eq!(Arn::parse("urn:aws:iam::1:user/x"), Err(ArnError::NotArn));
        assert_eq!(Arn::parse(""), Err(ArnError::NotArn));
    }
}
