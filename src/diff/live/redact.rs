//! The one redaction step of `diff --live`: every message and every report format passes
//! through a [`Redactor`] before it is printed. It knows the credential material the
//! kubeconfig led to (tokens, token files, basic-auth passwords, URL user-info, client keys and
//! certificates' key data, an exec plugin's answer) and replaces each occurrence by
//! `REDACTED`, as `kubectl config view` shows such fields.

use std::fmt;

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

    /// `text` with every known secret replaced. Longer secrets go first, so that a secret
    /// containing a shorter one is replaced whole.
    pub fn redact(&self, text: &str) -> String {
        let mut secrets: Vec<&String> = self.secrets.iter().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut out = text.to_owned();
        for s in secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        redact_url_userinfo(&out)
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
}
