//! Credentials from an AWS shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else
//! `~/.aws/credentials`), profile `AWS_PROFILE` (else `default`), as the SDKs read them: so
//! `strongbox bench` works with the profile Strongbox writes at first start, as the CLI does.
//!
//! Written by hand: only `[profile]` sections and three `key = value` entries are needed, and
//! `aws-config`, which reads the full format, is a large async stack for a load generator.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::auth::SecretAccessKey;

/// An access key read from a profile.
pub struct ProfileKey {
    pub access_key_id: String,
    /// Wiped on drop, never in `Debug` output.
    pub secret_access_key: SecretAccessKey,
    pub session_token: Option<String>,
}

/// The credentials file the SDKs would read.
pub fn credentials_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| Path::new(&home).join(".aws").join("credentials"))
}

/// The access key of `profile` in the credentials file `text`; `None` when the profile is
/// missing or lacks a key id or secret.
pub fn parse(text: &str, profile: &str) -> Option<ProfileKey> {
    let mut in_profile = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !in_profile {
            continue;
        }
        let value = value.trim().to_string();
        match key.trim() {
            "aws_access_key_id" => id = Some(value),
            "aws_secret_access_key" => secret = Some(SecretAccessKey::new(value)),
            "aws_session_token" => token = Some(value),
            _ => {}
        }
    }
    Some(ProfileKey {
        access_key_id: id.filter(|i| !i.is_empty())?,
        secret_access_key: secret.filter(|s| !s.expose().is_empty())?,
        session_token: token.filter(|t| !t.is_empty()),
    })
}

/// `profile`'s access key from the credentials file, if there is one.
pub fn load(profile: &str) -> Option<ProfileKey> {
    let text = Zeroizing::new(std::fs::read_to_string(credentials_file()?).ok()?);
    parse(&text, profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# written by strongbox\n[default]\naws_access_key_id = AKIADEFAULT\n\
        aws_secret_access_key = d\n\n[strongbox]\naws_access_key_id=AKIASB\n\
        aws_secret_access_key = s3cr3t\naws_session_token = tok\n[empty]\naws_access_key_id = X\n";

    #[test]
    fn reads_the_named_profile() {
        let key = parse(FILE, "strongbox").unwrap();
        assert_eq!(key.access_key_id, "AKIASB");
        assert_eq!(key.secret_access_key.expose(), "s3cr3t");
        assert_eq!(key.session_token.as_deref(), Some("tok"));
        let key = parse(FILE, "default").unwrap();
        assert_eq!(key.access_key_id, "AKIADEFAULT");
        assert_eq!(key.session_token, None);
    }

    #[test]
    fn a_missing_or_incomplete_profile_is_none() {
        assert!(parse(FILE, "other").is_none());
        assert!(parse(FILE, "empty").is_none());
        assert!(parse("", "default").is_none());
    }
}
