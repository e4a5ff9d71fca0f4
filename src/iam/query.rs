//! AWS's Query protocol, as botocore speaks it for IAM and STS: a form-encoded request
//! (`Action=CreateUser&Version=2010-05-08&UserName=alice`, lists as `Name.member.N`) and an XML
//! response wrapped in `<OpResponse><OpResult>…</OpResult><ResponseMetadata>…`.
//!
//! Hand-written because the subset is small and fixed: a form decoder over `percent-encoding`
//! and an XML writer that only ever emits escaped text inside known element names. Pulling an
//! XML library in for this would add a dependency without removing any real complexity.

use std::fmt::Write as _;

use percent_encoding::percent_decode_str;

use crate::model::Tag;

/// A decoded Query-protocol request: its parameters in order of appearance.
#[derive(Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl std::fmt::Debug for Params {
    // Values can hold policy documents and, for STS, token codes: show only the names.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.pairs.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Params").field("names", &names).finish()
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte; invalid UTF-8 is refused.
fn decode_component(raw: &str) -> Option<String> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The Coral ValidationError for a string member `path` whose length (in characters) is
/// outside `min..=max`, naming the bound it broke; `None` when it is within.
pub fn length_violation(path: &str, value: &str, min: usize, max: usize) -> Option<QueryError> {
    let n = value.chars().count();
    let bound = if n < min {
        format!("greater than or equal to {min}")
    } else if n > max {
        format!("less than or equal to {max}")
    } else {
        return None;
    };
    Some(QueryError::validation(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy \
         constraint: Member must have length {bound}"
    )))
}

/// The most tags an IAM resource, or one request, may carry.
const MAX_TAGS: usize = 50;
/// IAM's pattern for tag keys, as its messages print it; values may also be empty.
const TAG_KEY_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
const TAG_VALUE_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";

/// The constraint a tag key or value (`min` 1 or 0 characters) breaks, if any: its length
/// first, then IAM's character pattern (letters, separators, numbers and `_.:/=+-@`).
fn tag_text_violation(text: &str, min: usize, max: usize) -> Option<String> {
    let n = text.chars().count();
    if n < min {
        return Some(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    if n > max {
        return Some(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    let allowed = |c: char| {
        c.is_alphabetic()
            || c.is_numeric()
            || (c.is_whitespace() && !c.is_control())
            || "_.:/=+-@".contains(c)
    };
    if text.chars().all(allowed) {
        return None;
    }
    let pattern = if min == 0 {
        TAG_VALUE_PATTERN
    } else {
        TAG_KEY_PATTERN
    };
    Some(format!(
        "Member must satisfy regular expression pattern: {pattern}"
    ))
}

/// Coral's message for a list of broken constraints: `N validation error(s) detected: a; b`.
fn coral_message(errors: &[String]) -> Option<String> {
    match errors.len() {
        0 => None,
        1 => Some(format!("1 validation error detected: {}", errors[0])),
        n => Some(format!(
            "{n} validation errors detected: {}",
            errors.join("; ")
        )),
    }
}

/// Refuses a request whose tags repeat a key. Users and roles compare keys without regard to
/// case, and say so; managed policies compare them exactly.
pub fn check_duplicate_tag_keys(tags: &[Tag], case_insensitive: bool) -> Result<(), QueryError> {
    let mut seen = std::collections::HashSet::new();
    let repeated = !tags.iter().all(|t| {
        seen.insert(if case_insensitive {
            t.key.to_lowercase()
        } else {
            t.key.clone()
        })
    });
    if !repeated {
        return Ok(());
    }
    Err(QueryError::invalid_input(if case_insensitive {
        "Duplicate tag keys found. Please note that Tag keys are case insensitive."
    } else {
        "Duplicate tag keys found."
    }))
}

impl Params {
    /// Parses an `application/x-www-form-urlencoded` body (or a query string). `None` if a
    /// component is not valid UTF-8 after decoding.
    pub fn parse(form: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(form).ok()?;
        let mut pairs = Vec::new();
        for part in text.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode_component(k)?, decode_component(v)?));
        }
        Some(Self { pairs })
    }

    /// Builds parameters from pairs (offline administration and tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// All parameters, for the audit log's redacted copy.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of a required parameter, or AWS's validation error naming it.
    pub fn required(&self, name: &str) -> Result<&str, QueryError> {
        self.get(name).ok_or_else(|| {
            QueryError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
                 Member must not be null",
                lower_first(name)
            ))
        })
    }

    /// `name.member.N` values in index order. `name=` (botocore's empty list) gives `[]`.
    pub fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(u32, String)> = self
            .pairs
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix(&prefix)?.parse::<u32>().ok()?;
                Some((n, v.clone()))
            })
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// Structured list members: `name.member.N.field` for each field, by index.
    pub fn struct_list(&self, name: &str, fields: &[&str]) -> Vec<Vec<Option<String>>> {
        let prefix = format!("{name}.member.");
        let mut indexes: Vec<u32> = self
            .pairs
            .iter()
            .filter_map(|(k, _)| {
                let rest = k.strip_prefix(&prefix)?;
                rest.split_once('.')?.0.parse::<u32>().ok()
            })
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        indexes
            .into_iter()
            .map(|n| {
                fields
                    .iter()
                    .map(|f| self.get(&format!("{prefix}{n}.{f}")).map(str::to_string))
                    .collect()
            })
            .collect()
    }

    /// `Tags.member.N.Key` / `.Value` pairs, validated as IAM validates them: every broken
    /// constraint is reported, in one Coral message, without the tag's text (IAM leaves the
    /// value out of tag errors).
    pub fn tags(&self, name: &str) -> Result<Vec<Tag>, QueryError> {
        let list = lower_first(name);
        let mut errors = Vec::new();
        let mut tags = Vec::new();
        let members = self.struct_list(name, &["Key", "Value"]);
        if members.len() > MAX_TAGS {
            errors.push(format!(
                "Value at '{list}' failed to satisfy constraint: Member must have length less \
                 than or equal to {MAX_TAGS}"
            ));
        }
        for (i, fields) in members.into_iter().enumerate() {
            let member = format!("{list}.{}.member", i + 1);
            let value = fields[1].clone().unwrap_or_default();
            match fields[0].clone() {
                None => errors.push(format!(
                    "Value null at '{member}.key' failed to satisfy constraint: Member must \
                     not be null"
                )),
                Some(key) => {
                    if let Some(broken) = tag_text_violation(&key, 1, 128) {
                        errors.push(format!(
                            "Value at '{member}.key' failed to satisfy constraint: {broken}"
                        ));
                    }
                    tags.push(Tag {
                        key,
                        value: value.clone(),
                    });
                }
            }
            if let Some(broken) = tag_text_violation(&value, 0, 256) {
                errors.push(format!(
                    "Value at '{member}.value' failed to satisfy constraint: {broken}"
                ));
            }
        }
        match coral_message(&errors) {
            Some(message) => Err(QueryError::validation(message)),
            None => Ok(tags),
        }
    }

    /// `TagKeys.member.N` of an untag call, validated as IAM validates them: at most 50, and
    /// each a valid tag key (one error per key that is not).
    pub fn tag_keys(&self, name: &str) -> Result<Vec<String>, QueryError> {
        let list = lower_first(name);
        let keys = self.list(name);
        let mut errors = Vec::new();
        if keys.len() > MAX_TAGS {
            errors.push(format!(
                "Value at '{list}' failed to satisfy constraint: Member must have length less \
                 than or equal to {MAX_TAGS}"
            ));
        }
        for key in &keys {
            if tag_text_violation(key, 1, 128).is_some() {
                errors.push(format!(
                    "Value at '{list}' failed to satisfy constraint: Member must satisfy \
                     constraint: [Member must have length less than or equal to 128, Member \
                     must have length greater than or equal to 1, Member must satisfy regular \
                     expression pattern: {TAG_KEY_PATTERN}, Member must not be null]"
                ));
            }
        }
        match coral_message(&errors) {
            Some(message) => Err(QueryError::validation(message)),
            None => Ok(keys),
        }
    }

    /// An optional boolean (`true`/`false`).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, QueryError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(QueryError::validation(format!(
                "Invalid value '{other}' for parameter {name}: must be true or false"
            ))),
        }
    }

    /// An optional integer within `min..=max`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, QueryError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        let n: i64 = text.parse().map_err(|_| {
            QueryError::validation(format!(
                "1 validation error detected: Value '{text}' at '{}' failed to satisfy \
                 constraint: Member must be a number",
                lower_first(name)
            ))
        })?;
        if n < min {
            return Err(QueryError::validation(format!(
                "1 validation error detected: Value '{n}' at '{}' failed to satisfy constraint: \
                 Member must have value greater than or equal to {min}",
                lower_first(name)
            )));
        }
        if n > max {
            return Err(QueryError::validation(format!(
                "1 validation error detected: Value '{n}' at '{}' failed to satisfy constraint: \
                 Member must have value less than or equal to {max}",
                lower_first(name)
            )));
        }
        Ok(Some(n))
    }
}

/// `UserName` → `userName`, as AWS names members in validation messages.
pub fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A Query-protocol error: HTTP status, the model's error code, and AWS's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// HTTP status.
    pub status: u16,
    /// The error code botocore maps to a modeled exception, e.g. `NoSuchEntity`.
    pub code: String,
    /// The message.
    pub message: String,
    /// True for client faults (`Sender`), false for server faults (`Receiver`).
    pub sender: bool,
}

impl QueryError {
    /// An error with status and code.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            sender: status < 500,
        }
    }

    /// `ValidationError` (400).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationError", message)
    }

    /// `NoSuchEntity` (404).
    pub fn no_such_entity(message: impl Into<String>) -> Self {
        Self::new(404, "NoSuchEntity", message)
    }

    /// `EntityAlreadyExists` (409).
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(409, "EntityAlreadyExists", message)
    }

    /// `LimitExceeded` (409).
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new(409, "LimitExceeded", message)
    }

    /// `DeleteConflict` (409).
    pub fn delete_conflict(message: impl Into<String>) -> Self {
        Self::new(409, "DeleteConflict", message)
    }

    /// `MalformedPolicyDocument` (400).
    pub fn malformed_policy(message: impl Into<String>) -> Self {
        Self::new(400, "MalformedPolicyDocument", message)
    }

    /// `InvalidInput` (400).
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidInput", message)
    }

    /// `AccessDenied` (403).
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(403, "AccessDenied", message)
    }

    /// `ServiceFailure` (500); the detail goes to the log, not the client.
    pub fn internal() -> Self {
        Self::new(
            500,
            "ServiceFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }
}

/// Escapes text for an XML element body or attribute.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Builds an XML document from known element names and escaped text.
#[derive(Debug, Default)]
pub struct Xml {
    out: String,
}

impl Xml {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens `<name>`.
    pub fn open(&mut self, name: &str) -> &mut Self {
        let _ = write!(self.out, "<{name}>");
        self
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        let _ = write!(self.out, "</{name}>");
        self
    }

    /// `<name>text</name>`.
    pub fn text(&mut self, name: &str, text: &str) -> &mut Self {
        let _ = write!(self.out, "<{name}>");
        escape_into(&mut self.out, text);
        let _ = write!(self.out, "</{name}>");
        self
    }

    /// `<name>text</name>` if `text` is present.
    pub fn opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.text(name, t);
        }
        self
    }

    /// `<name>true|false</name>`.
    pub fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.text(name, if value { "true" } else { "false" })
    }

    /// `<name><member>…</member>…</name>`, each member written by `each`.
    pub fn members<T>(
        &mut self,
        name: &str,
        items: impl IntoIterator<Item = T>,
        mut each: impl FnMut(&mut Self, T),
    ) -> &mut Self {
        self.open(name);
        for item in items {
            self.open("member");
            each(self, item);
            self.close("member");
        }
        self.close(name)
    }

    /// `<Tags><member><Key>…</Key><Value>…</Value></member>…</Tags>`.
    pub fn tags(&mut self, name: &str, tags: &[Tag]) -> &mut Self {
        self.members(name, tags, |x, t| {
            x.text("Key", &t.key).text("Value", &t.value);
        })
    }

    /// The document text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Wraps a result body in the success envelope. `result` is `None` for operations without
/// output, which still need `<OpResponse><ResponseMetadata>`.
pub fn success_document(
    namespace: &str,
    action: &str,
    result: Option<&str>,
    request_id: &str,
) -> String {
    let mut out = String::with_capacity(256 + result.map_or(0, str::len));
    let _ = write!(out, "<{action}Response xmlns=\"{namespace}\">");
    if let Some(body) = result {
        let _ = write!(out, "<{action}Result>{body}</{action}Result>");
    }
    out.push_str("<ResponseMetadata><RequestId>");
    escape_into(&mut out, request_id);
    let _ = write!(out, "</RequestId></ResponseMetadata></{action}Response>");
    out
}

/// The error envelope botocore parses: `<ErrorResponse><Error><Type><Code><Message>`.
pub fn error_document(namespace: &str, error: &QueryError, request_id: &str) -> String {
    let mut x = Xml::new();
    x.open("Error")
        .text("Type", if error.sender { "Sender" } else { "Receiver" })
        .text("Code", &error.code)
        .text("Message", &error.message)
        .close("Error")
        .text("RequestId", request_id);
    format!(
        "<ErrorResponse xmlns=\"{namespace}\">{}</ErrorResponse>",
        x.finish()
    )
}

/// Percent-encodes a policy document as IAM returns it (RFC 3986: everything but
/// `A-Za-z0-9-_.~`), which botocore decodes with `unquote`.
pub fn encode_policy_document(document: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(document, KEEP).to_string()
}

/// IAM's timestamp format: `2013-01-17T23:37:31Z`.
pub fn timestamp(ms: crate::clock::EpochMillis) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_botocore_forms() {
        let p = Params::parse(
            b"Action=CreateUser&Version=2010-05-08&UserName=a%2Bb+c&Tags.member.2.Key=k2&\
              Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Value=&Empty=",
        )
        .unwrap();
        assert_eq!(p.get("UserName"), Some("a+b c"));
        assert_eq!(p.get("Empty"), Some(""));
        let tags = p.tags("Tags").unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0].key, "k1");
        assert_eq!(tags[1].value, "");
        assert!(p.list("Empty").is_empty());
        assert!(Params::parse(b"A=%FF").is_none());
    }

    #[test]
    fn tag_errors_name_the_member_and_the_bound() {
        let message = |form: String| {
            let err = Params::parse(form.as_bytes())
                .unwrap()
                .tags("Tags")
                .unwrap_err();
            err.message.clone()
        };
        let long_value = "v".repeat(257);
        assert_eq!(
            message(format!(
                "Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=b&\
                 Tags.member.2.Value={long_value}"
            )),
            "1 validation error detected: Value at 'tags.2.member.value' failed to satisfy \
             constraint: Member must have length less than or equal to 256"
        );
        assert_eq!(
            message("Tags.member.1.Key=&Tags.member.1.Value=1".into()),
            "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy \
             constraint: Member must have length greater than or equal to 1"
        );
        assert_eq!(
            message("Tags.member.1.Key=bad!key&Tags.member.1.Value=also%23bad".into()),
            "2 validation errors detected: Value at 'tags.1.member.key' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: \
             [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+; Value at 'tags.1.member.value' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: \
             [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
        );
        assert!(
            Params::parse(
                "Tags.member.1.Key=caf%C3%A9 team:a/b=c+d-e@f_g.h&Tags.member.1.Value=".as_bytes()
            )
            .unwrap()
            .tags("Tags")
            .is_ok(),
            "letters, spaces and IAM's punctuation are allowed"
        );
    }

    #[test]
    fn lists_in_index_order() {
        let p = Params::parse(b"X.member.10=c&X.member.2=b&X.member.1=a").unwrap();
        assert_eq!(p.list("X"), vec!["a", "b", "c"]);
    }

    #[test]
    fn xml_escapes_text() {
        let mut x = Xml::new();
        x.text("M", "<a & 'b'>");
        assert_eq!(x.finish(), "<M>&lt;a &amp; &apos;b&apos;&gt;</M>");
    }

    #[test]
    fn policy_documents_are_rfc3986_encoded() {
        assert_eq!(
            encode_policy_document("{\"A\": \"b+c\"}"),
            "%7B%22A%22%3A%20%22b%2Bc%22%7D"
        );
    }

    #[test]
    fn envelopes() {
        let ok = success_document("ns", "GetUser", Some("<User/>"), "rid");
        assert_eq!(
            ok,
            "<GetUserResponse xmlns=\"ns\"><GetUserResult><User/></GetUserResult>\
             <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetUserResponse>"
        );
        let err = error_document("ns", &QueryError::no_such_entity("gone"), "rid");
        assert!(err.contains("<Code>NoSuchEntity</Code><Message>gone</Message>"));
        assert_eq!(timestamp(1_358_465_851_000), "2013-01-17T23:37:31Z");
    }
}
