//! ListSecrets, and the paging it shares with BatchGetSecretValue's `Filters`.

use serde::{Deserialize, Serialize};

use super::access::Target;
use super::input::{decode_token, encode_token};
use super::lifecycle::SecretMetadata;
use super::{ApiError, Operation, RequestContext, Service, Validator};
use crate::model::filter::{Filter, FilterKey};
use crate::store::{Cursor, CursorValue, ListQuery, Scope, SecretRecord, SortKey};

/// A `Filter` from the wire.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct FilterInput {
    key: Option<String>,
    values: Option<Vec<String>>,
}

/// The model's pattern for filter values.
const FILTER_VALUE_PATTERN: &str = "^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$";

fn is_filter_value(v: &str) -> bool {
    v.chars()
        .all(|c| c.is_ascii_alphanumeric() || " :_@/+=.-!".contains(c))
}

/// Validates `Filters` (at most 10, each with 1..10 values of at most 512 characters).
pub(super) fn check_filters(v: &mut Validator, filters: Option<&[FilterInput]>) {
    v.count("filters", filters.map(<[FilterInput]>::len), 0, 10, || {
        "[...]".into()
    });
    let keys: Vec<&str> = FilterKey::KEYS.iter().map(|k| k.as_str()).collect();
    for (i, f) in filters.unwrap_or_default().iter().enumerate() {
        let base = format!("filters.{}.member", i + 1);
        // The model leaves both optional, but a filter without them cannot narrow anything:
        // dropping it would turn a filtered BatchGetSecretValue into one of every secret.
        v.required(&format!("{base}.key"), &f.key)
            .one_of(&format!("{base}.key"), f.key.as_deref(), &keys)
            .required(&format!("{base}.values"), &f.values);
        let values = f.values.as_deref();
        v.count(
            &format!("{base}.values"),
            values.map(<[String]>::len),
            1,
            10,
            || format!("[{}]", values.unwrap_or_default().join(", ")),
        );
        for (j, value) in values.unwrap_or_default().iter().enumerate() {
            let path = format!("{base}.values.{}.member", j + 1);
            v.length(&path, Some(value), 0, 512).pattern(
                &path,
                Some(value),
                is_filter_value,
                FILTER_VALUE_PATTERN,
            );
        }
    }
}

fn to_filters(filters: &[FilterInput]) -> Vec<Filter> {
    filters
        .iter()
        .filter_map(|f| {
            let key = FilterKey::parse(f.key.as_deref()?)?;
            Some(Filter::new(key, f.values.clone().unwrap_or_default()))
        })
        .collect()
}

/// What one listing page needs.
pub(super) struct ListParams<'a> {
    pub(super) filters: &'a [FilterInput],
    pub(super) include_deleted: bool,
    pub(super) sort_by: Option<&'a str>,
    pub(super) sort_order: Option<&'a str>,
    pub(super) max_results: i64,
    pub(super) next_token: Option<&'a str>,
}

/// The content of a NextToken: the sort it belongs to and the position after the last
/// secret returned. A token only works with the sort it was issued for.
#[derive(Debug, Serialize, Deserialize)]
struct PageToken {
    s: String,
    d: bool,
    i: Option<i64>,
    t: Option<String>,
    p: i64,
}

/// ListSecrets' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListSecretsInput {
    include_planned_deletion: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
    filters: Option<Vec<FilterInput>>,
    sort_order: Option<String>,
    sort_by: Option<String>,
}

/// ListSecrets' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListSecretsOutput {
    secret_list: Vec<SecretMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl Service {
    /// One page of the caller's secrets in the request's region.
    pub(super) async fn list_page(
        &self,
        ctx: &RequestContext,
        params: &ListParams<'_>,
    ) -> Result<(Vec<SecretRecord>, Option<String>), ApiError> {
        let sort_name = params.sort_by.unwrap_or("created-date");
        let sort = match sort_name {
            "last-accessed-date" => SortKey::LastAccessed,
            "last-changed-date" => SortKey::LastChanged,
            "name" => SortKey::Name,
            _ => SortKey::Created,
        };
        let descending = params.sort_order == Some("desc");
        let after = match params.next_token {
            Some(t) => {
                let token: PageToken = decode_token(t)?;
                let value = match (token.i, token.t) {
                    (Some(i), None) => CursorValue::Int(i),
                    (None, Some(t)) => CursorValue::Text(t),
                    _ => {
                        return Err(ApiError::InvalidNextToken(
                            "The NextToken value is invalid.".into(),
                        ));
                    }
                };
                if token.s != sort_name || token.d != descending {
                    return Err(ApiError::InvalidNextToken(
                        "The NextToken value is invalid for this sort order.".into(),
                    ));
                }
                Some(Cursor { value, pk: token.p })
            }
            None => None,
        };
        let query = ListQuery {
            include_deleted: params.include_deleted,
            filters: to_filters(params.filters),
            sort,
            descending,
            after,
            limit: usize::try_from(params.max_results).unwrap_or(100),
            now: ctx.now,
        };
        let scope = Scope {
            account_id: ctx.caller.account_id.clone(),
            region: ctx.region.clone(),
        };
        let page = self.store.list_secrets(&scope, &query).await?;
        let next_token = match page.next {
            Some(c) => {
                let (i, t) = match c.value {
                    CursorValue::Int(i) => (Some(i), None),
                    CursorValue::Text(t) => (None, Some(t)),
                };
                Some(encode_token(&PageToken {
                    s: sort_name.to_string(),
                    d: descending,
                    i,
                    t,
                    p: c.pk,
                })?)
            }
            None => None,
        };
        Ok((page.secrets, next_token))
    }

    pub(super) async fn list_secrets(
        &self,
        ctx: &RequestContext,
        input: ListSecretsInput,
    ) -> Result<ListSecretsOutput, ApiError> {
        let mut v = Validator::new();
        v.range("maxResults", input.max_results, 1, 100).length(
            "nextToken",
            input.next_token.as_deref(),
            1,
            4096,
        );
        check_filters(&mut v, input.filters.as_deref());
        v.one_of("sortOrder", input.sort_order.as_deref(), &["asc", "desc"])
            .one_of(
                "sortBy",
                input.sort_by.as_deref(),
                &[
                    "created-date",
                    "last-accessed-date",
                    "last-changed-date",
                    "name",
                ],
            )
            .finish()?;
        self.authorize(
            ctx,
            Operation::ListSecrets,
            Target::Any,
            &Default::default(),
        )?;
        let params = ListParams {
            filters: input.filters.as_deref().unwrap_or_default(),
            include_deleted: input.include_planned_deletion.unwrap_or(false),
            sort_by: input.sort_by.as_deref(),
            sort_order: input.sort_order.as_deref(),
            max_results: input.max_results.unwrap_or(100),
            next_token: input.next_token.as_deref(),
        };
        let (records, next_token) = self.list_page(ctx, &params).await?;
        Ok(ListSecretsOutput {
            secret_list: records
                .into_iter()
                .map(|r| SecretMetadata::new(r, true))
                .collect(),
            next_token,
        })
    }
}
