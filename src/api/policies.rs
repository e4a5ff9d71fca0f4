//! Resource policies on secrets: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy,
//! ValidateResourcePolicy and ListResourcePolicies.
//!
//! A secret has at most one policy, named `default` (the only name AWS accepts).

use serde::{Deserialize, Serialize};

use super::access::Target;
use super::resolve::require_not_deleted;
use super::{ApiError, Operation, RequestContext, Service, Validator};
use crate::policy::{ConditionContext, PolicyDocument, PolicyKind, validate_resource_policy};

/// The one policy name a secret's policy can have.
const DEFAULT_POLICY_NAME: &str = "default";

/// Checks PolicyName's constraints and that it is `default`.
fn check_policy_name(v: &mut Validator, name: Option<&str>) {
    v.length("policyName", name, 1, 64).pattern(
        "policyName",
        name,
        |n| {
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        },
        "[0-9A-Za-z\\-\\_]+",
    );
}

fn require_default_name(name: Option<&str>) -> Result<(), ApiError> {
    match name {
        None | Some(DEFAULT_POLICY_NAME) => Ok(()),
        Some(_) => Err(ApiError::InvalidParameter(
            "The only supported resource policy name is default.".into(),
        )),
    }
}

/// AWS's message for a policy that is not valid JSON or not a valid policy.
fn malformed() -> ApiError {
    ApiError::MalformedPolicyDocument("This policy has invalid syntax.".into())
}

/// PutResourcePolicy's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PutResourcePolicyInput {
    secret_id: Option<String>,
    resource_policy: Option<String>,
    policy_name: Option<String>,
    block_public_policy: Option<bool>,
}

/// `{ARN, Name, PolicyName}`, what Put and Delete return.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PolicyTargetOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    /// Always `default`, the only policy name a secret can have.
    policy_name: &'static str,
}

/// GetResourcePolicy and DeleteResourcePolicy's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SecretPolicyInput {
    secret_id: Option<String>,
    policy_name: Option<String>,
}

/// GetResourcePolicy's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetResourcePolicyOutput {
    #[serde(rename = "ARN")]
    arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_policy: Option<String>,
    /// `default` when the secret has a policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_name: Option<&'static str>,
}

/// ValidateResourcePolicy's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ValidateResourcePolicyInput {
    secret_id: Option<String>,
    resource_policy: Option<String>,
}

/// One finding of ValidateResourcePolicy.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ValidationErrorsEntry {
    check_name: String,
    error_message: String,
}

/// ValidateResourcePolicy's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ValidateResourcePolicyOutput {
    policy_validation_passed: bool,
    validation_errors: Vec<ValidationErrorsEntry>,
}

/// ListResourcePolicies's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListResourcePoliciesInput {
    secret_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// One entry of ListResourcePolicies.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ResourcePolicySummary {
    policy_name: String,
}

/// ListResourcePolicies's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListResourcePoliciesOutput {
    resource_policies: Vec<ResourcePolicySummary>,
}

impl Service {
    pub(super) async fn put_resource_policy(
        &self,
        ctx: &RequestContext,
        input: PutResourcePolicyInput,
    ) -> Result<PolicyTargetOutput, ApiError> {
        let mut v = Validator::new();
        v.secret_id(&input.secret_id)
            .required("resourcePolicy", &input.resource_policy)
            .length(
                "resourcePolicy",
                input.resource_policy.as_deref(),
                1,
                20_480,
            );
        check_policy_name(&mut v, input.policy_name.as_deref());
        v.finish()?;
        require_default_name(input.policy_name.as_deref())?;
        let mut keys = ConditionContext::default();
        if let Some(block) = input.block_public_policy {
            keys.set(
                "secretsmanager:BlockPublicPolicy",
                if block { "true" } else { "false" },
            );
        }
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let (record, _access) = self
            .resolve_with(ctx, Operation::PutResourcePolicy, secret_id, &keys)
            .await?;
        require_not_deleted(&record)?;
        let text = input.resource_policy.unwrap_or_default();
        let document =
            PolicyDocument::parse(&text, PolicyKind::Resource).map_err(|_| malformed())?;
        if input.block_public_policy == Some(true) && document.grants_public_access() {
            return Err(ApiError::PublicPolicy(
                "This resource policy contains a policy that grants public access to the \
                 resource. Resource policies that grant public access are blocked."
                    .into(),
            ));
        }
        self.store
            .set_resource_policy(record.pk, Some(text), ctx.now)
            .await?;
        Ok(PolicyTargetOutput {
            arn: record.arn.clone(),
            name: record.name.clone(),
            policy_name: DEFAULT_POLICY_NAME,
        })
    }

    pub(super) async fn get_resource_policy(
        &self,
        ctx: &RequestContext,
        input: SecretPolicyInput,
    ) -> Result<GetResourcePolicyOutput, ApiError> {
        let mut v = Validator::new();
        v.secret_id(&input.secret_id);
        check_policy_name(&mut v, input.policy_name.as_deref());
        v.finish()?;
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let (record, _access) = self
            .resolve(ctx, Operation::GetResourcePolicy, secret_id)
            .await?;
        match input.policy_name.as_deref() {
            None => {}
            Some(DEFAULT_POLICY_NAME) if record.resource_policy.is_some() => {}
            Some(_) => {
                return Err(ApiError::ResourceNotFound(
                    "Secrets Manager can't find the specified resource policy.".into(),
                ));
            }
        }
        Ok(GetResourcePolicyOutput {
            arn: record.arn.clone(),
            name: record.name.clone(),
            resource_policy: record.resource_policy.clone(),
            policy_name: record
                .resource_policy
                .is_some()
                .then_some(DEFAULT_POLICY_NAME),
        })
    }

    pub(super) async fn delete_resource_policy(
        &self,
        ctx: &RequestContext,
        input: SecretPolicyInput,
    ) -> Result<PolicyTargetOutput, ApiError> {
        let mut v = Validator::new();
        v.secret_id(&input.secret_id);
        check_policy_name(&mut v, input.policy_name.as_deref());
        v.finish()?;
        require_default_name(input.policy_name.as_deref())?;
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let (record, _access) = self
            .resolve(ctx, Operation::DeleteResourcePolicy, secret_id)
            .await?;
        require_not_deleted(&record)?;
        if record.resource_policy.is_some() {
            self.store
                .set_resource_policy(record.pk, None, ctx.now)
                .await?;
        }
        Ok(PolicyTargetOutput {
            arn: record.arn.clone(),
            name: record.name.clone(),
            policy_name: DEFAULT_POLICY_NAME,
        })
    }

    pub(super) async fn validate_resource_policy(
        &self,
        ctx: &RequestContext,
        input: ValidateResourcePolicyInput,
    ) -> Result<ValidateResourcePolicyOutput, ApiError> {
        let mut v = Validator::new();
        v.length("secretId", input.secret_id.as_deref(), 1, 2048)
            .required("resourcePolicy", &input.resource_policy)
            .length(
                "resourcePolicy",
                input.resource_policy.as_deref(),
                1,
                20_480,
            )
            .finish()?;
        // Validation is authorised like the policy's attachment: ValidateResourcePolicy and
        // PutResourcePolicy, on the secret or, without one, on `*`.
        match input.secret_id.as_deref() {
            Some(secret_id) => {
                self.resolve(ctx, Operation::ValidateResourcePolicy, secret_id)
                    .await?;
                self.resolve(ctx, Operation::PutResourcePolicy, secret_id)
                    .await?;
            }
            None => {
                for op in [
                    Operation::ValidateResourcePolicy,
                    Operation::PutResourcePolicy,
                ] {
                    self.authorize(ctx, op, Target::Any, &ConditionContext::default())?;
                }
            }
        }
        let text = input.resource_policy.unwrap_or_default();
        if serde_json::from_str::<serde_json::Value>(&text).is_err() {
            return Err(malformed());
        }
        let findings = validate_resource_policy(&text);
        Ok(ValidateResourcePolicyOutput {
            policy_validation_passed: findings.is_empty(),
            validation_errors: findings
                .into_iter()
                .map(|f| ValidationErrorsEntry {
                    check_name: f.check_name,
                    error_message: f.message,
                })
                .collect(),
        })
    }

    pub(super) async fn list_resource_policies(
        &self,
        ctx: &RequestContext,
        input: ListResourcePoliciesInput,
    ) -> Result<ListResourcePoliciesOutput, ApiError> {
        let mut v = Validator::new();
        v.secret_id(&input.secret_id)
            .range("maxResults", input.max_results, 1, 100)
            .length("nextToken", input.next_token.as_deref(), 1, 4096)
            .finish()?;
        if input.next_token.is_some() {
            // One policy at most fits on the first page, so no token this server issued
            // can be presented.
            return Err(ApiError::InvalidNextToken(
                "The NextToken value is invalid.".into(),
            ));
        }
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let (record, _access) = self
            .resolve(ctx, Operation::ListResourcePolicies, secret_id)
            .await?;
        let resource_policies = record
            .resource_policy
            .iter()
            .map(|_| ResourcePolicySummary {
                policy_name: DEFAULT_POLICY_NAME.into(),
            })
            .collect();
        Ok(ListResourcePoliciesOutput { resource_policies })
    }
}
