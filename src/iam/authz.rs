//! The one place requests meet the policy engine: global condition keys from the request,
//! the caller's resolved grants, the target's resource policy, and the decision.

use crate::api::RequestContext;
use crate::auth::PrincipalKind;
use crate::policy::{
    ConditionContext, Denial, EvalRequest, PolicyDocument, PolicySet, ResourcePolicyKind,
};

/// What is checked: an action on a resource owned by an account, maybe under a resource
/// policy (a secret's policy or a role's trust policy).
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    /// The IAM action, e.g. `secretsmanager:GetSecretValue`.
    pub action: &'a str,
    /// The resource ARN, or `*`.
    pub resource: &'a str,
    /// The account that owns the resource.
    pub resource_account: &'a str,
    /// The resource's own policy, if any.
    pub resource_policy: Option<&'a PolicyDocument>,
    /// Whether that policy is a resource policy or a trust policy (for denial messages).
    pub resource_kind: ResourcePolicyKind,
}

/// The global keys AWS sets on every request (`aws:SourceIp`, `aws:CurrentTime`, ...).
pub fn global_keys(ctx: &RequestContext) -> ConditionContext {
    let mut keys = ConditionContext::default();
    keys.set("aws:SourceIp", ctx.source_ip.to_string());
    keys.set(
        "aws:SecureTransport",
        if ctx.secure_transport {
            "true"
        } else {
            "false"
        },
    );
    keys.set_request_time(ctx.now.div_euclid(1000));
    keys.set("aws:RequestedRegion", ctx.region.as_str());
    keys.set("aws:PrincipalIsAWSService", "false");
    keys.set("aws:ViaAWSService", "false");
    if let Some(agent) = &ctx.user_agent {
        keys.set("aws:UserAgent", agent.as_str());
    }
    keys
}

/// Condition keys for tags a request sets: `aws:RequestTag/K` and `aws:TagKeys` (CreateSecret,
/// TagResource, AssumeRole session tags).
pub fn add_request_tags<'a>(
    keys: &mut ConditionContext,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    let mut names = Vec::new();
    for (k, v) in tags {
        keys.set(&format!("aws:RequestTag/{k}"), v);
        names.push(k.to_string());
    }
    keys.set_multi("aws:TagKeys", names);
}

/// The condition keys of a request that carries `tags`: `aws:RequestTag/<k>` and
/// `aws:TagKeys`.
pub fn request_tag_keys(tags: &[crate::model::Tag]) -> ConditionContext {
    let mut keys = ConditionContext::default();
    if !tags.is_empty() {
        add_request_tags(
            &mut keys,
            tags.iter().map(|t| (t.key.as_str(), t.value.as_str())),
        );
    }
    keys
}

/// The condition key of a request that removes the tags `names`: `aws:TagKeys`.
pub fn tag_keys_key(names: &[String]) -> ConditionContext {
    let mut keys = ConditionContext::default();
    keys.set_multi("aws:TagKeys", names.to_vec());
    keys
}

/// Decides an action on a resource of the caller's own account that has no resource policy
/// (IAM's entities, CloudTrail's LookupEvents): identity policies alone decide.
pub fn check_identity(ctx: &RequestContext, action: &str, resource: &str) -> Result<(), Denial> {
    check(
        ctx,
        Check {
            action,
            resource,
            resource_account: &ctx.caller.account_id,
            resource_policy: None,
            resource_kind: ResourcePolicyKind::Resource,
        },
        |_| {},
    )
}

/// Decides `check` for `ctx`'s caller. `add_keys` adds the action's own condition keys; it
/// only runs when a policy could look at them.
pub fn check(
    ctx: &RequestContext,
    check: Check<'_>,
    add_keys: impl FnOnce(&mut ConditionContext),
) -> Result<(), Denial> {
    let caller = &ctx.caller;
    // Fast path: an account's root acting on its own resources with no resource policy is
    // allowed (identity policies do not apply to root, and only a resource policy could deny).
    if caller.kind == PrincipalKind::Root
        && caller.account_id == check.resource_account
        && check.resource_policy.is_none()
    {
        return Ok(());
    }
    let mut keys = global_keys(ctx);
    add_keys(&mut keys);
    let grants = &caller.grants;
    let request = EvalRequest {
        principal: &grants.principal,
        action: check.action,
        resource: check.resource,
        resource_account: check.resource_account,
        context: &keys,
    };
    let policies = PolicySet {
        identity: &grants.identity,
        boundary: grants.boundary.as_deref(),
        session: grants.session.as_deref(),
        resource: check.resource_policy,
        resource_kind: check.resource_kind,
    };
    match crate::policy::evaluate(&request, &policies) {
        crate::policy::Decision::Allow => Ok(()),
        crate::policy::Decision::Deny(denial) => Err(denial),
    }
}
