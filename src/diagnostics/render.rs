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
    render_human_styled(diags, sources, false)
}

/// As [`render_human`], coloured with ANSI escapes when `color` (for a terminal).
pub fn render_human_styled(diags: &Diagnostics, sources: &Sources, color: bool) -> String {
    let (masked, redactor) = masked_sources(sources);
    let mut files = SimpleFiles::new();
    let mut ids = Vec::new();
    let mut elisions = Vec::new();
    for (_, f) in sources.files() {
        let (text, elided) = elide_long_runs(&printable(&masked[ids.len()]));
        ids.push(files.add(f.path.clone(), text));
        elisions.push(elided);
    }
    // A masked copy of a file is added on demand for each redacted diagnostic.
    let mut out = String::new();
    let config = Config::default();
    for d in diags.iter() {
        let mut cs = to_codespan(d, &ids, &elisions);
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
            let (text, elided) = elide_long_runs(&printable(&String::from_utf8_lossy(&bytes)));
            let id = files.add(f.path.clone(), text);
            // The labels in this file point into the masked copy, through its own elisions.
            for (l, orig) in cs
                .labels
                .iter_mut()
                .zip(d.primary.iter().chain(&d.secondary))
            {
                if orig.file == label.file {
                    l.file_id = id;
                    l.range = elided.map(&orig.span);
                }
            }
        }
        // Rendering only fails on a span outside its file, which the loader never produces;
        // fall back to the bare line so nothing is lost.
        let rendered = if color {
            let mut buf = term::termcolor::Ansi::new(Vec::new());
            term::emit_to_write_style(&mut buf, &config, &files, &cs)
                .ok()
                .map(|()| String::from_utf8_lossy(&buf.into_inner()).into_owned())
        } else {
            term::emit_into_string(&config, &files, &cs).ok()
        };
        match rendered {
            Some(text) => out.push_str(&text),
            None => {
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

/// Runs of base64-like characters (a ciphertext, a certificate line) at least this long are
/// shortened in snippets: CB041 under a sealed value printed the whole ciphertext, kilobytes
/// of carets that hide the line's point.
const LONG_RUN: usize = 100;
const KEEP_HEAD: usize = 12;
const KEEP_TAIL: usize = 8;

/// The regions of a file shortened for display, to map spans from the source into it.
#[derive(Debug, Default)]
struct Elisions {
    /// (start, end) of each shortened run in the source, in order.
    runs: Vec<(usize, usize)>,
    /// The length of each run's replacement.
    shown: Vec<usize>,
}

impl Elisions {
    fn offset(&self, at: usize) -> usize {
        let mut shift: isize = 0;
        for ((start, end), shown) in self.runs.iter().zip(&self.shown) {
            if at <= *start {
                break;
            }
            let new_start = start.cast_signed() + shift;
            if at < *end {
                let into = at - start;
                let len = end - start;
                let mapped = if into < KEEP_HEAD {
                    into
                } else if len - into <= KEEP_TAIL {
                    shown - (len - into)
                } else {
                    KEEP_HEAD
                };
                return (new_start + mapped.cast_signed()).cast_unsigned();
            }
            shift += shown.cast_signed() - (end - start).cast_signed();
        }
        (at.cast_signed() + shift).cast_unsigned()
    }

    fn map(&self, span: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        let start = self.offset(span.start);
        // An end at a run's end stays at the replacement's end.
        let end = if self.runs.iter().any(|(_, e)| *e == span.end) {
            self.offset(span.end - 1) + 1
        } else {
            self.offset(span.end)
        };
        start..end.max(start)
    }
}

fn elide_long_runs(text: &str) -> (String, Elisions) {
    // `*` too: a secret field's value is masked before it is shown, and stays as long.
    let is_run =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-' | b'*');
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut elisions = Elisions::default();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if !is_run(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_run(bytes[i]) {
            i += 1;
        }
        if i - start >= LONG_RUN {
            let run = &text[start..i];
            let shown = format!(
                "{}…[{} characters]…{}",
                &run[..KEEP_HEAD],
                run.len() - KEEP_HEAD - KEEP_TAIL,
                &run[run.len() - KEEP_TAIL..]
            );
            out.push_str(&text[copied..start]);
            out.push_str(&shown);
            copied = i;
            elisions.runs.push((start, i));
            elisions.shown.push(shown.len());
        }
    }
    out.push_str(&text[copied..]);
    (out, elisions)
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

fn to_codespan(d: &Diagnostic, ids: &[usize], elisions: &[Elisions]) -> CsDiagnostic<usize> {
    let base = match d.severity {
        Severity::Error => CsDiagnostic::error(),
        Severity::Warning => CsDiagnostic::warning(),
    };
    let mut labels = Vec::new();
    if let Some(l) = &d.primary {
        labels.push(
            CsLabel::new(
                LabelStyle::Primary,
                ids[l.file.0],
                elisions[l.file.0].map(&l.span),
            )
            .with_message(shown(&l.message)),
        );
    }
    for l in &d.secondary {
        labels.push(
            CsLabel::new(
                LabelStyle::Secondary,
                ids[l.file.0],
                elisions[l.file.0].map(&l.span),
            )
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
    fn long_values_are_elided_in_snippets_and_labels_follow() {
        use crate::diagnostics::{Diagnostic, SECRET_MISMATCH};
        let cipher = format!("AgB{}Xw==", "q".repeat(3000));
        let text = format!("[auth]\nclient_secret = {{ sealed = \"{cipher}\", key = \"k\" }}\n");
        let mut sources = Sources::new();
        let f = sources.add("instances/x.toml", text.as_str());
        let at = text.find(&cipher).unwrap();
        let key = text.find("\"k\"").unwrap();
        let diags = Diagnostics::from(vec![
            Diagnostic::new(SECRET_MISMATCH, "sealed for another namespace")
                .at(f, at..at + cipher.len(), "this ciphertext")
                .also(f, key..key + 3, "the key"),
        ]);
        let out = render_human(&diags, &sources);
        assert!(out.len() < 1000, "{out}");
        assert!(!out.contains("qqqq"), "{out}");
        let line = out.lines().find(|l| l.contains("client_secret")).unwrap();
        assert!(line.contains("characters]…"), "{out}");
        let carets = out.lines().find(|l| l.contains("^^^")).unwrap();
        // The carets cover the shortened run, the key's label sits under the key.
        let run = line.find("characters]").unwrap();
        assert!(
            carets.find('^').unwrap() < run && carets.rfind('^').unwrap() > run,
            "{out}"
        );
        let col = |l: &str, at: usize| l[..at].chars().count();
        assert_eq!(
            col(carets, carets.find("---").unwrap()),
            col(line, line.find("\"k\"").unwrap()),
            "{out}"
        );
    }

    #[test]
    fn elisions_map_offsets_before_inside_and_after_a_run() {
        let text = format!("a = \"{}\" b", "x".repeat(200));
        let (shown, e) = elide_long_runs(&text);
        assert_eq!(
            shown,
            format!(
                "a = \"{}…[180 characters]…{}\" b",
                "x".repeat(12),
                "x".repeat(8)
            )
        );
        assert_eq!(e.offset(0), 0);
        assert_eq!(e.offset(5), 5);
        let after = text.find("\" b").unwrap();
        assert_eq!(&shown[e.offset(after)..], "\" b");
        assert_eq!(e.map(&(5..205)), 5..shown.find("\" b").unwrap());
    }

    #[test]
    fn printable_masks_control_characters_byte_for_byte() {
        let text = "a\u{1b}[31mb\u{85}c\td\r\n\u{0}é";
        let shown = printable(text);
        assert_eq!(shown, "a?[31mb??c\td\r\n?é");
        assert_eq!(shown.len(), text.len());
    }
}
