//! Diagnostics as text (rustc style, through codespan-reporting) or as JSON.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label as CsLabel, LabelStyle};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};

use super::{Diagnostic, Diagnostics, Severity};
use crate::redact::{
    Redactor, escape_controls, mask_toml_secrets, mask_url_passwords, redact_url_userinfo,
};
use crate::sources::Sources;

/// Renders every diagnostic like rustc: `error[CB012]: ...`, `--> file:line:col`, the source
/// line with a caret, and the help.
///
/// Nothing secret is printed: every file is shown with the values of its secret fields
/// masked (by key name, so also in a file that does not parse), a redacted span is masked as
/// well, and what those values hold is redacted wherever else a message might quote it.
/// Control characters, in a snippet or in a message quoting a value, are shown escaped.
pub fn render_human(diags: &Diagnostics, sources: &Sources) -> String {
    let (masked, redactor) = masked_sources(sources);
    let mut files = SimpleFiles::new();
    let mut ids = Vec::new();
    for (_, f) in sources.files() {
        ids.push(files.add(f.path.clone(), printable(&masked[ids.len()])));
    }
    // A masked copy of a file is added on demand for each redacted diagnostic.
    let mut out = String::new();
    let config = Config::default();
    for d in diags.iter() {
        let mut cs = to_codespan(d, &ids);
        if d.redact
            && let Some(label) = &d.primary
            && let Some(f) = sources.get(label.file)
        {
            let mut bytes = masked[label.file.0].clone().into_bytes();
            for b in bytes.get_mut(label.span.clone()).into_iter().flatten() {
                if *b != b'\n' {
                    *b = b'*';
                }
            }
            let text = printable(&String::from_utf8_lossy(&bytes));
            let id = files.add(f.path.clone(), text);
            for l in cs.labels.iter_mut() {
                if l.file_id == ids[label.file.0] {
                    l.file_id = id;
                }
            }
        }
        // Rendering only fails on a span outside its file, which the loader never produces;
        // fall back to the bare line so nothing is lost.
        match term::emit_into_string(&config, &files, &cs) {
            Ok(text) => out.push_str(&text),
            Err(_) => {
                out.push_str(&format!(
                    "{}[{}]: {}\n",
                    severity_word(d.severity),
                    d.code,
                    shown(&d.message)
                ));
            }
        }
    }
    // Secrets are masked in place in the snippets; what a message quotes is redacted here,
    // without touching the layout of the snippets.
    redactor.redact_known(&out)
}

/// Each file's text with its secret fields masked (same length, so spans still fit), and a
/// redactor that knows what those fields held.
fn masked_sources(sources: &Sources) -> (Vec<String>, Redactor) {
    let mut redactor = Redactor::default();
    let masked = sources
        .files()
        .map(|(_, f)| {
            let m = mask_toml_secrets(&f.text);
            let u = mask_url_passwords(&m.text);
            for s in m.secrets.iter().chain(&u.secrets) {
                redactor.add(s);
            }
            u.text
        })
        .collect();
    (masked, redactor)
}

/// The text with control characters (a binary file's bytes, an escape sequence) shown as `?`,
/// one per byte so every span still points at the same place: a snippet must not drive the
/// terminal it is printed on.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let keep = !c.is_control() || matches!(c, '\n' | '\t' | '\r');
            let n = if keep { 0 } else { c.len_utf8() };
            std::iter::repeat_n('?', n).chain(keep.then_some(c))
        })
        .collect()
}

/// A message as printed: URL user-info redacted, control characters escaped.
fn shown(text: &str) -> String {
    escape_controls(&redact_url_userinfo(text)).into_owned()
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn to_codespan(d: &Diagnostic, ids: &[usize]) -> CsDiagnostic<usize> {
    let base = match d.severity {
        Severity::Error => CsDiagnostic::error(),
        Severity::Warning => CsDiagnostic::warning(),
    };
    let mut labels = Vec::new();
    if let Some(l) = &d.primary {
        labels.push(
            CsLabel::new(LabelStyle::Primary, ids[l.file.0], l.span.clone())
                .with_message(shown(&l.message)),
        );
    }
    for l in &d.secondary {
        labels.push(
            CsLabel::new(LabelStyle::Secondary, ids[l.file.0], l.span.clone())
                .with_message(shown(&l.message)),
        );
    }
    let mut notes = Vec::new();
    if let Some(h) = &d.help {
        notes.push(format!("help: {}", shown(h)));
    }
    base.with_code(d.code.0)
        .with_message(shown(&d.message))
        .with_labels(labels)
        .with_notes(notes)
}

/// One JSON object per diagnostic: code, name, severity, message, file, line, column, help,
/// and the related places.
pub fn render_json(diags: &Diagnostics, sources: &Sources) -> serde_json::Value {
    let (_, redactor) = masked_sources(sources);
    let text = |s: &str| redactor.redact(s);
    // (JSON keeps control characters as data; serde escapes them.)
    let place = |l: &super::Label| {
        let f = sources.get(l.file);
        let (line, col) = f.map_or((0, 0), |f| f.line_col(l.span.start));
        serde_json::json!({
            "file": f.map(|f| f.path.as_str()),
            "line": line,
            "column": col,
            "label": text(&l.message),
        })
    };
    let items: Vec<_> = diags
        .iter()
        .map(|d| {
            let mut v = serde_json::json!({
                "code": d.code.0,
                "name": d.code.info().name,
                "severity": d.severity,
                "message": text(&d.message),
                "help": d.help.as_deref().map(text),
                "related": d.secondary.iter().map(place).collect::<Vec<_>>(),
            });
            if let Some(p) = &d.primary {
                let loc = place(p);
                for k in ["file", "line", "column", "label"] {
                    v[k] = loc[k].clone();
                }
            }
            v
        })
        .collect();
    serde_json::Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_mask_secrets_and_messages_show_no_control_character() {
        use crate::diagnostics::{Diagnostic, INVALID_VALUE, TOML_SYNTAX};
        let mut sources = Sources::new();
        let text = "[auth]\nclient_secret = hunter2-plain # oops\nrepository = \"https://ci:tok-12345@git.example.org/x\"\n";
        let f = sources.add("instances/x.toml", text);
        let at = |needle: &str| {
            let i = text.find(needle).unwrap();
            i..i + needle.len()
        };
        let diags = Diagnostics::from(vec![
            Diagnostic::new(TOML_SYNTAX, "invalid TOML: string values must be quoted").at(
                f,
                at("hunter2-plain"),
                "here",
            ),
            Diagnostic::new(INVALID_VALUE, "`hunter2-plain\u{1b}[2J` is not a value").at(
                f,
                at("git.example.org"),
                "host",
            ),
        ]);
        let out = render_human(&diags, &sources);
        assert!(!out.contains("hunter2"), "{out}");
        assert!(!out.contains("tok-12345"), "{out}");
        assert!(!out.contains('\u{1b}'), "{out}");
        assert!(out.contains("`REDACTED\\x1b[2J` is not a value"), "{out}");
        // The masked password keeps the line's layout: the caret is under the host.
        let line = out
            .lines()
            .find(|l| l.contains("repository = "))
            .unwrap()
            .to_owned();
        let carets = out.lines().find(|l| l.contains("^^^ host")).unwrap();
        assert_eq!(line.find("git.example.org"), carets.find('^'), "{out}");
        let json = render_json(&diags, &sources).to_string();
        assert!(!json.contains("hunter2"), "{json}");
    }

    #[test]
    fn printable_masks_control_characters_byte_for_byte() {
        let text = "a\u{1b}[31mb\u{85}c\td\r\n\u{0}é";
        let shown = printable(text);
        assert_eq!(shown, "a?[31mb??c\td\r\n?é");
        assert_eq!(shown.len(), text.len());
    }
}
