//! CB104 secret-too-large.
//!
//! What: the sealed values that go into one Secret hold more than 1 MiB of plaintext in all.
//! Why: the API server refuses a Secret whose data exceed `MaxSecretSize`, 1 MiB
//! (kubernetes/kubernetes@v1.33.0 pkg/apis/core/types.go; pkg/apis/core/validation/
//! validation.go `ValidateSecret` sums the values), so the controller can never create the
//! Secret its SealedSecret holds. A sealed value shows its plaintext's length (AES-GCM does
//! not pad), so the check needs no key.
//! Fix: keep Secrets to credentials; store large files on a volume or in an object store.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, SECRET_TOO_LARGE};
use crate::site::{Site, secret_slots};

/// Kubernetes' `MaxSecretSize`.
pub const MAX_SECRET_BYTES: usize = 1024 * 1024;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut by_secret: BTreeMap<(String, String), (usize, Vec<_>)> = BTreeMap::new();
    for slot in secret_slots(site) {
        let Some(v) = slot.value else { continue };
        // A malformed value is CB042's; it has no length to count.
        let Ok(bytes) = crate::site::types::parse_sealed(&v.get_ref().sealed) else {
            continue;
        };
        let entry = by_secret
            .entry((slot.namespace.clone(), slot.name.clone()))
            .or_default();
        entry.0 += bytes.plaintext_len();
        entry.1.push((slot.file, v.span(), bytes.plaintext_len()));
    }
    let mut out = Vec::new();
    for ((ns, name), (total, values)) in by_secret {
        if total <= MAX_SECRET_BYTES {
            continue;
        }
        // Pointed at the largest value, the one most likely to be the mistake.
        let Some(&(file, ref span, len)) = values.iter().max_by_key(|(_, _, len)| *len) else {
            continue;
        };
        let mut d = Diagnostic::new(
            SECRET_TOO_LARGE,
            format!(
                "Secret {ns}/{name} would hold {total} bytes; Kubernetes allows {MAX_SECRET_BYTES}"
            ),
        )
        .at(file, span.clone(), format!("{len} bytes sealed here"))
        .help(SECRET_TOO_LARGE.info().fix);
        for (f, s, l) in values.iter().filter(|(_, s, _)| s != span) {
            d = d.also(*f, s.clone(), format!("{l} bytes"));
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::*;
    use base64::Engine as _;

    #[test]
    fn passes_on_the_reference_site() {
        assert!(check(&site_with(&[], &[]).0).is_empty());
    }

    /// A well-formed sealed value of `plaintext` bytes (no key needed to measure it).
    fn sealed_of(plaintext: usize) -> String {
        let mut raw = vec![0u8, 2, 7, 7];
        raw.resize(4 + plaintext + 16, 0);
        base64::engine::general_purpose::STANDARD.encode(raw)
    }

    #[test]
    fn a_value_over_one_mebibyte_is_refused() {
        let line = INSTANCE
            .lines()
            .find(|l| l.starts_with("client_secret = "))
            .unwrap();
        let identity =
            "namespace = \"cmsaf-prod\", name = \"hub-oauth\", key = \"OAUTH_CLIENT_SECRET\"";
        for (size, found) in [(MAX_SECRET_BYTES, false), (MAX_SECRET_BYTES + 1, true)] {
            let big = format!(
                "client_secret = {{ sealed = \"{}\", {identity} }}",
                sealed_of(size)
            );
            let (site, src) = site_with(&[], &[(line, &big)]);
            let got = check(&site);
            if found {
                let (l, c) = pos(INSTANCE, "{ sealed = \"AgAEsZ");
                assert_finds(
                    &got,
                    &src,
                    &[(SECRET_TOO_LARGE, "instances/cms-prod.toml", l, c)],
                );
            } else {
                assert!(got.is_empty(), "{got:?}");
            }
        }
    }
}
