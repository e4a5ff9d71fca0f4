//! Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`) and the escapes
//! `${*}`, `${?}`, `${$}`.
//!
//! Variables exist only in `"Version": "2012-10-17"` documents; older or unversioned documents
//! keep `${...}` as literal text. A template is parsed once; substitution happens per request
//! because the values come from the caller and the request.

use super::glob::{Glob, Piece};

/// One part of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// Policy text (wildcards, where the consumer supports them, stay active).
    Text(String),
    /// `${*}`, `${?}` or `${$}`: the character, always literal.
    Escaped(char),
    /// `${key}` or `${key, 'default'}`; the key is stored lowercased (keys are case-insensitive).
    Var {
        key: String,
        default: Option<String>,
    },
}

/// A string from a policy that may contain variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    segs: Vec<Seg>,
}

/// Looks up a single-valued key for substitution; `key` is lowercased.
pub(crate) trait VarSource {
    /// The key's value, or `None` when the key is absent or multivalued.
    fn single(&self, key: &str) -> Option<&str>;
}

impl Template {
    /// Parses `text`; with `variables` false (pre-2012 documents) everything is literal text.
    pub(crate) fn parse(text: &str, variables: bool) -> Template {
        if !variables || !text.contains("${") {
            return Template {
                segs: vec![Seg::Text(text.to_string())],
            };
        }
        let mut segs = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let after = rest.get(start + 2..).unwrap_or("");
            let Some(end) = after.find('}') else {
                break;
            };
            let before = rest.get(..start).unwrap_or("");
            if !before.is_empty() {
                segs.push(Seg::Text(before.to_string()));
            }
            segs.push(parse_var(after.get(..end).unwrap_or("")));
            rest = after.get(end + 1..).unwrap_or("");
        }
        if !rest.is_empty() {
            segs.push(Seg::Text(rest.to_string()));
        }
        Template { segs }
    }

    /// True when substitution depends on the request.
    pub(crate) fn has_vars(&self) -> bool {
        self.segs.iter().any(|s| matches!(s, Seg::Var { .. }))
    }

    /// The text with no request-dependent parts, when the template has no variables.
    pub(crate) fn static_pieces(&self) -> Option<Vec<Piece>> {
        if self.has_vars() {
            None
        } else {
            self.pieces(&NoVars)
        }
    }

    /// Substitutes variables. `None` when a variable has no value and no default: the caller
    /// treats that policy value as matching nothing.
    pub(crate) fn pieces(&self, vars: &dyn VarSource) -> Option<Vec<Piece>> {
        let mut out = Vec::with_capacity(self.segs.len());
        for seg in &self.segs {
            out.push(match seg {
                Seg::Text(t) => Piece::Pattern(t.clone()),
                Seg::Escaped(c) => Piece::Literal(c.to_string()),
                Seg::Var { key, default } => match vars.single(key) {
                    Some(v) => Piece::Literal(v.to_string()),
                    None => Piece::Literal(default.clone()?),
                },
            });
        }
        Some(out)
    }

    /// Substitutes variables into a plain string (for operators without wildcards).
    pub(crate) fn resolve(&self, vars: &dyn VarSource) -> Option<String> {
        Some(
            self.pieces(vars)?
                .into_iter()
                .map(|p| match p {
                    Piece::Pattern(t) | Piece::Literal(t) => t,
                })
                .collect(),
        )
    }

    /// Substitutes variables into a wildcard pattern.
    pub(crate) fn glob(&self, vars: &dyn VarSource, fold_case: bool) -> Option<Glob> {
        Some(Glob::from_pieces(&self.pieces(vars)?, fold_case))
    }
}

struct NoVars;

impl VarSource for NoVars {
    fn single(&self, _key: &str) -> Option<&str> {
        None
    }
}

/// Parses the inside of `${...}`.
fn parse_var(inner: &str) -> Seg {
    match inner.trim() {
        "*" => return Seg::Escaped('*'),
        "?" => return Seg::Escaped('?'),
        "$" => return Seg::Escaped('$'),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(d);
            (k, Some(d.to_string()))
        }
        None => (inner, None),
    };
    Seg::Var {
        key: key.trim().to_lowercase(),
        default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Map(Vec<(&'static str, &'static str)>);
    impl VarSource for Map {
        fn single(&self, key: &str) -> Option<&str> {
            self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
        }
    }

    #[test]
    fn substitution() {
        let vars = Map(vec![("aws:username", "alice")]);
        let t = Template::parse("home/${aws:username}/*", true);
        assert_eq!(t.resolve(&vars).as_deref(), Some("home/alice/*"));
        let t = Template::parse("${AWS:UserName}", true);
        assert_eq!(t.resolve(&vars).as_deref(), Some("alice"));
        let t = Template::parse("x-${aws:PrincipalTag/team, 'none'}", true);
        assert_eq!(t.resolve(&vars).as_deref(), Some("x-none"));
        let t = Template::parse("x-${aws:PrincipalTag/team}", true);
        assert_eq!(t.resolve(&vars), None);
        let t = Template::parse("${aws:username}", false);
        assert_eq!(t.resolve(&vars).as_deref(), Some("${aws:username}"));
        let t = Template::parse("unterminated ${aws:username", true);
        assert_eq!(
            t.resolve(&vars).as_deref(),
            Some("unterminated ${aws:username")
        );
    }

    #[test]
    fn escapes_are_literal_in_globs() {
        let t = Template::parse("a${*}b${?}${$}", true);
        let g = t.glob(&NoVars, false);
        assert!(g.as_ref().is_some_and(|g| g.matches("a*b?$")));
        assert!(!g.is_some_and(|g| g.matches("axxb?$")));
    }
}
