//! ListSecrets and BatchGetSecretValue through the official AWS SDK for Rust: filters,
//! sorting, planned deletions and pagination, asserting AWS's documented behaviour.

mod common;

use std::collections::BTreeSet;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::{FilterNameStringType as Key, SortByType, SortOrderType};
use common::sdk::*;
use common::{TestServer, unique};

/// Names of every secret ListSecrets returns with `filters`, in the order returned.
async fn names_with(
    client: &Client,
    filters: Vec<aws_sdk_secretsmanager::types::Filter>,
) -> Vec<String> {
    let out = client
        .list_secrets()
        .set_filters(Some(filters))
        .send()
        .await
        .unwrap();
    assert!(out.next_token().is_none());
    out.secret_list()
        .iter()
        .map(|s| s.name().unwrap().to_string())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn as_set(names: Vec<String>) -> BTreeSet<String> {
    names.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// ListSecrets
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_secrets_entries_carry_metadata() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("list-entry");
    let (arn, v1) = create(&client, &name, "v").await;
    client
        .tag_resource()
        .secret_id(&name)
        .tags(tag("k", "v"))
        .send()
        .await
        .unwrap();
    client
        .update_secret()
        .secret_id(&name)
        .description("described")
        .send()
        .await
        .unwrap();
    let out = client.list_secrets().send().await.unwrap();
    assert_eq!(out.secret_list().len(), 1);
    let entry = &out.secret_list()[0];
    assert_eq!(entry.arn(), Some(arn.as_str()));
    assert_eq!(entry.name(), Some(name.as_str()));
    assert_eq!(entry.description(), Some("described"));
    assert_eq!(entry.tags().len(), 1);
    assert!(entry.kms_key_id.is_none());
    assert!(entry.created_date().is_some());
    assert!(entry.last_changed_date().is_some());
    assert!(entry.deleted_date.is_none());
    // In ListSecrets the version map is SecretVersionsToStages.
    assert_eq!(
        sorted_map(entry.secret_versions_to_stages.clone().unwrap()),
        [(v1, strings(&["AWSCURRENT"]))].into_iter().collect()
    );
}

#[tokio::test]
async fn list_secrets_filters() {
    let server = TestServer::start().await;
    let client = server.client();
    let p = unique("f");
    let prod_db = format!("{p}/prod/db");
    let prod_api = format!("{p}/prod/api");
    let dev_db = format!("{p}/dev/db");
    let other = format!("other-{p}");
    client
        .create_secret()
        .name(&prod_db)
        .secret_string("1")
        .description("primary database password")
        .tags(tag("env", "production"))
        .tags(tag("Team", "storage"))
        .send()
        .await
        .unwrap();
    client
        .create_secret()
        .name(&prod_api)
        .secret_string("2")
        .description("API key")
        .tags(tag("env", "production"))
        .send()
        .await
        .unwrap();
    client
        .create_secret()
        .name(&dev_db)
        .secret_string("3")
        .description("Database for development")
        .tags(tag("env", "development"))
        .send()
        .await
        .unwrap();
    client
        .create_secret()
        .name(&other)
        .secret_string("4")
        .send()
        .await
        .unwrap();

    // name: case-sensitive prefix.
    assert_eq!(
        as_set(names_with(&client, vec![filter(Key::Name, &[&format!("{p}/prod")])]).await),
        set(&[&prod_db, &prod_api])
    );
    assert!(
        names_with(&client, vec![filter(Key::Name, &[&format!("{p}/PROD")])])
            .await
            .is_empty()
    );
    // Values inside one filter are ORed.
    assert_eq!(
        as_set(
            names_with(
                &client,
                vec![filter(Key::Name, &[&format!("{p}/dev"), "other-"])]
            )
            .await
        ),
        set(&[&dev_db, &other])
    );
    // Negation: names that do not start with the prefix.
    assert_eq!(
        as_set(names_with(&client, vec![filter(Key::Name, &[&format!("!{p}/prod")])]).await),
        set(&[&dev_db, &other])
    );
    // tag-key and tag-value: case-sensitive prefixes.
    assert_eq!(
        as_set(names_with(&client, vec![filter(Key::TagKey, &["env"])]).await),
        set(&[&prod_db, &prod_api, &dev_db])
    );
    assert_eq!(
        as_set(names_with(&client, vec![filter(Key::TagKey, &["Team"])]).await),
        set(&[&prod_db])
    );
    assert!(
        names_with(&client, vec![filter(Key::TagKey, &["team"])])
            .await
            .is_empty()
    );
    assert_eq!(
        as_set(names_with(&client, vec![filter(Key::TagValue, &["prod"])]).await),
        set(&[&prod_db, &prod_api])
    );
    assert_eq!(
        as_set(names_with(&client, vec![filter(Key::TagValue, &["dev"])]).await),
        set(&[&dev_db])
    );
    // description: case-insensitive word match.
    assert_eq!(
        as_set(names_with(&client, vec![filter(Key::Description, &["database"])]).await),
        set(&[&prod_db, &dev_db])
    );
    // Different filters are ANDed.
    assert_eq!(
        as_set(
            names_with(
                &client,
                vec![
                    filter(Key::Description, &["database"]),
                    filter(Key::TagValue, &["production"]),
                ]
            )
            .await
        ),
        set(&[&prod_db])
    );
    assert_eq!(
        as_set(
            names_with(
                &client,
                vec![
                    filter(Key::Name, &[&p]),
                    filter(Key::TagValue, &["!production"]),
                ]
            )
            .await
        ),
        set(&[&dev_db])
    );
    // all: name, description, tag keys and values, case-insensitive.
    assert_eq!(
        as_set(names_with(&client, vec![filter(Key::All, &["storage"])]).await),
        set(&[&prod_db])
    );
    assert_eq!(
        as_set(names_with(&client, vec![filter(Key::All, &["DEVELOPMENT"])]).await),
        set(&[&dev_db])
    );
}

#[tokio::test]
async fn list_secrets_invalid_filter_key_is_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_code(
        client
            .list_secrets()
            .filters(filter(Key::from("colour"), &["red"]))
            .send()
            .await,
        "ValidationException",
    );
}

#[tokio::test]
async fn list_secrets_excludes_planned_deletion_unless_asked() {
    let server = TestServer::start().await;
    let client = server.client();
    let kept = unique("kept");
    let doomed = unique("doomed");
    create(&client, &kept, "v").await;
    create(&client, &doomed, "v").await;
    client
        .delete_secret()
        .secret_id(&doomed)
        .send()
        .await
        .unwrap();

    let out = client.list_secrets().send().await.unwrap();
    let names: Vec<&str> = out.secret_list().iter().filter_map(|s| s.name()).collect();
    assert_eq!(names, vec![kept.as_str()]);

    let out = client
        .list_secrets()
        .include_planned_deletion(true)
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = out.secret_list().iter().filter_map(|s| s.name()).collect();
    names.sort();
    let mut expected = vec![kept.as_str(), doomed.as_str()];
    expected.sort();
    assert_eq!(names, expected);
    let deleted = out
        .secret_list()
        .iter()
        .find(|s| s.name() == Some(doomed.as_str()))
        .unwrap();
    assert!(deleted.deleted_date().is_some());
}

#[tokio::test]
async fn list_secrets_sort_orders() {
    let server = TestServer::start().await;
    let client = server.client();
    let p = unique("sort");
    // Created in the order b, c, a, one second apart.
    let b = format!("{p}-b");
    let c = format!("{p}-c");
    let a = format!("{p}-a");
    for n in [&b, &c, &a] {
        create(&client, n, "v").await;
        server.clock.advance(1_000);
    }
    // Change c last, read a on a later day.
    client
        .update_secret()
        .secret_id(&c)
        .description("changed")
        .send()
        .await
        .unwrap();
    server.clock.advance(DAY_MS);
    client
        .get_secret_value()
        .secret_id(&a)
        .send()
        .await
        .unwrap();

    let list = |by: Option<SortByType>, order: Option<SortOrderType>| {
        let client = client.clone();
        async move {
            let out = client
                .list_secrets()
                .set_sort_by(by)
                .set_sort_order(order)
                .send()
                .await
                .unwrap();
            out.secret_list()
                .iter()
                .map(|s| s.name().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    // Default: by creation date, ascending.
    assert_eq!(
        list(None, None).await,
        vec![b.clone(), c.clone(), a.clone()]
    );
    assert_eq!(
        list(None, Some(SortOrderType::Asc)).await,
        vec![b.clone(), c.clone(), a.clone()]
    );
    assert_eq!(
        list(None, Some(SortOrderType::Desc)).await,
        vec![a.clone(), c.clone(), b.clone()]
    );
    assert_eq!(
        list(Some(SortByType::Name), Some(SortOrderType::Asc)).await,
        vec![a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(
        list(Some(SortByType::Name), Some(SortOrderType::Desc)).await,
        vec![c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(
        list(Some(SortByType::CreatedDate), Some(SortOrderType::Desc)).await,
        vec![a.clone(), c.clone(), b.clone()]
    );
    // c changed last.
    assert_eq!(
        list(Some(SortByType::LastChangedDate), Some(SortOrderType::Desc)).await[0],
        c
    );
    // a is the only one ever accessed.
    assert_eq!(
        list(
            Some(SortByType::LastAccessedDate),
            Some(SortOrderType::Desc)
        )
        .await[0],
        a
    );
}

#[tokio::test]
async fn list_secrets_invalid_sort_order_is_validation_error() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_code(
        client
            .list_secrets()
            .sort_order(SortOrderType::from("sideways"))
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        client.list_secrets().max_results(101).send().await,
        "ValidationException",
    );
}

#[tokio::test]
async fn list_secrets_paginates_with_max_results() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut created = BTreeSet::new();
    for i in 0..7 {
        let name = unique(&format!("page{i}"));
        create(&client, &name, "v").await;
        created.insert(name);
    }
    let first = client.list_secrets().max_results(3).send().await.unwrap();
    assert_eq!(first.secret_list().len(), 3);
    assert!(first.next_token().is_some());

    let pages: Vec<_> = client
        .list_secrets()
        .max_results(3)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages
            .iter()
            .map(|p| p.secret_list().len())
            .collect::<Vec<_>>(),
        vec![3, 3, 1]
    );
    let seen: Vec<String> = pages
        .iter()
        .flat_map(|p| {
            p.secret_list()
                .iter()
                .map(|s| s.name().unwrap().to_string())
        })
        .collect();
    assert_eq!(seen.len(), 7);
    assert_eq!(as_set(seen), created);

    // The paginator's own page size gives the same secrets.
    let pages: Vec<_> = client
        .list_secrets()
        .into_paginator()
        .page_size(2)
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 4);
    assert_eq!(
        pages
            .iter()
            .flat_map(|p| p
                .secret_list()
                .iter()
                .map(|s| s.name().unwrap().to_string()))
            .collect::<BTreeSet<_>>(),
        created
    );
}

/// Pages through ListSecrets with the SDK paginator while secrets are created and deleted
/// between pages: nothing is returned twice, and every secret that existed for the whole walk
/// is returned.
async fn paginate_under_churn(sort_by: Option<SortByType>, sort_order: Option<SortOrderType>) {
    let server = TestServer::start().await;
    let client = server.client();
    let p = unique("churn");
    let mut stable: Vec<String> = Vec::new();
    let mut doomed: Vec<String> = Vec::new();
    for i in 0..12 {
        let name = format!("{p}-{i:02}");
        create(&client, &name, "v").await;
        server.clock.advance(1_000);
        // Every third secret will be deleted during the walk.
        if i % 3 == 1 {
            doomed.push(name);
        } else {
            stable.push(name);
        }
    }
    let mut stream = client
        .list_secrets()
        .max_results(2)
        .set_sort_by(sort_by)
        .set_sort_order(sort_order)
        .into_paginator()
        .send();
    let mut seen: Vec<String> = Vec::new();
    let mut page_no = 0;
    while let Some(page) = stream.next().await {
        let page = page.unwrap();
        seen.extend(
            page.secret_list()
                .iter()
                .map(|s| s.name().unwrap().to_string()),
        );
        page_no += 1;
        assert!(page_no < 50, "pagination does not end");
        // Between the first pages: create a secret that sorts first and one that sorts last
        // (bounded, or an ascending walk would never catch up), and delete one doomed secret
        // (alternating scheduled and forced deletion).
        server.clock.advance(1_000);
        if page_no <= 4 {
            create(&client, &format!("{p}-00-new{page_no}"), "v").await;
            create(&client, &format!("{p}-99-new{page_no}"), "v").await;
        }
        if let Some(victim) = doomed.pop() {
            client
                .delete_secret()
                .secret_id(&victim)
                .set_force_delete_without_recovery(Some(page_no % 2 == 0))
                .send()
                .await
                .unwrap();
        }
    }
    let unique_seen: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique_seen.len(), seen.len(), "duplicates in {seen:?}");
    for name in &stable {
        assert!(
            seen.contains(name),
            "{name} existed throughout but was skipped: {seen:?}"
        );
    }
}

#[tokio::test]
async fn list_secrets_paginator_is_stable_under_churn_by_created_date() {
    paginate_under_churn(None, None).await;
}

#[tokio::test]
async fn list_secrets_paginator_is_stable_under_churn_by_created_date_desc() {
    paginate_under_churn(Some(SortByType::CreatedDate), Some(SortOrderType::Desc)).await;
}

#[tokio::test]
async fn list_secrets_paginator_is_stable_under_churn_by_name() {
    paginate_under_churn(Some(SortByType::Name), Some(SortOrderType::Asc)).await;
}

#[tokio::test]
async fn list_secrets_paginator_is_stable_under_churn_by_name_desc() {
    paginate_under_churn(Some(SortByType::Name), Some(SortOrderType::Desc)).await;
}

#[tokio::test]
async fn list_secrets_paginates_filtered_results() {
    let server = TestServer::start().await;
    let client = server.client();
    let p = unique("fpage");
    let mut wanted = BTreeSet::new();
    for i in 0..9 {
        // Interleave matching and non-matching secrets.
        let name = if i % 2 == 0 {
            format!("{p}/match/{i}")
        } else {
            format!("{p}/skip/{i}")
        };
        create(&client, &name, "v").await;
        if i % 2 == 0 {
            wanted.insert(name);
        }
    }
    let pages: Vec<_> = client
        .list_secrets()
        .filters(filter(Key::Name, &[&format!("{p}/match")]))
        .max_results(2)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .unwrap();
    let seen: Vec<String> = pages
        .iter()
        .flat_map(|p| {
            p.secret_list()
                .iter()
                .map(|s| s.name().unwrap().to_string())
        })
        .collect();
    assert_eq!(seen.len(), 5);
    assert_eq!(as_set(seen), wanted);
    for page in &pages {
        assert!(page.secret_list().len() <= 2);
    }
}

// ---------------------------------------------------------------------------------------------
// BatchGetSecretValue
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn batch_get_by_id_list_reports_missing_in_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = unique("batch-a");
    let b = unique("batch-b");
    let missing = unique("batch-missing");
    let (a_arn, a_v) = create(&client, &a, "alpha").await;
    let (b_arn, _) = create(&client, &b, "beta").await;
    let out = client
        .batch_get_secret_value()
        .secret_id_list(&a)
        .secret_id_list(&missing)
        .secret_id_list(&b_arn)
        .send()
        .await
        .unwrap();
    let mut values: Vec<(String, String)> = out
        .secret_values()
        .iter()
        .map(|v| {
            (
                v.name().unwrap().to_string(),
                v.secret_string().unwrap().to_string(),
            )
        })
        .collect();
    values.sort();
    let mut expected = vec![
        (a.clone(), "alpha".to_string()),
        (b.clone(), "beta".to_string()),
    ];
    expected.sort();
    assert_eq!(values, expected);
    let entry_a = out
        .secret_values()
        .iter()
        .find(|v| v.name() == Some(a.as_str()))
        .unwrap();
    assert_eq!(entry_a.arn(), Some(a_arn.as_str()));
    assert_eq!(entry_a.version_id(), Some(a_v.as_str()));
    assert_eq!(entry_a.version_stages(), ["AWSCURRENT"]);
    assert!(entry_a.created_date().is_some());

    assert_eq!(out.errors().len(), 1);
    let err = &out.errors()[0];
    assert_eq!(err.secret_id(), Some(missing.as_str()));
    assert_eq!(err.error_code(), Some("ResourceNotFoundException"));
    assert_eq!(err.message(), Some(NOT_FOUND));
}

#[tokio::test]
async fn batch_get_reports_deleted_secret_in_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    let live = unique("batch-live");
    let gone = unique("batch-deleted");
    create(&client, &live, "v").await;
    create(&client, &gone, "v").await;
    client
        .delete_secret()
        .secret_id(&gone)
        .send()
        .await
        .unwrap();
    let out = client
        .batch_get_secret_value()
        .secret_id_list(&live)
        .secret_id_list(&gone)
        .send()
        .await
        .unwrap();
    assert_eq!(out.secret_values().len(), 1);
    assert_eq!(out.secret_values()[0].name(), Some(live.as_str()));
    assert_eq!(out.errors().len(), 1);
    assert_eq!(out.errors()[0].secret_id(), Some(gone.as_str()));
    assert_eq!(
        out.errors()[0].error_code(),
        Some("InvalidRequestException")
    );
    assert_eq!(out.errors()[0].message(), Some(MARKED_FOR_DELETION));
}

#[tokio::test]
async fn batch_get_by_filters_paginates_with_max_results() {
    let server = TestServer::start().await;
    let client = server.client();
    let p = unique("bfilter");
    let mut wanted = BTreeSet::new();
    for i in 0..5 {
        let name = format!("{p}/in/{i}");
        create(&client, &name, &format!("value-{i}")).await;
        wanted.insert((name, format!("value-{i}")));
    }
    create(&client, &format!("{p}/out/x"), "nope").await;
    let pages: Vec<_> = client
        .batch_get_secret_value()
        .filters(filter(Key::Name, &[&format!("{p}/in")]))
        .max_results(2)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages
            .iter()
            .map(|p| p.secret_values().len())
            .collect::<Vec<_>>(),
        vec![2, 2, 1]
    );
    let seen: BTreeSet<(String, String)> = pages
        .iter()
        .flat_map(|p| {
            p.secret_values().iter().map(|v| {
                (
                    v.name().unwrap().to_string(),
                    v.secret_string().unwrap().to_string(),
                )
            })
        })
        .collect();
    assert_eq!(seen, wanted);
    // Manual paging: the first page carries a NextToken.
    let first = client
        .batch_get_secret_value()
        .filters(filter(Key::Name, &[&format!("{p}/in")]))
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.secret_values().len(), 2);
    assert!(first.next_token().is_some());
}

#[tokio::test]
async fn batch_get_needs_exactly_one_of_ids_and_filters() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("batch-both");
    create(&client, &name, "v").await;
    assert_code(
        client
            .batch_get_secret_value()
            .secret_id_list(&name)
            .filters(filter(Key::Name, &[&name]))
            .send()
            .await,
        "InvalidParameterException",
    );
    assert_code(
        client.batch_get_secret_value().send().await,
        "InvalidParameterException",
    );
    // MaxResults only goes with Filters.
    assert_code(
        client
            .batch_get_secret_value()
            .secret_id_list(&name)
            .max_results(5)
            .send()
            .await,
        "InvalidParameterException",
    );
}

// ---------------------------------------------------------------------------------------------
// Filter semantics recorded against AWS, and paging/constraint errors
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn description_filter_is_a_case_insensitive_word_prefix_match() {
    let server = TestServer::start().await;
    let client = server.client();
    let p = unique("desc");
    let descriptions = [
        ("1", "a secret"),
        ("2", "an secret"),
        ("3", "asecret"),
        ("4", "thesecret"),
        ("5", "one two"),
        ("6", "one and two"),
    ];
    for (suffix, description) in descriptions {
        client
            .create_secret()
            .name(format!("{p}-{suffix}"))
            .secret_string("v")
            .description(description)
            .send()
            .await
            .unwrap();
    }
    let n = |s: &str| format!("{p}-{s}");
    let with = |value: &'static str| {
        let client = client.clone();
        let p = p.clone();
        async move {
            as_set(
                names_with(
                    &client,
                    vec![filter(Key::Name, &[&p]), filter(Key::Description, &[value])],
                )
                .await,
            )
        }
    };
    assert_eq!(with("a secret").await, set(&[&n("1"), &n("2")]));
    assert_eq!(with("A SECRET").await, set(&[&n("1"), &n("2")]));
    assert_eq!(with("o t").await, set(&[&n("5"), &n("6")]));
    assert!(
        !with("a").await.contains(&n("4")),
        "\"a\" must not match \"thesecret\""
    );
}

#[tokio::test]
async fn all_filter_splits_words_on_separators_and_case_changes() {
    let server = TestServer::start().await;
    let client = server.client();
    let p = unique("all").replace('-', "");
    let one = format!("{p}/SecretOne");
    let beta = format!("{p}/prod/AppBeta/x");
    let company = format!("{p}/uat/COMPANY/x");
    for n in [&one, &beta, &company] {
        create(&client, n, "v").await;
    }
    let with = |value: &'static str| {
        let client = client.clone();
        async move { as_set(names_with(&client, vec![filter(Key::All, &[value])]).await) }
    };
    assert_eq!(with("sec").await, set(&[&one]));
    assert!(with("ret").await.is_empty());
    assert_eq!(with("Beta").await, set(&[&beta]));
    assert_eq!(with("company").await, set(&[&company]));
    // A name value with a space is not split into words.
    assert!(
        names_with(
            &client,
            vec![filter(Key::Name, &[&format!("{p}/prod AppBeta")])]
        )
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn list_secrets_rejects_a_bad_next_token() {
    let server = TestServer::start().await;
    let client = server.client();
    create(&client, &unique("tok"), "v").await;
    assert_code(
        client
            .list_secrets()
            .next_token("this-is-not-a-token")
            .send()
            .await,
        "InvalidNextTokenException",
    );
}

#[tokio::test]
async fn batch_get_accepts_at_most_20_ids() {
    let server = TestServer::start().await;
    let client = server.client();
    let ids: Vec<String> = (0..21).map(|i| unique(&format!("many{i}"))).collect();
    assert_code(
        client
            .batch_get_secret_value()
            .set_secret_id_list(Some(ids.clone()))
            .send()
            .await,
        "ValidationException",
    );
    // Twenty unknown ids: twenty Errors entries, no exception.
    let out = client
        .batch_get_secret_value()
        .set_secret_id_list(Some(ids[..20].to_vec()))
        .send()
        .await
        .unwrap();
    assert!(out.secret_values().is_empty());
    assert_eq!(out.errors().len(), 20);
}
