//! Authorisation. Code that returns secret data takes an [`Access`] value, and only
//! [`Service::authorize`] can make one, so no path can read a secret without passing the
//! check.
//!
//! The decision is the policy engine's ([`crate::policy`]): the caller's identity policies
//! (resolved when its credentials were loaded), the secret's resource policy, and the
//! condition keys AWS's authorization reference lists for each action. This module only
//! gathers those facts; [`crate::iam::authz`] adds the global keys and runs the evaluation.

use std::sync::Arc;

use super::{ApiError, Operation, RequestContext, Service};
use crate::iam::authz;
use crate::policy::{ConditionContext, PolicyDocument, ResourcePolicyKind};
use crate::store::SecretRecord;

/// Proof that the caller may perform an operation on a resource.
#[derive(Debug)]
pub struct Access {
    _private: (),
}

/// What an action is performed on.
#[derive(Debug, Clone, Copy)]
pub(super) enum Target<'a> {
    /// The resource `*`: ListSecrets, GetRandomPassword, BatchGetSecretValue.
    Any,
    /// A secret, which may not exist (authorisation runs before lookup).
    Secret {
        /// Its ARN, or for a missing secret the ARN it would have without the suffix.
        arn: &'a str,
        /// The account that owns (or would own) it.
        account: &'a str,
        /// The stored secret, for its tags and resource policy.
        record: Option<&'a SecretRecord>,
        /// How AWS names it in a denial: the SecretId as sent.
        shown: &'a str,
    },
}

impl Service {
    /// Checks that `ctx`'s caller may perform `action` (an IAM action such as
    /// `secretsmanager:GetSecretValue`) on `target`, with the request's own condition keys
    /// in `request_keys`.
    pub(super) fn authorize_action(
        &self,
        ctx: &RequestContext,
        action: &str,
        target: Target<'_>,
        request_keys: &ConditionContext,
    ) -> Result<Access, ApiError> {
        let (resource, account, record, shown) = match target {
            Target::Any => ("*", ctx.caller.account_id.as_str(), None, None),
            Target::Secret {
                arn,
                account,
                record,
                shown,
            } => (arn, account, record, Some(shown)),
        };
        let policy = match record.and_then(|r| r.resource_policy.as_deref()) {
            Some(text) => self.policies.get(text),
            None => None,
        };
        let decision = authz::check(
            ctx,
            authz::Check {
                action,
                resource,
                resource_account: account,
                resource_policy: policy.as_deref(),
                resource_kind: ResourcePolicyKind::Resource,
            },
            |keys| {
                if let Some(r) = record {
                    add_secret_keys(keys, r);
                } else if resource != "*" && action != Operation::CreateSecret.iam_action() {
                    // CreateSecret has no SecretId key: the secret does not exist yet.
                    keys.set("secretsmanager:SecretId", resource);
                }
                keys.extend_from(request_keys);
            },
        );
        match decision {
            Ok(()) => Ok(Access { _private: () }),
            Err(denial) => Err(ApiError::AccessDenied(denial.message(
                &ctx.caller.arn,
                action,
                shown,
            ))),
        }
    }

    /// [`authorize_action`](Self::authorize_action) for an operation's own IAM action.
    pub(super) fn authorize(
        &self,
        ctx: &RequestContext,
        op: Operation,
        target: Target<'_>,
        request_keys: &ConditionContext,
    ) -> Result<Access, ApiError> {
        self.authorize_action(ctx, op.iam_action(), target, request_keys)
    }
}

/// The keys every secret action carries: the secret's ARN, primary region and tags.
fn add_secret_keys(keys: &mut ConditionContext, record: &SecretRecord) {
    keys.set("secretsmanager:SecretId", record.arn.as_str());
    keys.set("secretsmanager:SecretPrimaryRegion", record.region.as_str());
    keys.set("aws:ResourceAccount", record.account_id.as_str());
    if let Some(kind) = &record.secret_type {
        keys.set("secretsmanager:resource/Type", kind.as_str());
    }
    if let Some(tags) = &record.tags {
        for tag in tags {
            keys.set(&format!("aws:ResourceTag/{}", tag.key), tag.value.as_str());
            keys.set(
                &format!("secretsmanager:ResourceTag/{}", tag.key),
                tag.value.as_str(),
            );
        }
    }
}

/// Parsed resource policies by text: a secret's policy is parsed once, not per request.
#[derive(Debug, Default)]
pub(super) struct PolicyCache {
    parsed: std::sync::RwLock<std::collections::HashMap<String, Arc<PolicyDocument>>>,
}

/// Distinct policy texts kept; the cache is emptied past it (policies are few and small).
const MAX_CACHED_POLICIES: usize = 4096;

impl PolicyCache {
    /// The parsed policy for `text`. A stored policy that no longer parses (it was
    /// validated when attached) grants nothing: `None`.
    fn get(&self, text: &str) -> Option<Arc<PolicyDocument>> {
        if let Ok(map) = self.parsed.read()
            && let Some(doc) = map.get(text)
        {
            return Some(doc.clone());
        }
        let doc = Arc::new(
            PolicyDocument::parse(text, crate::policy::PolicyKind::Resource)
                .map_err(|e| tracing::error!(error = %e, "stored resource policy does not parse"))
                .ok()?,
        );
        if let Ok(mut map) = self.parsed.write() {
            if map.len() >= MAX_CACHED_POLICIES {
                map.clear();
            }
            map.insert(text.to_string(), doc.clone());
        }
        Some(doc)
    }
}
