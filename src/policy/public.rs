//! The broad-access ("public") check behind `PutResourcePolicy`'s `BlockPublicPolicy` and
//! `ValidateResourcePolicy`.
//!
//! AWS runs Zelkova, an SMT-based reasoner; this is a conservative syntactic approximation: an
//! Allow statement that reaches every principal is public unless one of its conditions pins
//! the caller to something fixed (an account, ARN, organization, VPC or endpoint, or a source
//! IP range narrower than the whole internet) with a positive operator that fails when the key
//! is absent.

use super::condition::{Clause, SetQualifier, Test};
use super::document::{Body, Effect, Statement};
use super::{PolicyDocument, PolicyKind};

/// `CheckName` of a finding for a document that does not parse (name not verified against AWS).
pub const SYNTAX_CHECK: &str = "SYNTAX_CHECKING";
/// `CheckName` of a finding for a statement that grants broad access (name not verified).
pub const BROAD_ACCESS_CHECK: &str = "BROAD_ACCESS";

/// One ValidateResourcePolicy `ValidationErrors` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which check failed: [`SYNTAX_CHECK`] or [`BROAD_ACCESS_CHECK`].
    pub check_name: String,
    /// What is wrong.
    pub message: String,
}

/// Runs the syntax check and the broad-access check on a secret's resource policy. An empty
/// result means the policy passed (`PolicyValidationPassed: true`).
pub fn validate_resource_policy(json: &str) -> Vec<Finding> {
    let doc = match PolicyDocument::parse(json, PolicyKind::Resource) {
        Ok(doc) => doc,
        Err(e) => {
            return vec![Finding {
                check_name: SYNTAX_CHECK.to_string(),
                message: e.message,
            }];
        }
    };
    doc.body
        .statements
        .iter()
        .enumerate()
        .filter(|(_, st)| statement_is_public(st))
        .map(|(i, st)| {
            let which = match &st.sid {
                Some(sid) if !sid.is_empty() => format!("Statement \"{sid}\""),
                _ => format!("Statement {}", i + 1),
            };
            Finding {
                check_name: BROAD_ACCESS_CHECK.to_string(),
                message: format!(
                    "{which} grants access to every principal (\"*\" or NotPrincipal) without a \
                     condition that restricts the principal's account, ARN, organization, VPC \
                     or source IP."
                ),
            }
        })
        .collect()
}

pub(crate) fn grants_public_access(body: &Body) -> bool {
    body.statements.iter().any(statement_is_public)
}

fn statement_is_public(st: &Statement) -> bool {
    let everyone = match &st.principal {
        Some(_) if st.not_principal => true,
        Some(set) => set.is_wildcard(),
        None => false,
    };
    st.effect == Effect::Allow && everyone && !st.conditions.iter().any(restricts)
}

/// Keys whose fixed value pins down who (or from where) the caller is.
const RESTRICTING_KEYS: [&str; 13] = [
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:userid",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
];

const ARN_KEYS: [&str; 2] = ["aws:principalarn", "aws:sourcearn"];

/// Whether a condition clause limits the statement to a fixed set of callers.
fn restricts(c: &Clause) -> bool {
    // Negated operators, IfExists and ForAllValues all hold for callers that lack the key or
    // differ from the value, so they never narrow the audience.
    if c.negated || c.if_exists || c.qualifier == SetQualifier::ForAllValues || c.raw.is_empty() {
        return false;
    }
    if !RESTRICTING_KEYS.contains(&c.key.as_str()) {
        return false;
    }
    match &c.test {
        Test::Ip(cidrs) if c.key == "aws:sourceip" => cidrs
            .iter()
            .all(|cidr| cidr.is_some_and(|cidr| cidr.prefix() > 0)),
        _ if c.key == "aws:sourceip" => false,
        Test::StringEquals { .. } | Test::StringLike(_) | Test::Arn(_) => {
            let arn_key = ARN_KEYS.contains(&c.key.as_str());
            c.raw.iter().all(|v| fixed_value(v, arn_key))
        }
        _ => false,
    }
}

/// A value that names something specific: no variable, no leading wildcard, and for ARNs a
/// fixed account (or, for account-less ARNs such as S3 buckets, a fixed resource).
fn fixed_value(v: &str, arn: bool) -> bool {
    let wild = |s: &str| s.contains('*') || s.contains('?');
    if v.is_empty() || v.contains("${") || v.starts_with('*') || v.starts_with('?') {
        return false;
    }
    if !arn {
        return true;
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, _, _, _, account, resource] => {
            if account.is_empty() {
                !resource.is_empty() && !resource.starts_with('*') && !resource.starts_with('?')
            } else {
                !wild(account)
            }
        }
        _ => false,
    }
}
