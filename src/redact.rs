//! The one redaction step of every renderer: diagnostics (text and JSON), the reports of
//! `diff --base` and `diff --live`, and the command line's own messages pass what they print
//! through here.
//!
//! - [`Redactor`] knows secret strings met during the run (the credentials the kubeconfig led
//!   to; whatever was typed into a secret field of a site file) and replaces each occurrence
//!   by `REDACTED`, as `kubectl config view` shows such fields; URL user-info
//!   (`https://user:pass@host`) is replaced whether it was seen before or not.
//! - [`mask_toml_secrets`] finds the values of secret fields in TOML text by key name, even
//!   when the file does not parse (a missing quote, an unclosed string, a duplicate key), so
//!   that a source snippet never shows a plaintext.
//! - [`escape_controls`] makes a text safe to print on a terminal: an escape sequence in a
//!   site value (or an object name, or a server's error message) is shown, not obeyed, as
//!   kubectl shows it.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

pub const REDACTED: &str = "REDACTED";

/// Secrets shorter than this are not searched for: a one-letter "password" would turn every
/// message into confetti, and such a value protects nothing.
const SHORTEST: usize = 4;

#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// Remembers `secret` (and, for multi-line material such as a PEM key, each of its lines,
    /// since a message may quote one line of it).
    pub fn add(&mut self, secret: &str) {
        let mut add_one = |s: &str| {
            let s = s.trim();
            if s.len() >= SHORTEST && !self.secrets.iter().any(|k| k == s) {
                self.secrets.push(s.to_owned());
            }
        };
        add_one(secret);
        if secret.contains('\n') {
            for line in secret.lines() {
                // PEM armour lines (`-----BEGIN ...-----`) are not secret and would redact
                // every certificate shown in an error.
                if !line.starts_with("-----") {
                    add_one(line);
                }
            }
        }
    }

    /// Whether nothing is known to be secret.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every known secret replaced. Longer secrets go first, so that a secret
    /// containing a shorter one is replaced whole. The text keeps its characters otherwise:
    /// this is the form for data (JSON) as well as for terminals.
    pub fn redact(&self, text: &str) -> String {
        redact_url_userinfo(&self.redact_known(text))
    }

    /// `text` with every known secret replaced, and nothing else changed (for text whose
    /// layout must stay, such as rendered source snippets whose secrets are already masked in
    /// place).
    pub fn redact_known(&self, text: &str) -> String {
        let mut secrets: Vec<&String> = self.secrets.iter().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut out = text.to_owned();
        for s in secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        out
    }

    /// [`Redactor::redact`], then [`escape_controls`]: the form for text a person reads
    /// (a terminal, a log, a pull-request comment).
    pub fn for_terminal(&self, text: &str) -> String {
        escape_controls(&self.redact(text)).into_owned()
    }
}

/// Replaces the user-info of every `scheme://user:pass@host` in `text` (a server URL quoted by
/// an error of the HTTP stack, say) by `REDACTED`, whether or not it was seen before.
pub fn redact_url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first `/`, `?`, `#` or blank; user-info is what comes
        // before its last `@`.
        let end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The passwords of `scheme://user:password@host` URLs in `text`, masked in place (`*`, same
/// length), with what they were: a site file's repository URL may carry a token, and its
/// snippet keeps its layout.
pub fn mask_url_passwords(text: &str) -> Masked {
    let mut out = text.as_bytes().to_vec();
    let mut secrets = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let start = from + i + 3;
        let end = text[start..]
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'') || c.is_whitespace())
            .map_or(text.len(), |n| start + n);
        let authority = &text[start..end];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
            && colon + 1 < at
        {
            let (a, b) = (start + colon + 1, start + at);
            secrets.push(text[a..b].to_owned());
            out[a..b].iter_mut().for_each(|c| *c = b'*');
        }
        from = end.max(start);
    }
    // Only ASCII bytes were replaced, between ASCII delimiters.
    let text = String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Masked { text, secrets }
}

/// `text` with every control character but line feed and tab written as an escape
/// (`\x1b`, `\r`, `\u{9b}`): what a value holds is shown, and a terminal never acts on it.
/// Carriage return is escaped too, since it lets a value overwrite the line it is printed on.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let keep = |c: char| !c.is_control() || c == '\n' || c == '\t';
    if text.chars().all(keep) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if keep(c) => out.push(c),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// The last key segments of the site's secret fields (`auth.client_secret`,
/// `calico.bgp.peer.N.password`, ...). A value under such a key is masked in every snippet,
/// wherever the key appears: masking a Secret's *name* (`[gitops] secret`) too costs nothing,
/// missing a plaintext would leak it. `every_secret_slot_is_masked_by_name` keeps this list
/// in step with the components' secret fields.
pub const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "secret",
    "password",
    "access_key",
    "secret_key",
    "condor_token",
    "token",
];

/// The keys of a sealed value that are not secret: where it was sealed for.
const IDENTITY_KEYS: &[&str] = &["scope", "namespace", "name", "key"];

/// TOML text with the values of its secret fields masked, and those values.
#[derive(Debug, Clone, Default)]
pub struct Masked {
    /// The text, every masked byte `*` (line breaks kept): byte for byte as long as the input
    /// and still UTF-8, so every span into the input points at the same place here.
    pub text: String,
    /// Each masked value as written (a string's contents without its quotes), to redact
    /// wherever else it might be quoted.
    pub secrets: Vec<String>,
}

/// Masks the value of every key named in [`SECRET_KEYS`], at any depth, in TOML text that
/// need not parse. A value is masked from its first character to its end: a string to its
/// closing quote (or the end of the line when it has none), an array or inline table to its
/// closing bracket (or the end of the file), anything else (a bare word typed without quotes)
/// to the end of the line. In an inline table the identity of a sealed value (`scope`,
/// `namespace`, `name`, `key`) stays readable, and so does `sealed` when it holds a
/// well-formed ciphertext; everything else in it is masked.
///
/// The scan is linear and never fails: every byte is looked at a bounded number of times.
pub fn mask_toml_secrets(text: &str) -> Masked {
    let bytes = text.as_bytes();
    let mut masks: Vec<Range<usize>> = Vec::new();
    let mut keep: Vec<Range<usize>> = Vec::new();
    let mut secrets = Vec::new();
    let mut key_start = Some(0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                // A commented-out assignment may still hold a plaintext; strings are not
                // looked for in comments (an apostrophe is no quote there).
                let end = line_end(bytes, i);
                if let Some(eq) = text[i + 1..end].find('=').map(|n| i + 1 + n)
                    && SECRET_KEYS.contains(&last_segment(&text[i + 1..eq]))
                {
                    let start = skip_blanks(bytes, eq + 1);
                    if start < end {
                        masks.push(start..end);
                        secrets.push(text[start..end].trim().to_owned());
                    }
                }
                i = end;
            }
            b'"' | b'\'' => i = string_end(bytes, i),
            b'\n' | b',' | b'{' | b'[' | b']' | b'}' => {
                i += 1;
                key_start = Some(i);
            }
            b'=' => {
                let key = key_start.map(|s| last_segment(&text[s..i]));
                key_start = None;
                i += 1;
                if key.is_some_and(|k| SECRET_KEYS.contains(&k)) {
                    let start = skip_blanks(bytes, i);
                    let end = value_end(bytes, start);
                    if start < end {
                        masks.push(start..end);
                        if bytes[start] == b'{' {
                            // What stays readable of a sealed value's table is not secret;
                            // each run that is masked is, and so is each string in it.
                            let visible = visible_in_table(text, start..end);
                            secrets.extend(hidden_values(text, start..end, &visible));
                            keep.extend(visible);
                        } else {
                            let value = unquote(&text[start..end]);
                            if !value.is_empty() {
                                secrets.push(value.to_owned());
                            }
                            // A bare word runs to the end of the line, a comment included; a
                            // message quotes the word alone.
                            if !matches!(bytes[start], b'"' | b'\'' | b'[') {
                                let word = value.split('#').next().unwrap_or("").trim();
                                let first = word.split_whitespace().next().unwrap_or("");
                                for w in [word, first] {
                                    if !w.is_empty() && w != value {
                                        secrets.push(w.to_owned());
                                    }
                                }
                            }
                        }
                    }
                    i = end;
                }
            }
            _ => i += 1,
        }
    }
    let mut out = bytes.to_vec();
    for m in &masks {
        for (at, b) in out.iter_mut().enumerate().take(m.end).skip(m.start) {
            let visible = keep.iter().any(|k| k.contains(&at));
            if !visible && !matches!(*b, b'\n' | b'\r') {
                *b = b'*';
            }
        }
    }
    // Every byte was either kept or replaced by ASCII, and masked ranges start and end at
    // ASCII delimiters, so the result is UTF-8; the fallback is never taken.
    let text = String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Masked { text, secrets }
}

/// The index of the line feed ending the line holding `i` (or the end of the text).
fn line_end(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| i + n)
}

fn skip_blanks(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// The index just past the string starting at `i` (a quote): its closing quote, or the end
/// of the line for a one-line string that has none, or the end of the text for a multi-line
/// string that has none.
fn string_end(bytes: &[u8], i: usize) -> usize {
    let q = bytes[i];
    if bytes[i..].starts_with(&[q, q, q]) {
        let mut j = i + 3;
        while j < bytes.len() {
            if q == b'"' && bytes[j] == b'\\' {
                j += 2;
                continue;
            }
            if bytes[j..].starts_with(&[q, q, q]) {
                // A closing delimiter may be followed by up to two more quotes of the string.
                let mut end = j + 3;
                while end < bytes.len() && end < j + 5 && bytes[end] == q {
                    end += 1;
                }
                return end;
            }
            j += 1;
        }
        return bytes.len();
    }
    let mut j = i + 1;
    while j < bytes.len() && bytes[j] != b'\n' {
        if q == b'"' && bytes[j] == b'\\' {
            j += 2;
            continue;
        }
        if bytes[j] == q {
            return j + 1;
        }
        j += 1;
    }
    j.min(bytes.len())
}

/// The index just past the value starting at `start`.
fn value_end(bytes: &[u8], start: usize) -> usize {
    match bytes.get(start) {
        None | Some(b'\n') => start,
        Some(b'"' | b'\'') => string_end(bytes, start),
        Some(b'{' | b'[') => {
            // To the bracket that closes it, over strings and nested brackets; an unclosed
            // one runs to the end of the text, since what follows may be its content.
            let mut depth = 0usize;
            let mut j = start;
            while j < bytes.len() {
                match bytes[j] {
                    b'"' | b'\'' => {
                        j = string_end(bytes, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            bytes.len()
        }
        Some(_) => line_end(bytes, start),
    }
}

/// The last segment of a dotted key (`auth.client_secret`, `"client_secret"`), unquoted.
fn last_segment(key: &str) -> &str {
    let key = key.trim();
    let last = key.rsplit('.').next().unwrap_or(key).trim();
    last.trim_matches(|c| c == '"' || c == '\'')
}

/// A value's text without its quotes (a string's contents), for the redactor.
fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if let Some(inner) = v.strip_prefix(q) {
            return inner.strip_suffix(q).unwrap_or(inner);
        }
    }
    v
}

/// What a secret field's table holds that is masked: the value of each pair that is not
/// readable (its string's contents), or a piece that is no pair at all. Keys are not secret
/// (`value` would otherwise be redacted from every message).
fn hidden_values(text: &str, table: Range<usize>, visible: &[Range<usize>]) -> Vec<String> {
    let bytes = text.as_bytes();
    let inner = (table.start + 1)..table.end.saturating_sub(1).max(table.start + 1);
    let mut out = Vec::new();
    let mut piece_start = inner.start;
    let mut i = inner.start;
    let take = |from: usize, to: usize, out: &mut Vec<String>| {
        let raw = &text[from..to];
        let piece = raw.trim();
        if piece.is_empty() {
            return;
        }
        // A readable pair (not a one-character piece of structure) covers it whole.
        let a = from + (raw.len() - raw.trim_start().len());
        let b = a + piece.len();
        if visible
            .iter()
            .any(|v| v.len() > 1 && v.start <= a && b <= v.end)
        {
            return;
        }
        let value = match piece.split_once('=') {
            Some((_, v)) => v.trim(),
            None => piece,
        };
        let value = unquote(value.trim_matches(|c| c == '{' || c == '}'));
        if !value.is_empty() {
            out.push(value.to_owned());
        }
    };
    while i < inner.end {
        match bytes[i] {
            b'"' | b'\'' => {
                i = string_end(bytes, i).min(inner.end);
                continue;
            }
            b',' | b'\n' => {
                take(piece_start, i, &mut out);
                piece_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    take(piece_start, inner.end, &mut out);
    out
}

/// What stays readable in a secret field's inline table: the structure (`{`, `,`, `}`,
/// blanks), each identity key with its string value, and `sealed` with a well-formed
/// ciphertext. Pairs are found by the same scan as at the top, one level deep.
fn visible_in_table(text: &str, table: Range<usize>) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut visible = Vec::new();
    let mut i = table.start;
    let mut pair_start = table.start + 1;
    while i < table.end {
        match bytes[i] {
            b'{' | b'}' | b',' | b' ' | b'\t' | b'\n' => {
                visible.push(i..i + 1);
                if matches!(bytes[i], b'{' | b',') {
                    pair_start = i + 1;
                }
                i += 1;
            }
            b'"' | b'\'' => i = string_end(bytes, i).min(table.end),
            b'=' => {
                let key = last_segment(&text[pair_start..i]);
                let v_start = skip_blanks(bytes, i + 1);
                let v_end = if matches!(bytes.get(v_start), Some(b'"' | b'\'')) {
                    string_end(bytes, v_start).min(table.end)
                } else {
                    // Not a string: a number, a table, a bare word; masked whole.
                    i += 1;
                    continue;
                };
                let value = &text[v_start..v_end];
                let shown = IDENTITY_KEYS.contains(&key)
                    || (key == "sealed"
                        && crate::site::types::parse_sealed(unquote(value)).is_ok());
                let closed = value.len() >= 2 && value.ends_with(&value[..1]);
                if shown && closed {
                    visible.push(pair_start..v_end);
                }
                i = v_end;
            }
            _ => i += 1,
        }
    }
    visible
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_and_their_lines_are_replaced() {
        let mut r = Redactor::default();
        r.add("tok-123456");
        r.add("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n");
        r.add("ab");
        let text =
            "Bearer tok-123456 rejected; key line MIIEvQIBADANBgkqhkiG9w0BAQEFAASC; ab stays";
        assert_eq!(
            r.redact(text),
            "Bearer REDACTED rejected; key line REDACTED; ab stays"
        );
        assert!(!r.redact("-----BEGIN PRIVATE KEY-----").contains(REDACTED));
    }

    #[test]
    fn a_secret_inside_a_longer_one_does_not_leave_pieces() {
        let mut r = Redactor::default();
        r.add("secret");
        r.add("topsecretvalue");
        assert_eq!(
            r.redact("x topsecretvalue y secret"),
            "x REDACTED y REDACTED"
        );
    }

    #[test]
    fn url_userinfo_is_always_redacted() {
        assert_eq!(
            redact_url_userinfo("cannot reach https://admin:hunter22@k8s.example:6443/api (x)"),
            "cannot reach https://REDACTED@k8s.example:6443/api (x)"
        );
        assert_eq!(
            redact_url_userinfo("http://127.0.0.1:9 and https://tok@h"),
            "http://127.0.0.1:9 and https://REDACTED@h"
        );
        assert_eq!(redact_url_userinfo("no url here"), "no url here");
    }

    #[test]
    fn url_passwords_are_masked_in_place() {
        let m = mask_url_passwords(
            "repository = \"https://ci:ghp_token123@github.com/org/site\"\nother = \"ssh://git@github.com/org/site\"\n",
        );
        assert_eq!(
            m.text,
            "repository = \"https://ci:************@github.com/org/site\"\nother = \"ssh://git@github.com/org/site\"\n"
        );
        assert_eq!(m.secrets, ["ghp_token123"]);
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(
            escape_controls("a\u{1b}[31mred\u{7}\r\nnext\tcol\u{9b}2J\u{0}"),
            "a\\x1b[31mred\\x07\\r\nnext\tcol\\u{9b}2J\\x00"
        );
        assert!(matches!(escape_controls("plain é\n"), Cow::Borrowed(_)));
        let mut r = Redactor::default();
        r.add("hunter22");
        assert_eq!(r.for_terminal("hunter22\u{1b}]0;x"), "REDACTED\\x1b]0;x");
    }

    /// The masked text, with `*` runs shown as `*`.
    fn masked(text: &str) -> (String, Vec<String>) {
        let m = mask_toml_secrets(text);
        assert_eq!(m.text.len(), text.len(), "{text}");
        let mut squeezed = String::new();
        for c in m.text.chars() {
            if !(c == '*' && squeezed.ends_with('*')) {
                squeezed.push(c);
            }
        }
        (squeezed, m.secrets)
    }

    #[test]
    fn plaintexts_in_broken_files_are_masked() {
        // A bare word (a missing pair of quotes), an unclosed string, a duplicate key, a
        // dotted key, a value in an inline table, a multi-line string.
        let text = "[auth]\nclient_secret = hunter2-bare # note\nconnector = \"cilogon\"\n\
                    [[dex.connector]]\nid = \"x\"\nclient_secret = \"unclosed-secret\nname = \"n\"\n\
                    password = \"first-pass\"\npassword = \"second-pass\"\n\
                    auth.token = 'dotted-token'\nx = { secret_key = \"in-a-table\", other = 1 }\n\
                    token = \"\"\"multi\nline-secret\"\"\"\nafter = \"shown\"\n";
        let (shown, secrets) = masked(text);
        for s in [
            "hunter2",
            "unclosed-secret",
            "first-pass",
            "second-pass",
            "dotted-token",
            "in-a-table",
            "line-secret",
        ] {
            assert!(!shown.contains(s), "{s} shown:\n{shown}");
        }
        assert!(shown.contains("connector = \"cilogon\""), "{shown}");
        assert!(shown.contains("name = \"n\""), "{shown}");
        assert!(shown.contains("other = 1 }"), "{shown}");
        assert!(shown.contains("after = \"shown\""), "{shown}");
        assert!(
            secrets.contains(&"unclosed-secret".to_owned()),
            "{secrets:?}"
        );
        assert!(
            secrets.contains(&"hunter2-bare # note".to_owned()),
            "{secrets:?}"
        );
    }

    #[test]
    fn a_sealed_value_keeps_its_identity_and_ciphertext_readable() {
        use base64::Engine as _;
        // A 2-byte RSA part and a bare 16-byte tag: the smallest well-formed shape.
        let mut raw = vec![0u8, 2, 7, 7];
        raw.extend([0u8; 16]);
        let ct = base64::engine::general_purpose::STANDARD.encode(raw);
        let text = format!(
            "client_secret = {{ sealed = \"{ct}\", namespace = \"ns\", name = \"hub-oauth\", key = \"K\" }}\n"
        );
        let (shown, _) = masked(&text);
        assert_eq!(shown, text, "a well-formed sealed value is not secret");
        // A plaintext pasted as `sealed`, or under a key of its own, is masked; the identity
        // stays.
        let pasted =
            "secret = { sealed = \"my plain secret\", key = \"K\", value = \"other one\" }\n";
        let (shown, secrets) = masked(pasted);
        assert!(
            !shown.contains("my plain") && !shown.contains("other one"),
            "{shown}"
        );
        assert!(shown.contains("key = \"K\""), "{shown}");
        assert!(
            secrets.contains(&"my plain secret".to_owned()),
            "{secrets:?}"
        );
        assert!(secrets.contains(&"other one".to_owned()), "{secrets:?}");
        // What stays readable is not taken for a secret (the redactor would hide it again).
        assert!(!secrets.iter().any(|s| s.contains("key = ")), "{secrets:?}");
        // A number, an array, an unclosed table running on.
        for (t, s) in [
            ("secret = 73914265\n", "73914265"),
            (
                "password = [\"a\",\n  \"array-secret\"]\nx = 1\n",
                "array-secret",
            ),
            (
                "token = { value = \"open\nnext-line-secret\n",
                "next-line-secret",
            ),
        ] {
            let (shown, _) = masked(t);
            assert!(!shown.contains(s), "{t:?}: {shown}");
        }
    }

    #[test]
    fn other_keys_are_left_alone_and_commented_out_secrets_masked() {
        let text =
            "# the department's token\nname = \"secret = x\"\nsecrets = [\"a\"]\ntoken_days = 7\n";
        assert_eq!(mask_toml_secrets(text).text, text);
        let (shown, _) = masked("# password = \"old-one\"\nx = 1\n");
        assert_eq!(shown, "# password = *\nx = 1\n");
    }
}
