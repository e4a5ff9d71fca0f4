//! GetSecretValue, PutSecretValue, BatchGetSecretValue, ListSecretVersionIds,
//! UpdateSecretVersionStage: everything that reads values or moves staging labels.

use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroizing;

use super::access::{Access, Target};
use super::input::{
    SensitiveBlob, SensitiveString, decode_token, encode_blob, encode_token, timestamp,
};
use super::lifecycle::{check_token, check_value};
use super::listing::{ListParams, check_filters};
use super::resolve::require_not_deleted;
use super::{ApiError, Operation, RequestContext, Service, Validator};
use crate::clock::{DAY_MILLIS, truncate_to_day};
use crate::crypto::SecretValue;
use crate::model::VersionStage;
use crate::policy::ConditionContext;
use crate::store::{SecretRecord, StageError, StageRequest, StoreError, VersionRecord};

/// A secret value on its way out: zeroized on drop, serialised as a plain JSON string.
#[derive(Clone)]
pub(super) struct ExposedString(Zeroizing<String>);

impl std::fmt::Debug for ExposedString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl ExposedString {
    /// Wraps a value that is about to be sent.
    pub(super) fn new(s: String) -> Self {
        Self(Zeroizing::new(s))
    }
}

impl Serialize for ExposedString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// GetSecretValue's output, and each BatchGetSecretValue `SecretValues` entry.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SecretValueEntry {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    version_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_binary: Option<ExposedString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_string: Option<ExposedString>,
    /// Absent for a deprecated version (no labels), as ListSecretVersionIds shows it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    version_stages: Vec<String>,
    created_date: f64,
}

/// GetSecretValue's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetSecretValueInput {
    secret_id: Option<String>,
    version_id: Option<String>,
    version_stage: Option<String>,
}

/// PutSecretValue's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PutSecretValueInput {
    secret_id: Option<String>,
    client_request_token: Option<String>,
    secret_binary: Option<SensitiveBlob>,
    secret_string: Option<SensitiveString>,
    version_stages: Option<Vec<String>>,
    rotation_token: Option<String>,
}

/// PutSecretValue's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PutSecretValueOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    version_id: String,
    /// Absent when a replay names a version that has lost its labels since.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    version_stages: Vec<String>,
}

/// BatchGetSecretValue's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BatchGetSecretValueInput {
    secret_id_list: Option<Vec<String>>,
    filters: Option<Vec<super::listing::FilterInput>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// One per-secret failure in BatchGetSecretValue.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ApiErrorEntry {
    secret_id: String,
    error_code: String,
    message: String,
}

/// BatchGetSecretValue's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BatchGetSecretValueOutput {
    secret_values: Vec<SecretValueEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    errors: Vec<ApiErrorEntry>,
}

/// ListSecretVersionIds' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListSecretVersionIdsInput {
    secret_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    include_deprecated: Option<bool>,
}

/// One `Versions` entry.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct VersionEntry {
    version_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_stages: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_accessed_date: Option<f64>,
    created_date: f64,
    kms_key_ids: Vec<String>,
}

/// ListSecretVersionIds' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListSecretVersionIdsOutput {
    versions: Vec<VersionEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
}

/// UpdateSecretVersionStage's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateSecretVersionStageInput {
    secret_id: Option<String>,
    version_stage: Option<String>,
    remove_from_version_id: Option<String>,
    move_to_version_id: Option<String>,
}

/// Maps a label-rule violation to AWS's error and message.
fn stage_error(e: StageError) -> ApiError {
    match e {
        StageError::TooManyLabels => ApiError::LimitExceeded(
            "You can't attach more than 20 staging labels to the versions of a secret.".into(),
        ),
        StageError::VersionNotFound(v) => {
            ApiError::InvalidParameter(format!("Not a valid version: {v}"))
        }
        StageError::MustRemoveFrom { stage, current } => ApiError::InvalidParameter(format!(
            "The parameter RemoveFromVersionId can't be empty. Staging label {stage} is \
             currently attached to version {current}, so you must explicitly reference that \
             version in RemoveFromVersionId."
        )),
        StageError::NotAttached { stage, version } => ApiError::InvalidParameter(format!(
            "Version stage {stage} not found in version {version}"
        )),
        StageError::CannotRemoveCurrent => ApiError::InvalidParameter(
            "You can only move staging label AWSCURRENT to a different secret version. It can't \
             be completely removed."
                .into(),
        ),
    }
}

fn map_store(e: StoreError) -> ApiError {
    match e {
        StoreError::Stage(s) => stage_error(s),
        other => other.into(),
    }
}

fn check_stages(v: &mut Validator, path: &str, stages: Option<&[String]>) {
    v.count(path, stages.map(<[String]>::len), 1, 20, || {
        format!("[{}]", stages.unwrap_or_default().join(", "))
    });
    for (i, s) in stages.unwrap_or_default().iter().enumerate() {
        v.length(&format!("{path}.{}.member", i + 1), Some(s), 1, 256);
    }
}

impl Service {
    /// Stores `value` as version `token` of `record`, honouring ClientRequestToken idempotency:
    /// the same token with the same value is a no-op that answers as the first call did.
    /// Returns the labels now on the version.
    pub(super) async fn put_value(
        &self,
        ctx: &RequestContext,
        access: &Access,
        record: &SecretRecord,
        token: &str,
        value: &SecretValue,
        stages: StageRequest,
    ) -> Result<Vec<String>, ApiError> {
        // Insert first, so a normal write costs no extra read; only a token that is already in
        // use needs the stored value, to tell a replay (same value) from a conflict.
        let version = crate::store::NewVersion {
            version_id: token.to_string(),
            sealed: self.seal(ctx, &record.arn, token, value).await?,
            created_ms: ctx.now,
        };
        match self
            .store
            .put_version(record.pk, version, stages, ctx.now - DAY_MILLIS)
            .await
        {
            Err(StoreError::VersionExists) => {
                let existing = self
                    .store
                    .version(record.pk, token)
                    .await?
                    .ok_or_else(|| ApiError::token_in_use(token, &record.arn))?;
                let stored = self.open(access, record, &existing).await?;
                if stored.ct_eq(value) {
                    Ok(existing.stages)
                } else {
                    Err(ApiError::token_in_use(token, &record.arn))
                }
            }
            other => other.map_err(map_store),
        }
    }

    /// Finds the version a read asks for and opens it, recording the access (day precision).
    async fn read_version(
        &self,
        ctx: &RequestContext,
        access: &Access,
        record: &SecretRecord,
        version_id: Option<&str>,
        version_stage: Option<&str>,
    ) -> Result<SecretValueEntry, ApiError> {
        require_not_deleted(record)?;
        require_own_key_or_same_account(ctx, record)?;
        let version: Arc<VersionRecord> = match version_id {
            Some(id) => {
                let not_found = || {
                    ApiError::ResourceNotFound(format!(
                        "Secrets Manager can't find the specified secret value for VersionId: {id}"
                    ))
                };
                let v = self
                    .store
                    .version(record.pk, id)
                    .await?
                    .ok_or_else(not_found)?;
                if let Some(stage) = version_stage
                    && !v.stages.iter().any(|s| s == stage)
                {
                    return Err(ApiError::InvalidRequest(
                        "You provided a VersionStage that is not associated to the provided \
                         VersionId."
                            .into(),
                    ));
                }
                if v.sealed.is_none() {
                    return Err(not_found());
                }
                Arc::new(v)
            }
            None => {
                let stage = version_stage.unwrap_or(VersionStage::CURRENT);
                let not_found = || {
                    ApiError::ResourceNotFound(format!(
                        "Secrets Manager can't find the specified secret value for staging \
                         label: {stage}"
                    ))
                };
                // Resolved inside the store so the label and the version's labels agree even
                // while concurrent writers move labels.
                let v = self
                    .store
                    .version_by_stage(record.pk, stage)
                    .await?
                    .ok_or_else(not_found)?;
                if v.sealed.is_none() {
                    return Err(not_found());
                }
                v
            }
        };
        let value = self.open(access, record, &version).await?;
        let day = truncate_to_day(ctx.now);
        if record.last_accessed_ms.is_none_or(|d| d < day)
            || version.last_accessed_ms.is_none_or(|d| d < day)
        {
            self.store
                .record_access(record.pk, &version.version_id, day)
                .await?;
        }
        let (secret_string, secret_binary) = match value {
            SecretValue::String(s) => (Some(ExposedString(s)), None),
            SecretValue::Binary(b) => (None, Some(ExposedString(encode_blob(b.expose())))),
        };
        Ok(SecretValueEntry {
            arn: record.arn.clone(),
            name: record.name.clone(),
            version_id: version.version_id.clone(),
            secret_binary,
            secret_string,
            version_stages: version.stages.clone(),
            created_date: timestamp(version.created_ms),
        })
    }

    pub(super) async fn get_secret_value(
        &self,
        ctx: &RequestContext,
        input: GetSecretValueInput,
    ) -> Result<SecretValueEntry, ApiError> {
        let mut v = Validator::new();
        v.secret_id(&input.secret_id);
        check_token(&mut v, "versionId", input.version_id.as_deref());
        v.length("versionStage", input.version_stage.as_deref(), 1, 256)
            .finish()?;
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let mut keys = ConditionContext::default();
        if let Some(id) = &input.version_id {
            keys.set("secretsmanager:VersionId", id.as_str());
        }
        if let Some(stage) = &input.version_stage {
            keys.set("secretsmanager:VersionStage", stage.as_str());
        }
        let (record, access) = self
            .resolve_with(ctx, Operation::GetSecretValue, secret_id, &keys)
            .await?;
        self.read_version(
            ctx,
            &access,
            &record,
            input.version_id.as_deref(),
            input.version_stage.as_deref(),
        )
        .await
    }

    pub(super) async fn put_secret_value(
        &self,
        ctx: &RequestContext,
        input: PutSecretValueInput,
    ) -> Result<PutSecretValueOutput, ApiError> {
        let mut v = Validator::new();
        v.secret_id(&input.secret_id);
        check_token(
            &mut v,
            "clientRequestToken",
            input.client_request_token.as_deref(),
        );
        check_value(
            &mut v,
            input.secret_string.as_ref(),
            input.secret_binary.as_ref(),
        );
        check_stages(&mut v, "versionStages", input.version_stages.as_deref());
        v.length("rotationToken", input.rotation_token.as_deref(), 36, 256)
            .pattern(
                "rotationToken",
                input.rotation_token.as_deref(),
                |t| t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                "^[a-zA-Z0-9\\-]+$",
            )
            .finish()?;
        let token = input
            .client_request_token
            .clone()
            .ok_or_else(ApiError::missing_token)?;
        let value =
            super::input::secret_value(input.secret_string.as_ref(), input.secret_binary.as_ref())?
                .ok_or_else(|| {
                    ApiError::InvalidRequest(
                        "You must provide either SecretString or SecretBinary.".into(),
                    )
                })?;
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let (record, access) = self
            .resolve(ctx, Operation::PutSecretValue, secret_id)
            .await?;
        require_not_deleted(&record)?;
        require_own_key_or_same_account(ctx, &record)?;
        let stages = match input.version_stages {
            Some(list) => StageRequest::Explicit(list),
            None => StageRequest::Default,
        };
        let version_stages = self
            .put_value(ctx, &access, &record, &token, &value, stages)
            .await?;
        Ok(PutSecretValueOutput {
            arn: record.arn.clone(),
            name: record.name.clone(),
            version_id: token,
            version_stages,
        })
    }

    pub(super) async fn batch_get_secret_value(
        &self,
        ctx: &RequestContext,
        input: BatchGetSecretValueInput,
    ) -> Result<BatchGetSecretValueOutput, ApiError> {
        let mut v = Validator::new();
        let ids = input.secret_id_list.as_deref();
        v.count("secretIdList", ids.map(<[String]>::len), 1, 20, || {
            format!("[{}]", ids.unwrap_or_default().join(", "))
        });
        for (i, id) in ids.unwrap_or_default().iter().enumerate() {
            v.length(&format!("secretIdList.{}.member", i + 1), Some(id), 1, 2048);
        }
        check_filters(&mut v, input.filters.as_deref());
        v.range("maxResults", input.max_results, 1, 20)
            .length("nextToken", input.next_token.as_deref(), 1, 4096)
            .finish()?;
        if input.secret_id_list.is_some() == input.filters.is_some() {
            return Err(ApiError::InvalidParameter(
                "Either 'SecretIdList' or 'Filters' must be provided, but not both.".into(),
            ));
        }
        if input.max_results.is_some() && input.filters.is_none() {
            return Err(ApiError::InvalidParameter(
                "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is \
                 provided."
                    .into(),
            ));
        }
        self.authorize(
            ctx,
            Operation::BatchGetSecretValue,
            Target::Any,
            &Default::default(),
        )?;
        if input.filters.is_some() {
            // Listing by filter also needs ListSecrets, as AWS's authorization reference says.
            self.authorize(
                ctx,
                Operation::ListSecrets,
                Target::Any,
                &Default::default(),
            )?;
        }
        let mut secret_values = Vec::new();
        let mut errors = Vec::new();
        let mut next_token = None;
        // Each secret is its own GetSecretValue: authorised, resolved and read separately,
        // with failures reported per secret instead of failing the call.
        let targets: Vec<(String, Option<SecretRecord>)> = match &input.secret_id_list {
            Some(ids) => ids.iter().map(|id| (id.clone(), None)).collect(),
            None => {
                let params = ListParams {
                    filters: input.filters.as_deref().unwrap_or_default(),
                    include_deleted: false,
                    sort_by: None,
                    sort_order: None,
                    max_results: input.max_results.unwrap_or(20),
                    next_token: input.next_token.as_deref(),
                };
                let (records, token) = self.list_page(ctx, &params).await?;
                next_token = token;
                records
                    .into_iter()
                    .map(|r| (r.arn.clone(), Some(r)))
                    .collect()
            }
        };
        for (secret_id, listed) in targets {
            let result = async {
                let (record, access) = match listed {
                    Some(r) => {
                        let access = self.authorize(
                            ctx,
                            Operation::GetSecretValue,
                            Target::Secret {
                                arn: &r.arn,
                                account: &r.account_id,
                                record: Some(&r),
                                shown: &secret_id,
                            },
                            &Default::default(),
                        )?;
                        (Arc::new(r), access)
                    }
                    None => {
                        self.resolve(ctx, Operation::GetSecretValue, &secret_id)
                            .await?
                    }
                };
                self.read_version(ctx, &access, &record, None, None).await
            }
            .await;
            match result {
                Ok(entry) => secret_values.push(entry),
                Err(ApiError::Internal) => return Err(ApiError::Internal),
                Err(e) => errors.push(ApiErrorEntry {
                    secret_id,
                    error_code: e.code().to_string(),
                    message: e.message().unwrap_or_default(),
                }),
            }
        }
        Ok(BatchGetSecretValueOutput {
            secret_values,
            next_token,
            errors,
        })
    }

    pub(super) async fn list_secret_version_ids(
        &self,
        ctx: &RequestContext,
        input: ListSecretVersionIdsInput,
    ) -> Result<ListSecretVersionIdsOutput, ApiError> {
        Validator::new()
            .secret_id(&input.secret_id)
            .range("maxResults", input.max_results, 1, 100)
            .length("nextToken", input.next_token.as_deref(), 1, 4096)
            .finish()?;
        let offset: usize = match &input.next_token {
            Some(t) => decode_token(t)?,
            None => 0,
        };
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let (record, _) = self
            .resolve(ctx, Operation::ListSecretVersionIds, secret_id)
            .await?;
        let include_deprecated = input.include_deprecated.unwrap_or(false);
        let kms_key_ids = vec![
            record
                .kms_key_id
                .clone()
                .unwrap_or_else(|| "DefaultEncryptionKey".to_string()),
        ];
        let all: Vec<VersionEntry> = self
            .store
            .versions(record.pk)
            .await?
            .into_iter()
            .filter(|v| v.sealed.is_some() && (include_deprecated || !v.stages.is_empty()))
            .map(|v| VersionEntry {
                version_id: v.version_id,
                version_stages: Some(v.stages).filter(|s| !s.is_empty()),
                last_accessed_date: v.last_accessed_ms.map(timestamp),
                created_date: timestamp(v.created_ms),
                kms_key_ids: kms_key_ids.clone(),
            })
            .collect();
        let limit = usize::try_from(input.max_results.unwrap_or(100)).unwrap_or(100);
        let end = offset.saturating_add(limit).min(all.len());
        let next_token = if end < all.len() {
            Some(encode_token(&end)?)
        } else {
            None
        };
        let versions = all
            .into_iter()
            .skip(offset)
            .take(end.saturating_sub(offset))
            .collect();
        Ok(ListSecretVersionIdsOutput {
            versions,
            next_token,
            arn: record.arn.clone(),
            name: record.name.clone(),
        })
    }

    pub(super) async fn update_secret_version_stage(
        &self,
        ctx: &RequestContext,
        input: UpdateSecretVersionStageInput,
    ) -> Result<super::lifecycle::ArnNameOutput, ApiError> {
        let mut v = Validator::new();
        v.secret_id(&input.secret_id)
            .required("versionStage", &input.version_stage)
            .length("versionStage", input.version_stage.as_deref(), 1, 256);
        check_token(
            &mut v,
            "removeFromVersionId",
            input.remove_from_version_id.as_deref(),
        );
        check_token(
            &mut v,
            "moveToVersionId",
            input.move_to_version_id.as_deref(),
        );
        v.finish()?;
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let mut keys = ConditionContext::default();
        if let Some(stage) = &input.version_stage {
            keys.set("secretsmanager:VersionStage", stage.as_str());
        }
        let (record, _) = self
            .resolve_with(ctx, Operation::UpdateSecretVersionStage, secret_id, &keys)
            .await?;
        require_not_deleted(&record)?;
        self.store
            .update_version_stage(
                record.pk,
                input.version_stage.as_deref().unwrap_or_default(),
                input.move_to_version_id.as_deref(),
                input.remove_from_version_id.as_deref(),
                ctx.now,
            )
            .await
            .map_err(map_store)?;
        Ok(super::lifecycle::ArnNameOutput {
            arn: record.arn.clone(),
            name: record.name.clone(),
            version_id: None,
        })
    }
}

/// Another account may read or write a secret's value only if the secret is encrypted with a
/// customer managed key it can use; the default `aws/secretsmanager` key works only inside
/// its own account. Strongbox has no customer managed keys yet, so every cross-account value
/// access gets AWS's error for the default key.
fn require_own_key_or_same_account(
    ctx: &RequestContext,
    record: &SecretRecord,
) -> Result<(), ApiError> {
    if record.account_id == ctx.caller.account_id {
        return Ok(());
    }
    Err(ApiError::InvalidRequest(
        "You can't access a secret from a different AWS account if you encrypt the secret with \
         the default KMS service key."
            .into(),
    ))
}
