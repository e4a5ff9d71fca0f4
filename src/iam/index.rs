//! The identity index: every usable credential with its principal and parsed policies,
//! rebuilt from the store after each IAM change. Authentication reads it on every request,
//! so a deactivated or deleted key, or a changed policy, takes effect at once.
//!
//! One node owns an SQLite data directory, so rebuilding after its own writes keeps the index
//! exact; a shared-database deployment would also rebuild when the store's IAM generation
//! changes.

use std::collections::HashMap;
use std::sync::Arc;

use crate::auth::{Caller, Grants, PrincipalKind, SecretAccessKey, StoredCredential};
use crate::clock::EpochMillis;
use crate::crypto::RootKey;
use crate::policy::{PolicyDocument, PolicyKind, Principal, PrincipalType, SessionKeys};
use crate::store::{Store, StoreError};

use super::builtin;
use super::model::{ManagedPolicyDoc, RoleDoc, SessionDoc, UserDoc, UserSessionDoc, kind};

/// Sessions are kept this long after they expire, so their callers get ExpiredToken rather
/// than an unknown-key error; then they are purged.
pub const EXPIRED_SESSION_GRACE_MS: EpochMillis = 24 * 60 * 60 * 1000;

/// The label an access key's secret is sealed under.
pub fn access_key_label(id: &str) -> String {
    format!("access-key/{id}")
}

/// The label a session token is sealed under.
pub fn session_token_label(id: &str) -> String {
    format!("session-token/{id}")
}

/// Unwraps a sealed access key secret or session token.
pub fn unseal_text(root: &RootKey, label: &str, sealed: &[u8]) -> Option<SecretAccessKey> {
    let bytes = root.unwrap(label, sealed).ok()?;
    let text = std::str::from_utf8(bytes.expose()).ok()?;
    Some(SecretAccessKey::new(text))
}

/// Loads a stored identity document (inline, managed or session; see `PolicyDocument::load`);
/// one that no longer parses (it was validated when written) grants nothing and is logged.
fn parse_stored(text: &str, what: &str) -> Option<Arc<PolicyDocument>> {
    match PolicyDocument::load(text, PolicyKind::Identity) {
        Ok(doc) => Some(Arc::new(doc)),
        Err(e) => {
            tracing::error!(policy = what, error = %e, "stored policy does not parse; ignored");
            None
        }
    }
}

/// Managed policies' default versions by ARN, customer and AWS managed.
pub struct ManagedPolicies {
    by_arn: HashMap<String, Arc<PolicyDocument>>,
}

impl ManagedPolicies {
    /// Loads every account's managed policies plus the built-in AWS managed ones.
    pub async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut by_arn = HashMap::new();
        for p in builtin::AWS_MANAGED {
            if let Some(doc) = parse_stored(p.document, p.name) {
                by_arn.insert(builtin::arn(p.name), doc);
            }
        }
        for object in store.iam_list(None, kind::POLICY).await? {
            let Ok(policy) = serde_json::from_str::<ManagedPolicyDoc>(&object.body) else {
                continue;
            };
            if let Some(doc) = policy
                .default_document()
                .and_then(|text| parse_stored(text, &policy.arn))
            {
                by_arn.insert(policy.arn.clone(), doc);
            }
        }
        Ok(Self { by_arn })
    }

    /// The default version of the policy with `arn`.
    pub fn get(&self, arn: &str) -> Option<Arc<PolicyDocument>> {
        self.by_arn.get(arn).cloned()
    }

    fn resolve(
        &self,
        inline: &std::collections::BTreeMap<String, String>,
        attached: &[String],
        owner: &str,
    ) -> Vec<Arc<PolicyDocument>> {
        let mut docs: Vec<Arc<PolicyDocument>> = inline
            .iter()
            .filter_map(|(name, text)| parse_stored(text, &format!("{owner}/{name}")))
            .collect();
        docs.extend(attached.iter().filter_map(|arn| self.get(arn)));
        docs
    }
}

/// Tags as the policy engine's principal tags.
fn tag_pairs(tags: &[crate::model::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
}

/// The grants of an IAM user.
pub fn user_grants(account: &str, user: &UserDoc, managed: &ManagedPolicies) -> Grants {
    Grants {
        principal: Principal {
            arn: user.arn.clone(),
            account_id: account.to_string(),
            kind: PrincipalType::User,
            role_arn: None,
            user_id: user.user_id.clone(),
            username: Some(user.name.clone()),
            tags: tag_pairs(&user.tags),
            session: None,
        },
        identity: managed.resolve(&user.inline, &user.attached, &user.arn),
        boundary: user.boundary.as_deref().and_then(|arn| managed.get(arn)),
        session: None,
    }
}

/// The caller an IAM user's key stands for: a long-term access key, or (`temporary`) a
/// GetSessionToken session, which acts with the user's own policies.
pub fn user_caller(
    account: &str,
    user: &UserDoc,
    access_key_id: &str,
    managed: &ManagedPolicies,
    temporary: bool,
) -> Caller {
    Caller {
        account_id: account.to_string(),
        arn: user.arn.clone(),
        principal_id: user.user_id.clone(),
        kind: PrincipalKind::User,
        access_key_id: access_key_id.to_string(),
        grants: Arc::new(user_grants(account, user, managed)),
        temporary,
    }
}

/// The caller a GetSessionToken session stands for: its account's root, or its user if that
/// user (the same one, by id) still exists. `users` maps user ARNs to their account and doc.
pub fn user_session_caller(
    account: &str,
    session: &UserSessionDoc,
    users: &HashMap<String, (String, UserDoc)>,
    managed: &ManagedPolicies,
) -> Option<Caller> {
    let mut caller = if session.principal_arn == format!("arn:aws:iam::{account}:root") {
        Caller {
            temporary: true,
            ..Caller::root(account, &session.access_key_id)
        }
    } else {
        let (user_account, user) = users.get(&session.principal_arn)?;
        if user_account != account || user.user_id != session.principal_id {
            return None;
        }
        user_caller(account, user, &session.access_key_id, managed, true)
    };
    with_session_keys(&mut caller, session.created_ms);
    Some(caller)
}

/// Marks a GetSessionToken caller's principal with the keys temporary credentials carry
/// (`aws:TokenIssueTime`, `aws:MultiFactorAuthPresent`).
pub fn with_session_keys(caller: &mut Caller, issued_ms: EpochMillis) {
    let mut grants = (*caller.grants).clone();
    grants.principal.session = Some(SessionKeys {
        issued_at: super::query::timestamp(issued_ms),
        source_identity: None,
    });
    caller.grants = Arc::new(grants);
}

/// The ARN of a role session.
pub fn session_arn(account: &str, role_name: &str, session_name: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}")
}

/// The caller a role session's credentials stand for.
pub fn session_caller(
    account: &str,
    role: &RoleDoc,
    session: &SessionDoc,
    managed: &ManagedPolicies,
) -> Caller {
    let arn = session_arn(account, &role.name, &session.session_name);
    let principal_id = format!("{}:{}", role.role_id, session.session_name);
    // Session tags override the role's tags with the same key.
    let mut tags = tag_pairs(&role.tags);
    for t in &session.tags {
        tags.retain(|(k, _)| !k.eq_ignore_ascii_case(&t.key));
        tags.push((t.key.clone(), t.value.clone()));
    }
    let mut session_policies: Vec<Arc<PolicyDocument>> = session
        .policy
        .as_deref()
        .and_then(|text| parse_stored(text, "session policy"))
        .into_iter()
        .collect();
    session_policies.extend(session.policy_arns.iter().filter_map(|a| managed.get(a)));
    let has_session_policies = session.policy.is_some() || !session.policy_arns.is_empty();
    Caller {
        account_id: account.to_string(),
        arn: arn.clone(),
        principal_id: principal_id.clone(),
        kind: PrincipalKind::AssumedRole,
        access_key_id: session.access_key_id.clone(),
        temporary: true,
        grants: Arc::new(Grants {
            principal: Principal {
                arn,
                account_id: account.to_string(),
                kind: PrincipalType::AssumedRole,
                role_arn: Some(role.arn.clone()),
                user_id: principal_id,
                username: None,
                tags,
                session: Some(SessionKeys {
                    issued_at: super::query::timestamp(session.created_ms),
                    source_identity: session.source_identity.clone(),
                }),
            },
            identity: managed.resolve(&role.inline, &role.attached, &role.arn),
            boundary: role.boundary.as_deref().and_then(|a| managed.get(a)),
            session: has_session_policies.then_some(session_policies),
        }),
    }
}

/// A stored session past its grace period, to purge: `(account, kind, key)`.
pub type ExpiredSession = (String, &'static str, String);

/// Builds every stored credential: access keys of roots and users, live role sessions and
/// live GetSessionToken sessions. Returns the table and the sessions past their grace period.
pub async fn build(
    store: &dyn Store,
    root: &RootKey,
    now: EpochMillis,
) -> Result<(HashMap<String, StoredCredential>, Vec<ExpiredSession>), StoreError> {
    let managed = ManagedPolicies::load(store).await?;
    let mut users: HashMap<String, (String, UserDoc)> = HashMap::new();
    for object in store.iam_list(None, kind::USER).await? {
        if let Ok(user) = serde_json::from_str::<UserDoc>(&object.body) {
            users.insert(user.arn.clone(), (object.account_id, user));
        }
    }
    let mut table = HashMap::new();
    for record in store.access_keys().await? {
        let Some(secret) = unseal_text(
            root,
            &access_key_label(&record.access_key_id),
            &record.sealed_secret,
        ) else {
            tracing::error!(access_key_id = %record.access_key_id, "access key failed to unwrap");
            continue;
        };
        let root_arn = format!("arn:aws:iam::{}:root", record.account_id);
        let caller = if record.principal_arn == root_arn {
            Caller::root(&record.account_id, &record.access_key_id)
        } else if let Some((account, user)) = users.get(&record.principal_arn) {
            user_caller(account, user, &record.access_key_id, &managed, false)
        } else {
            // The key's user is gone (keys are deleted with their user; this is a leftover).
            continue;
        };
        table.insert(
            record.access_key_id.clone(),
            StoredCredential {
                secret,
                caller,
                session_token: None,
                expires_at: None,
                active: record.active,
            },
        );
    }
    let mut roles: HashMap<(String, String), RoleDoc> = HashMap::new();
    for object in store.iam_list(None, kind::ROLE).await? {
        if let Ok(role) = serde_json::from_str::<RoleDoc>(&object.body) {
            roles.insert((object.account_id, role.role_id.clone()), role);
        }
    }
    let mut expired = Vec::new();
    for object in store.iam_list(None, kind::SESSION).await? {
        let Ok(session) = serde_json::from_str::<SessionDoc>(&object.body) else {
            continue;
        };
        if session.expires_ms + EXPIRED_SESSION_GRACE_MS <= now {
            expired.push((object.account_id, kind::SESSION, object.key));
            continue;
        }
        // A session outlives neither its role nor a re-created role of the same name.
        let Some(role) = roles.get(&(object.account_id.clone(), session.role_id.clone())) else {
            continue;
        };
        if let Some(credential) =
            session_credential(root, &object.account_id, role, &session, &managed)
        {
            table.insert(session.access_key_id.clone(), credential);
        }
    }
    for object in store.iam_list(None, kind::USER_SESSION).await? {
        let Ok(session) = serde_json::from_str::<UserSessionDoc>(&object.body) else {
            continue;
        };
        if session.expires_ms + EXPIRED_SESSION_GRACE_MS <= now {
            expired.push((object.account_id, kind::USER_SESSION, object.key));
            continue;
        }
        // A session outlives neither its user nor a re-created user of the same name.
        let Some(caller) = user_session_caller(&object.account_id, &session, &users, &managed)
        else {
            continue;
        };
        if let Some(credential) = temporary_credential(
            root,
            &session.access_key_id,
            &session.sealed_secret,
            &session.sealed_token,
            session.expires_ms,
            caller,
        ) {
            table.insert(session.access_key_id.clone(), credential);
        }
    }
    Ok((table, expired))
}

/// A role session's stored credential, with its secret and token unsealed.
pub fn session_credential(
    root: &RootKey,
    account: &str,
    role: &RoleDoc,
    session: &SessionDoc,
    managed: &ManagedPolicies,
) -> Option<StoredCredential> {
    temporary_credential(
        root,
        &session.access_key_id,
        &session.sealed_secret,
        &session.sealed_token,
        session.expires_ms,
        session_caller(account, role, session, managed),
    )
}

/// A temporary credential for `caller`, with its secret and session token (sealed under the
/// root key, hex) unsealed; `None` if either fails to unseal.
pub fn temporary_credential(
    root: &RootKey,
    access_key_id: &str,
    sealed_secret: &str,
    sealed_token: &str,
    expires_ms: EpochMillis,
    caller: Caller,
) -> Option<StoredCredential> {
    let secret = unseal_text(
        root,
        &access_key_label(access_key_id),
        &hex::decode(sealed_secret).ok()?,
    )?;
    let token = unseal_text(
        root,
        &session_token_label(access_key_id),
        &hex::decode(sealed_token).ok()?,
    )?;
    Some(StoredCredential {
        secret,
        caller,
        session_token: Some(token),
        expires_at: Some(expires_ms),
        active: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";

    fn user(name: &str, id: &str) -> UserDoc {
        UserDoc {
            user_id: id.to_string(),
            name: name.to_string(),
            path: "/".to_string(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            created_ms: 0,
            tags: Vec::new(),
            boundary: None,
            inline: std::collections::BTreeMap::from([(
                "read".to_string(),
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}}"#
                    .to_string(),
            )]),
            attached: Vec::new(),
        }
    }

    fn session(principal_arn: &str, principal_id: &str) -> UserSessionDoc {
        UserSessionDoc {
            access_key_id: "ASIASESSION".to_string(),
            principal_arn: principal_arn.to_string(),
            principal_id: principal_id.to_string(),
            sealed_secret: String::new(),
            sealed_token: String::new(),
            expires_ms: 1,
            created_ms: 0,
        }
    }

    #[test]
    fn user_sessions_act_as_their_user_or_root() {
        let managed = ManagedPolicies {
            by_arn: HashMap::new(),
        };
        let alice = user("alice", "AIDAALICE");
        let users = HashMap::from([(alice.arn.clone(), (ACCOUNT.to_string(), alice.clone()))]);

        let caller =
            user_session_caller(ACCOUNT, &session(&alice.arn, "AIDAALICE"), &users, &managed)
                .expect("alice's session");
        assert_eq!(caller.arn, alice.arn);
        assert_eq!(caller.principal_id, "AIDAALICE");
        assert_eq!(caller.kind, PrincipalKind::User);
        assert_eq!(caller.access_key_id, "ASIASESSION");
        assert!(caller.temporary);
        // The user's own policies.
        assert_eq!(caller.grants.identity.len(), 1);
        assert_eq!(caller.grants.principal.username.as_deref(), Some("alice"));

        let root_arn = format!("arn:aws:iam::{ACCOUNT}:root");
        let caller = user_session_caller(ACCOUNT, &session(&root_arn, ACCOUNT), &users, &managed)
            .expect("root's session");
        assert_eq!(caller.kind, PrincipalKind::Root);
        assert_eq!(caller.arn, root_arn);
        assert!(caller.temporary);

        // A re-created alice (another id), a deleted user, or another account's user: none.
        assert!(
            user_session_caller(ACCOUNT, &session(&alice.arn, "AIDAOLD"), &users, &managed)
                .is_none()
        );
        let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
        assert!(
            user_session_caller(ACCOUNT, &session(&bob, "AIDABOB"), &users, &managed).is_none()
        );
        assert!(
            user_session_caller(
                "222222222222",
                &session(&alice.arn, "AIDAALICE"),
                &users,
                &managed
            )
            .is_none()
        );
        // Another account's root ARN is not this account's root.
        assert!(
            user_session_caller(
                "222222222222",
                &session(&root_arn, ACCOUNT),
                &users,
                &managed
            )
            .is_none()
        );
    }
}
