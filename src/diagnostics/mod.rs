//! Bad input as data: every stage reports `Diagnostic`s (code, message, located labels, help)
//! and keeps going; the pipeline stops between stages when any of them is an error.

mod code;
mod render;

use std::ops::Range;

pub use code::*;
pub use render::{render_human, render_human_styled, render_json};

use crate::sources::{FileId, Sources};

/// Whether a diagnostic fails the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A place in one source file, with what is said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Range<usize>,
    pub message: String,
}

impl Label {
    pub fn new(file: FileId, span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            file,
            span,
            message: message.into(),
        }
    }
}

/// One problem with the input: what, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is; `None` only for problems of the site as a whole (no file to
    /// point at, e.g. a missing `instances/` folder).
    pub primary: Option<Label>,
    /// Related places ("first defined here").
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    /// The primary span holds a secret (a plain value typed into a secret field): the
    /// rendered source line masks it, so the plaintext never reaches a terminal or a log.
    pub redact: bool,
}

impl Diagnostic {
    /// A diagnostic with the code's registered severity.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: code.info().severity,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
            redact: false,
        }
    }

    pub fn at(mut self, file: FileId, span: Range<usize>, label: impl Into<String>) -> Self {
        self.primary = Some(Label::new(file, span, label));
        self
    }

    pub fn also(mut self, file: FileId, span: Range<usize>, label: impl Into<String>) -> Self {
        self.secondary.push(Label::new(file, span, label));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn redacted(mut self) -> Self {
        self.redact = true;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// File path, line and column (1-based) of the primary label.
    pub fn location(&self, sources: &Sources) -> Option<(String, usize, usize)> {
        let label = self.primary.as_ref()?;
        let file = sources.get(label.file)?;
        let (line, col) = file.line_col(label.span.start);
        Some((file.path.clone(), line, col))
    }
}

/// All diagnostics of a run, kept in report order.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn errors(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.items.len() - self.errors()
    }

    /// Sort by file, then position, then code, so reports read top to bottom and are stable
    /// whatever order the rules ran in.
    pub fn sort(&mut self, sources: &Sources) {
        self.items.sort_by(|a, b| {
            let key = |d: &Diagnostic| {
                let (path, start) = match &d.primary {
                    Some(l) => (
                        sources.get(l.file).map(|f| f.path.as_str()).unwrap_or(""),
                        l.span.start,
                    ),
                    None => ("", 0),
                };
                (path.to_owned(), start, d.code.0, d.message.clone())
            };
            key(a).cmp(&key(b))
        });
        self.items.dedup();
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(items: Vec<Diagnostic>) -> Self {
        Self { items }
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}
