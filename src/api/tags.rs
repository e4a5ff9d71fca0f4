//! TagResource and UntagResource.

use serde::{Deserialize, Serialize};

use super::access::Target;
use super::resolve::require_not_deleted;
use super::{ApiError, Operation, RequestContext, Service, Validator};
use crate::iam::authz::add_request_tags;
use crate::model::{Tag, merge_tags};
use crate::policy::ConditionContext;
use crate::store::SecretRecord;

/// A `Tag` from the wire; members are optional in the model, so they are checked here.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagInput {
    pub(super) key: Option<String>,
    pub(super) value: Option<String>,
}

/// Validates a tag list: key 1..128 characters, value 0..256.
pub(super) fn check_tags(v: &mut Validator, tags: Option<&[TagInput]>) {
    for (i, tag) in tags.unwrap_or_default().iter().enumerate() {
        let base = format!("tags.{}.member", i + 1);
        v.required(&format!("{base}.key"), &tag.key)
            .length(&format!("{base}.key"), tag.key.as_deref(), 1, 128)
            .length(&format!("{base}.value"), tag.value.as_deref(), 0, 256);
    }
}

/// AWS reserves the `aws:` prefix for its own tags; callers may not set such keys.
pub(super) fn check_reserved_keys(tags: &[Tag]) -> Result<(), ApiError> {
    if tags.iter().any(|t| {
        t.key
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
    }) {
        return Err(ApiError::InvalidParameter(
            "Tag keys can't start with the prefix aws:, which is reserved for AWS use.".into(),
        ));
    }
    Ok(())
}

/// Converts validated wire tags; later duplicates of a key overwrite earlier ones.
pub(super) fn to_tags(tags: &[TagInput]) -> Vec<Tag> {
    let mut out: Vec<Tag> = Vec::with_capacity(tags.len());
    merge_tags(
        &mut out,
        tags.iter().map(|t| Tag {
            key: t.key.clone().unwrap_or_default(),
            value: t.value.clone().unwrap_or_default(),
        }),
    );
    out
}

/// TagResource's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagResourceInput {
    secret_id: Option<String>,
    tags: Option<Vec<TagInput>>,
}

/// UntagResource's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UntagResourceInput {
    secret_id: Option<String>,
    tag_keys: Option<Vec<String>>,
}

/// The empty output of both operations: `{}`.
#[derive(Debug, Serialize)]
pub(super) struct Empty {}

impl Service {
    /// Refuses a tag change that would take away the caller's own permission to make it: the
    /// request is evaluated again as if the secret already had its new tags.
    fn check_lockout(
        &self,
        ctx: &RequestContext,
        op: Operation,
        secret_id: &str,
        after: &SecretRecord,
        keys: &ConditionContext,
    ) -> Result<(), ApiError> {
        self.authorize(
            ctx,
            op,
            Target::Secret {
                arn: &after.arn,
                account: &after.account_id,
                record: Some(after),
                shown: secret_id,
            },
            keys,
        )
        .map(|_| ())
    }

    pub(super) async fn tag_resource(
        &self,
        ctx: &RequestContext,
        input: TagResourceInput,
    ) -> Result<Empty, ApiError> {
        let mut v = Validator::new();
        v.secret_id(&input.secret_id).required("tags", &input.tags);
        check_tags(&mut v, input.tags.as_deref());
        v.finish()?;
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let tags = to_tags(input.tags.as_deref().unwrap_or_default());
        let mut keys = ConditionContext::default();
        add_request_tags(
            &mut keys,
            tags.iter().map(|t| (t.key.as_str(), t.value.as_str())),
        );
        let (record, _) = self
            .resolve_with(ctx, Operation::TagResource, secret_id, &keys)
            .await?;
        require_not_deleted(&record)?;
        check_reserved_keys(&tags)?;
        let mut after = SecretRecord::clone(&record);
        let mut merged = after.tags.take().unwrap_or_default();
        merge_tags(&mut merged, tags.iter().cloned());
        after.tags = Some(merged);
        self.check_lockout(ctx, Operation::TagResource, secret_id, &after, &keys)?;
        self.store.tag_secret(record.pk, &tags, ctx.now).await?;
        Ok(Empty {})
    }

    pub(super) async fn untag_resource(
        &self,
        ctx: &RequestContext,
        input: UntagResourceInput,
    ) -> Result<Empty, ApiError> {
        let mut v = Validator::new();
        v.secret_id(&input.secret_id)
            .required("tagKeys", &input.tag_keys);
        for (i, key) in input
            .tag_keys
            .as_deref()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            v.length(&format!("tagKeys.{}.member", i + 1), Some(key), 1, 128);
        }
        v.finish()?;
        let secret_id = input.secret_id.as_deref().unwrap_or_default();
        let tag_keys = input.tag_keys.unwrap_or_default();
        let mut keys = ConditionContext::default();
        keys.set_multi("aws:TagKeys", tag_keys.clone());
        let (record, _) = self
            .resolve_with(ctx, Operation::UntagResource, secret_id, &keys)
            .await?;
        require_not_deleted(&record)?;
        let mut after = SecretRecord::clone(&record);
        if let Some(t) = after.tags.as_mut() {
            t.retain(|t| !tag_keys.contains(&t.key));
        }
        self.check_lockout(ctx, Operation::UntagResource, secret_id, &after, &keys)?;
        self.store
            .untag_secret(record.pk, &tag_keys, ctx.now)
            .await?;
        Ok(Empty {})
    }
}
