//! CB040 secret-missing, CB041 secret-mismatch, CB042 sealed-malformed.
//!
//! What: a secret the site needs with no sealed value; one sealed for another namespace,
//! name, key or scope than where it goes; one whose ciphertext is not well formed.
//! Why: the controller derives the decryption label from namespace and name (strict scope),
//! so a value sealed elsewhere never unseals; a missing value starts a component without
//! its credential.
//! Fix: `casa-build seal LOCATION` (re-seal when moved).

use crate::diagnostics::{Diagnostic, SEALED_MALFORMED, SECRET_MISMATCH, SECRET_MISSING};
use crate::site::{SecretStatus, Site, secret_slots};

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for slot in secret_slots(site) {
        let seal_cmd = format!("casa-build seal '{}' < value-file", slot.location);
        match (slot.status(), slot.value) {
            (SecretStatus::Missing, _) => out.push(
                Diagnostic::new(
                    SECRET_MISSING,
                    format!(
                        "no sealed value for secret {}/{} key {}",
                        slot.namespace, slot.name, slot.key
                    ),
                )
                .at(
                    slot.file,
                    slot.anchor.clone(),
                    format!("`{}` needs a sealed value", slot.path.join(".")),
                )
                .help(format!("seal it: {seal_cmd}")),
            ),
            (SecretStatus::Mismatch, Some(v)) => {
                let got = v.get_ref();
                let d = Diagnostic::new(
                    SECRET_MISMATCH,
                    format!(
                        "value sealed for {}/{} key {} ({}) but it goes to {}/{} key {}",
                        got.namespace.as_deref().unwrap_or("*"),
                        got.name.as_deref().unwrap_or("*"),
                        got.key,
                        got.scope,
                        slot.namespace,
                        slot.name,
                        slot.key
                    ),
                )
                .at(slot.file, v.span(), "sealed for another place")
                .help(format!("re-seal it for its new place: {seal_cmd}"));
                // What is not a ciphertext may be a pasted plaintext: never show it.
                out.push(if crate::site::types::parse_sealed(&got.sealed).is_err() {
                    d.redacted()
                } else {
                    d
                });
            }
            (_, Some(v)) => {
                if let Err(e) = crate::site::types::parse_sealed(&v.get_ref().sealed) {
                    out.push(
                        Diagnostic::new(
                            SEALED_MALFORMED,
                            format!("the sealed value of {} is not valid: {e}", slot.location),
                        )
                        .at(slot.file, v.span(), "malformed ciphertext (masked)")
                        .help(format!("re-seal it: {seal_cmd}"))
                        // It may be a plaintext pasted where the ciphertext belongs.
                        .redacted(),
                    );
                }
            }
            (_, None) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::render_human;
    use crate::validate::testing::*;

    #[test]
    fn passes_on_the_reference_site() {
        assert!(check(&site_with(&[], &[]).0).is_empty());
    }

    #[test]
    fn finds_a_missing_value_at_its_anchor() {
        let line = INSTANCE
            .lines()
            .find(|l| l.starts_with("client_secret = "))
            .unwrap();
        let (site, src) = site_with(&[], &[(line, "")]);
        let (l, c) = pos(INSTANCE, "\"cms-prod\" }");
        assert_finds(
            &check(&site),
            &src,
            &[(SECRET_MISSING, "instances/cms-prod.toml", l, c)],
        );
    }

    #[test]
    fn finds_a_value_sealed_for_another_namespace() {
        let (site, src) = site_with(
            &[],
            &[(
                "namespace = \"cmsaf-prod\", name = \"hub-oauth\"",
                "namespace = \"cmsaf-dev\", name = \"hub-oauth\"",
            )],
        );
        let (l, c) = pos(INSTANCE, "{ sealed = \"AgAEsZ");
        assert_finds(
            &check(&site),
            &src,
            &[(SECRET_MISMATCH, "instances/cms-prod.toml", l, c)],
        );
    }

    #[test]
    fn finds_a_malformed_value_and_never_shows_it() {
        let line = INSTANCE
            .lines()
            .find(|l| l.starts_with("client_secret = "))
            .unwrap();
        let pasted = "client_secret = { sealed = \"hunter2 plaintext\", namespace = \"cmsaf-prod\", name = \"hub-oauth\", key = \"OAUTH_CLIENT_SECRET\" }";
        let (site, src) = site_with(&[], &[(line, pasted)]);
        let found = check(&site);
        let (l, c) = pos(INSTANCE, "{ sealed = \"AgAEsZ");
        assert_finds(
            &found,
            &src,
            &[(SEALED_MALFORMED, "instances/cms-prod.toml", l, c)],
        );
        let text = render_human(&found.into(), &src);
        assert!(!text.contains("hunter2"), "{text}");
    }
}
