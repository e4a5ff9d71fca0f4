//! IAM policy documents: parsing (identity, resource and trust grammars) never panics, and a
//! document that parses evaluates without panicking, as an identity policy and as a secret's
//! resource policy.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use strongbox::policy::{
    ConditionContext, EvalRequest, PolicyDocument, PolicyKind, PolicySet, Principal, evaluate,
    validate_resource_policy,
};

const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fuzz-AbCdEf";

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let _ = validate_resource_policy(json);
    let principal = Principal::user("123456789012", "/", "fuzz", "AIDAFUZZFUZZFUZZFUZZ")
        .with_tag("team", "a");
    let mut context = ConditionContext::new();
    context.set("aws:SourceIp", "10.1.2.3");
    context.set("aws:SecureTransport", "true");
    context.set_request_time(1_700_000_000);
    let request = EvalRequest {
        principal: &principal,
        action: "secretsmanager:GetSecretValue",
        resource: SECRET,
        resource_account: "123456789012",
        context: &context,
    };
    for kind in [
        PolicyKind::Identity,
        PolicyKind::Managed,
        PolicyKind::Resource,
        PolicyKind::Trust,
    ] {
        let Ok(doc) = PolicyDocument::parse(json, kind) else {
            continue;
        };
        let _ = doc.grants_public_access();
        let doc = Arc::new(doc);
        let set = match kind {
            PolicyKind::Identity | PolicyKind::Managed => PolicySet {
                identity: std::slice::from_ref(&doc),
                ..PolicySet::default()
            },
            _ => PolicySet {
                resource: Some(&doc),
                ..PolicySet::default()
            },
        };
        let _ = evaluate(&request, &set);
    }
});
