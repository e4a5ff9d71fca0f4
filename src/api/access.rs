//! Authorisation. Code that returns secret data takes an [`Access`] value, and only
//! [`authorize`] can make one, so no path can read a secret without passing the check.
//!
//! Until the policy engine lands, the rule is the one AWS applies with no policies at all: a
//! principal has full access to its own account's secrets and none to another account's
//! (cross-account access needs a resource policy).

use super::{ApiError, Operation, RequestContext};

/// Proof that the caller may perform an operation on a resource.
#[derive(Debug)]
pub struct Access {
    _private: (),
}

/// Checks that `ctx`'s caller may perform `op` on a resource owned by `resource_account`.
/// `resource_shown` is how AWS names the resource in the denial: the SecretId as sent.
pub fn authorize(
    ctx: &RequestContext,
    op: Operation,
    resource_account: &str,
    resource_shown: &str,
) -> Result<Access, ApiError> {
    if ctx.caller.account_id == resource_account {
        return Ok(Access { _private: () });
    }
    Err(ApiError::AccessDenied(format!(
        "User: {} is not authorized to perform: {} on resource: {} because no resource-based \
         policy allows the {} action",
        ctx.caller.arn,
        op.iam_action(),
        resource_shown,
        op.iam_action()
    )))
}
