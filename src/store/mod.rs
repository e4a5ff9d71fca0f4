//! Durable state behind one domain-level trait.
//!
//! [`Store`] speaks in secrets, versions and labels, not keys and values: moving AWSCURRENT
//! happens inside one backend transaction, with the label rules shared in [`labels`]. The
//! store never sees plaintext: values arrive sealed by `crypto`. SQLite ([`SqliteStore`]) is
//! the default backend; every backend must pass the conformance suite in
//! `tests/store_conformance.rs`.

pub mod labels;
mod read_cache;
mod sqlite;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

pub use labels::{LabelMap, StageError, StageRequest};
pub use sqlite::SqliteStore;

use crate::clock::EpochMillis;
use crate::model::Tag;
use crate::model::filter::Filter;

/// AWS's quota of versions per secret; unlabelled versions older than a day are pruned past it.
pub const MAX_VERSIONS_PER_SECRET: usize = 100;
/// AWS's quota of tags per secret.
pub const MAX_TAGS_PER_SECRET: usize = 50;

/// A store failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A secret with that name already exists in the account and region.
    #[error("secret name already exists")]
    NameExists,
    /// A version with that id already exists on the secret.
    #[error("version already exists")]
    VersionExists,
    /// The secret no longer exists (deleted concurrently).
    #[error("secret not found")]
    NotFound,
    /// A staging-label rule was violated.
    #[error("staging label rule: {0:?}")]
    Stage(StageError),
    /// The secret already has the maximum number of versions and none can be pruned.
    #[error("too many versions")]
    TooManyVersions,
    /// The change would leave more than [`MAX_TAGS_PER_SECRET`] tags.
    #[error("too many tags")]
    TooManyTags,
    /// The backend failed (I/O, corruption, connection). Logged, answered as a 500.
    #[error("storage backend failure: {0}")]
    Backend(String),
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// An account and region: the namespace secrets live in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// 12-digit account id.
    pub account_id: String,
    /// Region name.
    pub region: String,
}

/// A secret's metadata and current labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    /// Internal primary key.
    pub pk: i64,
    /// Owning account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Friendly name.
    pub name: String,
    /// Full ARN including the random suffix.
    pub arn: String,
    /// Description, if set.
    pub description: Option<String>,
    /// The KmsKeyId the caller chose; `None` means the default `aws/secretsmanager` key.
    pub kms_key_id: Option<String>,
    /// The `Type` member, if set.
    pub secret_type: Option<String>,
    /// When the secret was created.
    pub created_ms: EpochMillis,
    /// When the secret last changed in any way.
    pub last_changed_ms: EpochMillis,
    /// Day (midnight UTC) of the last read, if ever read.
    pub last_accessed_ms: Option<EpochMillis>,
    /// When deletion was scheduled, if it is.
    pub deleted_ms: Option<EpochMillis>,
    /// When a scheduled deletion becomes permanent.
    pub deletion_ms: Option<EpochMillis>,
    /// Tags; `None` if the secret was never tagged, `Some([])` after the last tag was removed.
    pub tags: Option<Vec<Tag>>,
    /// The resource policy document attached to the secret, as stored.
    pub resource_policy: Option<String>,
    /// Staging labels (empty when read by [`Store::find_secret_row`]).
    pub labels: LabelMap,
}

impl SecretRecord {
    /// The scope the secret lives in.
    pub fn scope(&self) -> Scope {
        Scope {
            account_id: self.account_id.clone(),
            region: self.region.clone(),
        }
    }

    /// Version id -> sorted labels, for `VersionIdsToStages`.
    pub fn versions_to_stages(&self) -> BTreeMap<String, Vec<String>> {
        labels::versions_to_stages(&self.labels)
    }

    /// True while deletion is scheduled.
    pub fn is_deleted(&self) -> bool {
        self.deleted_ms.is_some()
    }
}

/// One version of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    /// The version id.
    pub version_id: String,
    /// When the version was created.
    pub created_ms: EpochMillis,
    /// Day of the last read, if ever read.
    pub last_accessed_ms: Option<EpochMillis>,
    /// The sealed value; `None` for a value-less placeholder (rotation).
    pub sealed: Option<Vec<u8>>,
    /// The labels on this version, sorted.
    pub stages: Vec<String>,
}

/// A secret to create.
#[derive(Debug, Clone)]
pub struct NewSecret {
    /// Where it lives.
    pub scope: Scope,
    /// Friendly name.
    pub name: String,
    /// Full ARN.
    pub arn: String,
    /// Description.
    pub description: Option<String>,
    /// KmsKeyId as given.
    pub kms_key_id: Option<String>,
    /// `Type`.
    pub secret_type: Option<String>,
    /// Initial tags (`None` when the request had no `Tags` member).
    pub tags: Option<Vec<Tag>>,
    /// Creation time.
    pub created_ms: EpochMillis,
}

/// A version to store.
#[derive(Debug, Clone)]
pub struct NewVersion {
    /// The version id (the ClientRequestToken).
    pub version_id: String,
    /// The value, already sealed.
    pub sealed: Vec<u8>,
    /// Creation time.
    pub created_ms: EpochMillis,
}

/// How to find a secret inside a scope.
#[derive(Debug, Clone, Copy)]
pub enum SecretLookup<'a> {
    /// By exact name.
    Name(&'a str),
    /// By exact full ARN.
    Arn(&'a str),
}

/// Metadata changes for UpdateSecret; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct MetadataUpdate {
    /// New description.
    pub description: Option<String>,
    /// New KmsKeyId; `Some(None)` returns to the default key.
    pub kms_key_id: Option<Option<String>>,
    /// New `Type`.
    pub secret_type: Option<String>,
}

/// Sort keys for ListSecrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// `created-date` (the default).
    Created,
    /// `last-accessed-date`.
    LastAccessed,
    /// `last-changed-date`.
    LastChanged,
    /// `name`.
    Name,
}

/// Position after the last secret of a page: its sort value and primary key. Keyset
/// pagination stays correct while secrets are created and deleted between pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The sort column's value of the last secret returned (a number or a name).
    pub value: CursorValue,
    /// Its primary key, breaking ties.
    pub pk: i64,
}

/// A sort column value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorValue {
    /// A timestamp.
    Int(i64),
    /// A name.
    Text(String),
}

/// A ListSecrets query.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Include secrets scheduled for deletion.
    pub include_deleted: bool,
    /// Filters, AND'ed.
    pub filters: Vec<Filter>,
    /// Sort column.
    pub sort: SortKey,
    /// Descending order.
    pub descending: bool,
    /// Start after this position.
    pub after: Option<Cursor>,
    /// Page size.
    pub limit: usize,
    /// Secrets whose deletion time is at or before this instant count as gone.
    pub now: EpochMillis,
}

/// One page of ListSecrets.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// The secrets, in order.
    pub secrets: Vec<SecretRecord>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

/// A stored access key; the secret half is sealed under the root key.
#[derive(Debug, Clone)]
pub struct AccessKeyRecord {
    /// `AKIA...`.
    pub access_key_id: String,
    /// Owning account.
    pub account_id: String,
    /// ARN of the principal the key belongs to.
    pub principal_arn: String,
    /// The secret access key sealed under the root key.
    pub sealed_secret: Vec<u8>,
    /// `Active` or `Inactive`.
    pub active: bool,
    /// Creation time.
    pub created_ms: EpochMillis,
}

/// A KMS key whose material is sealed under the root key.
#[derive(Debug, Clone)]
pub struct KmsKeyRecord {
    /// Key id (UUID).
    pub key_id: String,
    /// Key ARN.
    pub arn: String,
    /// Owning account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Alias without the `alias/` prefix, e.g. `aws/secretsmanager`.
    pub alias: Option<String>,
    /// Generation of the key material.
    pub material_version: u32,
    /// The key material sealed under the root key.
    pub sealed_material: Vec<u8>,
    /// Creation time.
    pub created_ms: EpochMillis,
}

/// How much the store holds, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreCounts {
    /// Secrets, including those scheduled for deletion.
    pub secrets: u64,
    /// Versions of all secrets.
    pub versions: u64,
}

/// One stored IAM object (user, role, managed policy, session, account): a JSON document that
/// the `iam` module owns, kept under `(account, kind, key)`. IAM entities change rarely and are
/// read through the in-memory identity index, so the store keeps them as documents rather than
/// in one table per entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamObject {
    /// Owning account.
    pub account_id: String,
    /// Entity kind, e.g. `user`.
    pub kind: String,
    /// Key within the kind, e.g. the lower-cased user name.
    pub key: String,
    /// The JSON document.
    pub body: String,
}

/// One change in an atomic IAM write.
#[derive(Debug, Clone)]
pub enum IamChange {
    /// Inserts an object; the whole write fails with [`StoreError::NameExists`] if it exists.
    Insert(IamObject),
    /// Inserts or replaces an object.
    Upsert(IamObject),
    /// Deletes an object if it exists.
    Delete {
        /// Owning account.
        account_id: String,
        /// Entity kind.
        kind: String,
        /// Key within the kind.
        key: String,
    },
}

/// The persistence interface. Implementations must make each method atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads a server-wide setting (e.g. the default account id).
    async fn meta_get(&self, key: &str) -> StoreResult<Option<String>>;
    /// Sets a server-wide setting only if it is unset; returns the value in force.
    async fn meta_init(&self, key: &str, value: &str) -> StoreResult<String>;

    /// A number that changes whenever access keys or IAM objects change, by any writer of the
    /// store (another process included).
    async fn iam_generation(&self) -> StoreResult<i64>;

    /// Stores a new access key.
    async fn insert_access_key(&self, key: AccessKeyRecord) -> StoreResult<()>;
    /// All access keys.
    async fn access_keys(&self) -> StoreResult<Vec<AccessKeyRecord>>;
    /// Activates or deactivates an access key; false if there is no such key.
    async fn set_access_key_active(&self, access_key_id: &str, active: bool) -> StoreResult<bool>;
    /// Deletes an access key; false if there is no such key.
    async fn delete_access_key(&self, access_key_id: &str) -> StoreResult<bool>;

    /// One IAM object.
    async fn iam_get(&self, account: &str, kind: &str, key: &str)
    -> StoreResult<Option<IamObject>>;
    /// IAM objects of `kind`, in one account or (with `None`) in all, ordered by account and key.
    async fn iam_list(&self, account: Option<&str>, kind: &str) -> StoreResult<Vec<IamObject>>;
    /// Applies IAM changes atomically.
    async fn iam_write(&self, changes: Vec<IamChange>) -> StoreResult<()>;

    /// Attaches (`Some`) or removes (`None`) a secret's resource policy.
    async fn set_resource_policy(
        &self,
        secret_pk: i64,
        policy: Option<String>,
        now: EpochMillis,
    ) -> StoreResult<()>;

    /// The KMS key with `alias` in an account and region.
    async fn kms_key_by_alias(
        &self,
        account: &str,
        region: &str,
        alias: &str,
    ) -> StoreResult<Option<KmsKeyRecord>>;
    /// The KMS key with id `key_id`.
    async fn kms_key_by_id(&self, key_id: &str) -> StoreResult<Option<KmsKeyRecord>>;
    /// Inserts a KMS key; if one with the same alias exists already, returns that one instead.
    async fn insert_kms_key(&self, key: KmsKeyRecord) -> StoreResult<KmsKeyRecord>;

    /// Creates a secret, with its first version labelled AWSCURRENT if one is given.
    /// [`StoreError::NameExists`] if the name is taken in the scope.
    async fn create_secret(
        &self,
        secret: NewSecret,
        version: Option<NewVersion>,
    ) -> StoreResult<SecretRecord>;
    /// Finds a secret, including one scheduled for deletion.
    async fn find_secret(
        &self,
        scope: &Scope,
        lookup: SecretLookup<'_>,
    ) -> StoreResult<Option<Arc<SecretRecord>>>;
    /// [`find_secret`](Self::find_secret) without the staging labels (`labels` is empty):
    /// for every caller but DescribeSecret, which is the only one that shows them.
    async fn find_secret_row(
        &self,
        scope: &Scope,
        lookup: SecretLookup<'_>,
    ) -> StoreResult<Option<Arc<SecretRecord>>>;
    /// One version of a secret.
    async fn version(&self, secret_pk: i64, version_id: &str)
    -> StoreResult<Option<VersionRecord>>;
    /// The version holding staging label `stage`, with its labels, read from one snapshot.
    async fn version_by_stage(
        &self,
        secret_pk: i64,
        stage: &str,
    ) -> StoreResult<Option<Arc<VersionRecord>>>;
    /// All versions of a secret, oldest first.
    async fn versions(&self, secret_pk: i64) -> StoreResult<Vec<VersionRecord>>;
    /// Stores a new version and moves labels per `stages` in one transaction; prunes unlabelled
    /// versions created before `prune_before` while over [`MAX_VERSIONS_PER_SECRET`].
    /// Returns the labels now on the new version.
    async fn put_version(
        &self,
        secret_pk: i64,
        version: NewVersion,
        stages: StageRequest,
        prune_before: EpochMillis,
    ) -> StoreResult<Vec<String>>;
    /// Changes metadata and bumps LastChangedDate.
    async fn update_metadata(
        &self,
        secret_pk: i64,
        update: MetadataUpdate,
        now: EpochMillis,
    ) -> StoreResult<()>;
    /// UpdateSecretVersionStage, with AWS's rules from [`labels::plan_update_stage`].
    async fn update_version_stage(
        &self,
        secret_pk: i64,
        stage: &str,
        move_to: Option<&str>,
        remove_from: Option<&str>,
        now: EpochMillis,
    ) -> StoreResult<()>;
    /// Adds or overwrites tags by key.
    async fn tag_secret(&self, secret_pk: i64, tags: &[Tag], now: EpochMillis) -> StoreResult<()>;
    /// Removes tags by key; missing keys are ignored.
    async fn untag_secret(
        &self,
        secret_pk: i64,
        keys: &[String],
        now: EpochMillis,
    ) -> StoreResult<()>;
    /// Schedules deletion.
    async fn schedule_deletion(
        &self,
        secret_pk: i64,
        deleted: EpochMillis,
        deletion: EpochMillis,
    ) -> StoreResult<()>;
    /// Cancels a scheduled deletion.
    async fn restore_secret(&self, secret_pk: i64, now: EpochMillis) -> StoreResult<()>;
    /// Deletes a secret and its versions now.
    async fn delete_secret(&self, secret_pk: i64) -> StoreResult<()>;
    /// Deletes every secret whose deletion time is at or before `now`; returns how many.
    async fn purge_expired(&self, now: EpochMillis) -> StoreResult<u64>;
    /// Records a read on `day` (midnight UTC) for the secret and the version.
    async fn record_access(
        &self,
        secret_pk: i64,
        version_id: &str,
        day: EpochMillis,
    ) -> StoreResult<()>;
    /// One page of secrets in a scope.
    async fn list_secrets(&self, scope: &Scope, query: &ListQuery) -> StoreResult<ListPage>;
    /// How many secrets and versions exist in all scopes; cheap enough for every scrape.
    async fn counts(&self) -> StoreResult<StoreCounts>;
}
