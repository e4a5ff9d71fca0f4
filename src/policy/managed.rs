//! IAM's checks of a managed policy document (CreatePolicy, CreatePolicyVersion), with IAM's
//! messages and in IAM's order.
//!
//! The evidence is LocalStack's AWS-validated snapshots of CreatePolicy with about 130 valid
//! and invalid documents (tests/aws/services/iam/test_iam_policies.py, recorded against AWS in
//! February 2026). They show that IAM checks a document in phases over the whole document, so
//! a later phase's error in the first statement loses to an earlier phase's error in the last:
//!
//! 1. Syntax (`Syntax errors in policy.`): JSON, element names and types, Effect spelled
//!    `allow`/`deny` in any case, known condition operators (an unknown one only with an empty
//!    block), Version one of the two known dates. A Principal is reported here too.
//! 2. Version must be `2012-10-17` (absent or `2008-10-17` fail).
//! 3. The legacy parser (`The policy failed legacy parsing`): Effect exactly `Allow`/`Deny`,
//!    Date* condition values, and resource ARNs with empty vendor or `::` in a short ARN.
//!    Resource *format* errors are found in this pass but reported in phase 6.
//! 4. Sids (alphanumeric, unique).
//! 5. Every statement has actions, then every statement has resources.
//! 6. The first resource format error found in phase 3.
//! 7. Action prefixes: a vendor, one colon, a vendor of `[A-Za-z0-9.-]`.
//!
//! Condition keys need no vendor. Where the snapshots are silent we follow the same model and
//! stay lenient (e.g. negative time-zone offsets in dates, every AWS partition name).

use serde_json::{Map, Value};

use super::PolicyError;
use super::condition::{operator_compares_dates, value_strings};
use super::document::{
    LEGACY_PARSING, MISSING_ACTIONS, MISSING_RESOURCES, NO_PRINCIPAL_ALLOWED, VENDOR_MESSAGE,
    check_sid_list, syntax_error,
};

pub(crate) const VERSION_REQUIRED: &str = "Policy document must be version 2012-10-17 or greater.";
pub(crate) const ONE_COLON: &str = "Actions/Condition can contain only one colon.";
pub(crate) const RESOURCE_VENDOR: &str =
    "Resource vendor must be fully qualified and cannot contain regexes.";
pub(crate) const IAM_RESOURCE_PATH: &str = "IAM resource path must either be \"*\", root, or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.";

/// The starts of an IAM resource path that IAM accepts (besides `*` and `root`).
const IAM_PATH_STARTS: [&str; 13] = [
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

/// Partitions accepted in a resource ARN: `aws` is verified; `*` and the other AWS partitions
/// are accepted too (unverified; a wildcard partition is common in real policies).
const PARTITIONS: [&str; 9] = [
    "*",
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

const STATEMENT_ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];

type Statement = Map<String, Value>;

/// Checks `json` as IAM checks a managed policy document.
pub(crate) fn validate(json: &str) -> Result<(), PolicyError> {
    let Ok(Value::Object(root)) = serde_json::from_str::<Value>(json) else {
        return Err(syntax_error());
    };
    let statements = check_syntax(&root)?;
    if root.get("Version").and_then(Value::as_str) != Some("2012-10-17") {
        return Err(PolicyError::new(VERSION_REQUIRED));
    }
    let resource_error = legacy_parse(&statements)?;
    check_sid_list(
        statements
            .iter()
            .filter_map(|s| s.get("Sid").and_then(Value::as_str)),
    )?;
    if !statements.iter().all(|s| present(s, "Action", "NotAction")) {
        return Err(PolicyError::new(MISSING_ACTIONS));
    }
    if !statements
        .iter()
        .all(|s| present(s, "Resource", "NotResource"))
    {
        return Err(PolicyError::new(MISSING_RESOURCES));
    }
    if let Some(message) = resource_error {
        return Err(PolicyError::new(message));
    }
    for key in ["Action", "NotAction"] {
        for action in statements
            .iter()
            .filter_map(|s| s.get(key))
            .flat_map(strings)
        {
            check_action(action)?;
        }
    }
    Ok(())
}

/// Phase 1. Returns the statements.
fn check_syntax(root: &Map<String, Value>) -> Result<Vec<&Statement>, PolicyError> {
    for (key, value) in root {
        let ok = match key.as_str() {
            "Version" => matches!(value.as_str(), Some("2012-10-17" | "2008-10-17")),
            "Id" => value.is_string(),
            "Statement" => true,
            _ => false,
        };
        if !ok {
            return Err(syntax_error());
        }
    }
    let statements: Vec<&Statement> = match root.get("Statement") {
        Some(Value::Object(s)) => vec![s],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_object().ok_or_else(syntax_error))
            .collect::<Result<_, _>>()?,
        _ => return Err(syntax_error()),
    };
    let mut principal = false;
    for s in &statements {
        check_statement_syntax(s)?;
        principal |= s.contains_key("Principal") || s.contains_key("NotPrincipal");
    }
    if principal {
        return Err(PolicyError::new(NO_PRINCIPAL_ALLOWED));
    }
    Ok(statements)
}

fn check_statement_syntax(s: &Statement) -> Result<(), PolicyError> {
    let known = s.keys().all(|k| STATEMENT_ELEMENTS.contains(&k.as_str()));
    let both = |a: &str, b: &str| s.contains_key(a) && s.contains_key(b);
    let effect_ok = s
        .get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case("allow") || e.eq_ignore_ascii_case("deny"));
    let lists_ok = ["Action", "NotAction", "Resource", "NotResource"]
        .iter()
        .all(|k| s.get(*k).is_none_or(is_string_or_strings));
    let sid_ok = s.get("Sid").is_none_or(Value::is_string);
    if !known
        || both("Action", "NotAction")
        || both("Resource", "NotResource")
        || !effect_ok
        || !lists_ok
        || !sid_ok
    {
        return Err(syntax_error());
    }
    if let Some(condition) = s.get("Condition") {
        let Value::Object(operators) = condition else {
            return Err(syntax_error());
        };
        for (operator, block) in operators {
            let Value::Object(keys) = block else {
                return Err(syntax_error());
            };
            for values in keys.values() {
                value_strings(values)?;
            }
            if operator_compares_dates(operator).is_none() && !keys.is_empty() {
                return Err(syntax_error());
            }
        }
    }
    Ok(())
}

fn is_string_or_strings(v: &Value) -> bool {
    match v {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    }
}

/// The strings of a string or list element (syntax has been checked).
fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `key` or `other` is present, and not as an empty list.
fn present(s: &Statement, key: &str, other: &str) -> bool {
    match s.get(key).or_else(|| s.get(other)) {
        None => false,
        Some(Value::Array(items)) => !items.is_empty(),
        Some(_) => true,
    }
}

/// Phase 3: the legacy parser. Returns the resource format error to report in phase 6.
fn legacy_parse(statements: &[&Statement]) -> Result<Option<String>, PolicyError> {
    let legacy = || PolicyError::new(LEGACY_PARSING);
    for s in statements {
        if !matches!(
            s.get("Effect").and_then(Value::as_str),
            Some("Allow" | "Deny")
        ) {
            return Err(legacy());
        }
        let Some(Value::Object(operators)) = s.get("Condition") else {
            continue;
        };
        for (operator, block) in operators {
            if operator_compares_dates(operator) != Some(true) {
                continue;
            }
            let Value::Object(keys) = block else {
                continue;
            };
            for values in keys.values() {
                let values = value_strings(values)?;
                if !values.iter().all(|v| legacy_date(v)) {
                    return Err(legacy());
                }
            }
        }
    }
    // Resources, then NotResources. A list is checked in descending order and the last error
    // found wins (["arn:error:s3:::b", "arn:error:s3::b"] reports `arn:error:s3:::b`, as IAM
    // does); once an error is known, the legacy resource checks are skipped.
    let mut error = None;
    for key in ["Resource", "NotResource"] {
        for s in statements {
            let Some(v) = s.get(key) else {
                continue;
            };
            let mut resources = strings(v);
            resources.sort_unstable_by(|a, b| b.cmp(a));
            for r in &resources {
                if let Some(e) = resource_format_error(r) {
                    error = Some(e);
                }
            }
            if error.is_none() && !resources.iter().all(|r| legacy_resource(r)) {
                return Err(legacy());
            }
        }
    }
    Ok(error)
}

/// A resource's format error: not an ARN, an unknown partition, no vendor, a region in an IAM
/// resource or an S3 bucket, or an IAM resource path of an unknown type. IAM reads the text
/// after the first colon as the partition, whatever precedes it.
fn resource_format_error(resource: &str) -> Option<String> {
    if resource == "*" {
        return None;
    }
    let Some((_, rest)) = resource.split_once(':') else {
        return Some(format!(
            "Resource {resource} must be in ARN format or \"*\"."
        ));
    };
    let (partition, after_partition) = split(rest);
    if !PARTITIONS.contains(&partition) {
        // IAM shows the resource it read, padded with `*` to six fields.
        let parts: Vec<&str> = after_partition.unwrap_or("").split(':').collect();
        let field = |i: usize| parts.get(i).copied().unwrap_or("*");
        let service = if parts.len() > 1 || !parts[0].is_empty() {
            parts[0]
        } else {
            "*"
        };
        let tail = if parts.len() > 3 {
            parts[3..].join(":")
        } else {
            "*".to_string()
        };
        return Some(format!(
            "Partition \"{partition}\" is not valid for resource \"arn:{partition}:{service}:{}:{}:{tail}\".",
            field(1),
            field(2)
        ));
    }
    let Some(after_partition) = after_partition else {
        return Some(RESOURCE_VENDOR.to_string());
    };
    let (service, after_service) = split(after_partition);
    let (region, after_region) = split(after_service.unwrap_or(""));
    let after_region = after_region.unwrap_or("");
    // IAM is global. An S3 bucket or object has neither region nor account, but an access point
    // (`arn:aws:s3:us-west-2:111122223333:accesspoint/x`) has both and is valid.
    if service == "iam" && (after_service.is_none() || !region.is_empty()) {
        return Some(format!(
            "IAM resource {resource} cannot contain region information."
        ));
    }
    let account = split(after_region).0;
    if service == "s3" && (after_service.is_none() || !region.is_empty()) && account.is_empty() {
        return Some(format!(
            "Resource {resource} can not contain region information."
        ));
    }
    if service == "iam" {
        let path = split(after_region).1.unwrap_or("");
        let known =
            path == "*" || path == "root" || IAM_PATH_STARTS.iter().any(|p| path.starts_with(p));
        if !known {
            return Some(IAM_RESOURCE_PATH.to_string());
        }
    }
    None
}

/// The text before the first colon, and the text after it if there is one.
fn split(s: &str) -> (&str, Option<&str>) {
    match s.split_once(':') {
        Some((head, tail)) => (head, Some(tail)),
        None => (s, None),
    }
}

/// The legacy parser's resource rule: a short ARN may not contain `::`, and the vendor field
/// may not be empty (`arn:aws::x`, `arn:aws:s3::x` and `arn:aws::::x` fail; `arn:aws:x` is fine).
fn legacy_resource(resource: &str) -> bool {
    if resource == "*" {
        return true;
    }
    let long_or_no_gap = resource.matches(':').count() >= 5 || !resource.contains("::");
    long_or_no_gap && resource.split(':').nth(2).is_some_and(|v| !v.is_empty())
}

/// The legacy parser's date rule: an ISO 8601-like date (when the value has a `t` or a `-`)
/// with fields in range, or else a non-negative 64-bit epoch number.
fn legacy_date(value: &str) -> bool {
    let lower = value.to_lowercase();
    if lower.contains('t') || lower.contains('-') {
        legacy_iso_date(&lower)
    } else {
        integer(value).is_some_and(|n| (0..=i128::from(i64::MAX)).contains(&n))
    }
}

fn legacy_iso_date(text: &str) -> bool {
    let in_range = |s: &str, lo: i128, hi: i128| integer(s).is_some_and(|n| (lo..=hi).contains(&n));
    let (date, time) = split_char(text, 't');
    let (negative, date) = match date.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, date),
    };
    let fields: Vec<&str> = date.split('-').collect();
    let year = if negative {
        format!("-{}", fields[0])
    } else {
        fields[0].to_string()
    };
    if !in_range(&year, -292_275_054, 292_278_993)
        || fields.get(1).is_some_and(|m| !in_range(m, 1, 12))
        || fields.get(2).is_some_and(|d| !in_range(d, 1, 31))
        || fields.len() > 3
    {
        return false;
    }
    let time: Vec<&str> = time.split(':').collect();
    if !time[0].is_empty() && !in_range(time[0], 0, 23) {
        return false;
    }
    if time.get(1).is_some_and(|m| !in_range(m, 0, 59)) {
        return false;
    }
    let Some(seconds) = time.get(2) else {
        return true;
    };
    let seconds = if let Some((s, after)) = seconds.split_once('z') {
        if !after.is_empty() {
            return false;
        }
        s
    } else if let Some((s, zone)) = seconds.split_once(['+', '-']) {
        // A zone is two digits of hours (`+1` fails, `+23` passes); its minutes, when written
        // as `+hh:mm`, are the next colon-separated field, which IAM does not read.
        if zone.chars().count() != 2 || !in_range(zone, 0, 23) {
            return false;
        }
        s
    } else {
        seconds
    };
    let (whole, fraction) = split_char(seconds, '.');
    in_range(whole, 0, 59) && (!seconds.contains('.') || in_range(fraction, 0, 999_999_999))
}

/// The text before the first `c`, and the text after it (empty if there is none).
fn split_char(s: &str, c: char) -> (&str, &str) {
    s.split_once(c).unwrap_or((s, ""))
}

/// An optionally signed decimal integer, surrounding whitespace allowed; `None` if it is not
/// one or does not fit in an i128 (every caller's range is far smaller).
fn integer(s: &str) -> Option<i128> {
    let s = s.trim();
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Phase 7: an action names a vendor, has one colon at most, and the vendor is made of
/// letters, digits, `-` and `.` (or is `*`).
fn check_action(action: &str) -> Result<(), PolicyError> {
    let Some((vendor, name)) = action.split_once(':') else {
        return if action == "*" {
            Ok(())
        } else {
            Err(PolicyError::new(VENDOR_MESSAGE))
        };
    };
    if name.contains(':') {
        return Err(PolicyError::new(ONE_COLON));
    }
    let vendor_ok = vendor == "*"
        || vendor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !vendor_ok {
        return Err(PolicyError::new(format!("Vendor {vendor} is not valid")));
    }
    Ok(())
}
