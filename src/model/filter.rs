//! `ListSecrets` / `BatchGetSecretValue` filters, with the matching rules real AWS applies.
//!
//! Pure: no I/O and no allocation beyond small word lists. The rules, and the evidence for each
//! (see the reference's §5.8, LocalStack's and moto's AWS-verified tests):
//!
//! - Filters are AND'ed, even two with the same key. The values of one filter are OR'ed.
//! - A value starting with `!` negates: `!v` matches exactly when `v` would not. The negation wraps
//!   the whole per-value test, so for tags `tag-key:!env` means "no tag key starts with `env`",
//!   and a secret without tags (or without a description, region or owning service) matches every
//!   negated value of that key. AWS-verified: `name:!/` and `description:!a` return exactly the
//!   complement of `name:/` and `description:a`, `description:!c` returns everything; and the
//!   "catch-all" `BatchGetSecretValue` call that Stratus Red Team documents against real AWS
//!   (`tag-key:!tagKeyThatWillNeverExist`) returns every secret, untagged ones included.
//! - `name`, `tag-key`, `tag-value`, `primary-region`: case-sensitive prefix of the whole string;
//!   a space is an ordinary character there (`name:"testing1 one"` matches nothing).
//! - `owning-service`: prefix of the whole string, not case-sensitive.
//! - `description`: the docs say prefix, but AWS matches words, not case-sensitive: every word of
//!   the value must be a prefix of some word of the description.
//! - `all`: the same word match against the name, the description, each tag key and each tag
//!   value; all words of the value must match within one of those fields.
//! - Words (the private `words` below): split on characters other than letters and digits, at lower→UPPER
//!   changes, before the last capital of a run followed by lower case (`COMPANYthings` is
//!   `COMPAN` + `Ythings`), and between letters and digits (the user guide: `credsDatabase#892`
//!   is `creds`, `Database`, `892`). A chunk that mixes two different name separators
//!   (`prod-AppBeta/x`) is kept as one word, as moto records for AWS. A value with no words
//!   (`"+"`) matches nothing.

use std::fmt;

use crate::model::Tag;

/// A filter key (wire names: description, name, tag-key, tag-value, primary-region,
/// owning-service, all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterKey {
    /// `description`: word-prefix match on the description, not case-sensitive.
    Description,
    /// `name`: prefix match on the secret name, case-sensitive.
    Name,
    /// `tag-key`: prefix match on any tag key, case-sensitive.
    TagKey,
    /// `tag-value`: prefix match on any tag value, case-sensitive.
    TagValue,
    /// `primary-region`: prefix match on the primary Region of a replica, case-sensitive.
    PrimaryRegion,
    /// `owning-service`: prefix match on the owning service, not case-sensitive.
    OwningService,
    /// `all`: word-prefix match on name, description, tag keys and tag values.
    All,
}

impl FilterKey {
    /// Every key, in the order of the service model's enum (for validation messages).
    pub const KEYS: [FilterKey; 7] = [
        FilterKey::Description,
        FilterKey::Name,
        FilterKey::TagKey,
        FilterKey::TagValue,
        FilterKey::PrimaryRegion,
        FilterKey::OwningService,
        FilterKey::All,
    ];

    /// Parses a wire name. Exact and case-sensitive, as AWS's enum validation is.
    pub fn parse(s: &str) -> Option<Self> {
        Self::KEYS.into_iter().find(|key| key.as_str() == s)
    }

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            FilterKey::Description => "description",
            FilterKey::Name => "name",
            FilterKey::TagKey => "tag-key",
            FilterKey::TagValue => "tag-value",
            FilterKey::PrimaryRegion => "primary-region",
            FilterKey::OwningService => "owning-service",
            FilterKey::All => "all",
        }
    }
}

impl fmt::Display for FilterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One filter: values are OR'ed; a value starting with '!' negates.
///
/// Validation (1..10 values of at most 512 characters from AWS's pattern) belongs to the API
/// layer; a filter that reaches here with no values matches nothing, as an empty OR does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Which attribute the filter looks at.
    pub key: FilterKey,
    /// The values as sent, `!` prefixes included.
    pub values: Vec<String>,
}

impl Filter {
    /// A filter from a key and its values (a convenience for callers and tests).
    pub fn new<I, S>(key: FilterKey, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            key,
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// True when at least one value matches the target.
    pub fn matches(&self, target: &FilterTarget<'_>) -> bool {
        self.values.iter().any(|value| {
            let (negated, pattern) = split_negation(value);
            // Negation wraps the whole test of one value, tags included (see the module doc).
            positive_match(self.key, pattern, target) != negated
        })
    }
}

/// What a filter looks at.
#[derive(Debug, Clone, Copy)]
pub struct FilterTarget<'a> {
    /// The secret's name.
    pub name: &'a str,
    /// The secret's description, if it has one.
    pub description: Option<&'a str>,
    /// The secret's tags.
    pub tags: &'a [Tag],
    /// The primary Region, set only on a replica secret.
    pub primary_region: Option<&'a str>,
    /// The service that owns a managed secret.
    pub owning_service: Option<&'a str>,
}

/// True when the target matches every filter (filters are AND'ed, even two with the same key).
pub fn matches_all(filters: &[Filter], target: &FilterTarget<'_>) -> bool {
    filters.iter().all(|filter| filter.matches(target))
}

/// If the filters imply the secret name must start with one of some prefixes (a name filter
/// with no negated value), returns those prefixes so a store can narrow its scan.
///
/// The result is a necessary condition only: callers still apply [`matches_all`]. It is sorted,
/// without duplicates and without a prefix that another one already covers, so the ranges a store
/// scans never overlap. With several such name filters the first one is used; any of them is
/// sound because filters are AND'ed.
pub fn name_prefixes(filters: &[Filter]) -> Option<Vec<&str>> {
    let filter = filters.iter().find(|filter| {
        filter.key == FilterKey::Name
            && !filter.values.is_empty()
            && filter.values.iter().all(|value| !value.starts_with('!'))
    })?;
    let mut prefixes: Vec<&str> = filter.values.iter().map(String::as_str).collect();
    // Sorted order puts a prefix directly before everything it covers.
    prefixes.sort_unstable();
    let mut kept: Vec<&str> = Vec::with_capacity(prefixes.len());
    for prefix in prefixes {
        if kept.last().is_none_or(|last| !prefix.starts_with(last)) {
            kept.push(prefix);
        }
    }
    Some(kept)
}

/// Splits off one leading `!`. Only one: `!!x` is the negation of `!x`, as AWS's value pattern
/// `^\!?[...\!]*$` reads it.
fn split_negation(value: &str) -> (bool, &str) {
    match value.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, value),
    }
}

/// The un-negated test of one value against the target.
fn positive_match(key: FilterKey, pattern: &str, target: &FilterTarget<'_>) -> bool {
    match key {
        FilterKey::Name => target.name.starts_with(pattern),
        FilterKey::TagKey => target.tags.iter().any(|tag| tag.key.starts_with(pattern)),
        FilterKey::TagValue => target.tags.iter().any(|tag| tag.value.starts_with(pattern)),
        FilterKey::PrimaryRegion => target
            .primary_region
            .is_some_and(|region| region.starts_with(pattern)),
        FilterKey::OwningService => target
            .owning_service
            .is_some_and(|service| starts_with_ignore_case(service, pattern)),
        FilterKey::Description => {
            let pattern_words = words(pattern);
            target
                .description
                .is_some_and(|description| words_match(&pattern_words, description))
        }
        FilterKey::All => {
            let pattern_words = words(pattern);
            // Each field is tested on its own: AWS wants all the words "in the same field".
            std::iter::once(target.name)
                .chain(target.description)
                .chain(target.tags.iter().map(|tag| tag.key.as_str()))
                .chain(target.tags.iter().map(|tag| tag.value.as_str()))
                .any(|field| words_match(&pattern_words, field))
        }
    }
}

/// True when every pattern word is a case-insensitive prefix of some word of `text`. No words
/// match nothing, which is why `all:"+"` returns no secrets.
fn words_match(pattern_words: &[&str], text: &str) -> bool {
    if pattern_words.is_empty() {
        return false;
    }
    let text_words = words(text);
    pattern_words.iter().all(|pattern| {
        text_words
            .iter()
            .any(|word| starts_with_ignore_case(word, pattern))
    })
}

/// Case-insensitive `starts_with`, without allocating.
fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    let mut text_chars = text.chars().flat_map(char::to_lowercase);
    prefix
        .chars()
        .flat_map(char::to_lowercase)
        .all(|p| text_chars.next() == Some(p))
}

/// The characters allowed in a secret name besides letters and digits. They separate words,
/// except that a chunk mixing two different ones is left whole (moto's AWS-derived note).
const NAME_SEPARATORS: [char; 7] = ['/', '-', '_', '+', '=', '.', '@'];

fn is_name_separator(c: char) -> bool {
    NAME_SEPARATORS.contains(&c)
}

/// Splits text into the words AWS's word search indexes (see the module doc for the rules).
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    // Whitespace and other punctuation always separate; name separators are handled per chunk.
    for chunk in text.split(|c: char| !c.is_alphanumeric() && !is_name_separator(c)) {
        if !chunk.chars().any(char::is_alphanumeric) {
            continue;
        }
        let mut separators = chunk.chars().filter(|&c| is_name_separator(c));
        let mixed = separators
            .next()
            .is_some_and(|first| separators.any(|c| c != first));
        if mixed {
            out.push(chunk);
            continue;
        }
        for piece in chunk.split(is_name_separator) {
            split_case(piece, &mut out);
        }
    }
    out
}

/// Splits a run of letters and digits at case changes and letter/digit changes.
fn split_case<'a>(piece: &'a str, out: &mut Vec<&'a str>) {
    let chars: Vec<(usize, char)> = piece.char_indices().collect();
    let mut start = 0;
    for i in 1..chars.len() {
        let (index, current) = chars[i];
        let previous = chars[i - 1].1;
        let next = chars.get(i + 1).map(|&(_, c)| c);
        let digit_change = previous.is_numeric() != current.is_numeric();
        let lower_to_upper =
            !previous.is_numeric() && !previous.is_uppercase() && current.is_uppercase();
        // The last capital of a run starts the next word: COMPANYthings is COMPAN + Ythings.
        let acronym_end = previous.is_uppercase()
            && current.is_uppercase()
            && next.is_some_and(char::is_lowercase);
        if digit_change || lower_to_upper || acronym_end {
            out.push(&piece[start..index]);
            start = index;
        }
    }
    if start < piece.len() {
        out.push(&piece[start..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret as the tests see it.
    struct Secret {
        name: &'static str,
        description: Option<&'static str>,
        tags: Vec<Tag>,
        primary_region: Option<&'static str>,
        owning_service: Option<&'static str>,
    }

    impl Secret {
        fn new(name: &'static str) -> Self {
            Self {
                name,
                description: None,
                tags: Vec::new(),
                primary_region: None,
                owning_service: None,
            }
        }

        fn desc(mut self, description: &'static str) -> Self {
            self.description = Some(description);
            self
        }

        fn tag(mut self, key: &str, value: &str) -> Self {
            self.tags.push(Tag {
                key: key.to_owned(),
                value: value.to_owned(),
            });
            self
        }

        fn region(mut self, region: &'static str) -> Self {
            self.primary_region = Some(region);
            self
        }

        fn owner(mut self, service: &'static str) -> Self {
            self.owning_service = Some(service);
            self
        }

        fn target(&self) -> FilterTarget<'_> {
            FilterTarget {
                name: self.name,
                description: self.description,
                tags: &self.tags,
                primary_region: self.primary_region,
                owning_service: self.owning_service,
            }
        }
    }

    fn f(key: &str, values: &[&str]) -> Filter {
        let key = FilterKey::parse(key).unwrap_or_else(|| panic!("bad key {key}"));
        Filter::new(key, values.iter().copied())
    }

    /// Names of the secrets matching all filters, in fixture order.
    fn select<'s>(secrets: &'s [Secret], filters: &[Filter]) -> Vec<&'s str> {
        secrets
            .iter()
            .filter(|secret| matches_all(filters, &secret.target()))
            .map(|secret| secret.name)
            .collect()
    }

    /// Runs `(filters, expected names)` cases against one fixture.
    fn check(secrets: &[Secret], cases: &[(Vec<Filter>, Vec<&str>)]) {
        for (filters, expected) in cases {
            assert_eq!(&select(secrets, filters), expected, "filters: {filters:?}");
        }
    }

    #[test]
    fn keys_round_trip_and_are_case_sensitive() {
        for key in FilterKey::KEYS {
            assert_eq!(FilterKey::parse(key.as_str()), Some(key));
            assert_eq!(key.to_string(), key.as_str());
        }
        let names: Vec<&str> = FilterKey::KEYS.iter().map(FilterKey::as_str).collect();
        assert_eq!(
            names,
            [
                "description",
                "name",
                "tag-key",
                "tag-value",
                "primary-region",
                "owning-service",
                "all"
            ]
        );
        for bad in [
            "", "Name", "NAME", "tag_key", "tagkey", "invalid", " name", "all ",
        ] {
            assert_eq!(FilterKey::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn word_splitting() {
        let cases: &[(&str, &[&str])] = &[
            // moto's splitter table (its AWS-verified behaviour).
            ("test", &["test"]),
            ("my test", &["my", "test"]),
            ("Mytest", &["Mytest"]),
            ("MyTest", &["My", "Test"]),
            ("MyTestPhrase", &["My", "Test", "Phrase"]),
            ("myTest", &["my", "Test"]),
            ("my/test", &["my", "test"]),
            // §5.8 and the AWS-verified `all` tests.
            ("COMPANYthings", &["COMPAN", "Ythings"]),
            (
                "uat/COMPANY/3fa85f",
                &["uat", "COMPANY", "3", "fa", "85", "f"],
            ),
            ("SecretFTag", &["Secret", "F", "Tag"]),
            ("DescTwo", &["Desc", "Two"]),
            ("prod/AppBeta/x", &["prod", "App", "Beta", "x"]),
            ("prod_AppBeta_x", &["prod", "App", "Beta", "x"]),
            ("prod+AppBeta+x", &["prod", "App", "Beta", "x"]),
            ("prod=AppBeta=x", &["prod", "App", "Beta", "x"]),
            ("prod.AppBeta.x", &["prod", "App", "Beta", "x"]),
            ("prod@AppBeta@x", &["prod", "App", "Beta", "x"]),
            ("prod-AppBeta-x", &["prod", "App", "Beta", "x"]),
            ("prod-AppBeta/x", &["prod-AppBeta/x"]),
            ("+", &[]),
            ("", &[]),
            ("  ", &[]),
            ("+/", &[]),
            // The user guide: letter/digit changes and punctuation separate.
            ("credsDatabase#892", &["creds", "Database", "892"]),
            ("v2Api", &["v", "2", "Api"]),
            ("one and two", &["one", "and", "two"]),
            ("a secret", &["a", "secret"]),
            ("env: prod", &["env", "prod"]),
            ("db creds prod-db/main", &["db", "creds", "prod-db/main"]),
            ("HTTPServer", &["HTTP", "Server"]),
            ("ABC", &["ABC"]),
        ];
        for (input, expected) in cases {
            assert_eq!(words(input), *expected, "{input:?}");
        }
    }

    #[test]
    fn case_insensitive_prefix() {
        assert!(starts_with_ignore_case("SecretsManager", "secrets"));
        assert!(starts_with_ignore_case("abc", ""));
        assert!(!starts_with_ignore_case("ab", "abc"));
        assert!(!starts_with_ignore_case("xabc", "abc"));
    }

    /// LocalStack's AWS-validated `test_list_secrets_filtering`.
    #[test]
    fn localstack_list_secrets_filtering() {
        let secrets = [
            Secret::new("testing1/one-12345").desc("a secret"),
            Secret::new("/testing2/two-12345").desc("an secret"),
            Secret::new("testing3/three-12345").desc("asecret"),
            Secret::new("/testing4/four-12345").desc("thesecret"),
        ];
        let [one, two, three, four] = [
            "testing1/one-12345",
            "/testing2/two-12345",
            "testing3/three-12345",
            "/testing4/four-12345",
        ];
        check(
            &secrets,
            &[
                (vec![f("name", &["/"])], vec![two, four]),
                (vec![f("name", &["!/"])], vec![one, three]),
                (vec![f("name", &["testing1 one"])], vec![]),
                (vec![f("description", &["a"])], vec![one, two, three]),
                (vec![f("description", &["!a"])], vec![four]),
                (vec![f("description", &["a secret"])], vec![one, two]),
                (
                    vec![f("description", &["a"]), f("name", &["secret"])],
                    vec![],
                ),
                (vec![f("description", &["a"]), f("name", &["an"])], vec![]),
                (vec![f("description", &["!c"])], vec![one, two, three, four]),
                // Name matching is a prefix of the whole name, not of a word.
                (vec![f("name", &["testing"])], vec![one, three]),
                (vec![f("name", &["Testing"])], vec![]),
                (vec![f("name", &["one"])], vec![]),
                // §5.8: "a" does not match "thesecret".
                (vec![f("description", &["A SECRET"])], vec![one, two]),
            ],
        );
    }

    /// moto's AWS-verified description tests, and its negation test.
    #[test]
    fn description_words_and_negation() {
        let secrets = [
            Secret::new("foo").desc("one two"),
            Secret::new("bar").desc("one and two"),
            Secret::new("baz").desc("one"),
            Secret::new("qux").desc("two"),
            Secret::new("none").desc("unrelated"),
            Secret::new("nodesc"),
        ];
        check(
            &secrets,
            &[
                (vec![f("description", &["one two"])], vec!["foo", "bar"]),
                (vec![f("description", &["o t"])], vec!["foo", "bar"]),
                (vec![f("description", &["t"])], vec!["foo", "bar", "qux"]),
                (vec![f("description", &["two one"])], vec!["foo", "bar"]),
                (vec![f("description", &["ONE"])], vec!["foo", "bar", "baz"]),
                // Two filters with the same key are AND'ed (AWS-verified).
                (
                    vec![f("description", &["one"]), f("description", &["two"])],
                    vec!["foo", "bar"],
                ),
                // Values of one filter are OR'ed, negated ones too.
                (
                    vec![f("description", &["one", "!two"])],
                    vec!["foo", "bar", "baz", "none", "nodesc"],
                ),
                (
                    vec![f("description", &["!o"])],
                    vec!["qux", "none", "nodesc"],
                ),
                (
                    vec![f("description", &["!one", "!two"])],
                    vec!["baz", "qux", "none", "nodesc"],
                ),
                // A negated value is the complement, so a missing description matches it.
                (
                    vec![f("description", &["!unrelated"])],
                    vec!["foo", "bar", "baz", "qux", "nodesc"],
                ),
                // Not substrings: "nrelated" is inside a word only.
                (vec![f("description", &["nrelated"])], vec![]),
                // A value without words matches nothing; its negation everything.
                (vec![f("description", &["+"])], vec![]),
                (
                    vec![f("description", &["!+"])],
                    vec!["foo", "bar", "baz", "qux", "none", "nodesc"],
                ),
            ],
        );
    }

    /// moto's AWS-verified `test_with_all_filter`.
    #[test]
    fn all_filter_fields() {
        let secrets = [
            Secret::new("SecretOne3fa85f"),
            Secret::new("SecretTwo3fa85f").desc("DescTwo"),
            Secret::new("Thirdsecret3fa85f"),
            Secret::new("SecretFTag3fa85f").tag("1", "foo"),
            Secret::new("SecretFValue3fa85f").tag("foo", "v"),
            Secret::new("none3fa85f"),
        ];
        let [first, second, third, tag_key, tag_val, _none] = [
            "SecretOne3fa85f",
            "SecretTwo3fa85f",
            "Thirdsecret3fa85f",
            "SecretFTag3fa85f",
            "SecretFValue3fa85f",
            "none3fa85f",
        ];
        check(
            &secrets,
            &[
                (vec![f("all", &["SecretOne"])], vec![first]),
                (vec![f("all", &["foo"])], vec![tag_key, tag_val]),
                (
                    vec![f("all", &["Secret"])],
                    vec![first, second, tag_key, tag_val],
                ),
                (
                    vec![f("all", &["secret"])],
                    vec![first, second, tag_key, tag_val],
                ),
                (vec![f("all", &["ret"])], vec![]),
                (
                    vec![f("all", &["sec"])],
                    vec![first, second, tag_key, tag_val],
                ),
                (vec![f("all", &["SomeSecret"])], vec![]),
                (vec![f("all", &["d"])], vec![second]),
                (vec![f("all", &["d t"])], vec![second]),
                (vec![f("all", &["t"])], vec![second, third, tag_key]),
                // All words must match within one field: "desc" is in the description and
                // "secret" in the name, so together they match nothing.
                (vec![f("all", &["desc secret"])], vec![]),
                (vec![f("all", &["desc two"])], vec![second]),
            ],
        );
    }

    /// moto's earlier `test_with_all_filter` (implicit OR across fields).
    #[test]
    fn all_filter_any_field() {
        let secrets = [
            Secret::new("foo"),
            Secret::new("bar").desc("foo"),
            Secret::new("baz").tag("foo", "1"),
            Secret::new("qux").tag("1", "foo"),
            Secret::new("multi").tag("foo", "foo"),
            Secret::new("none"),
        ];
        check(
            &secrets,
            &[
                (
                    vec![f("all", &["foo"])],
                    vec!["foo", "bar", "baz", "qux", "multi"],
                ),
                (vec![f("all", &["!foo"])], vec!["none"]),
                (
                    vec![f("all", &["FOO"])],
                    vec!["foo", "bar", "baz", "qux", "multi"],
                ),
            ],
        );
    }

    /// moto's AWS-verified `test_with_all_filter_special_characters`, plus §5.8's notes.
    #[test]
    fn all_filter_special_characters() {
        let special = [
            "prod/AppBeta/3fa85f",
            "prod_AppBeta_3fa85f",
            "prod+AppBeta+3fa85f",
            "prod=AppBeta=3fa85f",
            "prod.AppBeta.3fa85f",
            "prod@AppBeta@3fa85f",
            "prod-AppBeta-3fa85f",
        ];
        let full_upper = "uat/COMPANY/3fa85f";
        let partial_upper = "uat/COMPANYthings/3fa85f";
        let mixed = "prod-AppBeta/3fa85f";
        let mut secrets: Vec<Secret> = special.iter().map(|name| Secret::new(name)).collect();
        secrets.push(Secret::new(full_upper));
        secrets.push(Secret::new(partial_upper));
        let mut all_names = special.to_vec();
        all_names.extend([full_upper, partial_upper]);
        check(
            &secrets,
            &[
                (vec![f("all", &["AppBeta"])], special.to_vec()),
                (vec![f("all", &["Beta"])], special.to_vec()),
                (vec![f("all", &["AppBeta", "prod"])], special.to_vec()),
                (vec![f("all", &["+"])], vec![]),
                (vec![f("all", &["3fa85f"])], all_names.clone()),
                (vec![f("all", &["company"])], vec![full_upper]),
                (vec![f("all", &["things"])], vec![]),
                (vec![f("all", &["Ythings"])], vec![partial_upper]),
                (vec![f("all", &["N"])], vec![]),
                (vec![f("all", &["pany"])], vec![]),
                (vec![f("all", &["uat"])], vec![full_upper, partial_upper]),
            ],
        );

        // A name mixing two separators is one word: only a prefix of the whole name finds it.
        let secrets = [Secret::new(mixed)];
        check(
            &secrets,
            &[
                (vec![f("all", &["AppBeta"])], vec![]),
                (vec![f("all", &["Beta"])], vec![]),
                (vec![f("all", &["3fa85f"])], vec![]),
                (vec![f("all", &["prod"])], vec![mixed]),
                (vec![f("all", &["PROD-appbeta/3"])], vec![mixed]),
            ],
        );
    }

    /// moto's `test_with_multiple_filters`: tag-key and tag-value filters are independent and
    /// AND'ed.
    #[test]
    fn tag_filters() {
        let secrets = [
            Secret::new("foo").tag("right", "right"),
            Secret::new("bar").tag("right", "wrong"),
            Secret::new("baz").tag("wrong", "right"),
            Secret::new("qux").tag("wrong", "wrong"),
            Secret::new("split")
                .tag("right", "wrong")
                .tag("wrong", "right"),
            Secret::new("untagged"),
        ];
        check(
            &secrets,
            &[
                (
                    vec![f("tag-key", &["right"]), f("tag-value", &["right"])],
                    // The two filters need not match the same tag.
                    vec!["foo", "split"],
                ),
                (vec![f("tag-key", &["ri"])], vec!["foo", "bar", "split"]),
                (vec![f("tag-key", &["Right"])], vec![]),
                (vec![f("tag-key", &["ight"])], vec![]),
                (vec![f("tag-value", &["wr"])], vec!["bar", "qux", "split"]),
                (
                    vec![f("tag-key", &[""])],
                    vec!["foo", "bar", "baz", "qux", "split"],
                ),
                (
                    vec![f("tag-key", &["right", "wrong"])],
                    vec!["foo", "bar", "baz", "qux", "split"],
                ),
                // Negation is "no tag matches", so untagged secrets are included.
                (
                    vec![f("tag-key", &["!right"])],
                    vec!["baz", "qux", "untagged"],
                ),
                (
                    vec![f("tag-value", &["!right"])],
                    vec!["bar", "qux", "untagged"],
                ),
                // The documented catch-all: every secret, untagged ones too.
                (
                    vec![f("tag-key", &["!tagKeyThatWillNeverExist"])],
                    vec!["foo", "bar", "baz", "qux", "split", "untagged"],
                ),
                (
                    vec![f("tag-key", &["!right"]), f("tag-value", &["!right"])],
                    vec!["qux", "untagged"],
                ),
            ],
        );
    }

    /// A tag value with spaces is one string for `tag-value`, words for `all`.
    #[test]
    fn tag_value_spaces() {
        let secrets = [Secret::new("s").tag("Team Name", "Data Platform")];
        check(
            &secrets,
            &[
                (vec![f("tag-value", &["Data Platform"])], vec!["s"]),
                (vec![f("tag-value", &["Platform"])], vec![]),
                (vec![f("tag-key", &["Team N"])], vec!["s"]),
                (vec![f("all", &["platform"])], vec!["s"]),
                (vec![f("all", &["plat data"])], vec!["s"]),
                (vec![f("all", &["name data"])], vec![]),
            ],
        );
    }

    #[test]
    fn primary_region_and_owning_service() {
        let secrets = [
            Secret::new("replica").region("us-east-1"),
            Secret::new("replica2").region("eu-west-1"),
            Secret::new("managed").owner("appflow"),
            Secret::new("rds").owner("RDS"),
            Secret::new("plain"),
        ];
        check(
            &secrets,
            &[
                (vec![f("primary-region", &["us-"])], vec!["replica"]),
                (vec![f("primary-region", &["US-"])], vec![]),
                (
                    vec![f("primary-region", &["us", "eu-west-1"])],
                    vec!["replica", "replica2"],
                ),
                (
                    vec![f("primary-region", &["!us"])],
                    vec!["replica2", "managed", "rds", "plain"],
                ),
                (vec![f("owning-service", &["app"])], vec!["managed"]),
                (vec![f("owning-service", &["APPFLOW"])], vec!["managed"]),
                (vec![f("owning-service", &["rds"])], vec!["rds"]),
                (vec![f("owning-service", &["flow"])], vec![]),
                // moto's test: an ordinary secret has no owning service.
                (vec![f("owning-service", &["n/a"])], vec![]),
                (
                    vec![f("owning-service", &["!app"])],
                    vec!["replica", "replica2", "rds", "plain"],
                ),
            ],
        );
    }

    #[test]
    fn name_filter_values() {
        let secrets = [
            Secret::new("foo"),
            Secret::new("bar"),
            Secret::new("baz"),
            Secret::new("!bang"),
        ];
        check(
            &secrets,
            &[
                // moto's `test_with_filter_with_multiple_values`.
                (vec![f("name", &["foo", "bar"])], vec!["foo", "bar"]),
                (vec![f("name", &["ba"])], vec!["bar", "baz"]),
                (vec![f("name", &["foo", "!ba"])], vec!["foo", "!bang"]),
                (
                    vec![f("name", &["!foo", "!bar"])],
                    vec!["foo", "bar", "baz", "!bang"],
                ),
                (
                    vec![f("name", &["!foo"]), f("name", &["!bar"])],
                    vec!["baz", "!bang"],
                ),
                (vec![f("name", &[""])], vec!["foo", "bar", "baz", "!bang"]),
                // "!" negates the empty prefix: nothing.
                (vec![f("name", &["!"])], vec![]),
                // Only the first '!' negates.
                (vec![f("name", &["!!b"])], vec!["foo", "bar", "baz"]),
                (vec![f("name", &["!b"])], vec!["foo", "!bang"]),
            ],
        );
    }

    #[test]
    fn empty_filters_and_values() {
        let secret = Secret::new("x").desc("anything");
        assert!(matches_all(&[], &secret.target()));
        let empty = Filter::new(FilterKey::Name, Vec::<String>::new());
        assert!(!empty.matches(&secret.target()));
        assert!(!matches_all(&[empty], &secret.target()));
    }

    #[test]
    fn name_prefix_hints() {
        let cases: Vec<(Vec<Filter>, Option<Vec<&str>>)> = vec![
            (vec![], None),
            (vec![f("description", &["a"])], None),
            (vec![f("name", &["!a"])], None),
            (vec![f("name", &["a", "!b"])], None),
            (vec![f("name", &["prod/"])], Some(vec!["prod/"])),
            (
                vec![f("name", &["prod/b", "dev/", "prod/a", "dev/", "prod/"])],
                Some(vec!["dev/", "prod/"]),
            ),
            (vec![f("name", &["ab", "abc", "b"])], Some(vec!["ab", "b"])),
            (vec![f("name", &["", "x"])], Some(vec![""])),
            (
                vec![
                    f("tag-key", &["env"]),
                    f("name", &["!z"]),
                    f("name", &["x/", "y/"]),
                    f("name", &["x/"]),
                ],
                Some(vec!["x/", "y/"]),
            ),
        ];
        for (filters, expected) in cases {
            assert_eq!(name_prefixes(&filters), expected, "{filters:?}");
        }
    }

    /// The hint never excludes a secret that the filters match.
    #[test]
    fn name_prefix_hint_is_sound() {
        let secrets = [
            Secret::new("prod/a"),
            Secret::new("prod/b"),
            Secret::new("dev/a"),
            Secret::new("other"),
        ];
        let filters = vec![
            f("name", &["prod/", "dev/a", "dev/"]),
            f("name", &["!prod/b"]),
        ];
        let prefixes = name_prefixes(&filters).unwrap_or_default();
        for secret in &secrets {
            if matches_all(&filters, &secret.target()) {
                assert!(
                    prefixes.iter().any(|p| secret.name.starts_with(p)),
                    "{}",
                    secret.name
                );
            }
        }
        assert_eq!(select(&secrets, &filters), vec!["prod/a", "dev/a"]);
    }
}
