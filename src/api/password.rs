//! GetRandomPassword, from the OS CSPRNG.

use serde::{Deserialize, Serialize};

use super::access::Target;
use super::values::ExposedString;
use super::{ApiError, Operation, RequestContext, Validator};
use crate::crypto::RandomIndex;

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
/// The 32 ASCII punctuation characters AWS uses.
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
const SPACE: &str = " ";

/// GetRandomPassword's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetRandomPasswordInput {
    password_length: Option<i64>,
    exclude_characters: Option<String>,
    exclude_numbers: Option<bool>,
    exclude_punctuation: Option<bool>,
    exclude_uppercase: Option<bool>,
    exclude_lowercase: Option<bool>,
    include_space: Option<bool>,
    require_each_included_type: Option<bool>,
}

/// GetRandomPassword's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetRandomPasswordOutput {
    random_password: ExposedString,
}

/// Generates a password of `length` characters from `classes`; when `require_each`, at least
/// one character of every non-empty class appears.
fn generate(classes: &[Vec<char>], length: usize, require_each: bool) -> Result<String, ApiError> {
    let alphabet: Vec<char> = classes.iter().flatten().copied().collect();
    let required: Vec<&Vec<char>> = if require_each {
        classes.iter().filter(|c| !c.is_empty()).collect()
    } else {
        Vec::new()
    };
    let mut rng = RandomIndex::new();
    let mut out: Vec<char> = Vec::with_capacity(length);
    for class in &required {
        out.push(class[rng.below(class.len())?]);
    }
    while out.len() < length {
        out.push(alphabet[rng.below(alphabet.len())?]);
    }
    // Fisher-Yates, so the required characters are not always in front.
    for i in (1..out.len()).rev() {
        let j = rng.below(i + 1)?;
        out.swap(i, j);
    }
    Ok(out.into_iter().collect())
}

pub(super) fn get_random_password(
    service: &super::Service,
    ctx: &RequestContext,
    input: GetRandomPasswordInput,
) -> Result<GetRandomPasswordOutput, ApiError> {
    Validator::new()
        .range("passwordLength", input.password_length, 1, 4096)
        .length(
            "excludeCharacters",
            input.exclude_characters.as_deref(),
            0,
            4096,
        )
        .finish()?;
    service.authorize(
        ctx,
        Operation::GetRandomPassword,
        Target::Any,
        &Default::default(),
    )?;
    let length = usize::try_from(input.password_length.unwrap_or(32)).unwrap_or(32);
    let excluded = input.exclude_characters.unwrap_or_default();
    let mut classes: Vec<Vec<char>> = Vec::new();
    for (chars, skip) in [
        (LOWER, input.exclude_lowercase),
        (UPPER, input.exclude_uppercase),
        (DIGITS, input.exclude_numbers),
        (PUNCTUATION, input.exclude_punctuation),
        (SPACE, input.include_space.map(|i| !i).or(Some(true))),
    ] {
        if !skip.unwrap_or(false) {
            classes.push(chars.chars().filter(|c| !excluded.contains(*c)).collect());
        }
    }
    let require_each = input.require_each_included_type.unwrap_or(true);
    let non_empty = classes.iter().filter(|c| !c.is_empty()).count();
    if non_empty == 0 {
        return Err(ApiError::InvalidParameter(
            "The password can't be generated because every character type is excluded.".into(),
        ));
    }
    if require_each && length < non_empty {
        return Err(ApiError::InvalidParameter(
            "Password length is too short based on the required types.".into(),
        ));
    }
    let password = generate(&classes, length, require_each)?;
    Ok(GetRandomPasswordOutput {
        random_password: ExposedString::new(password),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(sets: &[&str]) -> Vec<Vec<char>> {
        sets.iter().map(|s| s.chars().collect()).collect()
    }

    #[test]
    fn every_required_type_appears() {
        let cls = classes(&[LOWER, UPPER, DIGITS, PUNCTUATION]);
        for _ in 0..200 {
            let p = generate(&cls, 4, true).unwrap();
            assert_eq!(p.chars().count(), 4);
            for c in &cls {
                assert!(p.chars().any(|ch| c.contains(&ch)), "{p}");
            }
        }
    }
}
