//! STS: GetCallerIdentity and AssumeRole.

use super::index::{self, ManagedPolicies, access_key_label, session_token_label};
use super::model::{RoleDoc, SessionDoc, kind, name_key, parse_iam_arn};
use super::query::{QueryError, Xml, timestamp};
use super::{IamService, Params, generate_key_pair, object, parse_policy, store_error};
use crate::api::RequestContext;
use crate::auth::PrincipalKind;
use crate::policy::{ConditionContext, PolicyDocument, PolicyKind, ResourcePolicyKind};
use crate::store::IamChange;

/// Session duration bounds (seconds) and AWS's default.
const MIN_DURATION: i64 = 900;
const MAX_DURATION: i64 = 43_200;
const DEFAULT_DURATION: i64 = 3600;
/// Role chaining (a role session assuming a role) is limited to one hour.
const CHAINED_MAX_DURATION: i64 = 3600;

/// GetCallerIdentity: needs no permission, even under an explicit deny.
pub(super) fn get_caller_identity(ctx: &RequestContext) -> String {
    let mut x = Xml::new();
    x.text("UserId", &ctx.caller.principal_id)
        .text("Account", &ctx.caller.account_id)
        .text("Arn", &ctx.caller.arn);
    x.finish()
}

/// Checks RoleSessionName: 2..64 characters of `[\w+=,.@-]`.
fn check_session_name(name: &str) -> Result<(), QueryError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    let n = name.chars().count();
    if !(2..=64).contains(&n) {
        return Err(QueryError::validation(format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy \
             constraint: Member must have length {}",
            if n < 2 {
                "greater than or equal to 2"
            } else {
                "less than or equal to 64"
            }
        )));
    }
    if !name.chars().all(ok_char) {
        return Err(QueryError::validation(format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    Ok(())
}

/// A session token: opaque, long, and random, like AWS's; wiped from memory on drop.
fn new_session_token() -> Result<zeroize::Zeroizing<String>, QueryError> {
    crate::crypto::random_string(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        356,
    )
    .map(zeroize::Zeroizing::new)
    .map_err(|_| QueryError::internal())
}

impl IamService {
    pub(super) async fn assume_role(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let role_arn = p.required("RoleArn")?;
        let session_name = p.required("RoleSessionName")?;
        check_session_name(session_name)?;
        let duration = p
            .int("DurationSeconds", MIN_DURATION, MAX_DURATION)?
            .unwrap_or(DEFAULT_DURATION);
        if role_arn.len() < 20 || role_arn.len() > 2048 {
            return Err(QueryError::validation(format!("{role_arn} is invalid")));
        }
        let Some((role_account, _, role_name)) = parse_iam_arn(role_arn, "role") else {
            return Err(QueryError::validation(format!("{role_arn} is invalid")));
        };
        let tags = p.tags("Tags")?;
        let mut seen = std::collections::HashSet::new();
        if !tags.iter().all(|t| seen.insert(t.key.to_ascii_lowercase())) {
            return Err(QueryError::new(
                400,
                "InvalidParameterValue",
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        let transitive = p.list("TransitiveTagKeys");
        if transitive
            .iter()
            .any(|k| !tags.iter().any(|t| t.key.eq_ignore_ascii_case(k)))
        {
            return Err(QueryError::new(
                400,
                "InvalidParameterValue",
                "The specified transitive tag key must be included in the requested tags.",
            ));
        }
        let session_policy = match p.get("Policy") {
            Some(text) => {
                // The model bounds the member itself (1..2048 characters), so an oversized
                // session policy is a ValidationError, not a quota.
                let n = text.chars().count();
                if !(1..=2048).contains(&n) {
                    return Err(QueryError::validation(format!(
                        "1 validation error detected: Value '{text}' at 'policy' failed to \
                         satisfy constraint: Member must have length {}",
                        if n < 1 {
                            "greater than or equal to 1"
                        } else {
                            "less than or equal to 2048"
                        }
                    )));
                }
                parse_policy(text, PolicyKind::Identity, "PackedPolicySize", 2048)?;
                Some(text.to_string())
            }
            None => None,
        };
        let policy_arns: Vec<String> = p
            .struct_list("PolicyArns", &["arn"])
            .into_iter()
            .filter_map(|f| f.into_iter().next().flatten())
            .collect();
        if policy_arns.len() > 10 {
            return Err(QueryError::validation(
                "1 validation error detected: Value at 'policyArns' failed to satisfy \
                 constraint: Member must have length less than or equal to 10",
            ));
        }

        // AWS refuses every AssumeRole made with an account root's credentials, whatever the
        // trust policy says.
        if ctx.caller.kind == PrincipalKind::Root {
            return Err(QueryError::access_denied(
                "Roles may not be assumed by root accounts.",
            ));
        }

        // A role that does not exist is denied like one the caller may not assume, so a
        // caller cannot probe for role names.
        let role: Option<RoleDoc> = self
            .load(role_account, kind::ROLE, &name_key(role_name))
            .await?
            .filter(|r: &RoleDoc| r.arn == role_arn);
        let trust = role
            .as_ref()
            .and_then(|r| PolicyDocument::parse(&r.trust_policy, PolicyKind::Trust).ok());
        let deny = |denial: crate::policy::Denial| {
            QueryError::access_denied(denial.message(
                &ctx.caller.arn,
                "sts:AssumeRole",
                Some(role_arn),
            ))
        };
        let mut request_keys = ConditionContext::default();
        request_keys.set("sts:RoleSessionName", session_name);
        if let Some(external) = p.get("ExternalId") {
            request_keys.set("sts:ExternalId", external);
        }
        if let Some(source) = p.get("SourceIdentity") {
            request_keys.set("sts:SourceIdentity", source);
        }
        if !tags.is_empty() {
            super::authz::add_request_tags(
                &mut request_keys,
                tags.iter().map(|t| (t.key.as_str(), t.value.as_str())),
            );
        }
        let trust = trust.unwrap_or_else(|| PolicyDocument::allowing_nothing(PolicyKind::Trust));
        let check_action = |action: &str| {
            super::authz::check(
                ctx,
                super::authz::Check {
                    action,
                    resource: role_arn,
                    resource_account: role_account,
                    resource_policy: Some(&trust),
                    resource_kind: ResourcePolicyKind::Trust,
                },
                |keys| keys.extend_from(&request_keys),
            )
        };
        check_action("sts:AssumeRole").map_err(deny)?;
        if !tags.is_empty() {
            check_action("sts:TagSession").map_err(|d| {
                QueryError::access_denied(d.message(
                    &ctx.caller.arn,
                    "sts:TagSession",
                    Some(role_arn),
                ))
            })?;
        }
        if p.get("SourceIdentity").is_some() {
            check_action("sts:SetSourceIdentity").map_err(|d| {
                QueryError::access_denied(d.message(
                    &ctx.caller.arn,
                    "sts:SetSourceIdentity",
                    Some(role_arn),
                ))
            })?;
        }
        let Some(mut role) = role else {
            // Unreachable: a trust policy without statements allows no one.
            return Err(deny(crate::policy::Denial {
                explicit: false,
                policy_type: crate::policy::PolicyType::Trust,
            }));
        };
        if ctx.caller.kind == PrincipalKind::AssumedRole && duration > CHAINED_MAX_DURATION {
            return Err(QueryError::validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles \
                 assumed by role chaining.",
            ));
        }
        if duration > role.max_session_duration {
            return Err(QueryError::validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
        let managed = ManagedPolicies::load(self.store.as_ref())
            .await
            .map_err(store_error)?;
        for arn in &policy_arns {
            if managed.get(arn).is_none() {
                return Err(QueryError::validation(format!("{arn} is invalid")));
            }
        }

        let (access_key_id, secret) = generate_key_pair("ASIA")?;
        let token = new_session_token()?;
        let root = self.keyring.root();
        let sealed_secret = root
            .wrap(
                &access_key_label(&access_key_id),
                secret.expose().as_bytes(),
            )
            .map_err(|_| QueryError::internal())?;
        let sealed_token = root
            .wrap(&session_token_label(&access_key_id), token.as_bytes())
            .map_err(|_| QueryError::internal())?;
        let expires_ms = ctx.now + duration * 1000;
        let session = SessionDoc {
            access_key_id: access_key_id.clone(),
            role_arn: role.arn.clone(),
            role_id: role.role_id.clone(),
            role_name: role.name.clone(),
            session_name: session_name.to_string(),
            sealed_secret: hex::encode(sealed_secret),
            sealed_token: hex::encode(sealed_token),
            expires_ms,
            created_ms: ctx.now,
            policy: session_policy,
            policy_arns,
            tags,
            source_identity: p.get("SourceIdentity").map(str::to_string),
        };
        role.last_used_ms = Some(ctx.now);
        self.save(vec![
            IamChange::Insert(object(
                role_account,
                kind::SESSION,
                &access_key_id,
                &session,
            )?),
            IamChange::Upsert(object(
                role_account,
                kind::ROLE,
                &name_key(&role.name),
                &role,
            )?),
        ])
        .await?;
        // The new credential joins the table directly: a full rebuild per AssumeRole would
        // make session creation cost grow with the number of identities.
        let credential = index::session_credential(root, role_account, &role, &session, &managed)
            .ok_or_else(QueryError::internal)?;
        let assumed_id = credential.caller.principal_id.clone();
        let assumed_arn = credential.caller.arn.clone();
        self.credentials.insert(&access_key_id, credential);

        let mut x = Xml::new();
        x.open("Credentials")
            .text("AccessKeyId", &access_key_id)
            .text("SecretAccessKey", secret.expose())
            .text("SessionToken", &token)
            .text("Expiration", &timestamp(expires_ms))
            .close("Credentials")
            .open("AssumedRoleUser")
            .text("AssumedRoleId", &assumed_id)
            .text("Arn", &assumed_arn)
            .close("AssumedRoleUser");
        if let Some(source) = &session.source_identity {
            x.text("SourceIdentity", source);
        }
        Ok(Some(x.finish()))
    }
}
