//! CB043 sealing-cert.
//!
//! What: the certificate `[sealing] cert` names is missing or unreadable, not an RSA
//! certificate, holds a key under 2048 bits, or has expired (errors); or expires within 30
//! days (warning).
//! Why: `seal` refuses such a certificate, and a tree sealed for a stale certificate may not be
//! what the controller serves today.
//! Fix: `kubeseal --fetch-cert > <cert>`, then re-seal what the old key sealed.
//!
//! Not in `RULES`: it needs the certificate's bytes, which the command reads beside the site
//! files (`None` when the file could not be read).

use std::time::SystemTime;

use crate::diagnostics::{Diagnostic, SEALING_CERT, Severity};
use crate::seal::SealingCert;
use crate::site::Site;

pub fn check(site: &Site, pem: Option<&[u8]>, now: SystemTime) -> Vec<Diagnostic> {
    let cert = &site.spec.sealing.cert;
    let at = |d: Diagnostic| {
        d.at(site.file, cert.span(), "the sealing certificate")
            .help(SEALING_CERT.info().fix)
    };
    let Some(pem) = pem else {
        return vec![at(Diagnostic::new(
            SEALING_CERT,
            format!("cannot read the sealing certificate `{}`", cert.get_ref()),
        ))];
    };
    match SealingCert::from_pem(&String::from_utf8_lossy(pem)).and_then(|c| c.check(now)) {
        Ok(None) => Vec::new(),
        Ok(Some(w)) => vec![at(Diagnostic::new(
            SEALING_CERT,
            format!("`{}`: {w}", cert.get_ref()),
        )
        .severity(Severity::Warning))],
        Err(e) => vec![at(Diagnostic::new(
            SEALING_CERT,
            format!("`{}`: {e}", cert.get_ref()),
        ))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::*;
    use std::time::Duration;

    const PEM: &[u8] = include_bytes!("../../kubeseal-flatiron.pem");
    const EXPIRED: &[u8] = include_bytes!("../../tests/fixtures/certs/expired.crt");

    #[test]
    fn the_demo_certificate_passes_today_and_warns_near_its_end() {
        let (site, src) = site_with(&[], &[]);
        let cert = SealingCert::from_pem(std::str::from_utf8(PEM).unwrap()).unwrap();
        assert!(check(&site, Some(PEM), cert.not_before()).is_empty());
        let late = cert.not_after() - Duration::from_secs(10 * 86_400);
        let found = check(&site, Some(PEM), late);
        let (l, c) = pos(SITE, "\"kubeseal-flatiron.pem\"");
        assert_finds(&found, &src, &[(SEALING_CERT, "site.toml", l, c)]);
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn missing_and_expired_are_errors() {
        let (site, _) = site_with(&[], &[]);
        assert!(check(&site, None, SystemTime::now())[0].is_error());
        assert!(check(&site, Some(EXPIRED), SystemTime::now())[0].is_error());
        assert!(check(&site, Some(b"garbage"), SystemTime::now())[0].is_error());
    }
}
