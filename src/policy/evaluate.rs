//! The decision: explicit denies first, then the root shortcut, then the same-account or
//! cross-account combination of identity, boundary, session and resource policies
//! (aws-authz.md §2).

use std::sync::Arc;

use super::condition::KeySource;
use super::document::{Effect, Statement};
use super::principal::Grant;
use super::variables::VarSource;
use super::{
    ConditionContext, Decision, Denial, EvalRequest, PolicyDocument, PolicySet, PolicyType,
    Principal, PrincipalType, ResourcePolicyKind,
};

/// Condition keys: the ones derived from the principal (which a request cannot override), then
/// the request context. All keys are lowercased.
struct Keys<'a> {
    derived: Vec<(String, Vec<String>)>,
    ctx: &'a ConditionContext,
    /// The request's action, lowercased once (action patterns are stored lowercased).
    action: String,
}

impl<'a> Keys<'a> {
    fn new(p: &Principal, ctx: &'a ConditionContext, action: &str) -> Keys<'a> {
        let one = |k: &str, v: &str| (k.to_string(), vec![v.to_string()]);
        let principal_arn = p.role_arn.as_deref().unwrap_or(&p.arn);
        let principal_type = match p.kind {
            PrincipalType::Root => "Account",
            PrincipalType::User => "User",
            PrincipalType::AssumedRole => "AssumedRole",
        };
        let mut derived = vec![
            one("aws:principalarn", principal_arn),
            one("aws:principalaccount", &p.account_id),
            one("aws:principaltype", principal_type),
            one("aws:userid", &p.user_id),
        ];
        if let (PrincipalType::User, Some(name)) = (p.kind, &p.username) {
            derived.push(one("aws:username", name));
        }
        for (k, v) in &p.tags {
            derived.push(one(&format!("aws:principaltag/{}", k.to_lowercase()), v));
        }
        if let Some(session) = &p.session {
            derived.push(one("aws:tokenissuetime", &session.issued_at));
            derived.push(one("aws:multifactorauthpresent", "false"));
            if let Some(source) = &session.source_identity {
                derived.push(one("aws:sourceidentity", source));
            }
        }
        Keys {
            derived,
            ctx,
            action: action.to_lowercase(),
        }
    }

    fn derived(&self, key: &str) -> Option<&[String]> {
        self.derived
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

impl KeySource for Keys<'_> {
    fn values(&self, key: &str) -> Option<&[String]> {
        self.derived(key).or_else(|| self.ctx.get_lower(key))
    }

    fn single(&self, key: &str) -> Option<&str> {
        match self.derived(key) {
            Some([one]) => Some(one.as_str()),
            Some(_) => None,
            None => self.ctx.single_lower(key),
        }
    }
}

impl VarSource for Keys<'_> {
    fn single(&self, key: &str) -> Option<&str> {
        KeySource::single(self, key)
    }
}

/// Whether a statement's Action, Resource and Condition cover the request (Principal aside).
fn statement_applies(st: &Statement, req: &EvalRequest, keys: &Keys) -> bool {
    let action_hit = st.actions.iter().any(|g| g.matches_folded(&keys.action));
    if action_hit == st.not_action {
        return false;
    }
    if let Some(resources) = &st.resources {
        let hit = resources
            .iter()
            .any(|m| m.glob(keys, false).is_some_and(|g| g.matches(req.resource)));
        if hit == st.not_resource {
            return false;
        }
    }
    st.conditions.iter().all(|c| c.holds(keys))
}

/// How a statement's Principal/NotPrincipal names the caller; identity statements (no
/// principal) always apply to their owner.
fn principal_grant(st: &Statement, p: &Principal) -> Option<Grant> {
    match &st.principal {
        None => Some(Grant::Direct),
        Some(set) if st.not_principal => (!set.excludes(p)).then_some(Grant::Limited),
        Some(set) => set.grant_for(p),
    }
}

/// What one or more documents say about a request.
#[derive(Debug, Default, Clone, Copy)]
struct Outcome {
    deny: bool,
    /// The strongest Allow (for identity-style documents, `Direct` when any Allow matched).
    allow: Option<Grant>,
}

fn eval_doc(doc: &PolicyDocument, req: &EvalRequest, keys: &Keys, out: &mut Outcome) {
    for st in &doc.body.statements {
        let Some(grant) = principal_grant(st, req.principal) else {
            continue;
        };
        if !statement_applies(st, req, keys) {
            continue;
        }
        match st.effect {
            Effect::Deny => out.deny = true,
            Effect::Allow => out.allow = out.allow.max(Some(grant)),
        }
    }
}

fn eval_all(docs: &[Arc<PolicyDocument>], req: &EvalRequest, keys: &Keys) -> Outcome {
    let mut out = Outcome::default();
    for d in docs {
        eval_doc(d, req, keys, &mut out);
    }
    out
}

fn eval_one(doc: &PolicyDocument, req: &EvalRequest, keys: &Keys) -> Outcome {
    let mut out = Outcome::default();
    eval_doc(doc, req, keys, &mut out);
    out
}

fn deny(explicit: bool, policy_type: PolicyType) -> Decision {
    Decision::Deny(Denial {
        explicit,
        policy_type,
    })
}

/// Decides a request against its policies. Never panics.
pub fn evaluate(req: &EvalRequest, policies: &PolicySet) -> Decision {
    let p = req.principal;
    let keys = Keys::new(p, req.context, req.action);
    let same_account = p.account_id == req.resource_account;
    let is_root = p.kind == PrincipalType::Root;
    let trust = policies.resource_kind == ResourcePolicyKind::Trust;
    let resource_type = if trust {
        PolicyType::Trust
    } else {
        PolicyType::Resource
    };

    // Identity policies do not apply to root; it has none, but ignore any passed by mistake.
    let identity = if is_root {
        Outcome::default()
    } else {
        eval_all(policies.identity, req, &keys)
    };
    let session = policies
        .session
        .filter(|s| !s.is_empty())
        .map(|s| eval_all(s, req, &keys));
    let boundary = policies.boundary.map(|b| eval_one(b, req, &keys));
    let resource = policies.resource.map(|r| eval_one(r, req, &keys));

    // 1. A matching Deny anywhere is final.
    if identity.deny {
        return deny(true, PolicyType::Identity);
    }
    if session.is_some_and(|s| s.deny) {
        return deny(true, PolicyType::Session);
    }
    if boundary.is_some_and(|b| b.deny) {
        return deny(true, PolicyType::PermissionsBoundary);
    }
    if resource.is_some_and(|r| r.deny) {
        return deny(true, resource_type);
    }

    // 2. The root user of the owning account is allowed (trust policies must still name it).
    if is_root && same_account && !trust {
        return Decision::Allow;
    }

    // 3. Combine. Root of the caller's own account counts as identity-allowed cross-account.
    let identity_allow = is_root || identity.allow.is_some();
    let boundary_ok = boundary.is_none_or(|b| b.allow.is_some());
    let session_ok = session.is_none_or(|s| s.allow.is_some());
    let limits_ok = boundary_ok && session_ok;
    let identity_side = identity_allow && limits_ok;
    let grant = resource.and_then(|r| r.allow);

    let allowed = match (same_account, trust) {
        // Same account: identity policies, or a resource policy naming the user/session
        // directly, or naming the role (still limited by boundary and session policies). An
        // account principal only delegates to identity policies.
        (true, false) => {
            identity_side
                || grant == Some(Grant::Direct)
                || (grant == Some(Grant::Limited) && limits_ok)
        }
        // Trust policies must name the caller; trusting the account also needs an identity
        // Allow for sts:AssumeRole.
        (true, true) => match grant {
            Some(Grant::Direct) => true,
            Some(Grant::Limited) => limits_ok,
            Some(Grant::Account) => identity_side,
            None => false,
        },
        // Cross-account: both sides must allow.
        (false, _) => identity_side && grant.is_some(),
    };
    if allowed {
        return Decision::Allow;
    }

    // 4. Implicit deny: name the first missing piece.
    let identity_gap = if !identity_allow {
        PolicyType::Identity
    } else if !boundary_ok {
        PolicyType::PermissionsBoundary
    } else {
        PolicyType::Session
    };
    // A role (or "*") grant that a boundary or session policy blocked names that limit.
    let limit_gap = if !boundary_ok {
        PolicyType::PermissionsBoundary
    } else {
        PolicyType::Session
    };
    let policy_type = match (same_account, trust) {
        (true, _) if grant == Some(Grant::Limited) => limit_gap,
        (true, false) => identity_gap,
        (true, true) if grant.is_none() => resource_type,
        (true, true) => identity_gap,
        (false, _) if identity_side => resource_type,
        (false, _) => identity_gap,
    };
    deny(false, policy_type)
}
