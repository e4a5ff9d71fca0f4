//! STS: GetCallerIdentity, AssumeRole and GetSessionToken.

use super::index::{self, ManagedPolicies, access_key_label, session_token_label};
use super::model::{RoleDoc, SessionDoc, UserDoc, UserSessionDoc, kind, name_key, parse_iam_arn};
use super::query::{QueryError, Xml, length_violation, timestamp};
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

/// GetSessionToken's duration bounds (seconds) and default.
const SESSION_TOKEN_MIN_DURATION: i64 = 900;
const SESSION_TOKEN_MAX_DURATION: i64 = 129_600;
const SESSION_TOKEN_DEFAULT_DURATION: i64 = 43_200;
/// An account root's GetSessionToken sessions last at most an hour; a longer request (or the
/// default) is cut to an hour rather than refused, as AWS does.
const ROOT_SESSION_MAX_DURATION: i64 = 3600;

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
    if let Some(e) = length_violation("roleSessionName", name, 2, 64) {
        return Err(e);
    }
    if !name.chars().all(ok_char) {
        return Err(QueryError::validation(format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    Ok(())
}

/// Checks GetSessionToken's MFA members against the STS model: `SerialNumber` 9..256
/// characters of `[\w+=/:,.@-]`, `TokenCode` exactly 6 digits. The token code is never
/// echoed (it is a credential, and error messages reach the audit log).
fn check_mfa_members(p: &Params) -> Result<(), QueryError> {
    if let Some(serial) = p.get("SerialNumber") {
        if let Some(e) = length_violation("serialNumber", serial, 9, 256) {
            return Err(e);
        }
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+=/:,.@-".contains(c);
        if !serial.chars().all(ok_char) {
            return Err(QueryError::validation(format!(
                "1 validation error detected: Value '{serial}' at 'serialNumber' failed to \
                 satisfy constraint: Member must satisfy regular expression pattern: \
                 [\\w+=/:,.@-]*"
            )));
        }
    }
    if let Some(code) = p.get("TokenCode") {
        let n = code.chars().count();
        if n != 6 {
            return Err(QueryError::validation(format!(
                "1 validation error detected: Value at 'tokenCode' failed to satisfy \
                 constraint: Member must have length {}",
                if n < 6 {
                    "greater than or equal to 6"
                } else {
                    "less than or equal to 6"
                }
            )));
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(QueryError::validation(
                "1 validation error detected: Value at 'tokenCode' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: [\\d]*",
            ));
        }
    }
    Ok(())
}

/// A session token: opaque, long, and random, like AWS's; wiped from memory on drop.
/// New temporary credentials: the key pair and session token, shown to the caller once, and
/// the secret and token sealed under the root key (hex), as the session's document stores them.
struct IssuedCredentials {
    access_key_id: String,
    secret: crate::auth::SecretAccessKey,
    token: zeroize::Zeroizing<String>,
    sealed_secret: String,
    sealed_token: String,
}

impl IamService {
    /// An `ASIA...` key pair and a session token, sealed for the store.
    fn issue_temporary(&self) -> Result<IssuedCredentials, QueryError> {
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
        Ok(IssuedCredentials {
            access_key_id,
            secret,
            token,
            sealed_secret: hex::encode(sealed_secret),
            sealed_token: hex::encode(sealed_token),
        })
    }
}

/// The `Credentials` element AssumeRole and GetSessionToken return: shown once.
fn write_credentials(
    x: &mut Xml,
    access_key_id: &str,
    secret: &crate::auth::SecretAccessKey,
    token: &str,
    expires_ms: crate::clock::EpochMillis,
) {
    x.open("Credentials")
        .text("AccessKeyId", access_key_id)
        .text("SecretAccessKey", secret.expose())
        .text("SessionToken", token)
        .text("Expiration", &timestamp(expires_ms))
        .close("Credentials");
}

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
        let mut tags = p.tags("Tags")?;
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
        let mut transitive = transitive;
        // The request's own tags come first in the session's list; inherited ones follow.
        let request_tags = tags.len();
        // A session assumed from a session keeps the caller's transitive tags, and may not
        // set them again (role chaining).
        if ctx.caller.kind == PrincipalKind::AssumedRole {
            let caller_session: Option<SessionDoc> = self
                .load(
                    &ctx.caller.account_id,
                    kind::SESSION,
                    &ctx.caller.access_key_id,
                )
                .await?;
            if let Some(caller_session) = caller_session {
                let inherited = inherited_transitive_tags(&caller_session);
                if tags
                    .iter()
                    .any(|t| inherited.iter().any(|i| i.key.eq_ignore_ascii_case(&t.key)))
                {
                    return Err(QueryError::new(
                        400,
                        "InvalidParameterValue",
                        "One of the specified transitive tag keys can't be set because it \
                         conflicts with a transitive tag key from the calling session.",
                    ));
                }
                transitive.extend(inherited.iter().map(|t| t.key.clone()));
                tags.extend(inherited);
            }
        }
        let session_policy = match p.get("Policy") {
            Some(text) => {
                // The model bounds the member itself (1..2048 characters), so an oversized
                // session policy is a ValidationError, not a quota.
                if let Some(e) = length_violation("policy", text, 1, 2048) {
                    return Err(e);
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

        let IssuedCredentials {
            access_key_id,
            secret,
            token,
            sealed_secret,
            sealed_token,
        } = self.issue_temporary()?;
        let root = self.keyring.root();
        let expires_ms = ctx.now + duration * 1000;
        let session = SessionDoc {
            access_key_id: access_key_id.clone(),
            role_arn: role.arn.clone(),
            role_id: role.role_id.clone(),
            role_name: role.name.clone(),
            session_name: session_name.to_string(),
            sealed_secret,
            sealed_token,
            expires_ms,
            created_ms: ctx.now,
            policy: session_policy,
            policy_arns,
            tags,
            transitive_tag_keys: transitive,
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
        write_credentials(&mut x, &access_key_id, &secret, &token, expires_ms);
        x.open("AssumedRoleUser")
            .text("AssumedRoleId", &assumed_id)
            .text("Arn", &assumed_arn)
            .close("AssumedRoleUser");
        if let Some(size) = packed_policy_size(
            session.policy.as_deref(),
            &session.policy_arns,
            &session.tags[..request_tags],
        ) {
            x.text("PackedPolicySize", &size.to_string());
        }
        if let Some(source) = &session.source_identity {
            x.text("SourceIdentity", source);
        }
        Ok(Some(x.finish()))
    }

    /// GetSessionToken: temporary credentials that act as the calling user (or account root)
    /// with that principal's own policies. It needs no permission, like GetCallerIdentity.
    pub(super) async fn get_session_token(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let requested = p.int(
            "DurationSeconds",
            SESSION_TOKEN_MIN_DURATION,
            SESSION_TOKEN_MAX_DURATION,
        )?;
        // MFA is not supported: SerialNumber and TokenCode are checked for form only, and the
        // code is not verified against any device. That grants nothing extra: the session is
        // never MFA-authenticated (the audit record says `mfaAuthenticated: false`), so an
        // unverified code cannot satisfy anything a verified one would.
        check_mfa_members(p)?;
        if ctx.caller.temporary {
            return Err(QueryError::access_denied(
                "Cannot call GetSessionToken with session credentials",
            ));
        }
        let duration = requested.unwrap_or(SESSION_TOKEN_DEFAULT_DURATION);
        let duration = match ctx.caller.kind {
            PrincipalKind::Root => duration.min(ROOT_SESSION_MAX_DURATION),
            _ => duration,
        };
        let account = ctx.caller.account_id.as_str();

        // Held from reading the user to publishing the credential, so that no IAM change
        // (which rebuilds the credential table after its write) can slip in between and leave
        // the new session with the user's old policies.
        let _guard = self.writes.lock().await;
        let IssuedCredentials {
            access_key_id,
            secret,
            token,
            sealed_secret,
            sealed_token,
        } = self.issue_temporary()?;
        let mut caller = match ctx.caller.kind {
            PrincipalKind::Root => crate::auth::Caller {
                temporary: true,
                ..crate::auth::Caller::root(account, &access_key_id)
            },
            PrincipalKind::User => {
                let name = ctx.caller.grants.principal.username.as_deref();
                let user: Option<UserDoc> = match name {
                    Some(name) => self.load(account, kind::USER, &name_key(name)).await?,
                    None => None,
                };
                // The user was deleted since this request was authenticated.
                let Some(user) = user.filter(|u| u.user_id == ctx.caller.principal_id) else {
                    return Err(QueryError::new(
                        403,
                        "InvalidClientTokenId",
                        "The security token included in the request is invalid.",
                    ));
                };
                let managed = ManagedPolicies::load(self.store.as_ref())
                    .await
                    .map_err(store_error)?;
                index::user_caller(account, &user, &access_key_id, &managed, true)
            }
            // Role sessions are temporary and were refused above.
            PrincipalKind::AssumedRole => return Err(QueryError::internal()),
        };
        index::with_session_keys(&mut caller, ctx.now);

        let root = self.keyring.root();
        let expires_ms = ctx.now + duration * 1000;
        let session = UserSessionDoc {
            access_key_id: access_key_id.clone(),
            principal_arn: caller.arn.clone(),
            principal_id: caller.principal_id.clone(),
            sealed_secret,
            sealed_token,
            expires_ms,
            created_ms: ctx.now,
        };
        self.save(vec![IamChange::Insert(object(
            account,
            kind::USER_SESSION,
            &access_key_id,
            &session,
        )?)])
        .await?;
        // Straight into the table, as AssumeRole does, rather than a full rebuild.
        let credential = index::temporary_credential(
            root,
            &access_key_id,
            &session.sealed_secret,
            &session.sealed_token,
            expires_ms,
            caller,
        )
        .ok_or_else(QueryError::internal)?;
        self.credentials.insert(&access_key_id, credential);

        let mut x = Xml::new();
        write_credentials(&mut x, &access_key_id, &secret, &token, expires_ms);
        Ok(Some(x.finish()))
    }
}

/// The tags of `session` that its transitive keys name: what a session assumed from it
/// inherits.
fn inherited_transitive_tags(session: &SessionDoc) -> Vec<crate::model::Tag> {
    session
        .tags
        .iter()
        .filter(|t| {
            session
                .transitive_tag_keys
                .iter()
                .any(|k| k.eq_ignore_ascii_case(&t.key))
        })
        .cloned()
        .collect()
}

/// AssumeRole's `PackedPolicySize`, present when the request passes session policies or tags
/// (as on AWS): the percentage of the session's packed budget they fill. AWS packs them into a
/// compressed form it does not document, so this is an estimate of the same measure: their
/// text without whitespace (policy, policy ARNs, tag keys and values) against a budget of
/// 4,096 characters, about what 2,048 compressed bytes hold. At least 1, at most 100.
fn packed_policy_size(
    policy: Option<&str>,
    policy_arns: &[String],
    tags: &[crate::model::Tag],
) -> Option<u64> {
    if policy.is_none() && policy_arns.is_empty() && tags.is_empty() {
        return None;
    }
    let text = |s: &str| s.chars().filter(|c| !c.is_whitespace()).count() as u64;
    let packed = policy.map_or(0, text)
        + policy_arns.iter().map(|a| text(a)).sum::<u64>()
        + tags
            .iter()
            .map(|t| text(&t.key) + text(&t.value))
            .sum::<u64>();
    Some(
        packed
            .saturating_mul(100)
            .div_ceil(PACKED_BUDGET_CHARS)
            .clamp(1, 100),
    )
}

/// The characters of policy and tag text taken as a full packed budget (see
/// [`packed_policy_size`]).
const PACKED_BUDGET_CHARS: u64 = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn mfa_members_are_checked_for_form_only() {
        assert!(check_mfa_members(&params(&[])).is_ok());
        let good = params(&[
            ("SerialNumber", "arn:aws:iam::123456789012:mfa/alice"),
            ("TokenCode", "123456"),
        ]);
        assert!(check_mfa_members(&good).is_ok());
        // A hardware token's serial number is shorter than an ARN but still at least 9.
        assert!(check_mfa_members(&params(&[("SerialNumber", "GAHT12345678")])).is_ok());

        let message = |pairs: &[(&str, &str)]| match check_mfa_members(&params(pairs)) {
            Err(e) => (e.status, e.code.clone(), e.message.clone()),
            Ok(()) => panic!("{pairs:?} accepted"),
        };
        let (status, code, text) = message(&[("SerialNumber", "short")]);
        assert_eq!((status, code.as_str()), (400, "ValidationError"));
        assert_eq!(
            text,
            "1 validation error detected: Value 'short' at 'serialNumber' failed to satisfy \
             constraint: Member must have length greater than or equal to 9"
        );
        let (_, _, text) = message(&[("SerialNumber", "arn:aws:iam::1:mfa/a b")]);
        assert!(
            text.ends_with("regular expression pattern: [\\w+=/:,.@-]*"),
            "{text}"
        );
        let (_, _, text) = message(&[("SerialNumber", &"x".repeat(257))]);
        assert!(text.ends_with("less than or equal to 256"), "{text}");

        // The token code is never echoed.
        for code in ["12345", "1234567", "12a456"] {
            let (status, _, text) = message(&[("TokenCode", code)]);
            assert_eq!(status, 400);
            assert!(!text.contains(code), "{text}");
            assert!(text.contains("'tokenCode'"), "{text}");
        }
    }

    #[test]
    fn session_token_durations() {
        // AWS's documented limits: 15 minutes to 36 hours, 12 hours by default, and an hour
        // at most for an account's root.
        assert_eq!(SESSION_TOKEN_MIN_DURATION, 15 * 60);
        assert_eq!(SESSION_TOKEN_MAX_DURATION, 36 * 3600);
        assert_eq!(SESSION_TOKEN_DEFAULT_DURATION, 12 * 3600);
        assert_eq!(ROOT_SESSION_MAX_DURATION, 3600);
    }
}
