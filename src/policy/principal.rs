//! The `Principal` / `NotPrincipal` elements of resource and trust policies.

use serde_json::Value;

use super::document::syntax_error;
use super::{PolicyError, Principal, PrincipalType};

/// How strongly a resource-policy statement names the caller, which decides whether identity
/// policies, boundaries and session policies still have a say (same-account rules, §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Grant {
    /// The account (`"123456789012"` or `…:root`): delegates to the account's IAM policies.
    Account,
    /// A role (all its sessions), `"*"`, or `NotPrincipal`: boundaries and session policies
    /// still limit it.
    Limited,
    /// The user ARN or the session ARN itself: grants on its own within the account.
    Direct,
}

/// One `"AWS"` principal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AwsPrincipal {
    Any,
    Account(String),
    User(String),
    Role(String),
    Session(String),
    /// A unique id (`AIDA…`, `AROA…`), as IAM stores principals whose entity was deleted.
    UniqueId(String),
    /// Any other well-formed ARN (federated users, …): never matches an IAM caller.
    Other(String),
}

/// A parsed `Principal` or `NotPrincipal` value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PrincipalSet {
    pub(crate) aws: Vec<AwsPrincipal>,
    /// `Service`, `Federated` and `CanonicalUser` entries never match an IAM caller; they are
    /// kept so the document round-trips its meaning.
    pub(crate) others: Vec<(String, String)>,
}

impl PrincipalSet {
    /// Parses the element. `"*"` is shorthand for `{"AWS": "*"}`.
    pub(crate) fn parse(v: &Value) -> Result<PrincipalSet, PolicyError> {
        let mut set = PrincipalSet::default();
        match v {
            Value::String(s) if s == "*" => set.aws.push(AwsPrincipal::Any),
            Value::Object(map) if !map.is_empty() => {
                for (kind, values) in map {
                    let values = strings(values)?;
                    match kind.as_str() {
                        "AWS" => {
                            for value in values {
                                set.aws.push(parse_aws(&value).ok_or_else(|| {
                                    PolicyError::new(format!(
                                        "Invalid principal in policy: \"AWS\":\"{value}\""
                                    ))
                                })?);
                            }
                        }
                        "Service" | "Federated" | "CanonicalUser" => {
                            for value in values {
                                if value.is_empty() {
                                    return Err(PolicyError::new(format!(
                                        "Invalid principal in policy: \"{}\":\"\"",
                                        kind.to_uppercase()
                                    )));
                                }
                                set.others.push((kind.clone(), value));
                            }
                        }
                        _ => return Err(syntax_error()),
                    }
                }
            }
            _ => return Err(syntax_error()),
        }
        Ok(set)
    }

    /// True when the set names everyone (`"*"` or `{"AWS": "*"}`).
    pub(crate) fn is_wildcard(&self) -> bool {
        self.aws.contains(&AwsPrincipal::Any)
    }

    /// The strongest way this `Principal` names `p`, if at all.
    pub(crate) fn grant_for(&self, p: &Principal) -> Option<Grant> {
        self.aws.iter().filter_map(|e| entry_grant(e, p)).max()
    }

    /// Whether `NotPrincipal` excludes `p`: every identity `p` stands for (the session, its
    /// role, and the account) must be listed, otherwise the parent principal is still covered.
    pub(crate) fn excludes(&self, p: &Principal) -> bool {
        if self.is_wildcard() {
            return true;
        }
        let listed = |pred: &dyn Fn(&AwsPrincipal) -> bool| self.aws.iter().any(pred);
        let account = listed(&|e| matches!(e, AwsPrincipal::Account(a) if *a == p.account_id));
        match p.kind {
            PrincipalType::Root => account,
            PrincipalType::User => {
                account
                    && listed(&|e| match e {
                        AwsPrincipal::User(arn) => *arn == p.arn,
                        AwsPrincipal::UniqueId(id) => *id == p.user_id,
                        _ => false,
                    })
            }
            PrincipalType::AssumedRole => {
                account
                    && listed(&|e| matches!(e, AwsPrincipal::Session(arn) if *arn == p.arn))
                    && listed(&|e| match e {
                        AwsPrincipal::Role(arn) => Some(arn) == p.role_arn.as_ref(),
                        AwsPrincipal::UniqueId(id) => role_unique_id(p) == Some(id.as_str()),
                        _ => false,
                    })
            }
        }
    }
}

fn entry_grant(e: &AwsPrincipal, p: &Principal) -> Option<Grant> {
    let hit = |b: bool, g: Grant| b.then_some(g);
    match e {
        AwsPrincipal::Any => Some(Grant::Limited),
        AwsPrincipal::Account(a) => hit(*a == p.account_id, Grant::Account),
        AwsPrincipal::User(arn) => hit(
            p.kind == PrincipalType::User && *arn == p.arn,
            Grant::Direct,
        ),
        AwsPrincipal::Session(arn) => hit(
            p.kind == PrincipalType::AssumedRole && *arn == p.arn,
            Grant::Direct,
        ),
        AwsPrincipal::Role(arn) => hit(
            p.kind == PrincipalType::AssumedRole && p.role_arn.as_ref() == Some(arn),
            Grant::Limited,
        ),
        AwsPrincipal::UniqueId(id) => match p.kind {
            PrincipalType::User => hit(*id == p.user_id, Grant::Direct),
            PrincipalType::AssumedRole => {
                hit(role_unique_id(p) == Some(id.as_str()), Grant::Limited)
            }
            PrincipalType::Root => None,
        },
        AwsPrincipal::Other(_) => None,
    }
}

/// The role's unique id: the part of a session's `aws:userid` before the colon.
fn role_unique_id(p: &Principal) -> Option<&str> {
    p.user_id.split_once(':').map(|(id, _)| id)
}

fn strings(v: &Value) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                _ => Err(syntax_error()),
            })
            .collect(),
        _ => Err(syntax_error()),
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses one `"AWS"` value; `None` if IAM would reject it. Partial wildcards are not allowed.
fn parse_aws(value: &str) -> Option<AwsPrincipal> {
    if value == "*" {
        return Some(AwsPrincipal::Any);
    }
    if value.contains('*') || value.contains('?') {
        return None;
    }
    if is_account_id(value) {
        return Some(AwsPrincipal::Account(value.to_string()));
    }
    if let Some(rest) = value.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts.as_slice() else {
            return None;
        };
        if partition.is_empty() || !region.is_empty() || !is_account_id(account) {
            return None;
        }
        let named = |prefix: &str| {
            resource
                .strip_prefix(prefix)
                .is_some_and(|n| !n.is_empty() && !n.ends_with('/'))
        };
        return match *service {
            "iam" if *resource == "root" => Some(AwsPrincipal::Account((*account).to_string())),
            "iam" if named("user/") => Some(AwsPrincipal::User(value.to_string())),
            "iam" if named("role/") => Some(AwsPrincipal::Role(value.to_string())),
            "sts" if named("assumed-role/") && resource.matches('/').count() == 2 => {
                Some(AwsPrincipal::Session(value.to_string()))
            }
            "sts" if named("federated-user/") => Some(AwsPrincipal::Other(value.to_string())),
            _ => None,
        };
    }
    let unique = value.len() == 21
        && ["AIDA", "AROA"].iter().any(|p| value.starts_with(p))
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    unique.then(|| AwsPrincipal::UniqueId(value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_values() {
        assert_eq!(
            parse_aws("123456789012"),
            Some(AwsPrincipal::Account("123456789012".into()))
        );
        assert_eq!(
            parse_aws("arn:aws:iam::123456789012:root"),
            Some(AwsPrincipal::Account("123456789012".into()))
        );
        assert!(matches!(
            parse_aws("arn:aws:iam::123456789012:user/a/b"),
            Some(AwsPrincipal::User(_))
        ));
        assert!(matches!(
            parse_aws("arn:aws:iam::123456789012:role/r"),
            Some(AwsPrincipal::Role(_))
        ));
        assert!(matches!(
            parse_aws("arn:aws:sts::123456789012:assumed-role/r/s"),
            Some(AwsPrincipal::Session(_))
        ));
        assert!(parse_aws("arn:aws:iam::123456789012:role/*").is_none());
        assert!(parse_aws("arn:aws:iam::12345:root").is_none());
        assert!(parse_aws("alice").is_none());
        assert!(parse_aws("arn:aws:iam::123456789012:user/").is_none());
        assert!(matches!(
            parse_aws("AIDAJQABLZS4A3QDU576Q"),
            Some(AwsPrincipal::UniqueId(_))
        ));
    }
}
