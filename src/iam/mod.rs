//! Identity and access management: accounts, IAM users, roles, access keys, managed and inline
//! policies, and STS, served over AWS's Query protocol and used offline by the CLI.
//!
//! Every change runs under one write lock, goes to the store as one atomic write, and then
//! rebuilds the identity index (`index.rs`) that authentication reads, so a deleted key or a
//! changed policy takes effect on the next request. IAM's own actions are authorised by the
//! same policy engine as Secrets Manager's ([`authz`]).

pub mod authz;
mod builtin;
mod index;
mod model;
mod policies;
pub mod query;
mod roles;
mod sts;
mod users;

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::RequestContext;
use crate::auth::{
    CredentialStore, MemoryCredentialStore, PrincipalKind, SecretAccessKey, StoredCredential,
};
use crate::clock::{Clock, EpochMillis};
use crate::crypto::Keyring;
use crate::policy::{ConditionContext, PolicyDocument, PolicyKind};
use crate::store::{AccessKeyRecord, IamChange, IamObject, Store, StoreError};

pub use index::access_key_label;
pub use model::{AccountDoc, kind};
pub use query::{Params, QueryError};

/// The XML namespace of IAM responses.
pub const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// The XML namespace of STS responses.
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The two Query-protocol services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryService {
    /// IAM (`iam`, 2010-05-08).
    Iam,
    /// STS (`sts`, 2011-06-15).
    Sts,
}

impl QueryService {
    /// From the SigV4 scope's service name.
    pub fn from_signing_name(name: &str) -> Option<Self> {
        match name {
            "iam" => Some(Self::Iam),
            "sts" => Some(Self::Sts),
            _ => None,
        }
    }

    /// The response namespace.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::Iam => IAM_NAMESPACE,
            Self::Sts => STS_NAMESPACE,
        }
    }

    /// The API version botocore sends.
    pub fn version(self) -> &'static str {
        match self {
            Self::Iam => "2010-05-08",
            Self::Sts => "2011-06-15",
        }
    }

    /// The service's signing name and IAM action prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Iam => "iam",
            Self::Sts => "sts",
        }
    }
}

/// The IAM and STS service.
pub struct IamService {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    credentials: Arc<MemoryCredentialStore>,
    /// Credentials that live outside the store (the bootstrap key from the environment).
    extra: Vec<(String, StoredCredential)>,
    /// Serialises IAM changes: each reads, checks and writes entities, then rebuilds the index.
    writes: tokio::sync::Mutex<()>,
    /// The store's [`Store::iam_generation`] the credential table was built from.
    loaded_generation: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for IamService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IamService")
    }
}

impl IamService {
    /// Opens the service: records `primary_account` as an account and loads every credential.
    pub async fn open(
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        primary_account: &str,
        extra: Vec<(String, StoredCredential)>,
    ) -> Result<Self, StoreError> {
        let service = Self {
            store,
            keyring,
            clock,
            credentials: Arc::new(MemoryCredentialStore::new()),
            extra,
            writes: tokio::sync::Mutex::new(()),
            loaded_generation: std::sync::atomic::AtomicI64::new(i64::MIN),
        };
        service.ensure_account(primary_account).await?;
        service.reload().await?;
        Ok(service)
    }

    /// The credential table authentication reads.
    pub fn credentials(&self) -> Arc<dyn CredentialStore> {
        self.credentials.clone()
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Rebuilds the identity index from the store and purges long-expired sessions.
    pub async fn reload(&self) -> Result<(), StoreError> {
        // Read before the build: a change that lands during it is seen by the next refresh.
        let generation = self.store.iam_generation().await?;
        let now = self.clock.now_millis();
        let (mut table, expired) =
            index::build(self.store.as_ref(), self.keyring.root(), now).await?;
        for (id, credential) in &self.extra {
            table.insert(id.clone(), credential.clone());
        }
        self.credentials.replace_all(table);
        self.loaded_generation
            .store(generation, std::sync::atomic::Ordering::Release);
        if !expired.is_empty() {
            let changes = expired
                .into_iter()
                .map(|(account_id, kind, key)| IamChange::Delete {
                    account_id,
                    kind: kind.to_string(),
                    key,
                })
                .collect();
            self.store.iam_write(changes).await?;
        }
        Ok(())
    }

    /// Rebuilds the credential table if identities changed in the store since it was built:
    /// by another process (`strongbox user create`, `access-key create`, ... on the data
    /// directory of a running server) or another node sharing the store. True if it reloaded.
    pub async fn refresh_if_changed(&self) -> Result<bool, StoreError> {
        let loaded = || {
            self.loaded_generation
                .load(std::sync::atomic::Ordering::Acquire)
        };
        if self.store.iam_generation().await? == loaded() {
            return Ok(false);
        }
        // Not in the middle of one of this server's own changes, which reloads by itself.
        let _writes = self.writes.lock().await;
        if self.store.iam_generation().await? == loaded() {
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }

    /// Records `account_id` as an account if it is not one yet; true if it was created.
    pub async fn ensure_account(&self, account_id: &str) -> Result<bool, StoreError> {
        let doc = AccountDoc {
            account_id: account_id.to_string(),
            created_ms: self.clock.now_millis(),
        };
        let body = serde_json::to_string(&doc).map_err(|e| StoreError::Backend(e.to_string()))?;
        match self
            .store
            .iam_write(vec![IamChange::Insert(IamObject {
                account_id: account_id.to_string(),
                kind: kind::ACCOUNT.to_string(),
                key: account_id.to_string(),
                body,
            })])
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::NameExists) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// All accounts, in id order.
    pub async fn accounts(&self) -> Result<Vec<AccountDoc>, StoreError> {
        Ok(self
            .store
            .iam_list(None, kind::ACCOUNT)
            .await?
            .into_iter()
            .filter_map(|o| serde_json::from_str(&o.body).ok())
            .collect())
    }

    /// Creates a new access key for `principal_arn` in `account`, stores its secret sealed
    /// under the root key, and returns the pair. The secret is shown to the caller only once.
    pub async fn create_access_key_for(
        &self,
        account: &str,
        principal_arn: &str,
    ) -> Result<(String, SecretAccessKey, EpochMillis), QueryError> {
        let (id, secret) = generate_key_pair("AKIA")?;
        let sealed = self
            .keyring
            .root()
            .wrap(&access_key_label(&id), secret.expose().as_bytes())
            .map_err(|_| QueryError::internal())?;
        let created_ms = self.clock.now_millis();
        self.store
            .insert_access_key(AccessKeyRecord {
                access_key_id: id.clone(),
                account_id: account.to_string(),
                principal_arn: principal_arn.to_string(),
                sealed_secret: sealed,
                active: true,
                created_ms,
            })
            .await
            .map_err(store_error)?;
        Ok((id, secret, created_ms))
    }

    /// Runs one Query-protocol action and returns the inner `<OpResult>` XML (`None` for
    /// actions without output).
    pub async fn call(
        &self,
        ctx: &RequestContext,
        service: QueryService,
        action: &str,
        params: &Params,
    ) -> Result<Option<String>, QueryError> {
        match service {
            QueryService::Iam => self.call_iam(ctx, action, params).await,
            QueryService::Sts => self.call_sts(ctx, action, params).await,
        }
    }

    async fn call_iam(
        &self,
        ctx: &RequestContext,
        action: &str,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        // GetSessionToken's credentials may call IAM only with MFA, which this server does
        // not support; AWS answers such calls as if the token were unknown.
        if ctx.caller.temporary && ctx.caller.kind != PrincipalKind::AssumedRole {
            return Err(QueryError::new(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ));
        }
        let read_only = action.starts_with("Get") || action.starts_with("List");
        let _guard = if read_only {
            None
        } else {
            Some(self.writes.lock().await)
        };
        let result = match action {
            "CreateUser" => self.create_user(ctx, p).await,
            "GetUser" => self.get_user(ctx, p).await,
            "ListUsers" => self.list_users(ctx, p).await,
            "DeleteUser" => self.delete_user(ctx, p).await,
            "TagUser" => self.tag_user(ctx, p).await,
            "UntagUser" => self.untag_user(ctx, p).await,
            "ListUserTags" => self.list_user_tags(ctx, p).await,
            "CreateAccessKey" => self.create_access_key(ctx, p).await,
            "ListAccessKeys" => self.list_access_keys(ctx, p).await,
            "UpdateAccessKey" => self.update_access_key(ctx, p).await,
            "DeleteAccessKey" => self.delete_access_key(ctx, p).await,
            "CreateRole" => self.create_role(ctx, p).await,
            "GetRole" => self.get_role(ctx, p).await,
            "ListRoles" => self.list_roles(ctx, p).await,
            "DeleteRole" => self.delete_role(ctx, p).await,
            "TagRole" => self.tag_role(ctx, p).await,
            "UntagRole" => self.untag_role(ctx, p).await,
            "ListRoleTags" => self.list_role_tags(ctx, p).await,
            "UpdateAssumeRolePolicy" => self.update_assume_role_policy(ctx, p).await,
            "PutUserPolicy" => self.put_inline(ctx, p, Owner::User).await,
            "GetUserPolicy" => self.get_inline(ctx, p, Owner::User).await,
            "DeleteUserPolicy" => self.delete_inline(ctx, p, Owner::User).await,
            "ListUserPolicies" => self.list_inline(ctx, p, Owner::User).await,
            "PutRolePolicy" => self.put_inline(ctx, p, Owner::Role).await,
            "GetRolePolicy" => self.get_inline(ctx, p, Owner::Role).await,
            "DeleteRolePolicy" => self.delete_inline(ctx, p, Owner::Role).await,
            "ListRolePolicies" => self.list_inline(ctx, p, Owner::Role).await,
            "AttachUserPolicy" => self.attach(ctx, p, Owner::User).await,
            "DetachUserPolicy" => self.detach(ctx, p, Owner::User).await,
            "ListAttachedUserPolicies" => self.list_attached(ctx, p, Owner::User).await,
            "AttachRolePolicy" => self.attach(ctx, p, Owner::Role).await,
            "DetachRolePolicy" => self.detach(ctx, p, Owner::Role).await,
            "ListAttachedRolePolicies" => self.list_attached(ctx, p, Owner::Role).await,
            "CreatePolicy" => self.create_policy(ctx, p).await,
            "GetPolicy" => self.get_policy(ctx, p).await,
            "DeletePolicy" => self.delete_policy(ctx, p).await,
            "ListPolicies" => self.list_policies(ctx, p).await,
            "CreatePolicyVersion" => self.create_policy_version(ctx, p).await,
            "GetPolicyVersion" => self.get_policy_version(ctx, p).await,
            "ListPolicyVersions" => self.list_policy_versions(ctx, p).await,
            "DeletePolicyVersion" => self.delete_policy_version(ctx, p).await,
            "SetDefaultPolicyVersion" => self.set_default_policy_version(ctx, p).await,
            other => Err(invalid_action(other, QueryService::Iam)),
        };
        if !read_only && result.is_ok() {
            self.reload().await.map_err(store_error)?;
        }
        result
    }

    async fn call_sts(
        &self,
        ctx: &RequestContext,
        action: &str,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        match action {
            "GetCallerIdentity" => Ok(Some(sts::get_caller_identity(ctx))),
            "AssumeRole" => self.assume_role(ctx, p).await,
            "GetSessionToken" => self.get_session_token(ctx, p).await,
            other => Err(invalid_action(other, QueryService::Sts)),
        }
    }

    /// Authorises an IAM or STS action on one of the caller's own account's resources.
    fn authorize(
        &self,
        ctx: &RequestContext,
        action: &str,
        resource: &str,
    ) -> Result<(), QueryError> {
        self.authorize_tagged(ctx, action, resource, &[], &ConditionContext::default())
    }

    /// [`authorize`](Self::authorize) on a user or role with its tags (`aws:ResourceTag/<k>`
    /// and `iam:ResourceTag/<k>`) and the request's own keys (`aws:RequestTag/<k>`,
    /// `aws:TagKeys`), as IAM offers them to policies on these resource types.
    fn authorize_tagged(
        &self,
        ctx: &RequestContext,
        action: &str,
        resource: &str,
        resource_tags: &[crate::model::Tag],
        request: &ConditionContext,
    ) -> Result<(), QueryError> {
        authz::check(
            ctx,
            authz::Check {
                action,
                resource,
                resource_account: &ctx.caller.account_id,
                resource_policy: None,
                resource_kind: crate::policy::ResourcePolicyKind::Resource,
            },
            |keys| {
                for tag in resource_tags {
                    keys.set(&format!("aws:ResourceTag/{}", tag.key), &tag.value);
                    keys.set(&format!("iam:ResourceTag/{}", tag.key), &tag.value);
                }
                keys.extend_from(request);
            },
        )
        .map_err(|denial| {
            QueryError::access_denied(denial.message(&ctx.caller.arn, action, Some(resource)))
        })
    }

    /// Reads and decodes one entity.
    async fn load<T: DeserializeOwned>(
        &self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<T>, QueryError> {
        match self
            .store
            .iam_get(account, kind, key)
            .await
            .map_err(store_error)?
        {
            Some(o) => serde_json::from_str(&o.body).map(Some).map_err(|e| {
                tracing::error!(error = %e, kind, "stored IAM object does not decode");
                QueryError::internal()
            }),
            None => Ok(None),
        }
    }

    /// Reads and decodes every entity of a kind in an account.
    async fn load_all<T: DeserializeOwned>(
        &self,
        account: &str,
        kind: &str,
    ) -> Result<Vec<T>, QueryError> {
        Ok(self
            .store
            .iam_list(Some(account), kind)
            .await
            .map_err(store_error)?
            .into_iter()
            .filter_map(|o| serde_json::from_str(&o.body).ok())
            .collect())
    }

    /// Writes changes atomically.
    async fn save(&self, changes: Vec<IamChange>) -> Result<(), QueryError> {
        self.store.iam_write(changes).await.map_err(store_error)
    }
}

/// An object to write.
fn object<T: Serialize>(
    account: &str,
    kind: &str,
    key: &str,
    value: &T,
) -> Result<IamObject, QueryError> {
    Ok(IamObject {
        account_id: account.to_string(),
        kind: kind.to_string(),
        key: key.to_string(),
        body: serde_json::to_string(value).map_err(|_| QueryError::internal())?,
    })
}

/// A user or a role: the two kinds of principal that hold identity policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// An IAM user.
    User,
    /// An IAM role.
    Role,
}

/// Maps a store failure to ServiceFailure, logging the detail.
fn store_error(e: StoreError) -> QueryError {
    tracing::error!(error = %e, "IAM store failure");
    QueryError::internal()
}

/// AWS's answer to an action the service does not have.
fn invalid_action(action: &str, service: QueryService) -> QueryError {
    QueryError::new(
        400,
        "InvalidAction",
        format!(
            "Could not find operation {action} for version {}",
            service.version()
        ),
    )
}

/// A new key pair (`AKIA...` or `ASIA...`), or ServiceFailure if the CSPRNG fails.
fn generate_key_pair(prefix: &str) -> Result<(String, SecretAccessKey), QueryError> {
    crate::auth::generate_key_pair(prefix).map_err(|_| QueryError::internal())
}

/// Parses a policy document given to IAM, with IAM's MalformedPolicyDocument errors and the
/// size quota (`limit` characters, whitespace not counted, as IAM counts).
fn parse_policy(
    text: &str,
    kind: PolicyKind,
    quota: &str,
    limit: usize,
) -> Result<PolicyDocument, QueryError> {
    if text.chars().filter(|c| !c.is_whitespace()).count() > limit {
        return Err(QueryError::limit_exceeded(format!(
            "Cannot exceed quota for {quota}: {limit}"
        )));
    }
    PolicyDocument::parse(text, kind).map_err(|e| QueryError::malformed_policy(e.message))
}

/// `MaxItems` (1..1000, default 100) and `Marker` pagination over a sorted list.
fn paginate<T>(items: Vec<T>, p: &Params) -> Result<(Vec<T>, Option<String>), QueryError> {
    let max = p.int("MaxItems", 1, 1000)?.unwrap_or(100) as usize;
    let start = match p.get("Marker") {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| QueryError::validation("Invalid Marker."))?,
        None => 0,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let end = start + page.len();
    Ok((page, (end < total).then(|| end.to_string())))
}

/// Writes `IsTruncated` and `Marker`.
fn write_truncation(x: &mut query::Xml, marker: Option<String>) {
    x.bool("IsTruncated", marker.is_some());
    if let Some(m) = marker {
        x.text("Marker", &m);
    }
}
