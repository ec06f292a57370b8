//! The collector of compile problems: every one is kept, none stops the compiler.

use crate::error::{BuildWarnings, Diagnostic, DiagnosticCode as Code, Expiring, Severity};
use crate::instant::Instant;

/// Problems found so far.
#[derive(Debug, Default)]
pub struct Diags {
    pub(crate) list: Vec<Diagnostic>,
    /// Warnings that depend on the day, kept aside until it is applied ([`Diags::judge`]).
    expiring: Vec<Expiring>,
}

impl Diags {
    /// Records an error.
    pub(crate) fn error(&mut self, code: Code, path: &str, message: String, ids: &[&str]) {
        self.push(code, path, message, ids);
    }

    /// Records a warning (rejected only in strict mode).
    pub(crate) fn warning(&mut self, code: Code, path: &str, message: String, ids: &[&str]) {
        self.push(code, path, message, ids);
    }

    /// The warnings recorded so far, taken, with the marks of a compile of some phases alone
    /// (the price lists' warnings end at `lists`, the contracts' pricing rules' at
    /// `visibility`, their visibility rules' at the end).
    pub(crate) fn take(&mut self, lists: usize, visibility: usize) -> BuildWarnings {
        let end = self.list.len();
        BuildWarnings {
            list: std::mem::take(&mut self.list),
            expiring: std::mem::take(&mut self.expiring),
            marks: [0, lists, visibility, end],
        }
    }

    /// Records a warning due only on a day after `until` (an element that has expired).
    pub(crate) fn expiring(
        &mut self,
        until: Instant,
        code: Code,
        path: &str,
        message: String,
        ids: &[&str],
    ) {
        self.expiring.push(Expiring {
            at: self.list.len(),
            until: until.0,
            diagnostic: diagnostic(code, path, message, ids),
        });
    }

    /// Records what `other` found, after what this collector has.
    pub(crate) fn append(&mut self, other: Diags) {
        let at = self.list.len();
        self.expiring.extend(
            other
                .expiring
                .into_iter()
                .map(|e| Expiring { at: at + e.at, ..e }),
        );
        self.list.extend(other.list);
    }

    /// Whether nothing at all was reported, the warnings that depend on the day included.
    pub(crate) fn is_clean(&self) -> bool {
        self.list.is_empty() && self.expiring.is_empty()
    }

    /// Applies the day to the warnings that depend on it, and returns the build's warnings as
    /// they were before (what a partial recompile starts from).
    pub(crate) fn judge(&mut self, day: Instant, marks: [usize; 4]) -> BuildWarnings {
        let kept = BuildWarnings {
            list: std::mem::take(&mut self.list),
            expiring: std::mem::take(&mut self.expiring),
            marks,
        };
        self.list = kept.as_of(day);
        kept
    }

    fn push(&mut self, code: Code, path: &str, message: String, ids: &[&str]) {
        self.list.push(diagnostic(code, path, message, ids));
    }

    /// Records an element that serde could not read, classifying serde's message.
    pub(crate) fn item_error(&mut self, outer: &str, inner: &str, message: &str) {
        let path = join(outer, inner);
        let code = if message.starts_with("unknown field") {
            Code::UnknownField
        } else if message.starts_with("missing field") {
            Code::MissingField
        } else if message.contains("unknown variant") {
            Code::InvalidType
        } else if message.contains("selector") || message.contains("`attr`") {
            Code::InvalidSelector
        } else {
            Code::InvalidType
        };
        let message = message.split(" at line ").next().unwrap_or(message);
        self.error(code, &path, lowercase_first(message), &[]);
    }

    /// Whether an error was recorded at `path` or below it.
    pub(crate) fn has_error_at(&self, path: &str) -> bool {
        self.list
            .iter()
            .any(|d| d.severity() == Severity::Error && d.path.starts_with(path))
    }

    /// Whether any error (not warning) was recorded.
    pub(crate) fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity() == Severity::Error)
    }
}

fn diagnostic(code: Code, path: &str, message: String, ids: &[&str]) -> Diagnostic {
    Diagnostic {
        code,
        path: path.to_string(),
        message,
        ids: ids.iter().map(|s| s.to_string()).collect(),
    }
}

/// The `PARSE_ERROR` message of text that is not JSON, said the same way for every document a
/// caller hands over (rules, changes, edits).
pub(crate) fn invalid_json(e: &serde_json::Error) -> String {
    format!(
        "invalid json at line {} column {}: {e}",
        e.line(),
        e.column()
    )
}

/// Joins a path prefix and serde's relative path (`rules[1].percent`).
pub(crate) fn join(outer: &str, inner: &str) -> String {
    match (outer.is_empty(), inner.is_empty() || inner == ".") {
        (_, true) => outer.to_string(),
        (true, false) => inner.to_string(),
        (false, false) if inner.starts_with('[') => format!("{outer}{inner}"),
        (false, false) => format!("{outer}.{inner}"),
    }
}

fn lowercase_first(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_paths() {
        assert_eq!(
            join("contracts[3]", "rules[1].percent"),
            "contracts[3].rules[1].percent"
        );
        assert_eq!(join("contracts[3]", ""), "contracts[3]");
        assert_eq!(join("", "format"), "format");
    }

    #[test]
    fn appended_problems_keep_their_place_after_the_others() {
        let code = Code::UnknownReference;
        let mut diags = Diags::default();
        diags.error(code, "a", String::new(), &[]);
        diags.expiring(Instant(0), Code::Expired, "b", String::new(), &[]);
        let mut other = Diags::default();
        other.error(code, "c", String::new(), &[]);
        other.expiring(Instant(0), Code::Expired, "d", String::new(), &[]);
        other.error(code, "e", String::new(), &[]);
        diags.append(other);
        diags.error(code, "f", String::new(), &[]);
        diags.judge(Instant(1), [0; 4]);
        let paths: Vec<&str> = diags.list.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["a", "b", "c", "d", "e", "f"]);
    }
}
