//! Parsing and validating a policy document into its compiled form.
//!
//! Everything that can be decided once (action and resource patterns, principals, condition
//! values, CIDRs, dates) is compiled here, so evaluation never re-parses policy text. Messages are
//! IAM's `MalformedPolicyDocument` texts (aws-authz.md §4).

use serde_json::{Map, Value};

use super::condition::{Clause, ConditionRules, Matcher, parse_conditions};
use super::glob::Glob;
use super::principal::PrincipalSet;
use super::variables::Template;
use super::{PolicyError, PolicyKind};

pub(crate) const INVALID_JSON: &str = "This policy contains invalid Json";
pub(crate) const SYNTAX: &str = "Syntax errors in policy.";
pub(crate) const NO_PRINCIPAL_ALLOWED: &str = "Policy document should not specify a principal.";
pub(crate) const MISSING_PRINCIPAL: &str = "Missing required field Principal";
pub(crate) const MISSING_ACTIONS: &str = "Policy statement must contain actions.";
pub(crate) const MISSING_RESOURCES: &str = "Policy statement must contain resources.";
pub(crate) const VENDOR_MESSAGE: &str =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
pub(crate) const LEGACY_PARSING: &str = "The policy failed legacy parsing";
pub(crate) const TRUST_ACTIONS: &str = "AssumeRole policy may only specify STS AssumeRole actions.";
pub(crate) const SID_CHARS: &str = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*";
pub(crate) const SID_UNIQUE: &str = "Statement IDs (SID) in a single policy must be unique.";

/// The actions a trust policy may name.
const TRUST_ALLOWED: [&str; 5] = [
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
];

pub(crate) fn syntax_error() -> PolicyError {
    PolicyError::new(SYNTAX)
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Allow,
    Deny,
}

/// The `Version` element; only 2012-10-17 enables policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V2012,
    V2008,
    Absent,
}

/// One compiled statement.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    /// Action patterns (lowercased); with `not_action`, the statement covers everything else.
    pub(crate) actions: Vec<Glob>,
    pub(crate) not_action: bool,
    /// Resource patterns; `None` in trust policies, which have no Resource element.
    pub(crate) resources: Option<Vec<Matcher>>,
    pub(crate) not_resource: bool,
    /// `Principal` / `NotPrincipal` (resource and trust policies only).
    pub(crate) principal: Option<PrincipalSet>,
    pub(crate) not_principal: bool,
    pub(crate) conditions: Vec<Clause>,
}

/// The compiled body of a [`super::PolicyDocument`].
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub(crate) version: Version,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
}

/// Parses and validates `json` as a policy of `kind` being written.
pub(crate) fn parse(json: &str, kind: PolicyKind) -> Result<Body, PolicyError> {
    if kind == PolicyKind::Managed {
        // IAM's own checks first, with IAM's messages and order; the compiler below then
        // accepts everything they accept (the condition rules are relaxed to match).
        super::managed::validate(json)?;
        return compile(json, kind, ConditionRules::Lenient);
    }
    compile(json, kind, ConditionRules::Strict)
}

/// Compiles a stored document (see `PolicyDocument::load`).
pub(crate) fn load(json: &str, kind: PolicyKind) -> Result<Body, PolicyError> {
    let rules = if kind.is_identity() {
        ConditionRules::Lenient
    } else {
        ConditionRules::Strict
    };
    compile(json, kind, rules)
}

fn compile(json: &str, kind: PolicyKind, rules: ConditionRules) -> Result<Body, PolicyError> {
    let root: Value = serde_json::from_str(json).map_err(|_| PolicyError::new(INVALID_JSON))?;
    let Value::Object(root) = root else {
        return Err(syntax_error());
    };
    let mut version = Version::Absent;
    let mut id = None;
    let mut raw_statements = None;
    for (k, v) in &root {
        match k.as_str() {
            "Version" => {
                version = match v.as_str() {
                    Some("2012-10-17") => Version::V2012,
                    Some("2008-10-17") => Version::V2008,
                    Some(_) => return Err(PolicyError::new(LEGACY_PARSING)),
                    None => return Err(syntax_error()),
                }
            }
            "Id" => id = Some(v.as_str().ok_or_else(syntax_error)?.to_string()),
            "Statement" => raw_statements = Some(v),
            _ => return Err(syntax_error()),
        }
    }
    let raw_statements: Vec<&Map<String, Value>> = match raw_statements {
        Some(Value::Object(s)) => vec![s],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_object().ok_or_else(syntax_error))
            .collect::<Result<_, _>>()?,
        _ => return Err(syntax_error()),
    };
    let variables = version == Version::V2012;
    let mut statements = Vec::with_capacity(raw_statements.len());
    for raw in raw_statements {
        statements.push(parse_statement(raw, kind, variables, rules)?);
    }
    if kind != PolicyKind::Resource {
        check_sids(&statements)?;
    }
    Ok(Body {
        version,
        id,
        statements,
    })
}

/// IAM (identity and trust policies) requires alphanumeric, unique Sids.
fn check_sids(statements: &[Statement]) -> Result<(), PolicyError> {
    check_sid_list(statements.iter().filter_map(|s| s.sid.as_deref()))
}

/// Sids in statement order: each alphanumeric, the non-empty ones unique.
pub(crate) fn check_sid_list<'a>(sids: impl Iterator<Item = &'a str>) -> Result<(), PolicyError> {
    let mut seen: Vec<&str> = Vec::new();
    for sid in sids {
        if !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(PolicyError::new(SID_CHARS));
        }
        if !sid.is_empty() {
            if seen.contains(&sid) {
                return Err(PolicyError::new(SID_UNIQUE));
            }
            seen.push(sid);
        }
    }
    Ok(())
}

/// A string or a non-empty list of strings.
fn string_list(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

fn parse_statement(
    raw: &Map<String, Value>,
    kind: PolicyKind,
    variables: bool,
    rules: ConditionRules,
) -> Result<Statement, PolicyError> {
    for k in raw.keys() {
        let known = matches!(
            k.as_str(),
            "Sid"
                | "Effect"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Principal"
                | "NotPrincipal"
                | "Condition"
        );
        if !known {
            return Err(syntax_error());
        }
    }
    let sid = match raw.get("Sid") {
        None => None,
        Some(v) => Some(v.as_str().ok_or_else(syntax_error)?.to_string()),
    };
    let effect = match raw.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err(syntax_error()),
    };

    // Principal first: IAM reports a principal in an identity policy before anything else.
    let (principal, not_principal) = match (raw.get("Principal"), raw.get("NotPrincipal")) {
        (Some(_), Some(_)) => return Err(syntax_error()),
        (Some(_), None) | (None, Some(_)) if kind.is_identity() => {
            return Err(PolicyError::new(NO_PRINCIPAL_ALLOWED));
        }
        (Some(p), None) => (Some(PrincipalSet::parse(p)?), false),
        (None, Some(p)) => (Some(PrincipalSet::parse(p)?), true),
        (None, None) if kind.is_identity() => (None, false),
        (None, None) => return Err(PolicyError::new(MISSING_PRINCIPAL)),
    };

    let (actions_raw, not_action) = match (raw.get("Action"), raw.get("NotAction")) {
        (Some(_), Some(_)) => return Err(syntax_error()),
        (Some(a), None) => (a, false),
        (None, Some(a)) => (a, true),
        (None, None) => return Err(PolicyError::new(MISSING_ACTIONS)),
    };
    let actions_raw = string_list(actions_raw).ok_or_else(syntax_error)?;
    if actions_raw.is_empty() {
        return Err(PolicyError::new(MISSING_ACTIONS));
    }
    for a in &actions_raw {
        if *a != "*" && !a.contains(':') {
            return Err(PolicyError::new(VENDOR_MESSAGE));
        }
    }
    let actions: Vec<Glob> = actions_raw.iter().map(|a| Glob::new(a, true)).collect();
    if kind == PolicyKind::Trust && (not_action || !actions_raw.iter().all(|a| trust_action(a))) {
        return Err(PolicyError::new(TRUST_ACTIONS));
    }

    let (resources, not_resource) = match (raw.get("Resource"), raw.get("NotResource")) {
        (Some(_), _) if kind == PolicyKind::Trust => {
            return Err(PolicyError::new("Has prohibited field Resource"));
        }
        (_, Some(_)) if kind == PolicyKind::Trust => {
            return Err(PolicyError::new("Has prohibited field NotResource"));
        }
        (Some(_), Some(_)) => return Err(syntax_error()),
        (Some(r), None) => (Some(parse_resources(r, variables)?), false),
        (None, Some(r)) => (Some(parse_resources(r, variables)?), true),
        (None, None) if kind == PolicyKind::Trust => (None, false),
        (None, None) => return Err(PolicyError::new(MISSING_RESOURCES)),
    };

    let conditions = match raw.get("Condition") {
        Some(c) => parse_conditions(c, variables, rules)?,
        None => Vec::new(),
    };
    Ok(Statement {
        sid,
        effect,
        actions,
        not_action,
        resources,
        not_resource,
        principal,
        not_principal,
        conditions,
    })
}

/// A trust-policy action must be an STS role-assumption action (a wildcard is accepted when it
/// only reaches such actions, e.g. `sts:AssumeRole*`).
fn trust_action(action: &str) -> bool {
    let lower = action.to_ascii_lowercase();
    if !lower.starts_with("sts:") {
        return false;
    }
    let g = Glob::new(&lower, true);
    TRUST_ALLOWED.iter().any(|a| g.matches(a))
}

fn parse_resources(v: &Value, variables: bool) -> Result<Vec<Matcher>, PolicyError> {
    let list = string_list(v).ok_or_else(syntax_error)?;
    if list.is_empty() {
        return Err(PolicyError::new(MISSING_RESOURCES));
    }
    list.iter()
        .map(|r| {
            if *r != "*" && !r.starts_with("arn:") {
                return Err(PolicyError::new(format!(
                    "Resource {r} must be in ARN format or \"*\"."
                )));
            }
            Ok(Matcher::compile(Template::parse(r, variables), false))
        })
        .collect()
}
