//! Secrets Manager operations: one file per family, input and output structs beside each
//! handler. This layer knows AWS semantics but not HTTP: it takes an authenticated
//! [`RequestContext`] and a JSON body and returns a JSON body or an [`ApiError`].

mod access;
mod error;
mod input;
mod lifecycle;
mod listing;
mod password;
mod policies;
mod resolve;
mod tags;
mod validate;
mod values;

use std::sync::Arc;

pub use access::Access;
pub use error::ApiError;
pub use validate::Validator;

use crate::auth::Caller;
use crate::clock::{Clock, EpochMillis};
use crate::crypto::Keyring;
use crate::store::Store;

/// Every operation Strongbox serves. This enum is the router: it knows each operation's wire
/// target, IAM action and whether it only reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// BatchGetSecretValue.
    BatchGetSecretValue,
    /// CreateSecret.
    CreateSecret,
    /// DeleteSecret.
    DeleteSecret,
    /// DescribeSecret.
    DescribeSecret,
    /// GetRandomPassword.
    GetRandomPassword,
    /// GetSecretValue.
    GetSecretValue,
    /// ListSecretVersionIds.
    ListSecretVersionIds,
    /// ListSecrets.
    ListSecrets,
    /// PutSecretValue.
    PutSecretValue,
    /// RestoreSecret.
    RestoreSecret,
    /// TagResource.
    TagResource,
    /// UntagResource.
    UntagResource,
    /// UpdateSecret.
    UpdateSecret,
    /// UpdateSecretVersionStage.
    UpdateSecretVersionStage,
    /// DeleteResourcePolicy.
    DeleteResourcePolicy,
    /// GetResourcePolicy.
    GetResourcePolicy,
    /// ListResourcePolicies.
    ListResourcePolicies,
    /// PutResourcePolicy.
    PutResourcePolicy,
    /// ValidateResourcePolicy.
    ValidateResourcePolicy,
}

impl Operation {
    /// Every operation, for metrics and tests.
    pub const ALL: [Operation; 19] = [
        Self::BatchGetSecretValue,
        Self::CreateSecret,
        Self::DeleteSecret,
        Self::DescribeSecret,
        Self::GetRandomPassword,
        Self::GetSecretValue,
        Self::ListSecretVersionIds,
        Self::ListSecrets,
        Self::PutSecretValue,
        Self::RestoreSecret,
        Self::TagResource,
        Self::UntagResource,
        Self::UpdateSecret,
        Self::UpdateSecretVersionStage,
        Self::DeleteResourcePolicy,
        Self::GetResourcePolicy,
        Self::ListResourcePolicies,
        Self::PutResourcePolicy,
        Self::ValidateResourcePolicy,
    ];

    /// The SigV4 service name and `X-Amz-Target` prefix of these operations.
    pub const SERVICE: &'static str = "secretsmanager";

    /// The operation's name, as in `X-Amz-Target: secretsmanager.<Name>`.
    pub fn name(self) -> &'static str {
        match self {
            Self::BatchGetSecretValue => "BatchGetSecretValue",
            Self::CreateSecret => "CreateSecret",
            Self::DeleteSecret => "DeleteSecret",
            Self::DescribeSecret => "DescribeSecret",
            Self::GetRandomPassword => "GetRandomPassword",
            Self::GetSecretValue => "GetSecretValue",
            Self::ListSecretVersionIds => "ListSecretVersionIds",
            Self::ListSecrets => "ListSecrets",
            Self::PutSecretValue => "PutSecretValue",
            Self::RestoreSecret => "RestoreSecret",
            Self::TagResource => "TagResource",
            Self::UntagResource => "UntagResource",
            Self::UpdateSecret => "UpdateSecret",
            Self::UpdateSecretVersionStage => "UpdateSecretVersionStage",
            Self::DeleteResourcePolicy => "DeleteResourcePolicy",
            Self::GetResourcePolicy => "GetResourcePolicy",
            Self::ListResourcePolicies => "ListResourcePolicies",
            Self::PutResourcePolicy => "PutResourcePolicy",
            Self::ValidateResourcePolicy => "ValidateResourcePolicy",
        }
    }

    /// Parses an `X-Amz-Target` header value; `None` for anything this server does not serve.
    pub fn from_target(target: &str) -> Option<Self> {
        let name = target.strip_prefix("secretsmanager.")?;
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The IAM action that authorises the operation, e.g. `secretsmanager:GetSecretValue`.
    pub fn iam_action(self) -> &'static str {
        match self {
            Self::BatchGetSecretValue => "secretsmanager:BatchGetSecretValue",
            Self::CreateSecret => "secretsmanager:CreateSecret",
            Self::DeleteSecret => "secretsmanager:DeleteSecret",
            Self::DescribeSecret => "secretsmanager:DescribeSecret",
            Self::GetRandomPassword => "secretsmanager:GetRandomPassword",
            Self::GetSecretValue => "secretsmanager:GetSecretValue",
            Self::ListSecretVersionIds => "secretsmanager:ListSecretVersionIds",
            Self::ListSecrets => "secretsmanager:ListSecrets",
            Self::PutSecretValue => "secretsmanager:PutSecretValue",
            Self::RestoreSecret => "secretsmanager:RestoreSecret",
            Self::TagResource => "secretsmanager:TagResource",
            Self::UntagResource => "secretsmanager:UntagResource",
            Self::UpdateSecret => "secretsmanager:UpdateSecret",
            Self::UpdateSecretVersionStage => "secretsmanager:UpdateSecretVersionStage",
            Self::DeleteResourcePolicy => "secretsmanager:DeleteResourcePolicy",
            Self::GetResourcePolicy => "secretsmanager:GetResourcePolicy",
            Self::ListResourcePolicies => "secretsmanager:ListResourcePolicies",
            Self::PutResourcePolicy => "secretsmanager:PutResourcePolicy",
            Self::ValidateResourcePolicy => "secretsmanager:ValidateResourcePolicy",
        }
    }

    /// True for operations that change nothing (CloudTrail's `readOnly`).
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            Self::BatchGetSecretValue
                | Self::DescribeSecret
                | Self::GetRandomPassword
                | Self::GetSecretValue
                | Self::ListSecretVersionIds
                | Self::ListSecrets
                | Self::GetResourcePolicy
                | Self::ListResourcePolicies
                | Self::ValidateResourcePolicy
        )
    }
}

/// Everything known about one authenticated request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Who signed it.
    pub caller: Caller,
    /// The region from the credential scope.
    pub region: String,
    /// The `x-amzn-RequestId` it will be answered with.
    pub request_id: String,
    /// When it arrived.
    pub now: EpochMillis,
    /// The client's address (`aws:SourceIp`).
    pub source_ip: std::net::IpAddr,
    /// True when the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
    /// The `User-Agent` header (`aws:UserAgent`).
    pub user_agent: Option<String>,
}

/// The Secrets Manager service: state shared by every request.
pub struct Service {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    policies: access::PolicyCache,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Service")
    }
}

impl Service {
    /// A service over `store`, sealing with `keyring`, reading time from `clock`.
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            keyring,
            clock,
            policies: access::PolicyCache::default(),
        }
    }

    /// The clock requests are timed by.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Runs `op` on a JSON request body and returns the JSON response body.
    pub async fn dispatch(
        &self,
        ctx: &RequestContext,
        op: Operation,
        body: &[u8],
    ) -> Result<Vec<u8>, ApiError> {
        use input::{parse, respond};
        match op {
            Operation::BatchGetSecretValue => {
                respond(&self.batch_get_secret_value(ctx, parse(body)?).await?)
            }
            Operation::CreateSecret => respond(&self.create_secret(ctx, parse(body)?).await?),
            Operation::DeleteSecret => respond(&self.delete_secret(ctx, parse(body)?).await?),
            Operation::DescribeSecret => respond(&self.describe_secret(ctx, parse(body)?).await?),
            Operation::GetRandomPassword => {
                respond(&password::get_random_password(self, ctx, parse(body)?)?)
            }
            Operation::GetSecretValue => respond(&self.get_secret_value(ctx, parse(body)?).await?),
            Operation::ListSecretVersionIds => {
                respond(&self.list_secret_version_ids(ctx, parse(body)?).await?)
            }
            Operation::ListSecrets => respond(&self.list_secrets(ctx, parse(body)?).await?),
            Operation::PutSecretValue => respond(&self.put_secret_value(ctx, parse(body)?).await?),
            Operation::RestoreSecret => respond(&self.restore_secret(ctx, parse(body)?).await?),
            Operation::TagResource => respond(&self.tag_resource(ctx, parse(body)?).await?),
            Operation::UntagResource => respond(&self.untag_resource(ctx, parse(body)?).await?),
            Operation::UpdateSecret => respond(&self.update_secret(ctx, parse(body)?).await?),
            Operation::UpdateSecretVersionStage => {
                respond(&self.update_secret_version_stage(ctx, parse(body)?).await?)
            }
            Operation::PutResourcePolicy => {
                respond(&self.put_resource_policy(ctx, parse(body)?).await?)
            }
            Operation::GetResourcePolicy => {
                respond(&self.get_resource_policy(ctx, parse(body)?).await?)
            }
            Operation::DeleteResourcePolicy => {
                respond(&self.delete_resource_policy(ctx, parse(body)?).await?)
            }
            Operation::ValidateResourcePolicy => {
                respond(&self.validate_resource_policy(ctx, parse(body)?).await?)
            }
            Operation::ListResourcePolicies => {
                respond(&self.list_resource_policies(ctx, parse(body)?).await?)
            }
        }
    }

    /// Permanently deletes secrets whose recovery window has passed; returns how many.
    pub async fn purge_expired(&self) -> Result<u64, ApiError> {
        Ok(self.store.purge_expired(self.clock.now_millis()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip() {
        for op in Operation::ALL {
            let target = format!("secretsmanager.{}", op.name());
            assert_eq!(Operation::from_target(&target), Some(op));
        }
        assert_eq!(Operation::from_target("secretsmanager.RotateSecret"), None);
        assert_eq!(
            Operation::from_target("secretsmanager.PutResourcePolicy"),
            Some(Operation::PutResourcePolicy)
        );
        assert_eq!(Operation::from_target("TrentService.Encrypt"), None);
        assert_eq!(
            Operation::GetSecretValue.iam_action(),
            "secretsmanager:GetSecretValue"
        );
    }
}
