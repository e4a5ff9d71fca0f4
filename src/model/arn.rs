//! Secret ARNs and how a `SecretId` resolves to a secret.
//!
//! See <https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen>:
//! a SecretId is a name, a full ARN, or a partial ARN (the ARN without the `-XXXXXX` suffix).

use std::fmt;

use super::ids::is_valid_secret_name_char;

/// Length of the random suffix AWS appends to a secret's name in its ARN.
pub const SUFFIX_LEN: usize = 6;

/// A secret's full ARN: `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<suffix>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretArn {
    /// The partition, `aws` for every region Strongbox serves.
    pub partition: String,
    /// The region that holds the secret.
    pub region: String,
    /// The owning account.
    pub account: String,
    /// The secret's name.
    pub name: String,
    /// The six random characters that make the ARN unique across re-creations.
    pub suffix: String,
}

impl SecretArn {
    /// Builds the ARN of a new secret.
    pub fn new(region: &str, account: &str, name: &str, suffix: &str) -> Self {
        Self {
            partition: "aws".into(),
            region: region.into(),
            account: account.into(),
            name: name.into(),
            suffix: suffix.into(),
        }
    }
}

impl fmt::Display for SecretArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:secretsmanager:{}:{}:secret:{}-{}",
            self.partition, self.region, self.account, self.name, self.suffix
        )
    }
}

/// What a `SecretId` names, parsed from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// A plain name, looked up in the caller's account and region.
    Name(String),
    /// A full ARN, matched exactly.
    Arn {
        /// The region in the ARN.
        region: String,
        /// The account in the ARN.
        account: String,
        /// The whole ARN text.
        arn: String,
    },
    /// An ARN without the random suffix, matched by name.
    PartialArn {
        /// The region in the ARN.
        region: String,
        /// The account in the ARN.
        account: String,
        /// The name in the ARN.
        name: String,
    },
}

/// Why a `SecretId` could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretRefError {
    /// A name with a character AWS does not allow.
    InvalidName,
    /// Something that starts with `arn:` but is not a Secrets Manager secret ARN.
    NotASecretArn,
}

impl SecretRef {
    /// Parses a `SecretId` as AWS does: anything not starting with `arn:` is an exact name; an
    /// ARN whose resource ends in `-` plus six characters is a full ARN, otherwise a partial one.
    pub fn parse(secret_id: &str) -> Result<Self, SecretRefError> {
        if !secret_id.starts_with("arn:") {
            if secret_id.is_empty() || !secret_id.chars().all(is_valid_secret_name_char) {
                return Err(SecretRefError::InvalidName);
            }
            return Ok(Self::Name(secret_id.to_string()));
        }
        let mut parts = secret_id.splitn(7, ':');
        let (_arn, partition, service, region, account, kind, resource) = (
            parts.next(),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        if partition.is_empty()
            || service != "secretsmanager"
            || kind != "secret"
            || region.is_empty()
            || account.is_empty()
            || resource.is_empty()
            || !resource.chars().all(is_valid_secret_name_char)
        {
            return Err(SecretRefError::NotASecretArn);
        }
        if looks_suffixed(resource) {
            Ok(Self::Arn {
                region: region.into(),
                account: account.into(),
                arn: secret_id.into(),
            })
        } else {
            Ok(Self::PartialArn {
                region: region.into(),
                account: account.into(),
                name: resource.into(),
            })
        }
    }

    /// The region named by an ARN reference, or `None` for a plain name.
    pub fn region(&self) -> Option<&str> {
        match self {
            Self::Name(_) => None,
            Self::Arn { region, .. } | Self::PartialArn { region, .. } => Some(region),
        }
    }

    /// The account named by an ARN reference, or `None` for a plain name.
    pub fn account(&self) -> Option<&str> {
        match self {
            Self::Name(_) => None,
            Self::Arn { account, .. } | Self::PartialArn { account, .. } => Some(account),
        }
    }
}

/// True when `resource` ends in `-` followed by six characters, which AWS takes for a suffix.
fn looks_suffixed(resource: &str) -> bool {
    let bytes = resource.as_bytes();
    bytes.len() > SUFFIX_LEN + 1
        && bytes[bytes.len() - SUFFIX_LEN - 1] == b'-'
        && bytes[bytes.len() - SUFFIX_LEN..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_arn() {
        let arn = SecretArn::new("us-east-1", "123456789012", "prod/db", "AbC123");
        assert_eq!(
            arn.to_string(),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123"
        );
    }

    #[test]
    fn parses_secret_ids() {
        assert_eq!(SecretRef::parse("db"), Ok(SecretRef::Name("db".into())));
        assert_eq!(
            SecretRef::parse("bad name"),
            Err(SecretRefError::InvalidName)
        );
        assert_eq!(
            SecretRef::parse("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123"),
            Ok(SecretRef::Arn {
                region: "us-east-1".into(),
                account: "123456789012".into(),
                arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123".into()
            })
        );
        assert_eq!(
            SecretRef::parse("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db"),
            Ok(SecretRef::PartialArn {
                region: "us-east-1".into(),
                account: "123456789012".into(),
                name: "prod/db".into()
            })
        );
        // The documented ambiguity: a partial ARN of `Foo-a1b2c3` reads as a full ARN.
        assert!(matches!(
            SecretRef::parse("arn:aws:secretsmanager:us-east-1:1:secret:Foo-a1b2c3"),
            Ok(SecretRef::Arn { .. })
        ));
        assert_eq!(
            SecretRef::parse("arn:aws:s3:::bucket"),
            Err(SecretRefError::NotASecretArn)
        );
    }
}
