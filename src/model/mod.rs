//! Typed domain values, parsed once at the boundary: code inside takes these types and never
//! re-validates.

pub mod filter;

mod arn;
mod ids;

pub use arn::{SecretArn, SecretRef, SecretRefError};
pub use ids::{
    Region, SecretName, VersionId, VersionStage, is_valid_region, is_valid_secret_name_char,
};

use serde::{Deserialize, Serialize};

/// A resource tag, with AWS's wire names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Tag key, 1..128 characters, case-sensitive.
    pub key: String,
    /// Tag value, 0..256 characters.
    pub value: String,
}

/// Adds `new` tags to `current` by key: an existing key takes the new value, later duplicates
/// win. The one merge rule for secret tags (TagResource) and IAM tags (TagUser, TagRole).
pub fn merge_tags(current: &mut Vec<Tag>, new: impl IntoIterator<Item = Tag>) {
    for tag in new {
        match current.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value,
            None => current.push(tag),
        }
    }
}
