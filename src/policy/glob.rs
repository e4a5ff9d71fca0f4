//! Wildcard patterns: `*` matches any run of characters (including `/` and `:`), `?` exactly one.
//!
//! A pattern is compiled once into tokens so evaluation never re-parses it. Wildcards that came
//! from an escape (`${*}`) or from a substituted variable value are literal tokens, which is why a
//! pattern is built from [`Piece`]s rather than from one string.

/// One compiled element of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    One,
}

/// Text that makes up a pattern: either pattern text whose `*`/`?` are wildcards, or literal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Policy text: `*` and `?` are wildcards.
    Pattern(String),
    /// Substituted or escaped text: every character matches only itself.
    Literal(String),
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    toks: Vec<Tok>,
    /// Actions match case-insensitively; the pattern is stored lowercased.
    fold_case: bool,
    /// True when the pattern is exactly `*` (the common case: a fast path).
    match_all: bool,
    /// The literal text when there is no wildcard (equality is then enough).
    exact: Option<String>,
}

impl Glob {
    /// Compiles policy text in which `*` and `?` are wildcards.
    pub(crate) fn new(pattern: &str, fold_case: bool) -> Glob {
        Glob::from_pieces(&[Piece::Pattern(pattern.to_string())], fold_case)
    }

    /// Compiles a pattern from pieces (after variable substitution).
    pub(crate) fn from_pieces(pieces: &[Piece], fold_case: bool) -> Glob {
        let mut toks = Vec::new();
        for piece in pieces {
            let (text, wild) = match piece {
                Piece::Pattern(t) => (t, true),
                Piece::Literal(t) => (t, false),
            };
            let text = if fold_case {
                text.to_lowercase()
            } else {
                text.clone()
            };
            for c in text.chars() {
                toks.push(match c {
                    '*' if wild => Tok::Star,
                    '?' if wild => Tok::One,
                    c => Tok::Lit(c),
                });
            }
        }
        Glob::from_toks(toks, fold_case)
    }

    fn from_toks(toks: Vec<Tok>, fold_case: bool) -> Glob {
        let match_all = toks.len() == 1 && toks.first() == Some(&Tok::Star);
        let exact = if toks.iter().all(|t| matches!(t, Tok::Lit(_))) {
            Some(
                toks.iter()
                    .filter_map(|t| match t {
                        Tok::Lit(c) => Some(*c),
                        _ => None,
                    })
                    .collect(),
            )
        } else {
            None
        };
        Glob {
            toks,
            fold_case,
            match_all,
            exact,
        }
    }

    /// Splits an ARN pattern into its six colon-separated parts (the last keeps any further
    /// colons), so each part is matched on its own and `*` cannot cross a part boundary.
    /// `None` when the pattern has fewer than six parts.
    pub(crate) fn split_arn(&self) -> Option<Vec<Glob>> {
        let mut parts = Vec::with_capacity(6);
        let mut current = Vec::new();
        for tok in &self.toks {
            if parts.len() < 5 && *tok == Tok::Lit(':') {
                parts.push(Glob::from_toks(
                    std::mem::take(&mut current),
                    self.fold_case,
                ));
            } else {
                current.push(tok.clone());
            }
        }
        if parts.len() < 5 {
            return None;
        }
        parts.push(Glob::from_toks(current, self.fold_case));
        Some(parts)
    }

    /// Whether `text` matches the whole pattern.
    pub(crate) fn matches(&self, text: &str) -> bool {
        if self.match_all {
            return true;
        }
        if self.fold_case {
            let lowered = text.to_lowercase();
            self.matches_folded(&lowered)
        } else {
            self.matches_folded(text)
        }
    }

    /// Like [`matches`](Self::matches) for a case-insensitive pattern, with `text` already
    /// lowercased by the caller (so one request is lowercased once, not once per pattern).
    pub(crate) fn matches_folded(&self, text: &str) -> bool {
        if self.match_all {
            return true;
        }
        if let Some(exact) = &self.exact {
            return exact == text;
        }
        let chars: Vec<char> = text.chars().collect();
        glob_match(&self.toks, &chars)
    }
}

/// Iterative wildcard matching with one backtrack point: O(pattern × text) worst case, no
/// recursion, so hostile patterns cannot exhaust the stack.
fn glob_match(pat: &[Tok], text: &[char]) -> bool {
    let (mut p, mut s) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(s) {
        match pat.get(p) {
            Some(Tok::One) => {
                p += 1;
                s += 1;
            }
            Some(Tok::Lit(l)) if *l == c => {
                p += 1;
                s += 1;
            }
            Some(Tok::Star) => {
                star = Some((p, s));
                p += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    p = sp + 1;
                    s = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    pat.get(p..)
        .is_some_and(|rest| rest.iter().all(|t| *t == Tok::Star))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p, false).matches(t)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", ""));
        assert!(m("*", "anything/at:all"));
        assert!(m("a*c", "abc"));
        assert!(m("a*c", "ac"));
        assert!(m("a*c", "a/b/c"));
        assert!(!m("a*c", "abd"));
        assert!(m("db-??????", "db-AbCdEf"));
        assert!(!m("db-??????", "db-AbCdE"));
        assert!(!m("db-??????", "db-x-AbCdEf"));
        assert!(m("db-*", "db-x-AbCdEf"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b*", "xxbxxaxx"));
        assert!(m("a**b", "ab"));
        assert!(!m("", "a"));
        assert!(m("", ""));
        assert!(m("héllo?", "héllo✓"));
    }

    #[test]
    fn case() {
        assert!(!m("Secret", "secret"));
        assert!(Glob::new("SecretsManager:Get*", true).matches("secretsmanager:getsecretvalue"));
    }

    #[test]
    fn literal_pieces_are_not_wildcards() {
        let g = Glob::from_pieces(
            &[
                Piece::Pattern("a".into()),
                Piece::Literal("*".into()),
                Piece::Pattern("*".into()),
            ],
            false,
        );
        assert!(g.matches("a*xyz"));
        assert!(!g.matches("axyz"));
    }

    #[test]
    fn arn_split() {
        let g = Glob::new("arn:aws:iam::*:role/a:b", false);
        let parts = g.split_arn().unwrap_or_default();
        assert_eq!(parts.len(), 6);
        assert!(parts[4].matches("123456789012"));
        assert!(parts[5].matches("role/a:b"));
        assert!(Glob::new("arn:aws", false).split_arn().is_none());
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let pat = "*a".repeat(200);
        let text = "a".repeat(5000) + "b";
        assert!(!m(&pat, &text));
    }
}
