//! CreateSecret, DescribeSecret, UpdateSecret, DeleteSecret, RestoreSecret.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::access::Target;
use super::input::{SensitiveBlob, SensitiveString, secret_value, timestamp};
use super::resolve::require_not_deleted;
use super::tags::{TagInput, check_reserved_keys, check_tags, to_tags};
use super::{ApiError, Operation, RequestContext, Service, Validator};
use crate::clock::DAY_MILLIS;
use crate::crypto::{SecretValue, random_string};
use crate::model::{SecretArn, SecretName, Tag};
use crate::policy::ConditionContext;
use crate::store::{
    MetadataUpdate, NewSecret, NewVersion, Scope, SecretLookup, SecretRecord, StageRequest,
    StoreError,
};

/// AWS's default recovery window.
const DEFAULT_RECOVERY_DAYS: i64 = 30;

/// Validates a ClientRequestToken / VersionId member (32..64 characters).
pub(super) fn check_token(v: &mut Validator, path: &str, token: Option<&str>) {
    v.length(path, token, 32, 64);
}

/// Validates SecretString/SecretBinary lengths: 1..65,536, the quota counted in bytes.
pub(super) fn check_value(
    v: &mut Validator,
    string: Option<&SensitiveString>,
    binary: Option<&SensitiveBlob>,
) {
    v.length_sensitive("secretString", string.map(|s| s.0.as_str()), 1, 65_536);
    if let Some(s) = string
        && s.0.chars().count() <= 65_536
    {
        // The character limit holds but the quota is in bytes: a multi-byte string can pass one
        // and fail the other. Only the maximum is checked in bytes: an empty string already
        // failed the minimum above, and must be reported once, not twice.
        v.blob_length("secretString", Some(s.0.len()), 0, 65_536);
    }
    v.blob_length("secretBinary", binary.map(|b| b.0.len()), 1, 65_536);
}

/// Six random characters `[A-Za-z0-9]` for a new secret's ARN, from the OS CSPRNG.
fn arn_suffix() -> Result<String, ApiError> {
    Ok(random_string(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        6,
    )?)
}

/// DescribeSecret's output, also the shape of each ListSecrets entry.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SecretMetadata {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<String>,
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    secret_type: Option<String>,
    last_changed_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_accessed_date: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_date: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<Tag>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_ids_to_stages: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_versions_to_stages: Option<BTreeMap<String, Vec<String>>>,
    created_date: f64,
}

impl SecretMetadata {
    /// Builds the metadata view. ListSecrets names the version map `SecretVersionsToStages`,
    /// DescribeSecret `VersionIdsToStages`; AWS omits it when no version has a label.
    pub(super) fn new(record: SecretRecord, for_list: bool) -> Self {
        let stages = Some(record.versions_to_stages()).filter(|m| !m.is_empty());
        let (version_ids_to_stages, secret_versions_to_stages) = if for_list {
            (None, stages)
        } else {
            (stages, None)
        };
        Self {
            arn: record.arn,
            name: record.name,
            // AWS stores an empty Description as none: DescribeSecret and ListSecrets leave
            // the key out rather than answer "".
            description: record.description.filter(|d| !d.is_empty()),
            kms_key_id: record.kms_key_id,
            secret_type: record.secret_type,
            last_changed_date: timestamp(record.last_changed_ms),
            last_accessed_date: record.last_accessed_ms.map(timestamp),
            deleted_date: record.deleted_ms.map(timestamp),
            tags: record.tags,
            version_ids_to_stages,
            secret_versions_to_stages,
            created_date: timestamp(record.created_ms),
        }
    }
}

/// CreateSecret's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateSecretInput {
    name: Option<String>,
    client_request_token: Option<String>,
    description: Option<String>,
    kms_key_id: Option<String>,
    secret_binary: Option<SensitiveBlob>,
    secret_string: Option<SensitiveString>,
    tags: Option<Vec<TagInput>>,
    add_replica_regions: Option<Vec<ReplicaRegion>>,
    #[allow(dead_code)]
    force_overwrite_replica_secret: Option<bool>,
    #[serde(rename = "Type")]
    secret_type: Option<String>,
    #[serde(rename = "CrossAccountPrimaryARN")]
    cross_account_primary_arn: Option<String>,
}

/// `ReplicaRegionType`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ReplicaRegion {
    #[allow(dead_code)]
    region: Option<String>,
    #[allow(dead_code)]
    kms_key_id: Option<String>,
}

/// CreateSecret's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateSecretOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_id: Option<String>,
}

/// SecretId-only inputs: DescribeSecret, RestoreSecret.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SecretIdInput {
    secret_id: Option<String>,
}

impl SecretIdInput {
    fn validate(&self) -> Result<&str, ApiError> {
        Validator::new().secret_id(&self.secret_id).finish()?;
        Ok(self.secret_id.as_deref().unwrap_or_default())
    }
}

/// UpdateSecret's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateSecretInput {
    secret_id: Option<String>,
    client_request_token: Option<String>,
    description: Option<String>,
    kms_key_id: Option<String>,
    secret_binary: Option<SensitiveBlob>,
    secret_string: Option<SensitiveString>,
    #[serde(rename = "Type")]
    secret_type: Option<String>,
}

/// DeleteSecret's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DeleteSecretInput {
    secret_id: Option<String>,
    recovery_window_in_days: Option<i64>,
    force_delete_without_recovery: Option<bool>,
}

/// DeleteSecret's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DeleteSecretOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    deletion_date: f64,
}

/// `{ARN, Name}` outputs: RestoreSecret, UpdateSecret without a value.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ArnNameOutput {
    #[serde(rename = "ARN")]
    pub(super) arn: String,
    pub(super) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) version_id: Option<String>,
}

impl Service {
    pub(super) async fn create_secret(
        &self,
        ctx: &RequestContext,
        input: CreateSecretInput,
    ) -> Result<CreateSecretOutput, ApiError> {
        let mut v = Validator::new();
        v.required("name", &input.name)
            .length("name", input.name.as_deref(), 1, 512);
        check_token(
            &mut v,
            "clientRequestToken",
            input.client_request_token.as_deref(),
        );
        v.length("description", input.description.as_deref(), 0, 2048)
            .length("kmsKeyId", input.kms_key_id.as_deref(), 0, 2048);
        check_value(
            &mut v,
            input.secret_string.as_ref(),
            input.secret_binary.as_ref(),
        );
        check_tags(&mut v, input.tags.as_deref());
        v.count(
            "addReplicaRegions",
            input.add_replica_regions.as_ref().map(Vec::len),
            1,
            usize::MAX,
            || "[]".into(),
        )
        .length("type", input.secret_type.as_deref(), 0, 256)
        .length(
            "crossAccountPrimaryARN",
            input.cross_account_primary_arn.as_deref(),
            20,
            2048,
        )
        .finish()?;
        let name_text = input.name.as_deref().unwrap_or_default();
        let name = SecretName::parse(name_text).ok_or_else(ApiError::invalid_name)?;
        let token = input
            .client_request_token
            .clone()
            .ok_or_else(ApiError::missing_token)?;
        let value = secret_value(input.secret_string.as_ref(), input.secret_binary.as_ref())?;
        if input.add_replica_regions.is_some() || input.cross_account_primary_arn.is_some() {
            return Err(ApiError::InvalidRequest(
                "Replication is not available on this server.".into(),
            ));
        }
        let scope = Scope {
            account_id: ctx.caller.account_id.clone(),
            region: ctx.region.clone(),
        };
        let suffix = arn_suffix()?;
        let arn =
            SecretArn::new(&ctx.region, &ctx.caller.account_id, name.as_str(), &suffix).to_string();
        // AWS authorises CreateSecret against the new secret's ARN.
        let mut request_keys = ConditionContext::default();
        request_keys.set("secretsmanager:Name", name.as_str());
        if let Some(d) = &input.description {
            request_keys.set("secretsmanager:Description", d.as_str());
        }
        add_key_and_type_keys(
            &mut request_keys,
            ctx,
            input.kms_key_id.as_deref(),
            input.secret_type.as_deref(),
        );
        if let Some(t) = &input.tags {
            crate::iam::authz::add_request_tags(
                &mut request_keys,
                t.iter().map(|t| {
                    (
                        t.key.as_deref().unwrap_or_default(),
                        t.value.as_deref().unwrap_or_default(),
                    )
                }),
            );
        }
        let target = Target::Secret {
            arn: &arn,
            account: &scope.account_id,
            record: None,
            shown: &arn,
        };
        let access = self.authorize(ctx, Operation::CreateSecret, target, &request_keys)?;
        if input.tags.is_some() {
            // Tags on create also need TagResource, as AWS's authorization reference says.
            self.authorize(ctx, Operation::TagResource, target, &request_keys)?;
        }
        let kms_key_id = self.check_kms_key(ctx, input.kms_key_id.as_deref()).await?;

        let tags = input.tags.as_deref().map(to_tags);
        if let Some(t) = &tags {
            check_reserved_keys(t)?;
            if t.len() > crate::store::MAX_TAGS_PER_SECRET {
                return Err(StoreError::TooManyTags.into());
            }
        }
        let version = match &value {
            Some(val) => Some(NewVersion {
                version_id: token.clone(),
                sealed: self.seal(ctx, &arn, &token, val).await?,
                created_ms: ctx.now,
            }),
            None => None,
        };
        let new = NewSecret {
            scope: scope.clone(),
            name: name.as_str().to_string(),
            arn,
            description: input.description.clone(),
            kms_key_id,
            secret_type: input.secret_type.clone(),
            tags,
            created_ms: ctx.now,
        };
        // Insert first, so the common case needs no lookup. On a name conflict, a secret past
        // its recovery window frees the name (purged, then one retry); any other holder is
        // AWS's conflict, or the original answer to a replayed request.
        for _ in 0..2 {
            match self.store.create_secret(new.clone(), version.clone()).await {
                Ok(record) => {
                    return Ok(CreateSecretOutput {
                        arn: record.arn,
                        name: record.name,
                        version_id: value.is_some().then_some(token),
                    });
                }
                Err(StoreError::NameExists) => {
                    let found = self
                        .store
                        .find_secret(&scope, SecretLookup::Name(name.as_str()))
                        .await?;
                    match found {
                        Some(old) if old.deletion_ms.is_some_and(|at| at <= ctx.now) => {
                            self.store.delete_secret(old.pk).await?;
                        }
                        Some(existing) => {
                            return self
                                .create_conflict(
                                    &access,
                                    Arc::unwrap_or_clone(existing),
                                    &token,
                                    value.as_ref(),
                                )
                                .await;
                        }
                        // Deleted by another request in between: try again.
                        None => {}
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::ResourceExists(format!(
            "The operation failed because the secret {} already exists.",
            name.as_str()
        )))
    }

    /// CreateSecret on a name that exists: a replay with the same token and value succeeds
    /// with the original answer; anything else is AWS's error.
    async fn create_conflict(
        &self,
        access: &super::Access,
        existing: SecretRecord,
        token: &str,
        value: Option<&SecretValue>,
    ) -> Result<CreateSecretOutput, ApiError> {
        if existing.is_deleted() {
            return Err(ApiError::InvalidRequest(
                "You can't create this secret because a secret with this name is already \
                 scheduled for deletion."
                    .into(),
            ));
        }
        if let Some(new_value) = value
            && let Some(version) = self.store.version(existing.pk, token).await?
        {
            let stored = self.open(access, &existing, &version).await?;
            if stored.ct_eq(new_value) {
                return Ok(CreateSecretOutput {
                    arn: existing.arn,
                    name: existing.name,
                    version_id: Some(token.to_string()),
                });
            }
            return Err(ApiError::token_in_use(token, &existing.arn));
        }
        Err(ApiError::ResourceExists(format!(
            "The operation failed because the secret {} already exists.",
            existing.name
        )))
    }

    pub(super) async fn describe_secret(
        &self,
        ctx: &RequestContext,
        input: SecretIdInput,
    ) -> Result<SecretMetadata, ApiError> {
        let secret_id = input.validate()?;
        let (record, _) = self
            .resolve(ctx, Operation::DescribeSecret, secret_id)
            .await?;
        Ok(SecretMetadata::new(Arc::unwrap_or_clone(record), false))
    }

    pub(super) async fn update_secret(
        &self,
        ctx: &RequestContext,
        input: UpdateSecretInput,
    ) -> Result<ArnNameOutput, ApiError> {
        let mut v = Validator::new();
        v.secret_id(&input.secret_id);
        check_token(
            &mut v,
            "clientRequestToken",
            input.client_request_token.as_deref(),
        );
        v.length("description", input.description.as_deref(), 0, 2048)
            .length("kmsKeyId", input.kms_key_id.as_deref(), 0, 2048);
        check_value(
            &mut v,
            input.secret_string.as_ref(),
            input.secret_binary.as_ref(),
        );
        v.length("type", input.secret_type.as_deref(), 0, 256)
            .finish()?;
        let value = secret_value(input.secret_string.as_ref(), input.secret_binary.as_ref())?;
        let token = match (&value, &input.client_request_token) {
            (Some(_), None) => return Err(ApiError::missing_token()),
            (_, t) => t.clone(),
        };
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let mut keys = ConditionContext::default();
        if let Some(d) = &input.description {
            keys.set("secretsmanager:Description", d.as_str());
        }
        add_key_and_type_keys(
            &mut keys,
            ctx,
            input.kms_key_id.as_deref(),
            input.secret_type.as_deref(),
        );
        let (record, access) = self
            .resolve_with(ctx, Operation::UpdateSecret, secret_id, &keys)
            .await?;
        require_not_deleted(&record)?;

        let kms_key_id = match &input.kms_key_id {
            Some(k) => Some(self.check_kms_key(ctx, Some(k)).await?),
            None => None,
        };
        let update = MetadataUpdate {
            description: input.description.clone(),
            kms_key_id,
            secret_type: input.secret_type.clone(),
        };
        let has_metadata = update.description.is_some()
            || update.kms_key_id.is_some()
            || update.secret_type.is_some();
        let version_id = match (value, token) {
            (Some(value), Some(token)) => {
                self.put_value(ctx, &access, &record, &token, &value, StageRequest::Default)
                    .await?;
                Some(token)
            }
            _ => None,
        };
        if has_metadata {
            self.store
                .update_metadata(record.pk, update, ctx.now)
                .await?;
        }
        Ok(ArnNameOutput {
            arn: record.arn.clone(),
            name: record.name.clone(),
            version_id,
        })
    }

    pub(super) async fn delete_secret(
        &self,
        ctx: &RequestContext,
        input: DeleteSecretInput,
    ) -> Result<DeleteSecretOutput, ApiError> {
        Validator::new().secret_id(&input.secret_id).finish()?;
        let force = input.force_delete_without_recovery.unwrap_or(false);
        if let Some(days) = input.recovery_window_in_days {
            if !(7..=30).contains(&days) {
                return Err(ApiError::InvalidParameter(
                    "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
                        .into(),
                ));
            }
            if force {
                return Err(ApiError::InvalidParameter(
                    "You can't use ForceDeleteWithoutRecovery in conjunction with \
                     RecoveryWindowInDays."
                        .into(),
                ));
            }
        }
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let mut keys = ConditionContext::default();
        if let Some(f) = input.force_delete_without_recovery {
            keys.set(
                "secretsmanager:ForceDeleteWithoutRecovery",
                if f { "true" } else { "false" },
            );
        }
        if let Some(days) = input.recovery_window_in_days {
            keys.set("secretsmanager:RecoveryWindowInDays", days.to_string());
        }
        let (found, _) = self
            .resolve_optional_with(ctx, Operation::DeleteSecret, secret_id, &keys)
            .await?;
        let Some(record) = found else {
            if !force {
                return Err(ApiError::secret_not_found());
            }
            // AWS answers a forced delete of a missing secret with success, echoing the id.
            let arn = if secret_id.starts_with("arn:") {
                secret_id.to_string()
            } else {
                SecretArn::new(
                    &ctx.region,
                    &ctx.caller.account_id,
                    secret_id,
                    &arn_suffix()?,
                )
                .to_string()
            };
            return Ok(DeleteSecretOutput {
                arn,
                name: secret_id.to_string(),
                deletion_date: timestamp(ctx.now),
            });
        };
        if force {
            self.store.delete_secret(record.pk).await?;
            return Ok(DeleteSecretOutput {
                arn: record.arn.clone(),
                name: record.name.clone(),
                deletion_date: timestamp(ctx.now),
            });
        }
        require_not_deleted(&record)?;
        let days = input
            .recovery_window_in_days
            .unwrap_or(DEFAULT_RECOVERY_DAYS);
        let deletion = ctx.now + days * DAY_MILLIS;
        self.store
            .schedule_deletion(record.pk, ctx.now, deletion)
            .await?;
        Ok(DeleteSecretOutput {
            arn: record.arn.clone(),
            name: record.name.clone(),
            deletion_date: timestamp(deletion),
        })
    }

    pub(super) async fn restore_secret(
        &self,
        ctx: &RequestContext,
        input: SecretIdInput,
    ) -> Result<ArnNameOutput, ApiError> {
        let secret_id = input.validate()?;
        let (record, _) = self
            .resolve(ctx, Operation::RestoreSecret, secret_id)
            .await?;
        if record.is_deleted() {
            self.store.restore_secret(record.pk, ctx.now).await?;
        }
        Ok(ArnNameOutput {
            arn: record.arn.clone(),
            name: record.name.clone(),
            version_id: None,
        })
    }
}

/// The request keys CreateSecret and UpdateSecret add for their `KmsKeyId` and `Type`:
/// `secretsmanager:KmsKeyId` as sent, `secretsmanager:KmsKeyArn` when the request names the key
/// by id or key ARN (an alias names no key until it is looked up, and authorisation runs before
/// any lookup), and `secretsmanager:Type`. Omitted parameters leave their keys absent.
fn add_key_and_type_keys(
    keys: &mut ConditionContext,
    ctx: &RequestContext,
    kms_key_id: Option<&str>,
    secret_type: Option<&str>,
) {
    if let Some(k) = kms_key_id {
        keys.set("secretsmanager:KmsKeyId", k);
        if let Some(arn) = kms_key_arn(&ctx.region, &ctx.caller.account_id, k) {
            keys.set("secretsmanager:KmsKeyArn", arn);
        }
    }
    if let Some(t) = secret_type {
        keys.set("secretsmanager:Type", t);
    }
}

/// The key ARN a `KmsKeyId` names without a lookup: a key ARN as given, a bare key id in the
/// caller's account and region. Aliases and the empty string name none.
fn kms_key_arn(region: &str, account: &str, kms_key_id: &str) -> Option<String> {
    if kms_key_id.starts_with("arn:") {
        return kms_key_id
            .split(':')
            .nth(5)
            .is_some_and(|resource| resource.starts_with("key/"))
            .then(|| kms_key_id.to_string());
    }
    let is_key_id = !kms_key_id.is_empty()
        && !kms_key_id.starts_with("alias/")
        && kms_key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    is_key_id.then(|| format!("arn:aws:kms:{region}:{account}:key/{kms_key_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_six_alphanumerics() {
        for _ in 0..50 {
            let s = arn_suffix().unwrap();
            assert_eq!(s.len(), 6);
            assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn a_kms_key_arn_is_known_only_for_key_ids_and_key_arns() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let arn = format!("arn:aws:kms:eu-west-1:111122223333:key/{id}");
        assert_eq!(
            kms_key_arn("eu-west-1", "111122223333", id),
            Some(arn.clone())
        );
        assert_eq!(kms_key_arn("us-east-1", "1", &arn), Some(arn));
        for none in [
            "",
            "alias/aws/secretsmanager",
            "arn:aws:kms:us-east-1:1:alias/aws/secretsmanager",
            "not a key",
        ] {
            assert_eq!(kms_key_arn("us-east-1", "1", none), None, "{none}");
        }
    }
}
