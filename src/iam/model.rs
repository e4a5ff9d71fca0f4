//! The IAM entities as stored: one JSON document per user, role, managed policy, role session
//! and account (see [`crate::store::IamObject`]). A user's and a role's inline policies and
//! attachments live inside their document, so one atomic write changes an entity whole.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::EpochMillis;
use crate::crypto::random_string;
use crate::model::Tag;

use super::query::QueryError;

/// Object kinds in the store.
pub mod kind {
    /// An account (key: the account id).
    pub const ACCOUNT: &str = "account";
    /// An IAM user (key: lower-cased name).
    pub const USER: &str = "user";
    /// An IAM role (key: lower-cased name).
    pub const ROLE: &str = "role";
    /// A customer managed policy (key: lower-cased name).
    pub const POLICY: &str = "policy";
    /// An STS role session (key: its access key id).
    pub const SESSION: &str = "session";
    /// An STS GetSessionToken session of a user or root (key: its access key id).
    pub const USER_SESSION: &str = "user-session";
}

/// The account record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountDoc {
    /// 12-digit id.
    pub account_id: String,
    /// Creation time.
    pub created_ms: EpochMillis,
}

/// An IAM user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserDoc {
    /// `AIDA…`.
    pub user_id: String,
    /// Name as created.
    pub name: String,
    /// Path, `/` by default.
    pub path: String,
    /// `arn:aws:iam::A:user{path}{name}`.
    pub arn: String,
    /// Creation time.
    pub created_ms: EpochMillis,
    /// Principal tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Permissions boundary policy ARN.
    #[serde(default)]
    pub boundary: Option<String>,
    /// Inline policies by name.
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    /// Attached managed policy ARNs, in attachment order.
    #[serde(default)]
    pub attached: Vec<String>,
}

/// An IAM role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleDoc {
    /// `AROA…`.
    pub role_id: String,
    /// Name as created.
    pub name: String,
    /// Path.
    pub path: String,
    /// `arn:aws:iam::A:role{path}{name}`.
    pub arn: String,
    /// Creation time.
    pub created_ms: EpochMillis,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// The trust policy document (decoded JSON text).
    pub trust_policy: String,
    /// Longest session AssumeRole may grant, in seconds.
    pub max_session_duration: i64,
    /// Principal tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Permissions boundary policy ARN.
    #[serde(default)]
    pub boundary: Option<String>,
    /// Inline policies by name.
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    #[serde(default)]
    pub attached: Vec<String>,
    /// When a session of the role was last created.
    #[serde(default)]
    pub last_used_ms: Option<EpochMillis>,
}

/// A customer managed policy and its versions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedPolicyDoc {
    /// `ANPA…`.
    pub policy_id: String,
    /// Name.
    pub name: String,
    /// Path.
    pub path: String,
    /// `arn:aws:iam::A:policy{path}{name}`.
    pub arn: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// The default version id, e.g. `v1`.
    pub default_version: String,
    /// The number the next version gets.
    pub next_version: u32,
    /// Creation time.
    pub created_ms: EpochMillis,
    /// Last change of the default version.
    pub updated_ms: EpochMillis,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Versions, oldest first.
    pub versions: Vec<PolicyVersionDoc>,
}

impl ManagedPolicyDoc {
    /// The default version's document.
    pub fn default_document(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.version_id == self.default_version)
            .map(|v| v.document.as_str())
    }
}

/// One version of a managed policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersionDoc {
    /// `v1`, `v2`, ….
    pub version_id: String,
    /// The document (decoded JSON text).
    pub document: String,
    /// Creation time.
    pub created_ms: EpochMillis,
}

/// An STS role session: temporary credentials whose secret and token are sealed under the
/// root key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionDoc {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The role's ARN.
    pub role_arn: String,
    /// The role's id (`AROA…`), so a role re-created under the same name is a different role.
    pub role_id: String,
    /// The role's name.
    pub role_name: String,
    /// RoleSessionName.
    pub session_name: String,
    /// The secret access key, sealed under the root key (hex).
    pub sealed_secret: String,
    /// The session token, sealed under the root key (hex).
    pub sealed_token: String,
    /// When the credentials stop working.
    pub expires_ms: EpochMillis,
    /// When they were issued.
    pub created_ms: EpochMillis,
    /// The inline session policy, if any.
    #[serde(default)]
    pub policy: Option<String>,
    /// Managed session policies.
    #[serde(default)]
    pub policy_arns: Vec<String>,
    /// Session tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The keys of `tags` that pass on to the sessions this one assumes (role chaining).
    #[serde(default)]
    pub transitive_tag_keys: Vec<String>,
    /// SourceIdentity, if set.
    #[serde(default)]
    pub source_identity: Option<String>,
}

/// A GetSessionToken session: temporary credentials that act as the user (or account root)
/// who asked for them, with that principal's own policies. The secret and token are sealed
/// under the root key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserSessionDoc {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The principal the session acts as: `arn:aws:iam::A:user/...` or `arn:aws:iam::A:root`.
    pub principal_arn: String,
    /// The user's id (`AIDA…`), or the account id for root, so that a user deleted and
    /// re-created under the same name does not inherit the old user's sessions.
    pub principal_id: String,
    /// The secret access key, sealed under the root key (hex).
    pub sealed_secret: String,
    /// The session token, sealed under the root key (hex).
    pub sealed_token: String,
    /// When the credentials stop working.
    pub expires_ms: EpochMillis,
    /// When they were issued.
    pub created_ms: EpochMillis,
}

/// Upper-case letters and digits, as in AWS's unique ids.
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A unique id: `prefix` + random characters, 21 in all (`AIDA…`, `AROA…`, `ANPA…`).
pub fn new_unique_id(prefix: &str) -> Result<String, QueryError> {
    let rest = random_string(ID_ALPHABET, 21 - prefix.len()).map_err(|_| QueryError::internal())?;
    Ok(format!("{prefix}{rest}"))
}

/// The store key of a user, role or policy name: IAM names are unique regardless of case.
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Checks an IAM user or role name (`[\w+=,.@-]{1,max}`).
pub fn check_name(field: &str, value: &str, max: usize) -> Result<(), QueryError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if let Some(e) = super::query::length_violation(field, value, 1, max) {
        return Err(e);
    }
    if !value.chars().all(ok_char) {
        return Err(QueryError::validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )));
    }
    Ok(())
}

/// Checks an IAM path (`/` or `/a/b/`, at most 512 characters) and returns it.
pub fn check_path(value: Option<&str>) -> Result<String, QueryError> {
    let path = value.unwrap_or("/");
    let ok = path.starts_with('/')
        && path.ends_with('/')
        && path.len() <= 512
        && path.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if !ok {
        return Err(QueryError::validation(format!(
            "1 validation error detected: Value '{path}' at 'path' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: \
             (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
        )));
    }
    Ok(path.to_string())
}

/// `arn:aws:iam::<account>:<kind><path><name>`.
pub fn iam_arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

/// Splits an IAM policy or role ARN into (account, path, name); `None` if it is not one of
/// `kind` (`policy` or `role`).
pub fn parse_iam_arn<'a>(arn: &'a str, kind: &str) -> Option<(&'a str, &'a str, &'a str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let tail = resource.strip_prefix(kind)?;
    if !tail.starts_with('/') {
        return None;
    }
    let slash = tail.rfind('/')?;
    let (path, name) = (&tail[..=slash], &tail[slash + 1..]);
    if name.is_empty() {
        return None;
    }
    Some((account, path, name))
}

/// `Active` or `Inactive`, IAM's access key status.
pub fn status_text(active: bool) -> &'static str {
    if active { "Active" } else { "Inactive" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iam_arns() {
        assert_eq!(
            parse_iam_arn("arn:aws:iam::123456789012:policy/a/b/Name", "policy"),
            Some(("123456789012", "/a/b/", "Name"))
        );
        assert_eq!(
            parse_iam_arn("arn:aws:iam::aws:policy/SecretsManagerReadWrite", "policy"),
            Some(("aws", "/", "SecretsManagerReadWrite"))
        );
        assert_eq!(parse_iam_arn("arn:aws:iam::1:role/", "role"), None);
        assert_eq!(parse_iam_arn("arn:aws:iam::1:user/x", "role"), None);
        assert_eq!(parse_iam_arn("nonsense", "role"), None);
    }

    #[test]
    fn names_and_paths() {
        assert!(check_name("userName", "alice.b@x-1", 64).is_ok());
        assert!(check_name("userName", "", 64).is_err());
        assert!(check_name("userName", "a b", 64).is_err());
        assert_eq!(check_path(None).unwrap(), "/");
        assert_eq!(check_path(Some("/eng/")).unwrap(), "/eng/");
        assert!(check_path(Some("eng")).is_err());
        assert!(new_unique_id("AIDA").unwrap().len() == 21);
    }
}
