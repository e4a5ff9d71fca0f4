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
