//! The learned model and the labelled set: the shipped model loads fast, decides the cases the
//! rules leave open, and meets the acceptance F1 on the held-out split.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use detector_core::entity::dataset::{self, Split};
use detector_core::entity::model::EMBEDDED_MODEL;
use detector_core::entity::{CrfModel, Decision, EntityConfig, EntityType, Extractor};

fn examples() -> Vec<dataset::Example> {
    dataset::parse_jsonl(dataset::LABELLED_SET).unwrap()
}

#[test]
fn shipped_model_loads_in_milliseconds() {
    let t = Instant::now();
    let m = CrfModel::from_bytes(EMBEDDED_MODEL).unwrap();
    let ms = t.elapsed().as_millis();
    // Debug builds are ~10x slower than release; the release load is a few ms.
    assert!(ms < 500, "model load took {ms} ms");
    assert!(m.num_labels() > 20);
    assert!(m.num_attrs() > 1000);
    // Every label is an entity type or the outside label.
    assert!(
        (0..m.num_labels())
            .filter(|&i| m.label(i).is_none())
            .count()
            == 1
    );
}

#[test]
fn labelled_set_is_big_varied_and_split() {
    let ex = examples();
    let spans: usize = ex.iter().map(|e| e.spans.len()).sum();
    assert!(spans >= 1000, "{spans} labelled spans");
    let test = ex.iter().filter(|e| e.split == Split::Test).count();
    assert!(
        test * 5 >= ex.len(),
        "test split too small: {test} of {}",
        ex.len()
    );
    let types: std::collections::BTreeSet<EntityType> = ex
        .iter()
        .flat_map(|e| e.spans.iter().map(|s| s.2))
        .collect();
    for t in [
        EntityType::IamUser,
        EntityType::IamRole,
        EntityType::AssumedRole,
        EntityType::Root,
        EntityType::AccessKey,
        EntityType::AccountId,
        EntityType::Ipv4,
        EntityType::Ipv6,
        EntityType::IpCidr,
        EntityType::KmsKey,
        EntityType::S3Bucket,
        EntityType::S3Object,
        EntityType::Ec2Instance,
        EntityType::Vpc,
        EntityType::Subnet,
        EntityType::SecurityGroup,
        EntityType::LambdaFunction,
        EntityType::Secret,
        EntityType::Region,
        EntityType::Email,
        EntityType::Domain,
        EntityType::Url,
        EntityType::Phone,
        EntityType::PaymentCard,
        EntityType::Iban,
        EntityType::NationalId,
        EntityType::IamAction,
    ] {
        assert!(types.contains(&t), "no labelled {t}");
    }
    // Hard negatives exist: examples with no entity at all.
    assert!(ex.iter().filter(|e| e.spans.is_empty()).count() > 50);
    assert!(dataset::LABELLED_SET.len() < 1_000_000);
}

#[test]
fn held_out_f1_meets_acceptance() {
    let ex = examples();
    let r = dataset::evaluate(&Extractor::default(), &ex, Some(Split::Test));
    let micro = r.micro.f1();
    let free = r
        .per_kind
        .get("free_text")
        .copied()
        .unwrap_or_default()
        .f1();
    assert!(micro >= 0.97, "micro F1 {micro:.3}");
    assert!(free >= 0.90, "free-text F1 {free:.3}");
    assert!(r.macro_f1() >= 0.9, "macro F1 {:.3}", r.macro_f1());
}

#[test]
fn model_beats_rules_alone_on_the_open_cases() {
    let ex = examples();
    let rules = Extractor::new(EntityConfig::default(), None);
    let both = Extractor::default();
    let open: Vec<_> = ex
        .iter()
        .filter(|e| e.split == Split::Test && e.kind == "param")
        .cloned()
        .collect();
    let r0 = dataset::evaluate(&rules, &open, None).micro.f1();
    let r1 = dataset::evaluate(&both, &open, None).micro.f1();
    assert!(r1 > r0 + 0.05, "rules {r0:.3}, rules+model {r1:.3}");
}

#[test]
fn model_decides_ambiguous_names_and_numbers() {
    let ex = Extractor::default();
    let one = |path: &str, text: &str| {
        let v = ex.label_field(path, "glue", text);
        v.into_iter()
            .filter(|e| ex.decide(e) == Decision::Accept)
            .map(|e| (e.kind, e.explanation.recognizer))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        one("requestParameters.mirrorBucket", "acme-mirror-2"),
        vec![(EntityType::S3Bucket, "model")]
    );
    // A 12-digit number under a ticket key is not an account.
    assert!(one("requestParameters.ticketId", "998877665544").is_empty());
    assert_eq!(
        one("requestParameters.ownerAccount", "998877665544"),
        vec![(EntityType::AccountId, "field")]
    );
    // A UUID under a request token is not a KMS key; under a key name it is.
    assert!(
        one(
            "requestParameters.requestToken",
            "1234abcd-12ab-34cd-56ef-1234567890ab"
        )
        .is_empty()
    );
    assert_eq!(
        one(
            "requestParameters.backupKeyId",
            "1234abcd-12ab-34cd-56ef-1234567890ab"
        ),
        vec![(EntityType::KmsKey, "model")]
    );
    let roles = one(
        "errorMessage",
        "The role with name DeployRole cannot be found.",
    );
    assert_eq!(roles, vec![(EntityType::IamRole, "model")]);
    assert!(one("errorMessage", "The key pair 'bastion' does not exist").is_empty());
}
