//! `requestParameters` and `responseElements`: the request's and response's members in
//! CloudTrail's camelCase, with every secret value removed.
//!
//! A JSON body is redacted while it is parsed: a sensitive member's value is skipped by the
//! parser (`IgnoredAny`) and never copied into memory, so the only copy of a SecretString stays
//! in the request's zeroizing buffer.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Member names that look sensitive but are not: identifiers, pagination and lengths.
const NOT_SENSITIVE: &[&str] = &[
    "clientrequesttoken",
    "nexttoken",
    "passwordlength",
    "passwordresetrequired",
    "passwordlastused",
    "requirelowercasecharacters",
    "secretid",
    "secretidlist",
    "secretname",
    "secretarn",
    "secrettype",
];

/// Fragments that mark a member as holding a secret: SecretString, SecretBinary,
/// RandomPassword, SecretAccessKey, SessionToken, TokenCode, Password, PrivateKey...
const SENSITIVE_MARKERS: &[&str] = &[
    "password",
    "secret",
    "token",
    "privatekey",
    "keymaterial",
    "plaintext",
];

/// True when a member (JSON key or Query-protocol parameter segment) may hold a secret value.
/// Errs on the side of removing: an over-redacted record loses a detail, a leaked one loses a
/// secret.
pub fn is_sensitive_member(name: &str) -> bool {
    let lower: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if NOT_SENSITIVE.contains(&lower.as_str()) {
        return false;
    }
    SENSITIVE_MARKERS.iter().any(|m| lower.contains(m))
}

/// AWS's PascalCase member name in CloudTrail's camelCase: `SecretId` -> `secretId`,
/// `ARN` -> `arn`, `KMSKeyId` -> `kmsKeyId`.
pub fn camel_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let run = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let lower = if run <= 1 || run == chars.len() {
        run
    } else if chars.get(run).is_some_and(char::is_ascii_lowercase) {
        run - 1
    } else {
        run
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < lower {
                c.to_ascii_lowercase()
            } else {
                *c
            }
        })
        .collect()
}

/// Builds a `serde_json::Value` while parsing, camel-casing keys and skipping sensitive members.
struct Redacting;

impl<'de> DeserializeSeed<'de> for Redacting {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(RedactingVisitor)
    }
}

struct RedactingVisitor;

impl<'de> Visitor<'de> for RedactingVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Redacting)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if is_sensitive_member(&key) {
                map.next_value::<IgnoredAny>()?;
            } else {
                let v = map.next_value_seed(Redacting)?;
                out.insert(camel_case(&key), v);
            }
        }
        Ok(Value::Object(out))
    }
}

/// Redacts a JSON body without copying sensitive values. Anything that is not a JSON object
/// (including malformed JSON) and an empty object give `null`, as CloudTrail records a call
/// without parameters.
pub fn redact_json_body(body: &[u8]) -> Value {
    let mut de = serde_json::Deserializer::from_slice(body);
    match Redacting.deserialize(&mut de) {
        Ok(Value::Object(m)) if !m.is_empty() => Value::Object(m),
        _ => Value::Null,
    }
}

fn redact_value(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !is_sensitive_member(k))
                .map(|(k, v)| (camel_case(k), redact_value(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact_value).collect()),
        other => other.clone(),
    }
}

/// `requestParameters` for an already parsed JSON request. The source and name are taken so
/// that per-operation rules can be added in one place; today every operation follows the
/// generic rule (camelCase, sensitive members removed, `{}` as `null`).
pub fn request_parameters_from_json(_event_source: &str, _event_name: &str, body: &Value) -> Value {
    match redact_value(body) {
        Value::Object(m) if !m.is_empty() => Value::Object(m),
        _ => Value::Null,
    }
}

/// `responseElements` for an already parsed JSON response: `null` for read-only calls (as
/// CloudTrail does, and so GetSecretValue's value is never looked at), otherwise the redacted
/// response.
pub fn response_elements_from_json(read_only: bool, body: &Value) -> Value {
    if read_only {
        return Value::Null;
    }
    request_parameters_from_json("", "", body)
}

/// `responseElements` from a response body as sent: `null` for read-only calls, otherwise the
/// body redacted while it is parsed.
pub fn response_elements_from_body(read_only: bool, body: &[u8]) -> Value {
    if read_only {
        return Value::Null;
    }
    redact_json_body(body)
}

/// One node of a Query-protocol parameter tree (`Tags.member.1.Key=k`).
enum Node {
    Leaf(String),
    Object(BTreeMap<String, Node>),
    List(BTreeMap<u32, Node>),
}

impl Node {
    fn into_value(self) -> Value {
        match self {
            Node::Leaf(s) => Value::String(s),
            Node::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| (camel_case(&k), v.into_value()))
                    .collect(),
            ),
            Node::List(m) => Value::Array(m.into_values().map(Node::into_value).collect()),
        }
    }
}

/// Places `value` at `path` in `node`; a path that conflicts with what is there is ignored.
fn insert_path(node: &mut Node, path: &[&str], value: &str) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    // `member.N` and `entry.N` are list items; a bare number is one too.
    let (key, rest) = match (*first, rest.split_first()) {
        ("member" | "entry", Some((n, r))) if n.parse::<u32>().is_ok() => (*n, r),
        _ => (*first, rest),
    };
    let index = key.parse::<u32>().ok();
    if rest.is_empty() {
        let leaf = || Node::Leaf(value.to_string());
        match (node, index) {
            (Node::List(items), Some(i)) => {
                items.entry(i).or_insert_with(leaf);
            }
            (Node::Object(members), None) => {
                members.entry(key.to_string()).or_insert_with(leaf);
            }
            _ => {}
        }
        return;
    }
    let child = match (node, index) {
        (Node::List(items), Some(i)) => items.entry(i).or_insert_with(|| empty_for(rest)),
        (Node::Object(members), None) => members
            .entry(key.to_string())
            .or_insert_with(|| empty_for(rest)),
        _ => return,
    };
    insert_path(child, rest, value);
}

fn empty_for(rest: &[&str]) -> Node {
    match rest.first() {
        Some(&("member" | "entry")) => Node::List(BTreeMap::new()),
        Some(s) if s.parse::<u32>().is_ok() => Node::List(BTreeMap::new()),
        _ => Node::Object(BTreeMap::new()),
    }
}

/// `requestParameters` for an IAM or STS Query-protocol request, from its decoded form pairs:
/// `Action` and `Version` dropped, so are a presigned request's `X-Amz-*` authentication
/// parameters (credential, signature, session token...); `Name.member.N.Field` turned into
/// lists of objects, keys in camelCase, and any parameter with a password-, secret- or
/// token-like segment removed.
pub fn request_parameters_from_form(pairs: &[(String, String)]) -> Value {
    let mut root = Node::Object(BTreeMap::new());
    for (key, value) in pairs {
        let auth_parameter = key
            .get(..6)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("x-amz-"));
        if key == "Action" || key == "Version" || auth_parameter {
            continue;
        }
        let path: Vec<&str> = key.split('.').collect();
        if path.iter().any(|s| s.is_empty() || is_sensitive_member(s)) {
            continue;
        }
        insert_path(&mut root, &path, value);
    }
    match root.into_value() {
        Value::Object(m) if !m.is_empty() => Value::Object(m),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn camel_cases_aws_names() {
        for (from, to) in [
            ("SecretId", "secretId"),
            ("ARN", "arn"),
            ("KMSKeyId", "kmsKeyId"),
            ("KmsKeyId", "kmsKeyId"),
            ("VersionIdsToStages", "versionIdsToStages"),
            ("already", "already"),
            ("", ""),
        ] {
            assert_eq!(camel_case(from), to, "{from}");
        }
    }

    #[test]
    fn sensitive_members() {
        for name in [
            "SecretString",
            "SecretBinary",
            "RandomPassword",
            "SecretAccessKey",
            "SessionToken",
            "TokenCode",
            "Password",
            "NewPassword",
            "RotationToken",
            "secretString",
        ] {
            assert!(is_sensitive_member(name), "{name}");
        }
        for name in [
            "SecretId",
            "SecretIdList",
            "ClientRequestToken",
            "NextToken",
            "PasswordLength",
            "Name",
            "AccessKeyId",
            "VersionStage",
        ] {
            assert!(!is_sensitive_member(name), "{name}");
        }
    }

    #[test]
    fn json_bodies_lose_secret_values() {
        let body = br#"{"Name":"db","SecretString":"hunter2","ClientRequestToken":"t-1",
            "Tags":[{"Key":"k","Value":"v"}],"Nested":{"SecretBinary":"aGk=","Keep":1}}"#;
        let v = redact_json_body(body);
        assert_eq!(
            v,
            json!({"name":"db","clientRequestToken":"t-1",
                   "tags":[{"key":"k","value":"v"}],"nested":{"keep":1}})
        );
        assert!(!v.to_string().contains("hunter2"));
        let parsed: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            request_parameters_from_json("secretsmanager.amazonaws.com", "CreateSecret", &parsed),
            v
        );
    }

    #[test]
    fn empty_and_malformed_bodies_are_null() {
        assert_eq!(redact_json_body(b""), Value::Null);
        assert_eq!(redact_json_body(b"{}"), Value::Null);
        assert_eq!(redact_json_body(b"{\"SecretString\":\"x\"}"), Value::Null);
        assert_eq!(redact_json_body(b"[1,2]"), Value::Null);
        assert_eq!(redact_json_body(b"{\"a\":"), Value::Null);
        assert_eq!(redact_json_body(b"\xff\xfe"), Value::Null);
    }

    #[test]
    fn responses_of_reads_are_null_and_writes_are_redacted() {
        let get = br#"{"ARN":"arn:x","Name":"db","SecretString":"hunter2","VersionId":"v"}"#;
        assert_eq!(response_elements_from_body(true, get), Value::Null);
        let create = br#"{"ARN":"arn:x","Name":"db","VersionId":"v"}"#;
        assert_eq!(
            response_elements_from_body(false, create),
            json!({"arn":"arn:x","name":"db","versionId":"v"})
        );
        let assume = json!({"Credentials":{"AccessKeyId":"ASIA1","SecretAccessKey":"s3cr3t",
            "SessionToken":"tok","Expiration":"2030-01-01T00:00:00Z"}});
        let out = response_elements_from_json(false, &assume);
        assert_eq!(
            out,
            json!({"credentials":{"accessKeyId":"ASIA1","expiration":"2030-01-01T00:00:00Z"}})
        );
    }

    #[test]
    fn form_input_becomes_nested_camel_case_without_secrets() {
        let pairs: Vec<(String, String)> = [
            ("Action", "CreateUser"),
            ("Version", "2010-05-08"),
            ("UserName", "bob"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "red"),
            ("Tags.member.2.Key", "env"),
            ("Password", "pw-secret"),
            ("SerialNumber", "arn:mfa"),
            ("TokenCode", "123456"),
            ("PolicyArns.member.1.arn", "arn:aws:iam::aws:policy/X"),
            ("Empty", ""),
            // A presigned request's authentication parameters.
            (
                "X-Amz-Credential",
                "AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request",
            ),
            ("X-Amz-Signature", "abcdef"),
            ("x-amz-security-token", "session-token-value"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let v = request_parameters_from_form(&pairs);
        assert_eq!(
            v,
            json!({"userName":"bob","serialNumber":"arn:mfa","empty":"",
                   "tags":[{"key":"team","value":"red"},{"key":"env"}],
                   "policyArns":[{"arn":"arn:aws:iam::aws:policy/X"}]})
        );
        assert!(!v.to_string().contains("pw-secret"));
        assert!(!v.to_string().contains("123456"));
        assert!(!v.to_string().contains("session-token-value"));
        assert!(!v.to_string().contains("AKIDEXAMPLE"));
    }

    #[test]
    fn conflicting_form_paths_do_not_panic() {
        let pairs: Vec<(String, String)> = [
            ("A", "1"),
            ("A.B", "2"),
            ("L.member.1", "x"),
            ("L.member.1.K", "y"),
            ("L.member.x", "z"),
            ("..", "w"),
            ("M.member", "q"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let v = request_parameters_from_form(&pairs);
        assert_eq!(v["a"], "1");
        assert_eq!(v["l"][0], "x");
    }
}
