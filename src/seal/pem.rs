//! A forgiving PEM reader: finds `-----BEGIN X-----` … `-----END X-----` blocks anywhere in a text.
//!
//! Certificates and keys arrive with explanatory text around them (`openssl x509 -text`), with
//! CRLF line ends, several blocks in one file, or indented inside YAML. Go's `encoding/pem`,
//! which kubeseal and the controller use, skips text between blocks and ignores spaces and tabs
//! in the body; a strict RFC 7468 parser refuses several of these, so this one follows Go.

use crate::site::types::ciphertext::{Base64Error, decode_go_base64};

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// One PEM block: its label and the text between the boundary lines.
#[derive(Clone, Copy)]
pub(crate) struct PemBlock<'a> {
    pub(crate) label: &'a str,
    body: &'a str,
}

impl PemBlock<'_> {
    /// Whether the block has RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: …`), which
    /// only legacy encrypted keys carry.
    pub(crate) fn has_headers(&self) -> bool {
        self.body.lines().any(|line| line.contains(':'))
    }

    /// The decoded body. Whitespace of any kind is skipped, as Go does.
    pub(crate) fn decode(&self) -> Result<Vec<u8>, Base64Error> {
        let compact: Vec<u8> = self
            .body
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        decode_go_base64(&compact)
    }
}

/// Every well-formed block in `text`, in order. A `BEGIN` without its matching `END` ends the
/// scan, since nothing after it can be delimited reliably.
pub(crate) fn blocks(text: &str) -> Vec<PemBlock<'_>> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after_begin = &rest[start + BEGIN.len()..];
        let Some(label_len) = after_begin.find(DASHES) else {
            break;
        };
        let label = &after_begin[..label_len];
        let after_label = &after_begin[label_len + DASHES.len()..];
        if label.contains(['\n', '\r']) {
            // Not a boundary line after all: resume the search past this "-----BEGIN ".
            rest = after_begin;
            continue;
        }
        let end_marker = format!("{END}{label}{DASHES}");
        let Some(body_len) = after_label.find(&end_marker) else {
            break;
        };
        found.push(PemBlock {
            label,
            body: &after_label[..body_len],
        });
        rest = &after_label[body_len + end_marker.len()..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_among_other_text() {
        let text = "Certificate:\n  Data: x\n-----BEGIN ONE-----\nAAEC\n-----END ONE-----\n\
                    junk\r\n  -----BEGIN TWO-----\r\n  AwQF\r\n  -----END TWO-----\r\n";
        let found = blocks(text);
        let labels: Vec<_> = found.iter().map(|b| b.label).collect();
        assert_eq!(labels, ["ONE", "TWO"]);
        assert_eq!(found[0].decode().unwrap(), [0, 1, 2]);
        assert_eq!(found[1].decode().unwrap(), [3, 4, 5]);
        assert!(!found[0].has_headers());
    }

    #[test]
    fn unterminated_or_broken_blocks_are_skipped() {
        assert!(blocks("-----BEGIN X-----\nAAAA\n").is_empty());
        assert!(blocks("-----BEGIN X-----\nAAAA\n-----END Y-----").is_empty());
        assert!(blocks("-----BEGIN ").is_empty());
        let found = blocks("-----BEGIN \nnope\n-----BEGIN Z-----\nAA==\n-----END Z-----");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].label, "Z");
    }

    #[test]
    fn headers_are_detected() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                    DEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(blocks(text)[0].has_headers());
    }
}
