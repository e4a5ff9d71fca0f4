//! Identifier newtypes with AWS's constraints.

use std::fmt;

/// True for the characters AWS allows in a secret name: ASCII letters, digits and `/_+=.@-`.
pub fn is_valid_secret_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '+' | '=' | '.' | '@' | '-')
}

/// True when `s` matches AWS's region pattern `^([a-z]+-)+\d+$`.
pub fn is_valid_region(s: &str) -> bool {
    let Some((head, digits)) = s.rsplit_once('-') else {
        return false;
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    !head.is_empty()
        && head
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase()))
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The identifier's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Consumes the identifier, returning its text.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// A secret's friendly name: 1..512 characters from [`is_valid_secret_name_char`].
    SecretName
);
string_id!(
    /// A region name such as `us-east-1`, taken from the SigV4 credential scope.
    Region
);
string_id!(
    /// A secret version id: 32..64 characters, normally the caller's ClientRequestToken.
    VersionId
);
string_id!(
    /// A staging label such as `AWSCURRENT`: 1..256 characters.
    VersionStage
);

impl SecretName {
    /// Parses a secret name; `None` if it is empty, too long or has a forbidden character.
    pub fn parse(s: &str) -> Option<Self> {
        (!s.is_empty() && s.len() <= 512 && s.chars().all(is_valid_secret_name_char))
            .then(|| Self(s.to_string()))
    }
}

impl Region {
    /// Parses a region name; `None` unless it matches `^([a-z]+-)+\d+$`.
    pub fn parse(s: &str) -> Option<Self> {
        is_valid_region(s).then(|| Self(s.to_string()))
    }
}

impl VersionId {
    /// Wraps a version id whose length the wire layer already checked.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
}

impl VersionStage {
    /// The label of the current version.
    pub const CURRENT: &'static str = "AWSCURRENT";
    /// The label of the version before the current one.
    pub const PREVIOUS: &'static str = "AWSPREVIOUS";
    /// The label of a version being rotated in.
    pub const PENDING: &'static str = "AWSPENDING";

    /// Wraps a staging label whose length the wire layer already checked.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "eu-west-3",
            "us-gov-west-1",
            "cn-north-1",
            "a-1",
        ] {
            assert!(is_valid_region(ok), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "US-east-1",
            "us--east-1",
            "-1",
            "us-east-1a",
            "useast1",
        ] {
            assert!(!is_valid_region(bad), "{bad}");
        }
    }

    #[test]
    fn secret_names() {
        assert!(SecretName::parse("prod/db-creds_1+=.@").is_some());
        assert!(SecretName::parse("has space").is_none());
        assert!(SecretName::parse("").is_none());
        assert!(SecretName::parse("ü").is_none());
        assert!(SecretName::parse(&"a".repeat(512)).is_some());
        assert!(SecretName::parse(&"a".repeat(513)).is_none());
    }
}
