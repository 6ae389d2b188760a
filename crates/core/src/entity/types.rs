//! The entity taxonomy: one flat enum so that thresholds, the model's labels, the review queue
//! and the inventory all key on the same names.

use serde::{Deserialize, Serialize};

macro_rules! entity_types {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $group:ident; )*) => {
        /// Type of an entity. The snake_case name is the stable external form (JSON, config
        /// keys, model labels, review queue rows).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EntityType {
            $( $(#[$doc])* $variant, )*
        }

        impl EntityType {
            /// Every type, in declaration order.
            pub const ALL: &'static [EntityType] = &[ $( EntityType::$variant, )* ];

            pub fn name(self) -> &'static str {
                match self { $( EntityType::$variant => $name, )* }
            }

            pub fn group(self) -> Group {
                match self { $( EntityType::$variant => Group::$group, )* }
            }

            pub fn from_name(s: &str) -> Option<EntityType> {
                match s { $( $name => Some(EntityType::$variant), )* _ => None }
            }
        }
    };
}

entity_types! {
    /// IAM user (ARN, or user name where the field says so).
    IamUser = "iam_user", Principal;
    /// IAM role (ARN or role name).
    IamRole = "iam_role", Principal;
    /// STS assumed-role session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    AssumedRole = "assumed_role", Principal;
    /// STS federated user (`arn:aws:sts::ACCOUNT:federated-user/NAME`) or a SAML user.
    FederatedUser = "federated_user", Principal;
    /// The account root user.
    Root = "root", Principal;
    /// An AWS service acting as principal (`ec2.amazonaws.com`).
    AwsService = "aws_service", Principal;
    /// IAM Identity Center (SSO) user.
    SsoUser = "sso_user", Principal;
    /// Web-identity (OIDC) federated user.
    WebIdentity = "web_identity", Principal;
    /// Access key id: AKIA (long-term) or ASIA (temporary).
    AccessKey = "access_key", Credential;
    /// 12-digit AWS account id.
    AccountId = "account_id", Account;
    Ipv4 = "ipv4", Network;
    Ipv6 = "ipv6", Network;
    /// An address range (security group rules, policy conditions).
    IpCidr = "ip_cidr", Network;
    /// An ARN of a resource type with no more specific entity type.
    Arn = "arn", Resource;
    /// IAM action (`s3:GetObject`), as named in policies and authorization errors.
    IamAction = "iam_action", Resource;
    /// KMS key: key id, key ARN, alias name or alias ARN.
    KmsKey = "kms_key", Resource;
    S3Bucket = "s3_bucket", Resource;
    /// S3 object as `bucket/key` (or the object ARN / `s3://` URI).
    S3Object = "s3_object", Resource;
    Ec2Instance = "ec2_instance", Resource;
    Vpc = "vpc", Resource;
    Subnet = "subnet", Resource;
    SecurityGroup = "security_group", Resource;
    /// Elastic network interface (`eni-`).
    Eni = "eni", Resource;
    Volume = "volume", Resource;
    Snapshot = "snapshot", Resource;
    Ami = "ami", Resource;
    LambdaFunction = "lambda_function", Resource;
    /// Secrets Manager secret (name or ARN).
    Secret = "secret", Resource;
    Region = "region", Resource;
    /// User agent string, classified into a tool family.
    UserAgent = "user_agent", Network;
    Email = "email", Pii;
    Domain = "domain", Network;
    Url = "url", Network;
    Phone = "phone", Pii;
    /// Payment card number (Luhn-valid).
    PaymentCard = "payment_card", Pii;
    Iban = "iban", Pii;
    /// National identifier (US SSN, UK NINO).
    NationalId = "national_id", Pii;
}

/// Coarse grouping used for reports and default thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Principal,
    Credential,
    Account,
    Network,
    Resource,
    Pii,
}

impl EntityType {
    /// Whether this type names who acted (for the inventory's "principals that used it").
    pub fn is_principal(self) -> bool {
        self.group() == Group::Principal
    }
}

impl std::fmt::Display for EntityType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for EntityType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntityType::from_name(s).ok_or_else(|| format!("unknown entity type `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for &t in EntityType::ALL {
            assert_eq!(EntityType::from_name(t.name()), Some(t));
            let json = serde_json::to_string(&t).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", t.name()));
        }
        assert!(EntityType::from_name("nope").is_none());
        assert!(EntityType::IamUser.is_principal());
        assert!(!EntityType::S3Bucket.is_principal());
    }
}
