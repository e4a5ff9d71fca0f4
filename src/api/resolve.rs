//! From a `SecretId` to a secret: parsing, authorisation (before lookup, as AWS does, so a
//! denied caller cannot probe for names), and lookup in the right account and region.

use super::access::{Access, Target};
use super::{ApiError, Operation, RequestContext, Service};
use crate::crypto::{EncryptionContext, SecretValue, open_value, seal_value};
use crate::model::{SecretRef, SecretRefError};
use crate::policy::ConditionContext;
use std::sync::Arc;

use crate::store::{Scope, SecretLookup, SecretRecord, VersionRecord};

impl Service {
    /// Resolves `secret_id` for `op`, including secrets scheduled for deletion.
    pub(super) async fn resolve(
        &self,
        ctx: &RequestContext,
        op: Operation,
        secret_id: &str,
    ) -> Result<(Arc<SecretRecord>, Access), ApiError> {
        self.resolve_with(ctx, op, secret_id, &ConditionContext::default())
            .await
    }

    /// [`resolve`](Self::resolve) with the request's own condition keys (VersionStage,
    /// aws:RequestTag, ...).
    pub(super) async fn resolve_with(
        &self,
        ctx: &RequestContext,
        op: Operation,
        secret_id: &str,
        request_keys: &ConditionContext,
    ) -> Result<(Arc<SecretRecord>, Access), ApiError> {
        let (found, access) = self
            .resolve_optional_with(ctx, op, secret_id, request_keys)
            .await?;
        found
            .map(|r| (r, access))
            .ok_or_else(ApiError::secret_not_found)
    }

    /// Like [`resolve_with`](Self::resolve_with), but a missing secret is `None` rather than an
    /// error.
    ///
    /// The decision needs the secret's ARN, tags and resource policy, so the lookup comes
    /// first; but its outcome is not revealed before the decision. A missing secret is
    /// checked against the ARN it would have without the random suffix, so a denied caller
    /// gets AccessDenied whether or not the secret exists, as on AWS.
    pub(super) async fn resolve_optional_with(
        &self,
        ctx: &RequestContext,
        op: Operation,
        secret_id: &str,
        request_keys: &ConditionContext,
    ) -> Result<(Option<Arc<SecretRecord>>, Access), ApiError> {
        let secret_ref = SecretRef::parse(secret_id).map_err(arn_parse_error)?;
        let account = secret_ref.account().unwrap_or(&ctx.caller.account_id);
        let region = secret_ref.region().unwrap_or(&ctx.region);
        let found = if region != ctx.region {
            // An endpoint serves its own region only, as each AWS regional endpoint does.
            None
        } else {
            let scope = Scope {
                account_id: account.to_string(),
                region: region.to_string(),
            };
            let lookup = match &secret_ref {
                SecretRef::Name(name) | SecretRef::PartialArn { name, .. } => {
                    SecretLookup::Name(name)
                }
                SecretRef::Arn { arn, .. } => SecretLookup::Arn(arn),
            };
            // Only DescribeSecret shows the staging labels; everyone else skips reading them.
            let found = if matches!(op, Operation::DescribeSecret) {
                self.store.find_secret(&scope, lookup).await?
            } else {
                self.store.find_secret_row(&scope, lookup).await?
            };
            found.filter(|r| r.deletion_ms.is_none_or(|at| at > ctx.now))
        };
        let assumed_arn;
        let arn = match (&found, &secret_ref) {
            (Some(r), _) => r.arn.as_str(),
            (None, SecretRef::Arn { arn, .. }) => arn.as_str(),
            (None, SecretRef::Name(name) | SecretRef::PartialArn { name, .. }) => {
                assumed_arn = format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}");
                assumed_arn.as_str()
            }
        };
        let access = self.authorize(
            ctx,
            op,
            Target::Secret {
                arn,
                account,
                record: found.as_deref(),
                shown: secret_id,
            },
            request_keys,
        )?;
        Ok((found, access))
    }

    /// Seals `value` for version `version_id` of the secret `arn` under the scope's default key.
    pub(super) async fn seal(
        &self,
        ctx: &RequestContext,
        arn: &str,
        version_id: &str,
        value: &SecretValue,
    ) -> Result<Vec<u8>, ApiError> {
        let key = self
            .keyring
            .default_key(&ctx.caller.account_id, &ctx.region, ctx.now)
            .await?;
        let context = EncryptionContext {
            secret_arn: arn,
            version_id,
        };
        Ok(seal_value(&key, context, value)?)
    }

    /// Opens a version's value. Taking [`Access`] makes authorisation impossible to skip.
    pub(super) async fn open(
        &self,
        _access: &Access,
        secret: &SecretRecord,
        version: &VersionRecord,
    ) -> Result<SecretValue, ApiError> {
        let decryption_failure = || {
            ApiError::DecryptionFailure(
                "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
                    .into(),
            )
        };
        let sealed = version.sealed.as_deref().ok_or_else(decryption_failure)?;
        let (key_id, _) = crate::crypto::sealed_key_id(sealed).map_err(|_| decryption_failure())?;
        let key = self.keyring.key_by_id(key_id).await.map_err(|e| {
            tracing::error!(error = %e, "cannot load the KMS key of a sealed version");
            decryption_failure()
        })?;
        let context = EncryptionContext {
            secret_arn: &secret.arn,
            version_id: &version.version_id,
        };
        open_value(&key, context, sealed).map_err(|e| {
            tracing::error!(error = %e, arn = %secret.arn, "sealed version failed to open");
            decryption_failure()
        })
    }

    /// Checks a KmsKeyId given to CreateSecret or UpdateSecret and returns what to store:
    /// `None` for the default key. Strongbox has no customer managed keys yet, so only the
    /// `aws/secretsmanager` key, by alias, alias ARN, key id or key ARN, is accepted.
    pub(super) async fn check_kms_key(
        &self,
        ctx: &RequestContext,
        kms_key_id: Option<&str>,
    ) -> Result<Option<String>, ApiError> {
        let Some(given) = kms_key_id.filter(|k| !k.is_empty()) else {
            return Ok(None);
        };
        let alias_arn = format!(
            "arn:aws:kms:{}:{}:alias/aws/secretsmanager",
            ctx.region, ctx.caller.account_id
        );
        if given == "alias/aws/secretsmanager" || given == alias_arn {
            return Ok(Some(given.to_string()));
        }
        let key = self
            .keyring
            .default_key(&ctx.caller.account_id, &ctx.region, ctx.now)
            .await?;
        if given == key.key_id || given == key.arn {
            return Ok(Some(given.to_string()));
        }
        Err(ApiError::AccessDenied(
            "Access to KMS is not allowed".into(),
        ))
    }
}

/// Rejects operations on a secret scheduled for deletion, with AWS's error.
pub(super) fn require_not_deleted(record: &SecretRecord) -> Result<(), ApiError> {
    if record.is_deleted() {
        Err(ApiError::marked_for_deletion())
    } else {
        Ok(())
    }
}

/// Maps a `SecretId` parse failure to AWS's error: a bad name is a ValidationException, an ARN
/// that names no secret is simply not found.
pub(super) fn arn_parse_error(e: SecretRefError) -> ApiError {
    match e {
        SecretRefError::InvalidName => ApiError::invalid_name(),
        SecretRefError::NotASecretArn => ApiError::secret_not_found(),
    }
}
