//! The `Condition` element: operators, their compiled values, and the absent-key and
//! multivalued-key rules.
//!
//! Semantics (see `aws-authz.md` §2): different operators and different keys are AND'ed, the
//! values of one key are OR'ed, and negated operators require the request value to match none of
//! them. An absent key fails positive operators, satisfies negated ones and `...IfExists`;
//! `ForAllValues:` is true for an absent key, `ForAnyValue:` false.

use std::borrow::Cow;
use std::net::IpAddr;

use base64::Engine;
use serde_json::Value;

use super::PolicyError;
use super::document::{VENDOR_MESSAGE, syntax_error};
use super::glob::Glob;
use super::variables::{Template, VarSource};

/// Where conditions read request values; keys are lowercased.
pub(crate) trait KeySource {
    /// All values of a key, or `None` when it is absent.
    fn values(&self, key: &str) -> Option<&[String]>;

    /// The value of a single-valued key (for variable substitution); multivalued keys have none.
    fn single(&self, key: &str) -> Option<&str> {
        match self.values(key) {
            Some([one]) => Some(one.as_str()),
            _ => None,
        }
    }
}

/// Variables read single-valued keys only: a multivalued key cannot be substituted.
struct VarsOf<'a>(&'a dyn KeySource);

impl VarSource for VarsOf<'_> {
    fn single(&self, key: &str) -> Option<&str> {
        self.0.single(key)
    }
}

/// `ForAnyValue:` / `ForAllValues:` or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetQualifier {
    None,
    ForAnyValue,
    ForAllValues,
}

/// Numeric and date comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

/// An operator's family, with its policy values compiled for that family.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// StringEquals / StringEqualsIgnoreCase (values lowercased when `ignore_case`).
    StringEquals {
        ignore_case: bool,
        values: Vec<StrValue>,
    },
    /// StringLike: whole-value, case-sensitive glob.
    StringLike(Vec<Matcher>),
    Numeric(Cmp, Vec<Option<f64>>),
    /// Dates as nanoseconds since the epoch.
    Date(Cmp, Vec<Option<i128>>),
    Bool(Vec<Option<bool>>),
    Binary(Vec<Option<Vec<u8>>>),
    Ip(Vec<Option<Cidr>>),
    /// ArnEquals and ArnLike are the same test.
    Arn(Vec<ArnMatcher>),
    /// `true` = the key must be absent.
    Null(Vec<Option<bool>>),
}

/// A string value, pre-resolved when it has no variables.
#[derive(Debug, Clone)]
pub(crate) enum StrValue {
    Static(String),
    Dynamic(Template),
}

/// A wildcard value, precompiled when it has no variables.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    Static(Glob),
    Dynamic(Template),
}

impl Matcher {
    pub(crate) fn compile(template: Template, fold_case: bool) -> Matcher {
        match template.static_pieces() {
            Some(pieces) => Matcher::Static(Glob::from_pieces(&pieces, fold_case)),
            None => Matcher::Dynamic(template),
        }
    }

    /// The pattern for this request; `None` when a variable has no value.
    pub(crate) fn glob(&self, vars: &dyn VarSource, fold_case: bool) -> Option<Cow<'_, Glob>> {
        match self {
            Matcher::Static(g) => Some(Cow::Borrowed(g)),
            Matcher::Dynamic(t) => t.glob(vars, fold_case).map(Cow::Owned),
        }
    }
}

/// An ARN pattern: six parts globbed separately; a value without any colon (a bare `*`) is one
/// whole-value glob; anything else is not an ARN and matches nothing.
#[derive(Debug, Clone)]
pub(crate) enum ArnPattern {
    Parts(Vec<Glob>),
    Whole(Glob),
    Never,
}

impl ArnPattern {
    fn new(glob: Glob, raw_has_colon: bool) -> ArnPattern {
        match glob.split_arn() {
            Some(parts) => ArnPattern::Parts(parts),
            None if !raw_has_colon => ArnPattern::Whole(glob),
            None => ArnPattern::Never,
        }
    }

    fn matches(&self, value: &str) -> bool {
        match self {
            ArnPattern::Whole(g) => g.matches(value),
            ArnPattern::Never => false,
            ArnPattern::Parts(parts) => {
                let fields: Vec<&str> = value.splitn(6, ':').collect();
                fields.len() == 6
                    && parts.len() == 6
                    && parts.iter().zip(fields).all(|(g, f)| g.matches(f))
            }
        }
    }
}

/// An ARN value, precompiled when it has no variables.
#[derive(Debug, Clone)]
pub(crate) enum ArnMatcher {
    Static(ArnPattern),
    Dynamic(Template),
}

/// An IPv4 or IPv6 network; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cidr {
    V4 { net: u32, prefix: u8 },
    V6 { net: u128, prefix: u8 },
}

impl Cidr {
    /// Parses `a.b.c.d[/n]` or `v6[/n]`; host bits are ignored.
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (text, None),
        };
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => {
                let prefix = prefix.unwrap_or(32);
                (prefix <= 32).then(|| Cidr::V4 {
                    net: u32::from(a) & mask32(prefix),
                    prefix,
                })
            }
            IpAddr::V6(a) => {
                let prefix = prefix.unwrap_or(128);
                (prefix <= 128).then(|| Cidr::V6 {
                    net: u128::from(a) & mask128(prefix),
                    prefix,
                })
            }
        }
    }

    /// The prefix length (0 means "every address").
    pub(crate) fn prefix(&self) -> u8 {
        match self {
            Cidr::V4 { prefix, .. } | Cidr::V6 { prefix, .. } => *prefix,
        }
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Cidr::V4 { net, prefix }, IpAddr::V4(a)) => u32::from(a) & mask32(*prefix) == *net,
            (Cidr::V6 { net, prefix }, IpAddr::V6(a)) => u128::from(a) & mask128(*prefix) == *net,
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(prefix.min(128)))
        .unwrap_or(0)
}

/// Parses a date: ISO 8601 / RFC 3339 (with or without zone; no zone means UTC), a bare date,
/// or epoch seconds. Returns nanoseconds since the epoch.
pub(crate) fn parse_date(text: &str) -> Option<i128> {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Some(i128::from(secs) * 1_000_000_000);
    }
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t.unix_timestamp_nanos());
    }
    if let Ok(t) = time::OffsetDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(t.unix_timestamp_nanos());
    }
    if let Ok(t) = time::PrimitiveDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(t.assume_utc().unix_timestamp_nanos());
    }
    if let Ok(d) = time::Date::parse(text, &Iso8601::DEFAULT) {
        return Some(d.midnight().assume_utc().unix_timestamp_nanos());
    }
    None
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// One `operator: { key: values }` entry for one key.
#[derive(Debug, Clone)]
pub(crate) struct Clause {
    pub(crate) qualifier: SetQualifier,
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
    /// Lowercased condition key.
    pub(crate) key: String,
    /// The values as written (coerced to text), for static analysis.
    pub(crate) raw: Vec<String>,
    pub(crate) test: Test,
}

/// What an operator name means.
struct OpSpec {
    qualifier: SetQualifier,
    negated: bool,
    if_exists: bool,
    family: Family,
}

#[derive(Clone, Copy)]
enum Family {
    StringEquals { ignore_case: bool },
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

fn parse_operator(name: &str) -> Option<OpSpec> {
    let lower = name.to_ascii_lowercase();
    let (qualifier, rest) = if let Some(r) = lower.strip_prefix("foranyvalue:") {
        (SetQualifier::ForAnyValue, r)
    } else if let Some(r) = lower.strip_prefix("forallvalues:") {
        (SetQualifier::ForAllValues, r)
    } else {
        (SetQualifier::None, lower.as_str())
    };
    let (if_exists, base) = match rest.strip_suffix("ifexists") {
        Some(b) => (true, b),
        None => (false, rest),
    };
    use Family as F;
    let (family, negated) = match base {
        "stringequals" => (F::StringEquals { ignore_case: false }, false),
        "stringnotequals" => (F::StringEquals { ignore_case: false }, true),
        "stringequalsignorecase" => (F::StringEquals { ignore_case: true }, false),
        "stringnotequalsignorecase" => (F::StringEquals { ignore_case: true }, true),
        "stringlike" => (F::StringLike, false),
        "stringnotlike" => (F::StringLike, true),
        "numericequals" => (F::Numeric(Cmp::Eq), false),
        "numericnotequals" => (F::Numeric(Cmp::Eq), true),
        "numericlessthan" => (F::Numeric(Cmp::Lt), false),
        "numericlessthanequals" => (F::Numeric(Cmp::Le), false),
        "numericgreaterthan" => (F::Numeric(Cmp::Gt), false),
        "numericgreaterthanequals" => (F::Numeric(Cmp::Ge), false),
        "dateequals" => (F::Date(Cmp::Eq), false),
        "datenotequals" => (F::Date(Cmp::Eq), true),
        "datelessthan" => (F::Date(Cmp::Lt), false),
        "datelessthanequals" => (F::Date(Cmp::Le), false),
        "dategreaterthan" => (F::Date(Cmp::Gt), false),
        "dategreaterthanequals" => (F::Date(Cmp::Ge), false),
        "bool" => (F::Bool, false),
        "binaryequals" => (F::Binary, false),
        "ipaddress" => (F::Ip, false),
        "notipaddress" => (F::Ip, true),
        "arnequals" | "arnlike" => (F::Arn, false),
        "arnnotequals" | "arnnotlike" => (F::Arn, true),
        "null" if !if_exists => (F::Null, false),
        _ => return None,
    };
    Some(OpSpec {
        qualifier,
        negated,
        if_exists,
        family,
    })
}

/// Whether `name` is a condition operator the engine knows (`None` if not), and if so whether
/// it compares dates (IAM's legacy parser checks the values of those when a managed policy is
/// written).
pub(crate) fn operator_compares_dates(name: &str) -> Option<bool> {
    parse_operator(name).map(|spec| matches!(spec.family, Family::Date(_)))
}

/// Condition values may be strings, numbers or booleans (coerced to text), or a list of them.
pub(crate) fn value_strings(v: &Value) -> Result<Vec<String>, PolicyError> {
    fn scalar(v: &Value) -> Result<String, PolicyError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(syntax_error()),
        }
    }
    match v {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

/// How `Condition` blocks are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConditionRules {
    /// Every operator must be known and every key must name a vendor (`aws:`, `sts:`, ...).
    /// Our rule for inline, session, resource and trust policies (unverified against AWS).
    Strict,
    /// IAM's rules for a managed policy (AWS-validated LocalStack snapshots): a key without a
    /// vendor is accepted (it only ever matches a request key of that name), and an unknown
    /// operator is accepted when its block is empty (it then tests nothing).
    Lenient,
}

/// Parses a statement's `Condition` element. `variables` is true for 2012-10-17 documents.
pub(crate) fn parse_conditions(
    v: &Value,
    variables: bool,
    rules: ConditionRules,
) -> Result<Vec<Clause>, PolicyError> {
    let Value::Object(ops) = v else {
        return Err(syntax_error());
    };
    let mut clauses = Vec::new();
    for (op_name, keys) in ops {
        let Value::Object(keys) = keys else {
            return Err(syntax_error());
        };
        let spec = match parse_operator(op_name) {
            Some(spec) => spec,
            None if rules == ConditionRules::Lenient && keys.is_empty() => continue,
            None => return Err(syntax_error()),
        };
        for (key, values) in keys {
            if rules == ConditionRules::Strict
                && !key.contains(':')
                && !key.eq_ignore_ascii_case("*")
            {
                return Err(PolicyError::new(VENDOR_MESSAGE));
            }
            let raw = value_strings(values)?;
            clauses.push(Clause {
                qualifier: spec.qualifier,
                negated: spec.negated,
                if_exists: spec.if_exists,
                key: key.to_lowercase(),
                test: compile_test(spec.family, &raw, variables),
                raw,
            });
        }
    }
    Ok(clauses)
}

/// Compiles values for a family. Values that do not parse (a non-number for Numeric, a bad
/// CIDR) are kept as `None` and never match, so a typo cannot widen a positive test.
fn compile_test(family: Family, raw: &[String], variables: bool) -> Test {
    match family {
        Family::StringEquals { ignore_case } => Test::StringEquals {
            ignore_case,
            values: raw
                .iter()
                .map(|r| {
                    let t = Template::parse(r, variables);
                    if t.has_vars() {
                        StrValue::Dynamic(t)
                    } else {
                        let s = t.resolve(&NoLookup).unwrap_or_default();
                        StrValue::Static(if ignore_case { s.to_lowercase() } else { s })
                    }
                })
                .collect(),
        },
        Family::StringLike => Test::StringLike(
            raw.iter()
                .map(|r| Matcher::compile(Template::parse(r, variables), false))
                .collect(),
        ),
        Family::Numeric(c) => Test::Numeric(c, raw.iter().map(|r| r.trim().parse().ok()).collect()),
        Family::Date(c) => Test::Date(c, raw.iter().map(|r| parse_date(r)).collect()),
        Family::Bool => Test::Bool(raw.iter().map(|r| parse_bool(r)).collect()),
        Family::Binary => Test::Binary(raw.iter().map(|r| decode_base64(r)).collect()),
        Family::Ip => Test::Ip(raw.iter().map(|r| Cidr::parse(r)).collect()),
        Family::Arn => Test::Arn(
            raw.iter()
                .map(|r| {
                    let t = Template::parse(r, variables);
                    match t.static_pieces() {
                        Some(p) => ArnMatcher::Static(ArnPattern::new(
                            Glob::from_pieces(&p, false),
                            r.contains(':'),
                        )),
                        None => ArnMatcher::Dynamic(t),
                    }
                })
                .collect(),
        ),
        Family::Null => Test::Null(raw.iter().map(|r| parse_bool(r)).collect()),
    }
}

struct NoLookup;

impl VarSource for NoLookup {
    fn single(&self, _key: &str) -> Option<&str> {
        None
    }
}

impl Clause {
    /// Whether this clause holds for the request.
    pub(crate) fn holds(&self, keys: &dyn KeySource) -> bool {
        let present = keys.values(&self.key).filter(|v| !v.is_empty());
        if let Test::Null(wants) = &self.test {
            let absent = present.is_none();
            return wants.contains(&Some(absent));
        }
        match (present, self.qualifier) {
            (None, SetQualifier::ForAllValues) => true,
            (None, SetQualifier::ForAnyValue) => self.if_exists,
            (None, SetQualifier::None) => self.if_exists || self.negated,
            (Some(vals), SetQualifier::ForAllValues) => {
                vals.iter().all(|v| self.value_holds(v, keys))
            }
            // A plain operator on a multivalued key behaves like ForAnyValue.
            (Some(vals), _) => vals.iter().any(|v| self.value_holds(v, keys)),
        }
    }

    /// One request value against the policy values: OR for positive operators, NOR for negated.
    fn value_holds(&self, v: &str, keys: &dyn KeySource) -> bool {
        self.any_matches(v, keys) != self.negated
    }

    fn any_matches(&self, v: &str, keys: &dyn KeySource) -> bool {
        let vars = &VarsOf(keys);
        match &self.test {
            Test::StringEquals {
                ignore_case,
                values,
            } => {
                let req: Cow<'_, str> = if *ignore_case {
                    Cow::Owned(v.to_lowercase())
                } else {
                    Cow::Borrowed(v)
                };
                values.iter().any(|pv| match pv {
                    StrValue::Static(s) => *s == *req,
                    StrValue::Dynamic(t) => t.resolve(vars).is_some_and(|s| {
                        if *ignore_case {
                            s.to_lowercase() == *req
                        } else {
                            s == *req
                        }
                    }),
                })
            }
            Test::StringLike(ms) => ms
                .iter()
                .any(|m| m.glob(vars, false).is_some_and(|g| g.matches(v))),
            Test::Numeric(cmp, pvs) => match v.trim().parse::<f64>() {
                Ok(n) => pvs.iter().flatten().any(|p| cmp.holds(n, *p)),
                Err(_) => false,
            },
            Test::Date(cmp, pvs) => match parse_date(v) {
                Some(d) => pvs.iter().flatten().any(|p| cmp.holds(d, *p)),
                None => false,
            },
            Test::Bool(pvs) => match parse_bool(v) {
                Some(b) => pvs.iter().flatten().any(|p| *p == b),
                None => false,
            },
            Test::Binary(pvs) => match decode_base64(v) {
                Some(b) => pvs.iter().flatten().any(|p| *p == b),
                None => false,
            },
            Test::Ip(cidrs) => match v.trim().parse::<IpAddr>() {
                Ok(ip) => cidrs.iter().flatten().any(|c| c.contains(ip)),
                Err(_) => false,
            },
            Test::Arn(ms) => ms.iter().any(|m| match m {
                ArnMatcher::Static(p) => p.matches(v),
                ArnMatcher::Dynamic(t) => t
                    .glob(vars, false)
                    .is_some_and(|g| ArnPattern::new(g, true).matches(v)),
            }),
            Test::Null(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Ctx(Vec<(&'static str, Vec<String>)>);
    impl KeySource for Ctx {
        fn values(&self, key: &str) -> Option<&[String]> {
            self.0
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_slice())
        }
    }

    fn holds(cond: Value, ctx: &[(&'static str, &[&str])]) -> bool {
        let ctx = Ctx(ctx
            .iter()
            .map(|(k, v)| (*k, v.iter().map(|s| s.to_string()).collect()))
            .collect());
        let clauses = parse_conditions(&cond, true, ConditionRules::Strict).unwrap_or_default();
        assert!(!clauses.is_empty());
        clauses.iter().all(|c| c.holds(&ctx))
    }

    #[test]
    fn cidr() {
        let c = Cidr::parse("10.0.0.0/8");
        assert!(c.is_some_and(|c| c.contains("10.1.2.3".parse().unwrap_or(IpAddr::from([0; 4])))));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("0.0.0.0/0").is_some_and(|c| c.prefix() == 0));
        let v6 = Cidr::parse("2001:db8::/32");
        assert!(
            v6.is_some_and(|c| c.contains("2001:db8::1".parse().unwrap_or(IpAddr::from([0; 4]))))
        );
        assert!(
            !v6.is_some_and(|c| c.contains("10.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]))))
        );
        assert!(Cidr::parse("203.0.113.7").is_some_and(|c| c.prefix() == 32));
        assert!(Cidr::parse("nonsense").is_none());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("0"), Some(0));
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("1970-01-02"), Some(86_400_000_000_000));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0));
        assert!(parse_date("2020-06-30T12:00:00.5Z").is_some());
        assert!(parse_date("yesterday").is_none());
    }

    #[test]
    fn operators() {
        let k = "aws:sourceip";
        assert!(holds(
            json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}),
            &[(k, &["10.9.9.9"])]
        ));
        assert!(!holds(
            json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            &[]
        ));
        assert!(holds(
            json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            &[]
        ));
        assert!(holds(
            json!({"NumericLessThan": {"x:n": 5}}),
            &[("x:n", &["4.5"])]
        ));
        assert!(holds(
            json!({"Bool": {"aws:SecureTransport": true}}),
            &[("aws:securetransport", &["TRUE"])]
        ));
        assert!(holds(json!({"Null": {"x:y": "true"}}), &[]));
        assert!(!holds(json!({"Null": {"x:y": "false"}}), &[]));
        assert!(holds(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["a","b"]}}),
            &[]
        ));
        assert!(!holds(
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a","b"]}}),
            &[]
        ));
        assert!(holds(json!({"StringEqualsIfExists": {"x:y": "v"}}), &[]));
        assert!(holds(
            json!({"ArnLike": {"x:a": "arn:aws:iam::*:role/r"}}),
            &[("x:a", &["arn:aws:iam::1:role/r"])]
        ));
        assert!(!holds(
            json!({"ArnLike": {"x:a": "arn:aws:iam:*:role/r"}}),
            &[("x:a", &["arn:aws:iam::1:role/r"])]
        ));
        assert!(holds(
            json!({"BinaryEquals": {"x:b": "QmluYXJ5"}}),
            &[("x:b", &["QmluYXJ5"])]
        ));
    }

    #[test]
    fn bad_operators() {
        let strict = |v: Value| parse_conditions(&v, true, ConditionRules::Strict);
        let lenient = |v: Value| parse_conditions(&v, true, ConditionRules::Lenient);
        assert!(strict(json!({"StringEqualz": {"a:b": "c"}})).is_err());
        assert!(strict(json!({"StringEqualz": {}})).is_err());
        assert!(strict(json!({"NullIfExists": {"a:b": "true"}})).is_err());
        assert!(strict(json!({"StringEquals": {"nocolon": "c"}})).is_err());
        assert!(strict(json!({"StringEquals": {"a:b": {"x": 1}}})).is_err());
        assert!(strict(json!({"StringEquals": "x"})).is_err());
        assert!(strict(json!(["x"])).is_err());
        // Managed-policy rules: an unknown operator only with an empty block, any key.
        assert!(lenient(json!({"StringEqualz": {"a:b": "c"}})).is_err());
        assert!(lenient(json!({"StringEqualz": "c"})).is_err());
        assert!(lenient(json!({"StringEqualz": {}})).is_ok_and(|c| c.is_empty()));
        assert!(lenient(json!({"StringEquals": {"nocolon": "c"}})).is_ok_and(|c| c.len() == 1));
    }
}
