//! The store conformance suite: one set of cases written against `Arc<dyn Store>`, run for
//! every backend.
//!
//! Each case in [`cases`] takes a fresh, empty store. [`conformance_suite!`] turns every case
//! into one `#[tokio::test]` for a backend; a new backend adds a constructor returning a
//! [`Fixture`] and one line, e.g.
//!
//! ```ignore
//! conformance_suite!(postgres, open_postgres());
//! ```
//!
//! The cases pin the contract the API layer relies on: label moves exactly as
//! `store::labels` documents them, errors as `StoreError` variants, atomicity (a failed call
//! changes nothing), keyset pagination that stays correct while secrets come and go, byte-wise
//! name order, pruning, and correctness under concurrent writers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use strongbox::clock::EpochMillis;
use strongbox::model::Tag;
use strongbox::model::filter::{Filter, FilterKey};
use strongbox::store::{
    AccessKeyRecord, Cursor, IamChange, IamObject, KmsKeyRecord, LabelMap, ListPage, ListQuery,
    MAX_TAGS_PER_SECRET, MAX_VERSIONS_PER_SECRET, MetadataUpdate, NewSecret, NewVersion, Scope,
    SecretLookup, SecretRecord, SortKey, SqliteStore, StageError, StageRequest, Store, StoreCounts,
    StoreError, VersionRecord,
};

/// A store under test, plus whatever must live as long as it (a temp dir, a database).
pub struct Fixture {
    /// The store.
    pub store: Arc<dyn Store>,
    _guard: Box<dyn std::any::Any + Send + Sync>,
}

/// A fresh SQLite store in its own temporary directory.
async fn open_sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("strongbox.db")).expect("open sqlite store");
    Fixture {
        store: Arc::new(store),
        _guard: Box::new(dir),
    }
}

/// Instantiates every conformance case as a test for one backend:
/// `conformance_suite!(module_name, async_expression_yielding_a_Fixture);`
macro_rules! conformance_suite {
    ($backend:ident, $make:expr) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;
            conformance_suite!(@cases $make;
                create_without_version,
                create_with_version,
                name_exists_per_scope,
                find_by_name_and_arn,
                put_version_default_moves_current_and_previous,
                put_version_explicit_moves_listed_labels,
                too_many_labels_changes_nothing,
                version_exists_on_duplicate_id,
                missing_secret_is_not_found,
                update_version_stage_rules,
                update_metadata_fields,
                tags_none_vs_empty_and_overwrite,
                tag_quota,
                deletion_restore_delete,
                purge_expired_at_now,
                record_access_is_monotonic,
                list_every_sort_key_both_directions,
                list_filters_across_scan_batches,
                list_include_deleted_and_now,
                list_pages_stable_under_inserts_and_deletes,
                version_pruning,
                meta_init_keeps_first_value,
                kms_key_alias_conflict_returns_existing,
                access_keys_round_trip,
                iam_generation_moves_with_every_identity_change,
                concurrent_put_version,
                concurrent_put_version_with_pruning_and_readers,
                counts_secrets_and_versions,
            );
        }
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture: Fixture = $make.await;
                cases::$case(fixture.store.clone()).await;
            }
        )*
    };
}

conformance_suite!(sqlite, open_sqlite());

const ACCOUNT: &str = "111122223333";
const OTHER_ACCOUNT: &str = "444455556666";
const T0: EpochMillis = 1_700_000_000_000;
const DAY: EpochMillis = 86_400_000;
const CURRENT: &str = "AWSCURRENT";
const PREVIOUS: &str = "AWSPREVIOUS";
const PENDING: &str = "AWSPENDING";

fn scope(account: &str, region: &str) -> Scope {
    Scope {
        account_id: account.into(),
        region: region.into(),
    }
}

fn us() -> Scope {
    scope(ACCOUNT, "us-east-1")
}

fn arn_for(scope: &Scope, name: &str) -> String {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
    format!(
        "arn:aws:secretsmanager:{}:{}:secret:{name}-{suffix}",
        scope.region, scope.account_id
    )
}

fn new_secret(scope: &Scope, name: &str, created_ms: EpochMillis) -> NewSecret {
    NewSecret {
        scope: scope.clone(),
        name: name.into(),
        arn: arn_for(scope, name),
        description: None,
        kms_key_id: None,
        secret_type: None,
        tags: None,
        created_ms,
    }
}

/// The store treats sealed values as opaque bytes; these name their version.
fn sealed(id: &str) -> Vec<u8> {
    format!("sealed:{id}").into_bytes()
}

fn version(id: &str, created_ms: EpochMillis) -> NewVersion {
    NewVersion {
        version_id: id.into(),
        sealed: sealed(id),
        created_ms,
    }
}

fn label_map(pairs: &[(&str, &str)]) -> LabelMap {
    pairs
        .iter()
        .map(|(s, v)| (s.to_string(), v.to_string()))
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn explicit(items: &[&str]) -> StageRequest {
    StageRequest::Explicit(strings(items))
}

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.into(),
        value: value.into(),
    }
}

fn sorted_tags(tags: Option<Vec<Tag>>) -> Option<Vec<(String, String)>> {
    tags.map(|t| {
        let mut v: Vec<(String, String)> = t.into_iter().map(|t| (t.key, t.value)).collect();
        v.sort();
        v
    })
}

async fn create(
    store: &Arc<dyn Store>,
    scope: &Scope,
    name: &str,
    v1: Option<&str>,
) -> SecretRecord {
    store
        .create_secret(new_secret(scope, name, T0), v1.map(|id| version(id, T0)))
        .await
        .expect("create_secret")
}

async fn reload(store: &Arc<dyn Store>, record: &SecretRecord) -> SecretRecord {
    store
        .find_secret(&record.scope(), SecretLookup::Arn(&record.arn))
        .await
        .expect("find_secret")
        .map(Arc::unwrap_or_clone)
        .expect("secret exists")
}

async fn put(
    store: &Arc<dyn Store>,
    pk: i64,
    id: &str,
    created: EpochMillis,
    req: StageRequest,
) -> Vec<String> {
    store
        .put_version(pk, version(id, created), req, i64::MIN)
        .await
        .unwrap_or_else(|e| panic!("put_version {id}: {e:?}"))
}

/// Version id -> labels, from `versions()` (only versions that have labels).
async fn stages_by_version(store: &Arc<dyn Store>, pk: i64) -> BTreeMap<String, Vec<String>> {
    store
        .versions(pk)
        .await
        .expect("versions")
        .into_iter()
        .filter(|v| !v.stages.is_empty())
        .map(|v| (v.version_id, v.stages))
        .collect()
}

async fn version_ids(store: &Arc<dyn Store>, pk: i64) -> Vec<String> {
    store
        .versions(pk)
        .await
        .expect("versions")
        .into_iter()
        .map(|v| v.version_id)
        .collect()
}

fn query(sort: SortKey, descending: bool, limit: usize) -> ListQuery {
    ListQuery {
        include_deleted: false,
        filters: Vec::new(),
        sort,
        descending,
        after: None,
        limit,
        now: T0,
    }
}

/// Pages through a whole listing; returns the secrets and the size of each page. Checks that
/// every page but the last is full and that only the last page has no cursor.
async fn list_all(
    store: &Arc<dyn Store>,
    scope: &Scope,
    q: &ListQuery,
) -> (Vec<SecretRecord>, Vec<usize>) {
    let mut q = q.clone();
    q.after = None;
    let mut all = Vec::new();
    let mut sizes = Vec::new();
    for _ in 0..10_000 {
        let ListPage { secrets, next } = store.list_secrets(scope, &q).await.expect("list_secrets");
        assert!(secrets.len() <= q.limit, "page larger than the limit");
        sizes.push(secrets.len());
        all.extend(secrets);
        match next {
            Some(c) => {
                assert_eq!(
                    sizes.last(),
                    Some(&q.limit),
                    "a page with a cursor must be full"
                );
                q.after = Some(c);
            }
            None => return (all, sizes),
        }
    }
    panic!("pagination did not terminate");
}

fn names(records: &[SecretRecord]) -> Vec<String> {
    records.iter().map(|r| r.name.clone()).collect()
}

/// The conformance cases. Each takes a fresh, empty store.
pub mod cases {
    use super::*;

    pub async fn create_without_version(store: Arc<dyn Store>) {
        let s = us();
        let mut n = new_secret(&s, "app/db", T0);
        n.description = Some("the database".into());
        n.kms_key_id = Some("alias/aws/secretsmanager".into());
        n.secret_type = Some("custom".into());
        let r = store.create_secret(n.clone(), None).await.unwrap();
        assert_eq!(r.account_id, ACCOUNT);
        assert_eq!(r.region, "us-east-1");
        assert_eq!(r.scope(), s);
        assert_eq!(r.name, "app/db");
        assert_eq!(r.arn, n.arn);
        assert_eq!(r.description.as_deref(), Some("the database"));
        assert_eq!(r.kms_key_id.as_deref(), Some("alias/aws/secretsmanager"));
        assert_eq!(r.secret_type.as_deref(), Some("custom"));
        assert_eq!(r.created_ms, T0);
        assert_eq!(r.last_changed_ms, T0);
        assert_eq!(r.last_accessed_ms, None);
        assert_eq!(r.deleted_ms, None);
        assert_eq!(r.deletion_ms, None);
        assert!(!r.is_deleted());
        assert_eq!(r.tags, None);
        assert!(r.labels.is_empty());
        assert!(r.versions_to_stages().is_empty());
        assert!(store.versions(r.pk).await.unwrap().is_empty());
        // What create returns is what a later read returns.
        assert_eq!(reload(&store, &r).await, r);
        let bare = store
            .create_secret(new_secret(&s, "bare", T0 + 1), None)
            .await
            .unwrap();
        assert_eq!(
            (bare.description, bare.kms_key_id, bare.secret_type),
            (None, None, None)
        );
        assert_ne!(bare.pk, r.pk);
    }

    pub async fn create_with_version(store: Arc<dyn Store>) {
        let r = store
            .create_secret(
                new_secret(&us(), "with-value", T0),
                Some(version("v1", T0 + 5)),
            )
            .await
            .unwrap();
        assert_eq!(r.labels, label_map(&[(CURRENT, "v1")]));
        assert_eq!(
            r.versions_to_stages(),
            BTreeMap::from([("v1".to_string(), strings(&[CURRENT]))])
        );
        let v = store.version(r.pk, "v1").await.unwrap().unwrap();
        assert_eq!(
            v,
            VersionRecord {
                version_id: "v1".into(),
                created_ms: T0 + 5,
                last_accessed_ms: None,
                sealed: Some(sealed("v1")),
                stages: strings(&[CURRENT]),
            }
        );
        assert_eq!(store.versions(r.pk).await.unwrap(), vec![v]);
        assert_eq!(store.version(r.pk, "v2").await.unwrap(), None);
        assert_eq!(reload(&store, &r).await, r);
    }

    pub async fn name_exists_per_scope(store: Arc<dyn Store>) {
        let a = create(&store, &us(), "shared", Some("v1")).await;
        let dup = store
            .create_secret(
                new_secret(&us(), "shared", T0 + 1),
                Some(version("v-dup", T0 + 1)),
            )
            .await;
        assert_eq!(dup.unwrap_err(), StoreError::NameExists);
        let dup = store
            .create_secret(new_secret(&us(), "shared", T0 + 1), None)
            .await;
        assert_eq!(dup.unwrap_err(), StoreError::NameExists);
        // The failed creates left nothing behind.
        assert_eq!(version_ids(&store, a.pk).await, strings(&["v1"]));
        assert_eq!(reload(&store, &a).await, a);
        let (listed, _) = list_all(&store, &us(), &query(SortKey::Created, false, 10)).await;
        assert_eq!(names(&listed), strings(&["shared"]));

        // The same name in another region, or another account, is a different secret.
        let eu = scope(ACCOUNT, "eu-west-1");
        let other = scope(OTHER_ACCOUNT, "us-east-1");
        let b = create(&store, &eu, "shared", Some("v1")).await;
        let c = create(&store, &other, "shared", None).await;
        assert!(a.pk != b.pk && b.pk != c.pk && a.pk != c.pk);
        for r in [&a, &b, &c] {
            let found = store
                .find_secret(&r.scope(), SecretLookup::Name("shared"))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(found.pk, r.pk);
            assert_eq!(found.arn, r.arn);
        }
        // A name is case-sensitive.
        create(&store, &us(), "Shared", None).await;
    }

    pub async fn find_by_name_and_arn(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "find-me", Some("v1")).await;
        let by_name = store
            .find_secret(&us(), SecretLookup::Name("find-me"))
            .await
            .unwrap();
        let by_arn = store
            .find_secret(&us(), SecretLookup::Arn(&r.arn))
            .await
            .unwrap();
        assert_eq!(by_name.as_deref(), Some(&r));
        assert_eq!(by_arn.as_deref(), Some(&r));
        // Exact matches only, of the right kind, in the right scope.
        for (s, lookup) in [
            (us(), SecretLookup::Name("find")),
            (us(), SecretLookup::Name("find-me-")),
            (us(), SecretLookup::Name(&r.arn)),
            (us(), SecretLookup::Arn("find-me")),
            (us(), SecretLookup::Arn(&r.arn[..r.arn.len() - 1])),
            (scope(ACCOUNT, "eu-west-1"), SecretLookup::Name("find-me")),
            (scope(ACCOUNT, "eu-west-1"), SecretLookup::Arn(&r.arn)),
            (
                scope(OTHER_ACCOUNT, "us-east-1"),
                SecretLookup::Name("find-me"),
            ),
        ] {
            assert_eq!(
                store.find_secret(&s, lookup).await.unwrap(),
                None,
                "{lookup:?}"
            );
        }
        // A secret scheduled for deletion is still found.
        store
            .schedule_deletion(r.pk, T0 + 1, T0 + 7 * DAY)
            .await
            .unwrap();
        let found = store
            .find_secret(&us(), SecretLookup::Name("find-me"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.deleted_ms, Some(T0 + 1));
        assert_eq!(found.deletion_ms, Some(T0 + 7 * DAY));
        assert!(found.is_deleted());
    }

    pub async fn put_version_default_moves_current_and_previous(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "rotating", Some("v1")).await;
        assert_eq!(
            put(&store, r.pk, "v2", T0 + 10, StageRequest::Default).await,
            strings(&[CURRENT])
        );
        let after = reload(&store, &r).await;
        assert_eq!(
            after.labels,
            label_map(&[(CURRENT, "v2"), (PREVIOUS, "v1")])
        );
        assert_eq!(
            after.last_changed_ms,
            T0 + 10,
            "a new version bumps LastChangedDate"
        );

        assert_eq!(
            put(&store, r.pk, "v3", T0 + 20, StageRequest::Default).await,
            strings(&[CURRENT])
        );
        assert_eq!(
            reload(&store, &r).await.labels,
            label_map(&[(CURRENT, "v3"), (PREVIOUS, "v2")])
        );
        // v1 lost its last label but is still stored and readable.
        let v1 = store.version(r.pk, "v1").await.unwrap().unwrap();
        assert!(v1.stages.is_empty());
        assert_eq!(v1.sealed, Some(sealed("v1")));
        let all = store.versions(r.pk).await.unwrap();
        let summary: Vec<(String, Vec<String>)> =
            all.into_iter().map(|v| (v.version_id, v.stages)).collect();
        assert_eq!(
            summary,
            vec![
                ("v1".to_string(), vec![]),
                ("v2".to_string(), strings(&[PREVIOUS])),
                ("v3".to_string(), strings(&[CURRENT])),
            ],
            "versions() is oldest first with each version's labels"
        );

        // AWSPENDING on the current version is dropped by a default put (observed on AWS).
        store
            .update_version_stage(r.pk, PENDING, Some("v3"), None, T0 + 30)
            .await
            .unwrap();
        assert_eq!(
            store.version(r.pk, "v3").await.unwrap().unwrap().stages,
            strings(&[CURRENT, PENDING])
        );
        put(&store, r.pk, "v4", T0 + 40, StageRequest::Default).await;
        assert_eq!(
            reload(&store, &r).await.labels,
            label_map(&[(CURRENT, "v4"), (PREVIOUS, "v3")])
        );
        // A custom label on the old current version stays there.
        store
            .update_version_stage(r.pk, "blue", Some("v4"), None, T0 + 50)
            .await
            .unwrap();
        put(&store, r.pk, "v5", T0 + 60, StageRequest::Default).await;
        assert_eq!(
            stages_by_version(&store, r.pk).await,
            BTreeMap::from([
                ("v4".to_string(), strings(&[PREVIOUS, "blue"])),
                ("v5".to_string(), strings(&[CURRENT])),
            ])
        );
        // AWSPENDING on a version other than the current one survives a default put.
        store
            .update_version_stage(r.pk, PENDING, Some("v1"), None, T0 + 70)
            .await
            .unwrap();
        put(&store, r.pk, "v6", T0 + 80, StageRequest::Default).await;
        assert_eq!(
            reload(&store, &r).await.labels,
            label_map(&[
                (CURRENT, "v6"),
                (PREVIOUS, "v5"),
                (PENDING, "v1"),
                ("blue", "v4")
            ])
        );

        // The first value of a secret created without one becomes AWSCURRENT, nothing else.
        let empty = create(&store, &us(), "empty", None).await;
        assert_eq!(
            put(&store, empty.pk, "w1", T0 + 1, StageRequest::Default).await,
            strings(&[CURRENT])
        );
        assert_eq!(
            reload(&store, &empty).await.labels,
            label_map(&[(CURRENT, "w1")])
        );
    }

    pub async fn put_version_explicit_moves_listed_labels(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "explicit", Some("v1")).await;
        // Labels come back sorted.
        assert_eq!(
            put(
                &store,
                r.pk,
                "v2",
                T0 + 1,
                explicit(&["one", "two", "three"])
            )
            .await,
            strings(&["one", "three", "two"])
        );
        // AWS's observed example: v2 had [one,three,two]; a put of v3 with [four,one,two]
        // leaves v2 with [three].
        assert_eq!(
            put(
                &store,
                r.pk,
                "v3",
                T0 + 2,
                explicit(&["four", "one", "two"])
            )
            .await,
            strings(&["four", "one", "two"])
        );
        assert_eq!(
            stages_by_version(&store, r.pk).await,
            BTreeMap::from([
                ("v1".to_string(), strings(&[CURRENT])),
                ("v2".to_string(), strings(&["three"])),
                ("v3".to_string(), strings(&["four", "one", "two"])),
            ])
        );
        // Without AWSCURRENT in the list, AWSCURRENT stays put.
        assert_eq!(
            put(&store, r.pk, "v4", T0 + 3, explicit(&[PENDING])).await,
            strings(&[PENDING])
        );
        let labels = reload(&store, &r).await.labels;
        assert_eq!(labels.get(CURRENT).map(String::as_str), Some("v1"));
        assert_eq!(labels.get(PREVIOUS), None);
        // With AWSCURRENT, AWSPREVIOUS follows the version that lost it.
        assert_eq!(
            put(&store, r.pk, "v5", T0 + 4, explicit(&[CURRENT])).await,
            strings(&[CURRENT])
        );
        let labels = reload(&store, &r).await.labels;
        assert_eq!(labels.get(CURRENT).map(String::as_str), Some("v5"));
        assert_eq!(labels.get(PREVIOUS).map(String::as_str), Some("v1"));
        assert_eq!(labels.get(PENDING).map(String::as_str), Some("v4"));
        assert_eq!(
            put(&store, r.pk, "v6", T0 + 5, explicit(&[PENDING, CURRENT])).await,
            strings(&[CURRENT, PENDING])
        );
        assert_eq!(
            stages_by_version(&store, r.pk).await,
            BTreeMap::from([
                ("v2".to_string(), strings(&["three"])),
                ("v3".to_string(), strings(&["four", "one", "two"])),
                ("v5".to_string(), strings(&[PREVIOUS])),
                ("v6".to_string(), strings(&[CURRENT, PENDING])),
            ])
        );
        // No labels: the version is stored deprecated and nothing moves.
        let before = reload(&store, &r).await.labels;
        assert_eq!(
            put(&store, r.pk, "v7", T0 + 6, explicit(&[])).await,
            Vec::<String>::new()
        );
        assert_eq!(reload(&store, &r).await.labels, before);
        assert!(
            store
                .version(r.pk, "v7")
                .await
                .unwrap()
                .unwrap()
                .stages
                .is_empty()
        );
        assert_eq!(version_ids(&store, r.pk).await.len(), 7);
    }

    pub async fn too_many_labels_changes_nothing(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "labels", Some("v1")).await;
        let nineteen: Vec<String> = (0..19).map(|i| format!("l{i:02}")).collect();
        store
            .put_version(
                r.pk,
                version("v2", T0 + 1),
                StageRequest::Explicit(nineteen),
                i64::MIN,
            )
            .await
            .unwrap();
        let before = reload(&store, &r).await;
        assert_eq!(before.labels.len(), 20);
        let err = store
            .put_version(r.pk, version("v3", T0 + 2), explicit(&["extra"]), i64::MIN)
            .await
            .unwrap_err();
        assert_eq!(err, StoreError::Stage(StageError::TooManyLabels));
        // The version was not stored: the whole put is one transaction.
        assert_eq!(store.version(r.pk, "v3").await.unwrap(), None);
        assert_eq!(reload(&store, &before).await, before);
        let err = store
            .update_version_stage(r.pk, "extra", Some("v1"), None, T0 + 3)
            .await
            .unwrap_err();
        assert_eq!(err, StoreError::Stage(StageError::TooManyLabels));
        assert_eq!(reload(&store, &before).await, before);
        // Moving an existing label is fine at the quota.
        put(&store, r.pk, "v3", T0 + 4, explicit(&["l00"])).await;
        assert_eq!(reload(&store, &r).await.labels.len(), 20);
    }

    pub async fn version_exists_on_duplicate_id(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "dup-version", Some("v1")).await;
        put(&store, r.pk, "v2", T0 + 1, StageRequest::Default).await;
        let before = reload(&store, &r).await;
        for id in ["v1", "v2"] {
            let other = NewVersion {
                version_id: id.into(),
                sealed: b"different".to_vec(),
                created_ms: T0 + 2,
            };
            let err = store
                .put_version(r.pk, other, explicit(&["x", CURRENT]), i64::MIN)
                .await
                .unwrap_err();
            assert_eq!(err, StoreError::VersionExists);
            let stored = store.version(r.pk, id).await.unwrap().unwrap();
            assert_eq!(
                stored.sealed,
                Some(sealed(id)),
                "the stored value is untouched"
            );
        }
        assert_eq!(reload(&store, &before).await, before);
        assert_eq!(version_ids(&store, r.pk).await, strings(&["v1", "v2"]));
        // Version ids are per secret.
        let other = create(&store, &us(), "other", None).await;
        put(&store, other.pk, "v1", T0 + 3, StageRequest::Default).await;
        assert_eq!(
            store.version(r.pk, "v1").await.unwrap().unwrap().sealed,
            Some(sealed("v1"))
        );
    }

    pub async fn missing_secret_is_not_found(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "gone", Some("v1")).await;
        store.delete_secret(r.pk).await.unwrap();
        let pk = r.pk;
        assert_eq!(
            store
                .put_version(pk, version("v2", T0), StageRequest::Default, i64::MIN)
                .await
                .unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            store
                .update_version_stage(pk, "x", Some("v1"), None, T0)
                .await
                .unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            store
                .tag_secret(pk, &[tag("k", "v")], T0)
                .await
                .unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            store
                .untag_secret(pk, &strings(&["k"]), T0)
                .await
                .unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            store
                .update_metadata(pk, MetadataUpdate::default(), T0)
                .await
                .unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            store.schedule_deletion(pk, T0, T0 + DAY).await.unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            store.restore_secret(pk, T0).await.unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(store.version(pk, "v1").await.unwrap(), None);
        assert!(store.versions(pk).await.unwrap().is_empty());
        // Nothing was created as a side effect.
        assert_eq!(
            store
                .find_secret(&us(), SecretLookup::Arn(&r.arn))
                .await
                .unwrap(),
            None
        );
    }

    pub async fn update_version_stage_rules(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "stages", Some("v1")).await;
        put(&store, r.pk, "v2", T0 + 1, explicit(&[PENDING])).await;
        put(&store, r.pk, "v3", T0 + 2, explicit(&["blue"])).await;
        let before = reload(&store, &r).await;
        assert_eq!(
            before.labels,
            label_map(&[(CURRENT, "v1"), (PENDING, "v2"), ("blue", "v3")])
        );

        let stage_err = |e: StoreError| match e {
            StoreError::Stage(s) => s,
            other => panic!("expected StoreError::Stage, got {other:?}"),
        };
        let cases: Vec<(&str, Option<&str>, Option<&str>, StageError)> = vec![
            (
                CURRENT,
                Some("v2"),
                None,
                StageError::MustRemoveFrom {
                    stage: CURRENT.into(),
                    current: "v1".into(),
                },
            ),
            (
                CURRENT,
                Some("v2"),
                Some("v3"),
                StageError::NotAttached {
                    stage: CURRENT.into(),
                    version: "v3".into(),
                },
            ),
            (CURRENT, None, Some("v1"), StageError::CannotRemoveCurrent),
            (
                PENDING,
                None,
                Some("v1"),
                StageError::NotAttached {
                    stage: PENDING.into(),
                    version: "v1".into(),
                },
            ),
            (
                "green",
                Some("v1"),
                Some("v2"),
                StageError::NotAttached {
                    stage: "green".into(),
                    version: "v2".into(),
                },
            ),
            (
                "x",
                Some("nope"),
                None,
                StageError::VersionNotFound("nope".into()),
            ),
            (
                "x",
                None,
                Some("nope"),
                StageError::VersionNotFound("nope".into()),
            ),
            (
                PENDING,
                Some("v1"),
                Some("nope"),
                StageError::VersionNotFound("nope".into()),
            ),
        ];
        for (stage, move_to, remove_from, expected) in cases {
            let err = store
                .update_version_stage(r.pk, stage, move_to, remove_from, T0 + 99)
                .await
                .unwrap_err();
            assert_eq!(
                stage_err(err),
                expected,
                "{stage} {move_to:?} {remove_from:?}"
            );
            // A refused change changes nothing, LastChangedDate included.
            assert_eq!(reload(&store, &r).await, before);
        }

        // Moving AWSCURRENT keeps labels already on the target, and AWSPREVIOUS follows.
        store
            .update_version_stage(r.pk, CURRENT, Some("v2"), Some("v1"), T0 + 100)
            .await
            .unwrap();
        let after = reload(&store, &r).await;
        assert_eq!(after.last_changed_ms, T0 + 100);
        assert_eq!(
            after.versions_to_stages(),
            BTreeMap::from([
                ("v1".to_string(), strings(&[PREVIOUS])),
                ("v2".to_string(), strings(&[CURRENT, PENDING])),
                ("v3".to_string(), strings(&["blue"])),
            ])
        );
        // Remove only.
        store
            .update_version_stage(r.pk, PENDING, None, Some("v2"), T0 + 101)
            .await
            .unwrap();
        // Move a custom label; the target keeps its AWSPREVIOUS.
        store
            .update_version_stage(r.pk, "blue", Some("v1"), Some("v3"), T0 + 102)
            .await
            .unwrap();
        assert_eq!(
            stages_by_version(&store, r.pk).await,
            BTreeMap::from([
                ("v1".to_string(), strings(&[PREVIOUS, "blue"])),
                ("v2".to_string(), strings(&[CURRENT])),
            ])
        );
        // Moving AWSCURRENT back onto the AWSPREVIOUS holder swaps them.
        store
            .update_version_stage(r.pk, CURRENT, Some("v1"), Some("v2"), T0 + 103)
            .await
            .unwrap();
        assert_eq!(
            reload(&store, &r).await.labels,
            label_map(&[(CURRENT, "v1"), (PREVIOUS, "v2"), ("blue", "v1")])
        );
        // Moving AWSCURRENT to a third version: the old AWSPREVIOUS holder loses it.
        store
            .update_version_stage(r.pk, CURRENT, Some("v3"), Some("v1"), T0 + 104)
            .await
            .unwrap();
        assert_eq!(
            reload(&store, &r).await.labels,
            label_map(&[(CURRENT, "v3"), (PREVIOUS, "v1"), ("blue", "v1")])
        );
        // No-ops succeed: onto its own holder, and neither target given.
        let before = reload(&store, &r).await.labels;
        store
            .update_version_stage(r.pk, CURRENT, Some("v3"), None, T0 + 105)
            .await
            .unwrap();
        store
            .update_version_stage(r.pk, "blue", Some("v1"), Some("v1"), T0 + 106)
            .await
            .unwrap();
        store
            .update_version_stage(r.pk, "x", None, None, T0 + 107)
            .await
            .unwrap();
        assert_eq!(reload(&store, &r).await.labels, before);
    }

    pub async fn update_metadata_fields(store: Arc<dyn Store>) {
        let mut n = new_secret(&us(), "meta", T0);
        n.description = Some("old".into());
        n.kms_key_id = Some("alias/aws/secretsmanager".into());
        n.secret_type = Some("t1".into());
        let r = store.create_secret(n, None).await.unwrap();
        store
            .update_metadata(
                r.pk,
                MetadataUpdate {
                    description: Some("new".into()),
                    ..MetadataUpdate::default()
                },
                T0 + 5,
            )
            .await
            .unwrap();
        let a = reload(&store, &r).await;
        assert_eq!(a.description.as_deref(), Some("new"));
        assert_eq!(a.kms_key_id.as_deref(), Some("alias/aws/secretsmanager"));
        assert_eq!(a.secret_type.as_deref(), Some("t1"));
        assert_eq!(a.last_changed_ms, T0 + 5);
        store
            .update_metadata(
                r.pk,
                MetadataUpdate {
                    kms_key_id: Some(None),
                    secret_type: Some("t2".into()),
                    ..MetadataUpdate::default()
                },
                T0 + 6,
            )
            .await
            .unwrap();
        let b = reload(&store, &r).await;
        assert_eq!(b.kms_key_id, None);
        assert_eq!(b.secret_type.as_deref(), Some("t2"));
        assert_eq!(b.description.as_deref(), Some("new"));
        store
            .update_metadata(r.pk, MetadataUpdate::default(), T0 + 7)
            .await
            .unwrap();
        let c = reload(&store, &r).await;
        assert_eq!(c.last_changed_ms, T0 + 7);
        assert_eq!(c.created_ms, T0);
        assert_eq!(
            (c.description, c.kms_key_id, c.secret_type),
            (b.description, b.kms_key_id, b.secret_type)
        );
    }

    pub async fn tags_none_vs_empty_and_overwrite(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "tagged", None).await;
        assert_eq!(r.tags, None);
        // Untagging a never-tagged secret leaves it never-tagged.
        store
            .untag_secret(r.pk, &strings(&["k"]), T0 + 1)
            .await
            .unwrap();
        assert_eq!(reload(&store, &r).await.tags, None);

        store
            .tag_secret(r.pk, &[tag("k1", "v1"), tag("k2", "v2")], T0 + 2)
            .await
            .unwrap();
        let a = reload(&store, &r).await;
        assert_eq!(a.tags, Some(vec![tag("k1", "v1"), tag("k2", "v2")]));
        assert_eq!(a.last_changed_ms, T0 + 2);
        // Overwrite by key; keys are case-sensitive.
        store
            .tag_secret(
                r.pk,
                &[tag("k1", "new"), tag("k3", "v3"), tag("K1", "upper")],
                T0 + 3,
            )
            .await
            .unwrap();
        assert_eq!(
            sorted_tags(reload(&store, &r).await.tags),
            Some(vec![
                ("K1".into(), "upper".into()),
                ("k1".into(), "new".into()),
                ("k2".into(), "v2".into()),
                ("k3".into(), "v3".into()),
            ])
        );
        // Missing keys are ignored.
        store
            .untag_secret(r.pk, &strings(&["k1", "missing", "K1"]), T0 + 4)
            .await
            .unwrap();
        let b = reload(&store, &r).await;
        assert_eq!(
            sorted_tags(b.tags),
            Some(vec![("k2".into(), "v2".into()), ("k3".into(), "v3".into())])
        );
        assert_eq!(b.last_changed_ms, T0 + 4);
        // Removing the last tag leaves Some([]), not None.
        store
            .untag_secret(r.pk, &strings(&["k2", "k3"]), T0 + 5)
            .await
            .unwrap();
        assert_eq!(reload(&store, &r).await.tags, Some(vec![]));

        // Created with an empty tag list: Some([]); with tags: exactly those.
        let mut n = new_secret(&us(), "empty-tags", T0);
        n.tags = Some(vec![]);
        let e = store.create_secret(n, None).await.unwrap();
        assert_eq!(e.tags, Some(vec![]));
        assert_eq!(reload(&store, &e).await.tags, Some(vec![]));
        let mut n = new_secret(&us(), "with-tags", T0);
        n.tags = Some(vec![tag("a", ""), tag("b", "2")]);
        let w = store.create_secret(n, None).await.unwrap();
        assert_eq!(w.tags, Some(vec![tag("a", ""), tag("b", "2")]));
        assert_eq!(reload(&store, &w).await.tags, w.tags);
    }

    pub async fn tag_quota(store: Arc<dyn Store>) {
        let fifty: Vec<Tag> = (0..MAX_TAGS_PER_SECRET)
            .map(|i| tag(&format!("k{i:02}"), "v"))
            .collect();
        let mut n = new_secret(&us(), "full", T0);
        n.tags = Some(fifty.clone());
        let full = store.create_secret(n, None).await.unwrap();
        let before = reload(&store, &full).await;
        assert_eq!(before.tags.as_ref().map(Vec::len), Some(50));
        let err = store
            .tag_secret(full.pk, &[tag("one-more", "v")], T0 + 1)
            .await
            .unwrap_err();
        assert_eq!(err, StoreError::TooManyTags);
        assert_eq!(
            reload(&store, &full).await,
            before,
            "a refused tag changes nothing"
        );
        // Overwriting at the quota is fine.
        store
            .tag_secret(full.pk, &[tag("k07", "changed")], T0 + 2)
            .await
            .unwrap();
        let after = reload(&store, &full).await.tags.unwrap();
        assert_eq!(after.len(), 50);
        assert!(after.contains(&tag("k07", "changed")));
        // Remove one, add one: back at 50.
        store
            .untag_secret(full.pk, &strings(&["k00"]), T0 + 3)
            .await
            .unwrap();
        store
            .tag_secret(full.pk, &[tag("new", "v")], T0 + 4)
            .await
            .unwrap();
        assert_eq!(reload(&store, &full).await.tags.unwrap().len(), 50);

        let fresh = create(&store, &us(), "fresh", None).await;
        let fifty_one: Vec<Tag> = (0..=MAX_TAGS_PER_SECRET)
            .map(|i| tag(&format!("k{i:02}"), "v"))
            .collect();
        assert_eq!(
            store
                .tag_secret(fresh.pk, &fifty_one, T0 + 1)
                .await
                .unwrap_err(),
            StoreError::TooManyTags
        );
        assert_eq!(reload(&store, &fresh).await.tags, None);
        store.tag_secret(fresh.pk, &fifty, T0 + 2).await.unwrap();
        assert_eq!(reload(&store, &fresh).await.tags.unwrap().len(), 50);
    }

    pub async fn deletion_restore_delete(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "doomed", Some("v1")).await;
        put(&store, r.pk, "v2", T0 + 1, StageRequest::Default).await;
        store
            .schedule_deletion(r.pk, T0 + 10, T0 + 10 + 7 * DAY)
            .await
            .unwrap();
        let d = reload(&store, &r).await;
        assert_eq!(d.deleted_ms, Some(T0 + 10));
        assert_eq!(d.deletion_ms, Some(T0 + 10 + 7 * DAY));
        assert!(d.is_deleted());
        // Versions and labels survive a scheduled deletion.
        assert_eq!(d.labels, label_map(&[(CURRENT, "v2"), (PREVIOUS, "v1")]));
        assert_eq!(version_ids(&store, r.pk).await, strings(&["v1", "v2"]));

        store.restore_secret(r.pk, T0 + 20).await.unwrap();
        let back = reload(&store, &r).await;
        assert_eq!((back.deleted_ms, back.deletion_ms), (None, None));
        assert!(!back.is_deleted());
        assert_eq!(back.labels, d.labels);

        store.delete_secret(r.pk).await.unwrap();
        assert_eq!(
            store
                .find_secret(&us(), SecretLookup::Name("doomed"))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .find_secret(&us(), SecretLookup::Arn(&r.arn))
                .await
                .unwrap(),
            None
        );
        assert!(store.versions(r.pk).await.unwrap().is_empty());
        assert_eq!(store.version(r.pk, "v1").await.unwrap(), None);
        // The name is free again, and the new secret starts clean.
        let again = create(&store, &us(), "doomed", None).await;
        assert_ne!(again.arn, r.arn);
        assert!(again.labels.is_empty());
        assert!(store.versions(again.pk).await.unwrap().is_empty());
        put(&store, again.pk, "v1", T0 + 30, StageRequest::Default).await;
        assert_eq!(version_ids(&store, again.pk).await, strings(&["v1"]));
    }

    pub async fn purge_expired_at_now(store: Arc<dyn Store>) {
        let b = create(&store, &us(), "b", Some("v1")).await;
        let c = create(&store, &us(), "c", Some("v1")).await;
        let d = create(&store, &us(), "d", Some("v1")).await;
        let e = create(&store, &us(), "e", Some("v1")).await;
        let other = create(&store, &scope(OTHER_ACCOUNT, "ap-south-1"), "b", Some("v1")).await;
        store.schedule_deletion(b.pk, T0, T0 + 1000).await.unwrap();
        store.schedule_deletion(c.pk, T0, T0 + 2000).await.unwrap();
        store.schedule_deletion(e.pk, T0, T0 + 1000).await.unwrap();
        store.restore_secret(e.pk, T0 + 1).await.unwrap();
        store
            .schedule_deletion(other.pk, T0, T0 + 1500)
            .await
            .unwrap();

        assert_eq!(store.purge_expired(T0 + 999).await.unwrap(), 0);
        assert!(
            store
                .find_secret(&us(), SecretLookup::Name("b"))
                .await
                .unwrap()
                .is_some()
        );
        // The deletion time itself counts as expired.
        assert_eq!(store.purge_expired(T0 + 1000).await.unwrap(), 1);
        assert_eq!(
            store
                .find_secret(&us(), SecretLookup::Name("b"))
                .await
                .unwrap(),
            None
        );
        assert!(store.versions(b.pk).await.unwrap().is_empty());
        assert_eq!(store.purge_expired(T0 + 1000).await.unwrap(), 0);
        // Purging is across all scopes.
        assert_eq!(store.purge_expired(T0 + 5000).await.unwrap(), 2);
        assert_eq!(
            store
                .find_secret(&us(), SecretLookup::Name("c"))
                .await
                .unwrap(),
            None
        );
        assert_eq!(other.scope(), scope(OTHER_ACCOUNT, "ap-south-1"));
        assert_eq!(
            store
                .find_secret(&other.scope(), SecretLookup::Name("b"))
                .await
                .unwrap(),
            None
        );
        // Never scheduled, or restored: kept, with their versions.
        for r in [&d, &e] {
            let kept = reload(&store, r).await;
            assert_eq!(kept.labels, label_map(&[(CURRENT, "v1")]));
            assert_eq!(version_ids(&store, r.pk).await, strings(&["v1"]));
        }
        assert_eq!(store.purge_expired(i64::MAX).await.unwrap(), 0);
        // A purged name can be reused.
        create(&store, &us(), "b", Some("v1")).await;
    }

    pub async fn counts_secrets_and_versions(store: Arc<dyn Store>) {
        assert_eq!(store.counts().await.unwrap(), StoreCounts::default());
        let a = create(&store, &us(), "a", Some("v1")).await;
        put(&store, a.pk, "v2", T0 + 1, StageRequest::Default).await;
        create(&store, &scope(OTHER_ACCOUNT, "ap-south-1"), "b", None).await;
        assert_eq!(
            store.counts().await.unwrap(),
            StoreCounts {
                secrets: 2,
                versions: 2
            }
        );
        store.delete_secret(a.pk).await.unwrap();
        assert_eq!(
            store.counts().await.unwrap(),
            StoreCounts {
                secrets: 1,
                versions: 0
            }
        );
    }

    pub async fn record_access_is_monotonic(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "read-me", Some("v1")).await;
        put(&store, r.pk, "v2", T0 + 1, StageRequest::Default).await;
        let changed = reload(&store, &r).await.last_changed_ms;
        let accessed = |rec: &SecretRecord| rec.last_accessed_ms;
        let v_accessed = |id: &'static str| {
            let store = store.clone();
            let pk = r.pk;
            async move {
                store
                    .version(pk, id)
                    .await
                    .unwrap()
                    .unwrap()
                    .last_accessed_ms
            }
        };
        store.record_access(r.pk, "v1", 2 * DAY).await.unwrap();
        assert_eq!(accessed(&reload(&store, &r).await), Some(2 * DAY));
        assert_eq!(v_accessed("v1").await, Some(2 * DAY));
        assert_eq!(v_accessed("v2").await, None);
        // An older day never moves it back.
        store.record_access(r.pk, "v1", DAY).await.unwrap();
        assert_eq!(accessed(&reload(&store, &r).await), Some(2 * DAY));
        assert_eq!(v_accessed("v1").await, Some(2 * DAY));
        // Per version: v2's first read is older than the secret's last read.
        store.record_access(r.pk, "v2", DAY).await.unwrap();
        assert_eq!(accessed(&reload(&store, &r).await), Some(2 * DAY));
        assert_eq!(v_accessed("v2").await, Some(DAY));
        store.record_access(r.pk, "v2", 3 * DAY).await.unwrap();
        assert_eq!(accessed(&reload(&store, &r).await), Some(3 * DAY));
        assert_eq!(v_accessed("v2").await, Some(3 * DAY));
        assert_eq!(v_accessed("v1").await, Some(2 * DAY));
        // Reads are not changes.
        assert_eq!(reload(&store, &r).await.last_changed_ms, changed);
        // Version records in versions() carry it too.
        let all = store.versions(r.pk).await.unwrap();
        assert_eq!(
            all.iter().map(|v| v.last_accessed_ms).collect::<Vec<_>>(),
            vec![Some(2 * DAY), Some(3 * DAY)]
        );
    }

    /// The expected order of a listing: by the sort value, ties broken by primary key, both in
    /// the query's direction. Names compare byte-wise; a never-read secret sorts as the oldest
    /// read.
    fn expected_order(records: &[SecretRecord], sort: SortKey, descending: bool) -> Vec<String> {
        let mut sorted = records.to_vec();
        sorted.sort_by(|a, b| {
            let ord = match sort {
                SortKey::Created => a.created_ms.cmp(&b.created_ms),
                SortKey::LastChanged => a.last_changed_ms.cmp(&b.last_changed_ms),
                SortKey::LastAccessed => a.last_accessed_ms.cmp(&b.last_accessed_ms),
                SortKey::Name => a.name.as_bytes().cmp(b.name.as_bytes()),
            };
            ord.then(a.pk.cmp(&b.pk))
        });
        if descending {
            sorted.reverse();
        }
        names(&sorted)
    }

    pub async fn list_every_sort_key_both_directions(store: Arc<dyn Store>) {
        let s = us();
        // Names chosen so byte order differs from case-insensitive or locale order.
        let base = [
            "alpha", "Alpha", "beta-x", "beta/x", "beta_x", "betax", "Zeta", "zeta", "a", "a-1",
            "a1", "A", "m/n/o", "m-n", "mm", "b", "B", "c", "cc", "c-c", "y", "x", "q",
        ];
        let mut created = Vec::new();
        for (i, name) in base.iter().enumerate() {
            let i = i as i64;
            // Ties on every numeric column, so the primary-key tie break matters.
            let n = new_secret(&s, name, T0 + (i * 5 % 7) * 1000);
            let r = store
                .create_secret(n, Some(version("v1", T0)))
                .await
                .unwrap();
            if i % 2 == 0 {
                store
                    .tag_secret(
                        r.pk,
                        &[tag("n", &i.to_string())],
                        T0 + 100_000 + (i * 3 % 4) * 1000,
                    )
                    .await
                    .unwrap();
            }
            if i % 3 != 0 {
                store
                    .record_access(r.pk, "v1", (i % 4 + 1) * DAY)
                    .await
                    .unwrap();
            }
            created.push(r);
        }
        // Never listed: another scope, and a secret scheduled for deletion.
        create(&store, &scope(ACCOUNT, "eu-west-1"), "alpha", None).await;
        create(&store, &scope(OTHER_ACCOUNT, "us-east-1"), "alpha", None).await;
        let doomed = create(&store, &s, "doomed", None).await;
        store
            .schedule_deletion(doomed.pk, T0, T0 + DAY)
            .await
            .unwrap();

        let mut records = Vec::new();
        for r in &created {
            records.push(reload(&store, r).await);
        }
        let by_name: BTreeMap<String, SecretRecord> = records
            .iter()
            .map(|r| (r.name.clone(), r.clone()))
            .collect();
        for sort in [
            SortKey::Created,
            SortKey::LastAccessed,
            SortKey::LastChanged,
            SortKey::Name,
        ] {
            for descending in [false, true] {
                let expected = expected_order(&records, sort, descending);
                for limit in [1, 2, 5, 22, 23, 24, 100] {
                    let (listed, sizes) =
                        list_all(&store, &s, &query(sort, descending, limit)).await;
                    assert_eq!(
                        names(&listed),
                        expected,
                        "sort {sort:?} descending {descending} limit {limit}"
                    );
                    assert_eq!(sizes.len(), base.len().div_ceil(limit).max(1));
                    // Pages carry full records, labels and tags included.
                    for r in &listed {
                        assert_eq!(r, &by_name[&r.name]);
                    }
                }
            }
        }
    }

    pub async fn list_filters_across_scan_batches(store: Arc<dyn Store>) {
        // Far more non-matching secrets than a backend is likely to scan per step, with matches
        // at the start, in the middle, across a step boundary and at the end.
        let s = us();
        let matches_at = [0usize, 100, 255, 256, 257, 400];
        let mut expected_match = Vec::new();
        let mut expected_needle = Vec::new();
        for i in 0..=400usize {
            let is_match = matches_at.contains(&i);
            let name = if is_match {
                format!("match-{i:03}")
            } else {
                format!("noise-{i:03}")
            };
            let mut n = new_secret(&s, &name, T0 + i as i64);
            if i % 200 == 0 || i == 255 {
                n.description = Some("find the needle here".into());
                expected_needle.push(name.clone());
            }
            if is_match {
                n.tags = Some(vec![tag("team", "red")]);
                expected_match.push(name.clone());
            }
            store.create_secret(n, None).await.unwrap();
        }
        let expected_both: Vec<String> = expected_match
            .iter()
            .filter(|n| expected_needle.contains(n))
            .cloned()
            .collect();
        assert_eq!(
            expected_both,
            strings(&["match-000", "match-255", "match-400"])
        );
        let cases: Vec<(Vec<Filter>, Vec<String>)> = vec![
            (
                vec![Filter::new(FilterKey::Name, ["match"])],
                expected_match.clone(),
            ),
            (
                vec![Filter::new(FilterKey::Name, ["!noise"])],
                expected_match.clone(),
            ),
            (
                vec![Filter::new(FilterKey::TagValue, ["red"])],
                expected_match.clone(),
            ),
            (
                vec![Filter::new(FilterKey::Description, ["needle"])],
                expected_needle.clone(),
            ),
            (
                vec![
                    Filter::new(FilterKey::TagKey, ["team"]),
                    Filter::new(FilterKey::Description, ["needle"]),
                ],
                expected_both.clone(),
            ),
            (
                vec![Filter::new(
                    FilterKey::Name,
                    ["match-1", "match-4", "nothing"],
                )],
                strings(&["match-100", "match-400"]),
            ),
            (vec![Filter::new(FilterKey::Name, ["zzz"])], vec![]),
        ];
        for (filters, expected) in cases {
            for descending in [false, true] {
                let mut expected = expected.clone();
                if descending {
                    expected.reverse();
                }
                for limit in [1, 2, 3, 100] {
                    let mut q = query(SortKey::Created, descending, limit);
                    q.filters = filters.clone();
                    let (listed, _) = list_all(&store, &s, &q).await;
                    assert_eq!(
                        names(&listed),
                        expected,
                        "{filters:?} limit {limit} desc {descending}"
                    );
                }
                let mut q = query(SortKey::Name, descending, 2);
                q.filters = filters.clone();
                let (listed, _) = list_all(&store, &s, &q).await;
                expected.sort();
                if descending {
                    expected.reverse();
                }
                assert_eq!(names(&listed), expected, "{filters:?} by name");
            }
        }
    }

    pub async fn list_include_deleted_and_now(store: Arc<dyn Store>) {
        let s = us();
        let live = store
            .create_secret(new_secret(&s, "live", T0), None)
            .await
            .unwrap();
        let sched = store
            .create_secret(new_secret(&s, "sched", T0 + 1), None)
            .await
            .unwrap();
        let expired = store
            .create_secret(new_secret(&s, "expired", T0 + 2), None)
            .await
            .unwrap();
        store
            .schedule_deletion(sched.pk, T0 + 10, T0 + 1000)
            .await
            .unwrap();
        store
            .schedule_deletion(expired.pk, T0 + 10, T0 + 500)
            .await
            .unwrap();
        let list = |include_deleted: bool, now: EpochMillis| {
            let store = store.clone();
            let s = s.clone();
            async move {
                let mut q = query(SortKey::Created, false, 1);
                q.include_deleted = include_deleted;
                q.now = now;
                names(&list_all(&store, &s, &q).await.0)
            }
        };
        assert_eq!(list(false, T0 + 100).await, strings(&["live"]));
        assert_eq!(
            list(true, T0 + 100).await,
            strings(&["live", "sched", "expired"])
        );
        assert_eq!(
            list(true, T0 + 499).await,
            strings(&["live", "sched", "expired"])
        );
        // At or past its deletion time a secret counts as gone, even before it is purged.
        assert_eq!(list(true, T0 + 500).await, strings(&["live", "sched"]));
        assert_eq!(list(true, T0 + 1000).await, strings(&["live"]));
        assert_eq!(list(false, T0 + 1000).await, strings(&["live"]));
        // Restored: listed again.
        store.restore_secret(sched.pk, T0 + 20).await.unwrap();
        assert_eq!(list(false, T0 + 2000).await, strings(&["live", "sched"]));
        assert_eq!(live.deleted_ms, None);
    }

    pub async fn list_pages_stable_under_inserts_and_deletes(store: Arc<dyn Store>) {
        // By creation date, ascending.
        let s = scope(ACCOUNT, "us-west-2");
        let mut recs = Vec::new();
        for i in 0..10 {
            let n = new_secret(&s, &format!("s{i}"), T0 + i * 10);
            recs.push(store.create_secret(n, None).await.unwrap());
        }
        let q = query(SortKey::Created, false, 4);
        let page1 = store.list_secrets(&s, &q).await.unwrap();
        assert_eq!(names(&page1.secrets), strings(&["s0", "s1", "s2", "s3"]));
        let cursor: Cursor = page1.next.clone().expect("more pages");
        // Between pages: one inserted before the cursor (not seen), one tied with the last
        // returned secret (after it by primary key, so seen), one at the end (seen); one not yet
        // returned deleted, one scheduled for deletion, one already returned deleted.
        store
            .create_secret(new_secret(&s, "early", T0 - 5), None)
            .await
            .unwrap();
        store
            .create_secret(new_secret(&s, "tie", T0 + 30), None)
            .await
            .unwrap();
        store
            .create_secret(new_secret(&s, "late", T0 + 1000), None)
            .await
            .unwrap();
        store.delete_secret(recs[5].pk).await.unwrap();
        store
            .schedule_deletion(recs[6].pk, T0, T0 + DAY)
            .await
            .unwrap();
        store.delete_secret(recs[1].pk).await.unwrap();
        let mut rest = Vec::new();
        let mut q2 = q.clone();
        q2.after = Some(cursor);
        loop {
            let page = store.list_secrets(&s, &q2).await.unwrap();
            rest.extend(names(&page.secrets));
            match page.next {
                Some(c) => q2.after = Some(c),
                None => break,
            }
        }
        assert_eq!(rest, strings(&["tie", "s4", "s7", "s8", "s9", "late"]));

        // By name, descending, with a secret inserted on each side of the cursor.
        let s = scope(ACCOUNT, "ca-central-1");
        let mut recs = Vec::new();
        for i in 0..10 {
            let n = new_secret(&s, &format!("n{i:02}"), T0);
            recs.push(store.create_secret(n, None).await.unwrap());
        }
        let q = query(SortKey::Name, true, 4);
        let page1 = store.list_secrets(&s, &q).await.unwrap();
        assert_eq!(
            names(&page1.secrets),
            strings(&["n09", "n08", "n07", "n06"])
        );
        store
            .create_secret(new_secret(&s, "n065", T0), None)
            .await
            .unwrap();
        store
            .create_secret(new_secret(&s, "n055", T0), None)
            .await
            .unwrap();
        store
            .create_secret(new_secret(&s, "n10", T0), None)
            .await
            .unwrap();
        store.delete_secret(recs[4].pk).await.unwrap();
        let mut q2 = q.clone();
        q2.after = page1.next;
        let mut rest = Vec::new();
        while q2.after.is_some() {
            let page = store.list_secrets(&s, &q2).await.unwrap();
            rest.extend(names(&page.secrets));
            q2.after = page.next;
        }
        assert_eq!(rest, strings(&["n055", "n05", "n03", "n02", "n01", "n00"]));

        // A cursor whose secret was deleted still positions correctly.
        let s = scope(ACCOUNT, "sa-east-1");
        let mut recs = Vec::new();
        for i in 0..6 {
            let n = new_secret(&s, &format!("d{i}"), T0 + i);
            recs.push(store.create_secret(n, None).await.unwrap());
        }
        let q = query(SortKey::LastChanged, true, 2);
        let page1 = store.list_secrets(&s, &q).await.unwrap();
        assert_eq!(names(&page1.secrets), strings(&["d5", "d4"]));
        store.delete_secret(recs[4].pk).await.unwrap();
        let mut q2 = q.clone();
        q2.after = page1.next;
        let page2 = store.list_secrets(&s, &q2).await.unwrap();
        assert_eq!(names(&page2.secrets), strings(&["d3", "d2"]));
    }

    pub async fn version_pruning(store: Arc<dyn Store>) {
        assert_eq!(MAX_VERSIONS_PER_SECRET, 100);
        let r = create(&store, &us(), "many", Some("v000")).await;
        store
            .update_version_stage(r.pk, "keep", Some("v000"), None, T0)
            .await
            .unwrap();
        for i in 1..100 {
            put(
                &store,
                r.pk,
                &format!("v{i:03}"),
                T0 + i,
                StageRequest::Default,
            )
            .await;
        }
        assert_eq!(version_ids(&store, r.pk).await.len(), 100);
        let before = reload(&store, &r).await;
        assert_eq!(
            before.labels,
            label_map(&[(CURRENT, "v099"), (PREVIOUS, "v098"), ("keep", "v000")])
        );
        // Over the quota, only unlabelled versions created before prune_before may go. Here the
        // only version old enough carries a label, and v001 was created exactly at the bound.
        for prune_before in [i64::MIN, T0, T0 + 1] {
            let err = store
                .put_version(
                    r.pk,
                    version("v100", T0 + 100),
                    StageRequest::Default,
                    prune_before,
                )
                .await
                .unwrap_err();
            assert_eq!(
                err,
                StoreError::TooManyVersions,
                "prune_before {prune_before}"
            );
            assert_eq!(store.version(r.pk, "v100").await.unwrap(), None);
            assert_eq!(
                reload(&store, &r).await,
                before,
                "a refused put changes nothing"
            );
            assert_eq!(version_ids(&store, r.pk).await.len(), 100);
        }
        // Labelled versions are never pruned, whatever their age.
        let err = store
            .put_version(r.pk, version("v100", T0 + 100), explicit(&["x"]), T0 + 1)
            .await
            .unwrap_err();
        assert_eq!(err, StoreError::TooManyVersions);

        // v001 is old enough now: exactly one version goes, the oldest unlabelled one.
        let labels = store
            .put_version(
                r.pk,
                version("v100", T0 + 100),
                StageRequest::Default,
                T0 + 2,
            )
            .await
            .unwrap();
        assert_eq!(labels, strings(&[CURRENT]));
        let ids = version_ids(&store, r.pk).await;
        assert_eq!(ids.len(), 100);
        assert_eq!(&ids[..3], &strings(&["v000", "v002", "v003"])[..]);
        assert_eq!(store.version(r.pk, "v001").await.unwrap(), None);
        assert_eq!(
            reload(&store, &r).await.labels,
            label_map(&[(CURRENT, "v100"), (PREVIOUS, "v099"), ("keep", "v000")])
        );
        // Even with everything old enough, only as many as needed go, oldest first.
        store
            .put_version(
                r.pk,
                version("v101", T0 + 101),
                StageRequest::Default,
                i64::MAX,
            )
            .await
            .unwrap();
        let ids = version_ids(&store, r.pk).await;
        assert_eq!(ids.len(), 100);
        assert_eq!(&ids[..3], &strings(&["v000", "v003", "v004"])[..]);
        assert_eq!(ids.last().map(String::as_str), Some("v101"));
        assert!(store.version(r.pk, "v000").await.unwrap().is_some());
        assert!(
            store.version(r.pk, "v099").await.unwrap().is_some(),
            "AWSPREVIOUS until now"
        );
        // Other secrets are unaffected.
        let small = create(&store, &us(), "small", Some("s1")).await;
        put(&store, small.pk, "s2", T0 + 1, StageRequest::Default).await;
        store
            .put_version(
                small.pk,
                version("s3", T0 + 2),
                StageRequest::Default,
                i64::MAX,
            )
            .await
            .unwrap();
        assert_eq!(
            version_ids(&store, small.pk).await,
            strings(&["s1", "s2", "s3"])
        );
    }

    pub async fn meta_init_keeps_first_value(store: Arc<dyn Store>) {
        assert_eq!(store.meta_get("account_id").await.unwrap(), None);
        assert_eq!(
            store.meta_init("account_id", "first").await.unwrap(),
            "first"
        );
        assert_eq!(
            store.meta_init("account_id", "second").await.unwrap(),
            "first"
        );
        assert_eq!(
            store.meta_get("account_id").await.unwrap().as_deref(),
            Some("first")
        );
        assert_eq!(store.meta_get("other").await.unwrap(), None);
        assert_eq!(store.meta_init("other", "x").await.unwrap(), "x");
        assert_eq!(
            store.meta_get("account_id").await.unwrap().as_deref(),
            Some("first")
        );
        // Racing initialisers all see the same winner.
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .meta_init("raced", &format!("value-{i}"))
                    .await
                    .unwrap()
            }));
        }
        let mut seen = BTreeSet::new();
        for t in tasks {
            seen.insert(t.await.unwrap());
        }
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(
            store.meta_get("raced").await.unwrap(),
            seen.into_iter().next()
        );
    }

    fn kms(key_id: &str, region: &str, alias: Option<&str>) -> KmsKeyRecord {
        KmsKeyRecord {
            key_id: key_id.into(),
            arn: format!("arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}"),
            account_id: ACCOUNT.into(),
            region: region.into(),
            alias: alias.map(str::to_string),
            material_version: 1,
            sealed_material: format!("material-{key_id}").into_bytes(),
            created_ms: T0,
        }
    }

    type KmsFields = (
        String,
        String,
        String,
        String,
        Option<String>,
        u32,
        Vec<u8>,
        EpochMillis,
    );

    fn kms_fields(k: &KmsKeyRecord) -> KmsFields {
        (
            k.key_id.clone(),
            k.arn.clone(),
            k.account_id.clone(),
            k.region.clone(),
            k.alias.clone(),
            k.material_version,
            k.sealed_material.clone(),
            k.created_ms,
        )
    }

    pub async fn kms_key_alias_conflict_returns_existing(store: Arc<dyn Store>) {
        const ALIAS: &str = "aws/secretsmanager";
        assert!(
            store
                .kms_key_by_alias(ACCOUNT, "us-east-1", ALIAS)
                .await
                .unwrap()
                .is_none()
        );
        let k1 = kms("key-1", "us-east-1", Some(ALIAS));
        let got = store.insert_kms_key(k1.clone()).await.unwrap();
        assert_eq!(kms_fields(&got), kms_fields(&k1));
        // Same alias, same scope: the first key wins and is returned.
        let mut k2 = kms("key-2", "us-east-1", Some(ALIAS));
        k2.material_version = 7;
        let got = store.insert_kms_key(k2).await.unwrap();
        assert_eq!(kms_fields(&got), kms_fields(&k1));
        assert!(store.kms_key_by_id("key-2").await.unwrap().is_none());
        let by_alias = store
            .kms_key_by_alias(ACCOUNT, "us-east-1", ALIAS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kms_fields(&by_alias), kms_fields(&k1));
        let by_id = store.kms_key_by_id("key-1").await.unwrap().unwrap();
        assert_eq!(kms_fields(&by_id), kms_fields(&k1));
        // Same alias in another region is another key.
        let k3 = kms("key-3", "eu-west-1", Some(ALIAS));
        assert_eq!(
            kms_fields(&store.insert_kms_key(k3.clone()).await.unwrap()),
            kms_fields(&k3)
        );
        let eu = store
            .kms_key_by_alias(ACCOUNT, "eu-west-1", ALIAS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(eu.key_id, "key-3");
        // Keys without an alias never conflict.
        for id in ["key-4", "key-5"] {
            let k = kms(id, "us-east-1", None);
            assert_eq!(
                kms_fields(&store.insert_kms_key(k.clone()).await.unwrap()),
                kms_fields(&k)
            );
            assert_eq!(
                kms_fields(&store.kms_key_by_id(id).await.unwrap().unwrap()),
                kms_fields(&k)
            );
        }
        assert!(
            store
                .kms_key_by_alias(ACCOUNT, "us-east-1", "other")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .kms_key_by_alias(OTHER_ACCOUNT, "us-east-1", ALIAS)
                .await
                .unwrap()
                .is_none()
        );
        // Racing creators of one scope's key all get the same key.
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .insert_kms_key(kms(&format!("race-{i}"), "ap-northeast-1", Some(ALIAS)))
                    .await
                    .unwrap()
                    .key_id
            }));
        }
        let mut winners = BTreeSet::new();
        for t in tasks {
            winners.insert(t.await.unwrap());
        }
        assert_eq!(winners.len(), 1, "{winners:?}");
        let stored = store
            .kms_key_by_alias(ACCOUNT, "ap-northeast-1", ALIAS)
            .await
            .unwrap()
            .unwrap();
        assert!(winners.contains(&stored.key_id));
    }

    type KeyFields = (String, String, String, Vec<u8>, bool, EpochMillis);

    fn key_fields(k: &AccessKeyRecord) -> KeyFields {
        (
            k.access_key_id.clone(),
            k.account_id.clone(),
            k.principal_arn.clone(),
            k.sealed_secret.clone(),
            k.active,
            k.created_ms,
        )
    }

    pub async fn iam_generation_moves_with_every_identity_change(store: Arc<dyn Store>) {
        let generation = || async { store.iam_generation().await.unwrap() };
        let mut last = generation().await;
        let key = AccessKeyRecord {
            access_key_id: "AKIAGGGGGGGGGGGGGGGG".into(),
            account_id: ACCOUNT.into(),
            principal_arn: format!("arn:aws:iam::{ACCOUNT}:root"),
            sealed_secret: vec![1, 2, 3],
            active: true,
            created_ms: T0,
        };
        let object = IamObject {
            account_id: ACCOUNT.into(),
            kind: "user".into(),
            key: "alice".into(),
            body: "{}".into(),
        };
        for step in 0..5 {
            match step {
                0 => store.insert_access_key(key.clone()).await.unwrap(),
                1 => assert!(
                    store
                        .set_access_key_active(&key.access_key_id, false)
                        .await
                        .unwrap()
                ),
                2 => assert!(store.delete_access_key(&key.access_key_id).await.unwrap()),
                3 => store
                    .iam_write(vec![IamChange::Insert(object.clone())])
                    .await
                    .unwrap(),
                _ => store
                    .iam_write(vec![IamChange::Delete {
                        account_id: ACCOUNT.into(),
                        kind: "user".into(),
                        key: "alice".into(),
                    }])
                    .await
                    .unwrap(),
            }
            let now = generation().await;
            assert_ne!(now, last, "step {step} left the generation at {now}");
            last = now;
        }
        // Reads and secret writes leave it alone.
        let _ = store.access_keys().await.unwrap();
        create(&store, &us(), "not-an-identity", Some("v1")).await;
        assert_eq!(generation().await, last);
    }

    pub async fn access_keys_round_trip(store: Arc<dyn Store>) {
        assert!(store.access_keys().await.unwrap().is_empty());
        let a = AccessKeyRecord {
            access_key_id: "AKIAAAAAAAAAAAAAAAAA".into(),
            account_id: ACCOUNT.into(),
            principal_arn: format!("arn:aws:iam::{ACCOUNT}:root"),
            sealed_secret: vec![0, 1, 2, 255, 0],
            active: true,
            created_ms: T0,
        };
        let b = AccessKeyRecord {
            access_key_id: "AKIABBBBBBBBBBBBBBBB".into(),
            account_id: OTHER_ACCOUNT.into(),
            principal_arn: format!("arn:aws:iam::{OTHER_ACCOUNT}:user/alice"),
            sealed_secret: vec![9; 60],
            active: false,
            created_ms: T0 + 1,
        };
        store.insert_access_key(a.clone()).await.unwrap();
        store.insert_access_key(b.clone()).await.unwrap();
        let mut got: Vec<KeyFields> = store
            .access_keys()
            .await
            .unwrap()
            .iter()
            .map(key_fields)
            .collect();
        got.sort();
        assert_eq!(got, vec![key_fields(&a), key_fields(&b)]);
        // An id is unique.
        let mut dup = a.clone();
        dup.sealed_secret = vec![7];
        assert!(store.insert_access_key(dup).await.is_err());
        let mut got: Vec<KeyFields> = store
            .access_keys()
            .await
            .unwrap()
            .iter()
            .map(key_fields)
            .collect();
        got.sort();
        assert_eq!(got, vec![key_fields(&a), key_fields(&b)]);
    }

    /// Exactly one AWSCURRENT, at most one AWSPREVIOUS (on another version), and every label
    /// on a listed version, in one `versions()` answer.
    fn check_label_invariants(
        versions: &[VersionRecord],
        require_previous: bool,
    ) -> Result<(), String> {
        let holders = |stage: &str| {
            versions
                .iter()
                .filter(|v| v.stages.iter().any(|s| s == stage))
                .map(|v| v.version_id.clone())
                .collect::<Vec<_>>()
        };
        let current = holders(CURRENT);
        let previous = holders(PREVIOUS);
        if current.len() != 1 {
            return Err(format!(
                "AWSCURRENT on {current:?} of {} versions",
                versions.len()
            ));
        }
        if previous.len() > 1 || (require_previous && previous.is_empty()) {
            return Err(format!(
                "AWSPREVIOUS on {previous:?} of {} versions",
                versions.len()
            ));
        }
        if previous.first() == current.first() {
            return Err(format!("AWSCURRENT and AWSPREVIOUS both on {current:?}"));
        }
        Ok(())
    }

    /// 16 tasks x 6 puts (staying under the version quota, so nothing is pruned).
    pub async fn concurrent_put_version(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "contended", Some("v-initial")).await;
        let mut tasks = Vec::new();
        for t in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..6 {
                    let id = format!("t{t:02}-{i}");
                    let stages = store
                        .put_version(
                            r.pk,
                            version(&id, T0 + 1 + i),
                            StageRequest::Default,
                            i64::MIN,
                        )
                        .await
                        .unwrap_or_else(|e| panic!("put {id}: {e:?}"));
                    assert_eq!(stages, strings(&[CURRENT]));
                    acked.push(id);
                }
                acked
            }));
        }
        let mut acked = Vec::new();
        for t in tasks {
            acked.extend(t.await.unwrap());
        }
        assert_eq!(acked.len(), 96);
        let versions = store.versions(r.pk).await.unwrap();
        assert_eq!(versions.len(), 97);
        check_label_invariants(&versions, true).unwrap();
        for id in &acked {
            let v = store
                .version(r.pk, id)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{id} lost"));
            assert_eq!(v.sealed, Some(sealed(id)));
        }
        let labels = reload(&store, &r).await.labels;
        assert_eq!(labels.len(), 2, "{labels:?}");
        assert!(acked.contains(&labels[CURRENT]));
        assert_ne!(labels[CURRENT], labels[PREVIOUS]);
    }

    /// 16 tasks x 20 puts: far past the version quota, so every put also prunes. Each new
    /// version claims an older creation time than the last (clock skew between nodes), so the
    /// version that just lost AWSPREVIOUS is the one pruned. Readers run alongside and must
    /// always see one consistent state: exactly one AWSCURRENT and one AWSPREVIOUS.
    pub async fn concurrent_put_version_with_pruning_and_readers(store: Arc<dyn Store>) {
        let r = create(&store, &us(), "contended", Some("v-initial")).await;
        put(&store, r.pk, "v-second", T0, StageRequest::Default).await;
        let clock = Arc::new(std::sync::atomic::AtomicI64::new(T0));
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..3 {
            let store = store.clone();
            let done = done.clone();
            let arn = r.arn.clone();
            readers.push(tokio::spawn(async move {
                let mut checks = 0u32;
                while !done.load(std::sync::atomic::Ordering::SeqCst) || checks == 0 {
                    let versions = store.versions(r.pk).await.unwrap();
                    check_label_invariants(&versions, true)
                        .unwrap_or_else(|e| panic!("inconsistent versions() during writes: {e}"));
                    assert!(
                        versions.len() <= MAX_VERSIONS_PER_SECRET,
                        "{}",
                        versions.len()
                    );
                    let found = store
                        .find_secret(&us(), SecretLookup::Arn(&arn))
                        .await
                        .unwrap()
                        .unwrap();
                    assert!(found.labels.contains_key(CURRENT));
                    checks += 1;
                }
                checks
            }));
        }
        let mut tasks = Vec::new();
        for t in 0..16 {
            let store = store.clone();
            let clock = clock.clone();
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..20 {
                    let id = format!("t{t:02}-{i:02}");
                    let created = clock.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) - 1;
                    let stages = store
                        .put_version(r.pk, version(&id, created), StageRequest::Default, i64::MAX)
                        .await
                        .unwrap_or_else(|e| panic!("put {id}: {e:?}"));
                    assert_eq!(stages, strings(&[CURRENT]));
                    acked.push(id);
                }
                acked
            }));
        }
        let mut acked = Vec::new();
        for t in tasks {
            acked.extend(t.await.unwrap());
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        for reader in readers {
            assert!(reader.await.unwrap() > 0);
        }
        assert_eq!(acked.len(), 320);
        let versions = store.versions(r.pk).await.unwrap();
        assert_eq!(versions.len(), MAX_VERSIONS_PER_SECRET);
        check_label_invariants(&versions, true).unwrap();
        let labels = reload(&store, &r).await.labels;
        assert_eq!(labels.len(), 2, "{labels:?}");
        for id in labels.values() {
            assert!(acked.contains(id));
            let v = store.version(r.pk, id).await.unwrap().unwrap();
            assert_eq!(v.sealed, Some(sealed(id)));
        }
        // Every stored version is one that was acknowledged, with its own value.
        for v in &versions {
            assert!(
                ["v-initial", "v-second"].contains(&v.version_id.as_str())
                    || acked.contains(&v.version_id)
            );
            assert_eq!(v.sealed, Some(sealed(&v.version_id)));
        }
    }
}
