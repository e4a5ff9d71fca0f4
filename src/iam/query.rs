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

    /// `Tags.member.N.Key` / `.Value` pairs, validated as IAM validates them.
    pub fn tags(&self, name: &str) -> Result<Vec<Tag>, QueryError> {
        let mut tags = Vec::new();
        for (i, fields) in self
            .struct_list(name, &["Key", "Value"])
            .into_iter()
            .enumerate()
        {
            let member = format!("{}.{}.member", lower_first(name), i + 1);
            let key = fields[0].clone().ok_or_else(|| {
                QueryError::validation(format!(
                    "1 validation error detected: Value null at '{member}.key' failed to \
                     satisfy constraint: Member must not be null"
                ))
            })?;
            let value = fields[1].clone().unwrap_or_default();
            if let Some(e) = length_violation(&format!("{member}.key"), &key, 1, 128)
                .or_else(|| length_violation(&format!("{member}.value"), &value, 0, 256))
            {
                return Err(e);
            }
            tags.push(Tag { key, value });
        }
        if tags.len() > 50 {
            return Err(QueryError::validation(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: \
                 Member must have length less than or equal to 50",
                lower_first(name)
            )));
        }
        Ok(tags)
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
            format!(
                "1 validation error detected: Value '{long_value}' at 'tags.2.member.value' \
                 failed to satisfy constraint: Member must have length less than or equal to 256"
            )
        );
        assert_eq!(
            message("Tags.member.1.Key=&Tags.member.1.Value=1".into()),
            "1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy \
             constraint: Member must have length greater than or equal to 1"
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
