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
                out.push(
                    Diagnostic::new(
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
                    .help(format!("re-seal it for its new place: {seal_cmd}")),
                );
            }
            (_, Some(v)) => {
                if let Err(e) = crate::seal::parse_sealed(&v.get_ref().sealed) {
                    out.push(
                        Diagnostic::new(
                            SEALED_MALFORMED,
                            format!("the sealed value of {} is not valid: {e}", slot.location),
                        )
                        .at(slot.file, v.span(), "malformed ciphertext")
                        .help(format!("re-seal it: {seal_cmd}")),
                    );
                }
            }
            (_, None) => {}
        }
    }
    out
}
