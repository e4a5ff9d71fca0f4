//! Server-side enforcement of the model's constraints, with AWS's Coral message format:
//! `1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint:
//! Member must have value less than or equal to 1024`. botocore checks only `required`, types
//! and minimums; other SDKs check nothing, so the server checks everything.

use super::ApiError;

/// Collects constraint violations in member order, then reports them all at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<String>,
}

/// How a member's value appears in a message: sensitive values are never echoed.
fn value_part(value: Option<&str>, sensitive: bool) -> String {
    match value {
        _ if sensitive => "Value at".to_string(),
        Some(v) => format!("Value '{v}' at"),
        None => "Value null at".to_string(),
    }
}

impl Validator {
    /// A validator with no errors.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, value: String, path: &str, constraint: &str) {
        self.errors.push(format!(
            "{value} '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member is present.
    pub fn required<T>(&mut self, path: &str, value: &Option<T>) -> &mut Self {
        if value.is_none() {
            self.push(value_part(None, false), path, "Member must not be null");
        }
        self
    }

    /// The `SecretId` member every secret operation requires: present, 1..2048 characters.
    pub fn secret_id(&mut self, value: &Option<String>) -> &mut Self {
        self.required("secretId", value)
            .length("secretId", value.as_deref(), 1, 2048)
    }

    /// A string's length (in characters) is within `min..=max`.
    pub fn length(&mut self, path: &str, value: Option<&str>, min: usize, max: usize) -> &mut Self {
        self.length_inner(path, value, min, max, false)
    }

    /// Like [`length`](Self::length), but never echoes the value (secret values).
    pub fn length_sensitive(
        &mut self,
        path: &str,
        value: Option<&str>,
        min: usize,
        max: usize,
    ) -> &mut Self {
        self.length_inner(path, value, min, max, true)
    }

    fn length_inner(
        &mut self,
        path: &str,
        value: Option<&str>,
        min: usize,
        max: usize,
        sensitive: bool,
    ) -> &mut Self {
        if let Some(v) = value {
            let n = v.chars().count();
            if n > max {
                self.push(
                    value_part(Some(v), sensitive),
                    path,
                    &format!("Member must have length less than or equal to {max}"),
                );
            } else if n < min {
                self.push(
                    value_part(Some(v), sensitive),
                    path,
                    &format!("Member must have length greater than or equal to {min}"),
                );
            }
        }
        self
    }

    /// A byte string's length is within `min..=max`; blobs are never echoed.
    pub fn blob_length(
        &mut self,
        path: &str,
        len: Option<usize>,
        min: usize,
        max: usize,
    ) -> &mut Self {
        if let Some(n) = len {
            if n > max {
                self.push(
                    value_part(None, true),
                    path,
                    &format!("Member must have length less than or equal to {max}"),
                );
            } else if n < min {
                self.push(
                    value_part(None, true),
                    path,
                    &format!("Member must have length greater than or equal to {min}"),
                );
            }
        }
        self
    }

    /// A list's item count is within `min..=max`.
    pub fn count(
        &mut self,
        path: &str,
        len: Option<usize>,
        min: usize,
        max: usize,
        shown: impl FnOnce() -> String,
    ) -> &mut Self {
        if let Some(n) = len {
            if n > max {
                self.push(
                    format!("Value '{}' at", shown()),
                    path,
                    &format!("Member must have length less than or equal to {max}"),
                );
            } else if n < min {
                self.push(
                    format!("Value '{}' at", shown()),
                    path,
                    &format!("Member must have length greater than or equal to {min}"),
                );
            }
        }
        self
    }

    /// A number is within `min..=max`.
    pub fn range(&mut self, path: &str, value: Option<i64>, min: i64, max: i64) -> &mut Self {
        if let Some(v) = value {
            let shown = value_part(Some(&v.to_string()), false);
            if v > max {
                self.push(
                    shown,
                    path,
                    &format!("Member must have value less than or equal to {max}"),
                );
            } else if v < min {
                self.push(
                    shown,
                    path,
                    &format!("Member must have value greater than or equal to {min}"),
                );
            }
        }
        self
    }

    /// A string is one of an enum's values.
    pub fn one_of(&mut self, path: &str, value: Option<&str>, allowed: &[&str]) -> &mut Self {
        if let Some(v) = value
            && !allowed.contains(&v)
        {
            self.push(
                value_part(Some(v), false),
                path,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
        self
    }

    /// A string matches a pattern, checked by `ok`; `pattern` is the model's regex text.
    pub fn pattern(
        &mut self,
        path: &str,
        value: Option<&str>,
        ok: impl FnOnce(&str) -> bool,
        pattern: &str,
    ) -> &mut Self {
        if let Some(v) = value
            && !ok(v)
        {
            self.push(
                value_part(Some(v), false),
                path,
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
        self
    }

    /// `Ok` if nothing was violated, else one `ValidationException` listing every violation.
    pub fn finish(&mut self) -> Result<(), ApiError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(ApiError::Validation(format!(
                "1 validation error detected: {}",
                self.errors[0]
            ))),
            n => Err(ApiError::Validation(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coral_messages() {
        let none: Option<String> = None;
        let err = Validator::new()
            .required("secretId", &none)
            .finish()
            .unwrap_err();
        assert_eq!(
            err,
            ApiError::Validation(
                "1 validation error detected: Value null at 'secretId' failed to satisfy \
                 constraint: Member must not be null"
                    .into()
            )
        );
        let err = Validator::new()
            .range("passwordLength", Some(4097), 1, 4096)
            .one_of("sortOrder", Some("up"), &["asc", "desc"])
            .length_sensitive("secretString", Some(""), 1, 10)
            .finish()
            .unwrap_err();
        let ApiError::Validation(msg) = err else {
            panic!()
        };
        assert_eq!(
            msg,
            "3 validation errors detected: Value '4097' at 'passwordLength' failed to satisfy \
             constraint: Member must have value less than or equal to 4096; Value 'up' at \
             'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: \
             [asc, desc]; Value at 'secretString' failed to satisfy constraint: Member must have \
             length greater than or equal to 1"
        );
        assert!(
            Validator::new()
                .length("x", Some("ab"), 1, 2)
                .finish()
                .is_ok()
        );
    }
}
