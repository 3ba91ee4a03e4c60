//! Problems found in content, collected rather than thrown.
//!
//! A build keeps going after the first bad page so that an author sees every problem of a
//! change at once; the driver decides at the end whether the build failed.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// Worth knowing, never fails a build or `check --strict` (e.g. a review falling due,
    /// which must not turn CI red just because the calendar moved). Reported as `note`, as
    /// SARIF calls it; `notice` is accepted in the config.
    #[serde(rename = "note", alias = "notice")]
    Notice,
}

/// One problem: where it is, how bad, a stable rule name and a human message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Path as the user would type it: relative to the site root.
    pub path: PathBuf,
    /// 1-based; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based, in characters.
    pub col: usize,
    pub rule: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(rule: &'static str, path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            path: path.into(),
            line: 0,
            col: 0,
            rule,
            message: message.into(),
            hint: None,
        }
    }

    pub fn warning(
        rule: &'static str,
        path: impl Into<PathBuf>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(rule, path, message)
        }
    }

    pub fn at(mut self, pos: Pos) -> Self {
        self.line = pos.line;
        self.col = pos.col;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning
    }

    /// `path:line:col`, leaving out what is unknown.
    pub fn location(&self) -> String {
        let path = display_path(&self.path);
        match (self.line, self.col) {
            (0, _) => path,
            (l, 0) => format!("{path}:{l}"),
            (l, c) => format!("{path}:{l}:{c}"),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Notice => "note",
        };
        write!(
            f,
            "{}: {sev}[{}]: {}",
            self.location(),
            self.rule,
            self.message
        )?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// Forward slashes on every platform, so messages and JSON reports are stable.
pub fn display_path(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// A 1-based position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// Maps byte offsets of one file to line and column.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub fn pos(&self, text: &str, offset: usize) -> Pos {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let col = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        Pos {
            line: line + 1,
            col,
        }
    }
}

/// Sorts for stable output: by file, then position, then rule.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.path, a.line, a.col, a.rule, &a.message)
            .cmp(&(&b.path, b.line, b.col, b.rule, &b.message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_one_based_lines_and_columns() {
        let text = "ab\ncdé\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.pos(text, 0), Pos { line: 1, col: 1 });
        assert_eq!(idx.pos(text, 3), Pos { line: 2, col: 1 });
        assert_eq!(idx.pos(text, 7), Pos { line: 2, col: 4 });
        assert_eq!(idx.pos(text, 8), Pos { line: 3, col: 1 });
    }

    #[test]
    fn display_names_file_line_col_rule_and_hint() {
        let d = Diagnostic::error("front-matter", "playbooks/a.md", "unknown key `titel`")
            .at(Pos { line: 2, col: 1 })
            .with_hint("did you mean `title`?");
        assert_eq!(
            d.to_string(),
            "playbooks/a.md:2:1: error[front-matter]: unknown key `titel`\n  hint: did you mean `title`?"
        );
    }
}
