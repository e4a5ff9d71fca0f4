//! TagResource and UntagResource.

use serde::{Deserialize, Serialize};

use super::resolve::require_not_deleted;
use super::{ApiError, Operation, RequestContext, Service, Validator};
use crate::model::Tag;

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
    for t in tags {
        let key = t.key.clone().unwrap_or_default();
        let value = t.value.clone().unwrap_or_default();
        match out.iter_mut().find(|e| e.key == key) {
            Some(existing) => existing.value = value,
            None => out.push(Tag { key, value }),
        }
    }
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
        let (record, _) = self.resolve(ctx, Operation::TagResource, secret_id).await?;
        require_not_deleted(&record)?;
        let tags = to_tags(input.tags.as_deref().unwrap_or_default());
        check_reserved_keys(&tags)?;
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
        let (record, _) = self
            .resolve(ctx, Operation::UntagResource, secret_id)
            .await?;
        require_not_deleted(&record)?;
        let keys = input.tag_keys.unwrap_or_default();
        self.store.untag_secret(record.pk, &keys, ctx.now).await?;
        Ok(Empty {})
    }
}
