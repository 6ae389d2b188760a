//! Persistence: new users with keys, backdoor roles, rogue identity providers.

use super::Ctx;
use super::privilege_escalation::{ADMIN_ARN, backdoor_user, external_assume};
use crate::simulate::catalog::ATTACKER_UAS;
use crate::simulate::clock::{HOUR, MINUTE};
use crate::simulate::ct::{self, AssumedOpts, Session};
use crate::simulate::json::object;
use crate::simulate::org::HumanKind;
use crate::simulate::rng::RngExt;

/// The Identity Center session of an administrator, stolen (token theft) and replayed from
/// the attacker's address.
fn stolen_admin_session(c: &mut Ctx<'_>, acc: usize, ip: &str) -> Option<super::Actor> {
    let org = c.org;
    let admin = org.humans.iter().rfind(|h| h.kind == HumanKind::Admin)?;
    let role = org.sso_role(admin, acc)?.clone();
    let key = format!("ASIA{}", c.r.upper_id(16));
    let who = ct::assumed(
        &role,
        &admin.email,
        Session {
            access_key: &key,
            created_ms: c.t - 30 * MINUTE,
            mfa: false,
        },
        AssumedOpts::default(),
    );
    Some(c.actor(acc, who, ip, ATTACKER_UAS[0]))
}

/// A new IAM user with admin rights and an access key, used a few hours later from elsewhere.
pub(super) fn iam_user(c: &mut Ctx<'_>) {
    let acc = c.org.prod();
    let ip = c.attacker_ip();
    let Some(a) = stolen_admin_session(c, acc, &ip) else {
        return;
    };
    c.emit(&a, c.call(&a, "iam.amazonaws.com", "ListUsers"));
    let name = "aws-support-sync";
    let (key, user_id) = backdoor_user(c, &a, name);
    let user_arn = format!("arn:aws:iam::{}:user/{name}", a.acct);
    c.resource(&user_arn);
    // Hours later, the new key from another address.
    c.step(HOUR, 3 * HOUR);
    let ip2 = c.attacker_ip();
    let who = ct::Who {
        json: object(|o| {
            o.str("type", "IAMUser")
                .str("principalId", &user_id)
                .str("arn", &user_arn)
                .str("accountId", &a.acct)
                .str("accessKeyId", &key)
                .str("userName", name);
        }),
        arn: user_arn.clone(),
        key: key.clone(),
    };
    let b = c.actor(acc, who, &ip2, ATTACKER_UAS[3]);
    for (src, name) in [
        ("sts.amazonaws.com", "GetCallerIdentity"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("iam.amazonaws.com", "ListRoles"),
        ("ec2.amazonaws.com", "DescribeInstances"),
    ] {
        c.emit(&b, c.call(&b, src, name));
    }
}

/// A new role with AdministratorAccess whose trust policy names an outside account, assumed
/// from there.
pub(super) fn backdoor_role(c: &mut Ctx<'_>) {
    let org = c.org;
    let members: Vec<usize> = org.members().map(|m| m.index).collect();
    let acc = members[members.len() / 2];
    let ext = c.external_account();
    let ip = c.attacker_ip();
    let Some(a) = stolen_admin_session(c, acc, &ip) else {
        return;
    };
    let name = "OrganizationAuditAccess";
    let arn = format!("arn:aws:iam::{}:role/{name}", a.acct);
    c.resource(&arn);
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ext}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let role_id = format!("AROA{}", c.r.upper_id(17));
    let req = object(|o| {
        o.str("roleName", name)
            .str("assumeRolePolicyDocument", &trust)
            .num("maxSessionDuration", 43_200);
    });
    let resp = object(|o| {
        o.obj("role", |r| {
            r.str("path", "/")
                .str("roleName", name)
                .str("roleId", &role_id)
                .str("arn", &arn)
                .str("createDate", "Oct 13, 2026, 11:02:51 PM");
        });
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "CreateRole")
            .req(req)
            .resp(resp),
    );
    let req = object(|o| {
        o.str("roleName", name).str("policyArn", ADMIN_ARN);
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "AttachRolePolicy").req(req),
    );
    c.step(10 * MINUTE, 2 * HOUR);
    let role = crate::simulate::org::Role {
        account: acc,
        account_id: a.acct.clone(),
        name: name.to_string(),
        path: "/".to_string(),
        role_id,
    };
    let ip2 = c.attacker_ip();
    external_assume(c, acc, &role, &ext, &ip2, "audit");
}

/// A SAML provider and an OIDC provider pointing at attacker infrastructure, a role trusting
/// the SAML provider, and a federated sign-in through it.
pub(super) fn identity_provider(c: &mut Ctx<'_>) {
    let acc = c.org.prod();
    let ip = c.attacker_ip();
    let Some(a) = stolen_admin_session(c, acc, &ip) else {
        return;
    };
    let saml_arn = format!("arn:aws:iam::{}:saml-provider/okta-sso-backup", a.acct);
    let oidc_arn = format!(
        "arn:aws:iam::{}:oidc-provider/auth.login-sso-portal.com",
        a.acct
    );
    c.resource(&saml_arn);
    c.resource(&oidc_arn);
    c.emit(&a, c.call(&a, "iam.amazonaws.com", "ListSAMLProviders"));
    let req = object(|o| {
        o.str("sAMLMetadataDocument", "<EntityDescriptor xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"http://www.okta-sso-backup.com/exk1fxphf\">...</EntityDescriptor>")
            .str("name", "okta-sso-backup");
    });
    let resp = object(|o| {
        o.str("sAMLProviderArn", &saml_arn);
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "CreateSAMLProvider")
            .req(req)
            .resp(resp),
    );
    let req = object(|o| {
        o.str("url", "https://auth.login-sso-portal.com")
            .strs("clientIDList", &["sts.amazonaws.com"])
            .strs(
                "thumbprintList",
                &["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
            );
    });
    let resp = object(|o| {
        o.str("openIDConnectProviderArn", &oidc_arn);
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "CreateOpenIDConnectProvider")
            .req(req)
            .resp(resp),
    );
    let name = "sso-break-glass";
    let arn = format!("arn:aws:iam::{}:role/{name}", a.acct);
    c.resource(&arn);
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{saml_arn}"}},"Action":"sts:AssumeRoleWithSAML","Condition":{{"StringEquals":{{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}}}}]}}"#
    );
    let role_id = format!("AROA{}", c.r.upper_id(17));
    let req = object(|o| {
        o.str("roleName", name)
            .str("assumeRolePolicyDocument", &trust);
    });
    c.emit(&a, c.call(&a, "iam.amazonaws.com", "CreateRole").req(req));
    let req = object(|o| {
        o.str("roleName", name).str("policyArn", ADMIN_ARN);
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "AttachRolePolicy").req(req),
    );
    c.step(30 * MINUTE, 3 * HOUR);
    let ip2 = c.attacker_ip();
    let saml = ct::saml_user(
        &saml_arn,
        "admin@login-sso-portal.com",
        "kQ1b6wqzq0BIbKd7eGzbG3hZwJI=",
    );
    let s = c.actor(
        acc,
        saml,
        &ip2,
        "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    );
    let key = format!("ASIA{}", c.r.upper_id(16));
    c.key(&key);
    let req = object(|o| {
        o.str("sAMLAssertionID", &format!("_{}", c.r.hex(32)))
            .str("roleSessionName", "admin@login-sso-portal.com")
            .str("roleArn", &arn)
            .str("principalArn", &saml_arn)
            .num("durationSeconds", 3600);
    });
    let resp = object(|o| {
        o.obj("credentials", |cr| {
            cr.str("accessKeyId", &key)
                .str("expiration", "2026-12-31T00:00:00Z");
        })
        .str("subject", "admin@login-sso-portal.com")
        .str("issuer", "http://www.okta-sso-backup.com/exk1fxphf");
    });
    c.emit(
        &s,
        c.call(&s, "sts.amazonaws.com", "AssumeRoleWithSAML")
            .req(req)
            .resp(resp),
    );
    let role = crate::simulate::org::Role {
        account: acc,
        account_id: a.acct.clone(),
        name: name.to_string(),
        path: "/".to_string(),
        role_id,
    };
    let who = ct::assumed(
        &role,
        "admin@login-sso-portal.com",
        Session {
            access_key: &key,
            created_ms: c.t,
            mfa: false,
        },
        AssumedOpts::default(),
    );
    let f = c.actor(
        acc,
        who,
        &ip2,
        "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    );
    for (src, name) in [
        ("iam.amazonaws.com", "ListUsers"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("organizations.amazonaws.com", "DescribeOrganization"),
    ] {
        c.emit(&f, c.call(&f, src, name).console());
    }
}
