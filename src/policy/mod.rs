//! The IAM policy engine: parsing, validating and evaluating identity, resource and trust
//! policies the way AWS does (aws-authz.md §1–3).
//!
//! The module is pure: no I/O, no clock (the caller puts `aws:CurrentTime` into the
//! [`ConditionContext`], e.g. with [`ConditionContext::set_request_time`]). A [`PolicyDocument`]
//! is parsed and compiled once and is cheap to evaluate many times; callers cache it in an `Arc`.
//! Nothing here panics on any input.
//!
//! - `document.rs`: the JSON grammar and IAM's error messages; compiles statements.
//! - `managed.rs`: IAM's checks of a managed policy document, in IAM's order.
//! - `glob.rs`: `*`/`?` patterns. `variables.rs`: `${…}` substitution.
//! - `condition.rs`: condition operators and the absent/multivalued-key rules.
//! - `principal.rs`: `Principal`/`NotPrincipal` and how strongly they name a caller.
//! - `evaluate.rs`: the decision across identity, boundary, session and resource policies.
//! - `public.rs`: the broad-access check behind `BlockPublicPolicy` and ValidateResourcePolicy.

mod condition;
mod document;
mod evaluate;
mod glob;
mod managed;
mod principal;
mod public;
mod variables;

#[cfg(test)]
#[rustfmt::skip]
mod table_tests;

use std::collections::HashMap;
use std::fmt;

pub use evaluate::evaluate;
pub use public::{BROAD_ACCESS_CHECK, Finding, SYNTAX_CHECK, validate_resource_policy};

/// Which grammar a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to a user or role (inline, boundary, session; a stored managed policy when it
    /// is loaded): no Principal.
    Identity,
    /// A customer managed policy as CreatePolicy and CreatePolicyVersion receive it: the
    /// identity grammar, checked the way IAM checks a managed policy (AWS-validated LocalStack
    /// snapshots; `managed.rs`): Version 2012-10-17 required, resource ARN partition, vendor
    /// and IAM path checks, IAM's legacy parser (Effect case, date values), IAM's order of
    /// checks; condition keys need no vendor.
    Managed,
    /// Attached to a secret: Principal required.
    Resource,
    /// A role's trust (AssumeRole) policy: Principal required, no Resource, STS actions only.
    Trust,
}

/// Why a document was rejected; `message` is the text IAM puts in MalformedPolicyDocument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The error text.
    pub message: String,
}

impl PolicyError {
    pub(crate) fn new(message: impl Into<String>) -> PolicyError {
        PolicyError {
            message: message.into(),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

/// A parsed, validated and compiled policy. Immutable; evaluate it as often as needed.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    kind: PolicyKind,
    body: document::Body,
}

impl PolicyKind {
    /// Identity grammar (no Principal, Resource required).
    pub(crate) fn is_identity(self) -> bool {
        matches!(self, PolicyKind::Identity | PolicyKind::Managed)
    }
}

impl PolicyDocument {
    /// Parses `json` as a policy of `kind` being written, rejecting what IAM rejects.
    pub fn parse(json: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
        Ok(PolicyDocument {
            kind,
            body: document::parse(json, kind)?,
        })
    }

    /// Compiles a stored document that was validated when it was written. Identity documents
    /// are read with the lenient condition rules, so that a managed policy stored under the
    /// managed rules (e.g. a condition key without a vendor) loads as an `Identity` document;
    /// every other check is the same as [`PolicyDocument::parse`] (so documents stored before
    /// the managed rules existed still load).
    pub fn load(json: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
        Ok(PolicyDocument {
            kind,
            body: document::load(json, kind)?,
        })
    }

    /// A document without statements: it allows nothing and denies nothing. IAM never
    /// stores one; it stands in for the trust policy of a role that does not exist, so that
    /// such a role is denied exactly like one whose trust policy leaves the caller out.
    pub fn allowing_nothing(kind: PolicyKind) -> PolicyDocument {
        PolicyDocument {
            kind,
            body: document::Body {
                version: document::Version::V2012,
                id: None,
                statements: Vec::new(),
            },
        }
    }

    /// The grammar the document was parsed with.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The `Version` element, if present.
    pub fn version(&self) -> Option<&'static str> {
        match self.body.version {
            document::Version::V2012 => Some("2012-10-17"),
            document::Version::V2008 => Some("2008-10-17"),
            document::Version::Absent => None,
        }
    }

    /// The `Id` element, if present.
    pub fn id(&self) -> Option<&str> {
        self.body.id.as_deref()
    }

    /// How many statements the document has.
    pub fn statement_count(&self) -> usize {
        self.body.statements.len()
    }

    /// True if an Allow statement grants access to everyone (`"*"`, `{"AWS":"*"}`, or
    /// Allow+NotPrincipal) without a condition that pins down who the principal is
    /// (account, ARN, organization, source VPC/endpoint, a non-/0 source IP range, …).
    /// This is the check behind `BlockPublicPolicy`.
    pub fn grants_public_access(&self) -> bool {
        public::grants_public_access(&self.body)
    }
}

/// The kind of IAM principal making a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    /// The account's root user.
    Root,
    /// An IAM user.
    User,
    /// A role session from STS AssumeRole.
    AssumedRole,
}

/// The caller as the policy engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `arn:aws:iam::A:root`, `arn:aws:iam::A:user/path/name`, or the session ARN
    /// `arn:aws:sts::A:assumed-role/Role/Session`.
    pub arn: String,
    /// The caller's 12-digit account.
    pub account_id: String,
    /// Root, user or role session.
    pub kind: PrincipalType,
    /// For sessions, the role ARN (with path): what `aws:PrincipalArn` holds and what a role
    /// principal in a resource or trust policy matches.
    pub role_arn: Option<String>,
    /// `aws:userid`: `AIDA…` for users, the account id for root, `AROA…:session` for sessions.
    pub user_id: String,
    /// `aws:username`, IAM users only.
    pub username: Option<String>,
    /// Principal (or session) tags, for `aws:PrincipalTag/K`; keys compare case-insensitively.
    pub tags: Vec<(String, String)>,
    /// For temporary credentials (STS), what they add to the request's keys.
    pub session: Option<SessionKeys>,
}

/// The keys AWS adds for a caller signing with temporary credentials: `aws:TokenIssueTime`,
/// `aws:MultiFactorAuthPresent` (always `false`: Strongbox has no MFA) and
/// `aws:SourceIdentity`. Long-term keys have none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKeys {
    /// When the credentials were issued, ISO 8601 (`2026-01-02T03:04:05Z`).
    pub issued_at: String,
    /// The session's source identity, if AssumeRole set one.
    pub source_identity: Option<String>,
}

impl Principal {
    /// The root user of `account_id`.
    pub fn root(account_id: &str) -> Principal {
        Principal {
            arn: format!("arn:aws:iam::{account_id}:root"),
            account_id: account_id.to_string(),
            kind: PrincipalType::Root,
            role_arn: None,
            user_id: account_id.to_string(),
            username: None,
            tags: Vec::new(),
            session: None,
        }
    }

    /// An IAM user; `path` is `/` or `/a/b/`.
    pub fn user(account_id: &str, path: &str, name: &str, user_id: &str) -> Principal {
        Principal {
            arn: format!("arn:aws:iam::{account_id}:user{path}{name}"),
            account_id: account_id.to_string(),
            kind: PrincipalType::User,
            role_arn: None,
            user_id: user_id.to_string(),
            username: Some(name.to_string()),
            tags: Vec::new(),
            session: None,
        }
    }

    /// A session of a role; `path` is `/` or `/a/b/`. The session ARN carries no path.
    pub fn session(
        account_id: &str,
        path: &str,
        role_name: &str,
        role_id: &str,
        session_name: &str,
    ) -> Principal {
        Principal {
            arn: format!("arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"),
            account_id: account_id.to_string(),
            kind: PrincipalType::AssumedRole,
            role_arn: Some(format!("arn:aws:iam::{account_id}:role{path}{role_name}")),
            user_id: format!("{role_id}:{session_name}"),
            username: None,
            tags: Vec::new(),
            session: None,
        }
    }

    /// Adds a principal tag.
    pub fn with_tag(mut self, key: &str, value: &str) -> Principal {
        self.tags.push((key.to_string(), value.to_string()));
        self
    }
}

/// A condition key's values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ContextEntry {
    values: Vec<String>,
    multi: bool,
}

/// Request-specific condition keys (aws:SourceIp, aws:CurrentTime, aws:RequestTag/K,
/// aws:TagKeys, aws:ResourceTag/K, secretsmanager:*, sts:ExternalId, …). Keys are
/// case-insensitive. Only set keys the request really has: an absent key is meaningful.
///
/// The engine derives aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType,
/// aws:PrincipalTag/*, aws:username and aws:userid from the [`Principal`]; those derived values
/// take precedence over anything set here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionContext {
    keys: HashMap<String, ContextEntry>,
}

impl ConditionContext {
    /// An empty context.
    pub fn new() -> ConditionContext {
        ConditionContext::default()
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.keys.insert(
            key.to_lowercase(),
            ContextEntry {
                values: vec![value.into()],
                multi: false,
            },
        );
    }

    /// Sets a multivalued key (aws:TagKeys, secretsmanager:AddReplicaRegions, …). An empty list
    /// behaves as an absent key.
    pub fn set_multi(&mut self, key: &str, values: Vec<String>) {
        self.keys.insert(
            key.to_lowercase(),
            ContextEntry {
                values,
                multi: true,
            },
        );
    }

    /// Copies every key of `other` into this context, replacing keys set in both.
    pub fn extend_from(&mut self, other: &ConditionContext) {
        for (k, v) in &other.keys {
            self.keys.insert(k.clone(), v.clone());
        }
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) {
        self.keys.remove(&key.to_lowercase());
    }

    /// A key's values, if it is set.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.get_lower(&key.to_lowercase())
    }

    /// Whether the key was set with [`set_multi`](Self::set_multi).
    pub fn is_multi_valued(&self, key: &str) -> bool {
        self.keys.get(&key.to_lowercase()).is_some_and(|e| e.multi)
    }

    /// Sets `aws:CurrentTime` (ISO 8601, UTC) and `aws:EpochTime` from the request time, so the
    /// engine itself never reads a clock.
    pub fn set_request_time(&mut self, unix_seconds: i64) {
        let iso = time::OffsetDateTime::from_unix_timestamp(unix_seconds)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            });
        if let Some(iso) = iso {
            self.set("aws:CurrentTime", iso);
        }
        self.set("aws:EpochTime", unix_seconds.to_string());
    }

    pub(crate) fn get_lower(&self, key: &str) -> Option<&[String]> {
        self.keys.get(key).map(|e| e.values.as_slice())
    }

    pub(crate) fn single_lower(&self, key: &str) -> Option<&str> {
        match self.keys.get(key) {
            Some(ContextEntry {
                values,
                multi: false,
            }) => match values.as_slice() {
                [one] => Some(one.as_str()),
                _ => None,
            },
            _ => None,
        }
    }
}

/// One authorization question: may `principal` perform `action` on `resource`?
#[derive(Debug, Clone, Copy)]
pub struct EvalRequest<'a> {
    /// The caller.
    pub principal: &'a Principal,
    /// The IAM action, e.g. `secretsmanager:GetSecretValue`.
    pub action: &'a str,
    /// The resource ARN, or `*` for actions without a resource (ListSecrets).
    pub resource: &'a str,
    /// The account that owns the resource; for `*` actions, the caller's account.
    pub resource_account: &'a str,
    /// Request-specific condition keys.
    pub context: &'a ConditionContext,
}

/// What the resource-side policy is, which decides the wording of denials and whether the
/// policy must name the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourcePolicyKind {
    /// A secret's resource policy.
    #[default]
    Resource,
    /// A role's trust policy (the resource of `sts:AssumeRole`).
    Trust,
}

/// The policies that bear on one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicySet<'a> {
    /// The caller's inline and attached managed policies (the user's, or the session's role's).
    pub identity: &'a [std::sync::Arc<PolicyDocument>],
    /// The permissions boundary of the user or role, if one is set.
    pub boundary: Option<&'a PolicyDocument>,
    /// Session policies passed to AssumeRole (`Policy` and `PolicyArns`); `None` or an empty
    /// slice means the session has none.
    pub session: Option<&'a [std::sync::Arc<PolicyDocument>]>,
    /// The secret's resource policy, or the role's trust policy.
    pub resource: Option<&'a PolicyDocument>,
    /// Whether `resource` is a resource policy or a trust policy.
    pub resource_kind: ResourcePolicyKind,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The request is allowed.
    Allow,
    /// The request is denied, explicitly or implicitly.
    Deny(Denial),
}

impl Decision {
    /// True for [`Decision::Allow`].
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}

/// Which kind of policy AWS names in the AccessDenied message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyType {
    /// "identity-based"
    Identity,
    /// "resource-based"
    Resource,
    /// "role trust"
    Trust,
    /// "session"
    Session,
    /// "permissions boundary"
    PermissionsBoundary,
}

impl PolicyType {
    /// The words AWS uses for this policy type in AccessDenied messages.
    pub fn label(&self) -> &'static str {
        match self {
            PolicyType::Identity => "identity-based",
            PolicyType::Resource => "resource-based",
            PolicyType::Trust => "role trust",
            PolicyType::Session => "session",
            PolicyType::PermissionsBoundary => "permissions boundary",
        }
    }
}

/// Why a request was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denial {
    /// True when a Deny statement matched; false for "no policy allows".
    pub explicit: bool,
    /// The one policy type AWS names.
    pub policy_type: PolicyType,
}

impl Denial {
    /// AWS's AccessDenied text, e.g. `User: <arn> is not authorized to perform: <action> on
    /// resource: <shown> because no identity-based policy allows the <action> action`.
    /// `resource_shown` is `None` for `*` resources, which drops ` on resource: …`.
    pub fn message(
        &self,
        principal_arn: &str,
        action: &str,
        resource_shown: Option<&str>,
    ) -> String {
        let on = resource_shown
            .map(|r| format!(" on resource: {r}"))
            .unwrap_or_default();
        let reason = match (self.explicit, self.policy_type) {
            (false, PolicyType::PermissionsBoundary) => {
                format!("because no permissions boundary allows the {action} action")
            }
            (true, PolicyType::PermissionsBoundary) => {
                "with an explicit deny in a permissions boundary".to_string()
            }
            (false, t) => format!("because no {} policy allows the {action} action", t.label()),
            (true, PolicyType::Identity) => {
                "with an explicit deny in an identity-based policy".to_string()
            }
            (true, t) => format!("with an explicit deny in a {} policy", t.label()),
        };
        format!("User: {principal_arn} is not authorized to perform: {action}{on} {reason}")
    }
}
