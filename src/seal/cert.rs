//! The controller's sealing certificate: what kubeseal reads from `--cert`.
//!
//! Only the RSA public key and the validity dates matter for sealing, so the certificate is
//! parsed with `x509-cert`, which keeps extensions undecoded: real controller certificates have
//! empty subject and issuer names and a Key Usage with only Encipher Only, which stricter X.509
//! libraries refuse. Neither the signature nor any chain is checked, as in kubeseal.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rsa::pkcs1::RsaPublicKeyRef;
use rsa::{BoxedUint, PublicKey};
use x509_cert::Certificate;
use x509_cert::der::Decode as _;

use super::pem;

/// Smallest RSA modulus accepted for sealing. Go itself still seals with 1024-bit keys; this is
/// the policy of this tool, not of the controller.
pub const MIN_RSA_BITS: usize = 2048;

/// Largest RSA modulus that can be loaded at all (twice the `rsa` crate's default ceiling, so
/// an unusually large `--key-size` still works).
pub const MAX_RSA_BITS: usize = 16384;

/// How long before NotAfter [`SealingCert::check`] starts warning.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 24 * 60 * 60);

const DAY_SECS: u64 = 24 * 60 * 60;

/// Why a certificate cannot be used for sealing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// No `CERTIFICATE` PEM block in the text.
    #[error("no PEM CERTIFICATE block found{}", found_labels(.found))]
    NoCertificate {
        /// Labels of the other PEM blocks present, if any.
        found: Vec<String>,
    },
    /// The block's body is not base64.
    #[error("the CERTIFICATE block is not valid PEM: {0}")]
    Pem(String),
    /// The DER inside is not an X.509 certificate.
    #[error("the CERTIFICATE block is not an X.509 certificate: {0}")]
    NotX509(String),
    /// The certificate's key is not an RSA encryption key.
    #[error("certificate key type is {kind} (algorithm {oid}); sealing needs an RSA key")]
    NotRsa {
        /// Human name of the key type.
        kind: &'static str,
        /// The SubjectPublicKeyInfo algorithm OID.
        oid: String,
    },
    /// The RSA key inside cannot be decoded or is not a usable RSA key.
    #[error("certificate holds a malformed RSA public key: {0}")]
    MalformedRsaKey(String),
    /// The RSA modulus is larger than [`MAX_RSA_BITS`].
    #[error("certificate holds a {bits}-bit RSA key; at most {MAX_RSA_BITS} bits are supported")]
    KeyTooLarge {
        /// Modulus size.
        bits: usize,
    },
    /// The RSA modulus is smaller than [`MIN_RSA_BITS`].
    #[error("certificate holds a {bits}-bit RSA key; at least {MIN_RSA_BITS} bits are required")]
    KeyTooSmall {
        /// Modulus size.
        bits: usize,
    },
    /// The certificate is past its NotAfter; kubeseal refuses it too.
    #[error("certificate expired on {}", rfc3339_utc(*.not_after))]
    Expired {
        /// The certificate's NotAfter.
        not_after: SystemTime,
    },
}

fn found_labels(found: &[String]) -> String {
    if found.is_empty() {
        String::new()
    } else {
        format!(" (found {})", found.join(", "))
    }
}

/// Something worth telling the user about a certificate that can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertWarning {
    /// NotAfter is less than [`EXPIRY_WARNING`] away.
    ExpiresSoon {
        /// The certificate's NotAfter.
        not_after: SystemTime,
        /// Whole days left.
        days_left: u64,
    },
}

impl fmt::Display for CertWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertWarning::ExpiresSoon {
                not_after,
                days_left,
            } => {
                let when = match days_left {
                    0 => "in less than a day".to_owned(),
                    1 => "in 1 day".to_owned(),
                    n => format!("in {n} days"),
                };
                write!(
                    f,
                    "certificate expires on {} ({when}); after that kubeseal refuses it and \
                     this tool will too",
                    rfc3339_utc(*not_after)
                )
            }
        }
    }
}

/// A parsed sealing certificate. Holds only public data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealingCert {
    public_key: PublicKey,
    bits: usize,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl SealingCert {
    /// Parses the first `CERTIFICATE` block of a PEM text (other blocks and surrounding text
    /// are skipped, like kubeseal does).
    ///
    /// Fails when the text has no certificate, when it is not X.509, or when its key is not RSA;
    /// size and date policy are left to [`SealingCert::check`].
    pub fn from_pem(text: &str) -> Result<SealingCert, CertError> {
        let blocks = pem::blocks(text);
        let Some(block) = blocks.iter().find(|b| b.label == "CERTIFICATE") else {
            return Err(CertError::NoCertificate {
                found: blocks.iter().map(|b| b.label.to_owned()).collect(),
            });
        };
        let der = block.decode().map_err(|e| CertError::Pem(e.to_string()))?;
        SealingCert::from_der(&der)
    }

    /// Parses a DER-encoded certificate.
    pub fn from_der(der: &[u8]) -> Result<SealingCert, CertError> {
        let cert = Certificate::from_der(der).map_err(|e| CertError::NotX509(e.to_string()))?;
        let tbs = cert.tbs_certificate();
        let spki = tbs.subject_public_key_info();
        if spki.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
            let oid = spki.algorithm.oid.to_string();
            return Err(CertError::NotRsa {
                kind: key_kind(&oid),
                oid,
            });
        }
        let key_bytes = spki.subject_public_key.as_bytes().ok_or_else(|| {
            CertError::MalformedRsaKey("key bit string is not whole bytes".into())
        })?;
        let (public_key, bits) = rsa_public_key(key_bytes)?;
        let validity = tbs.validity();
        Ok(SealingCert {
            public_key,
            bits,
            not_before: validity.not_before.to_system_time(),
            not_after: validity.not_after.to_system_time(),
        })
    }

    /// The RSA key values are sealed with.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// Size of the RSA modulus in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Start of validity (not checked: neither kubeseal nor the controller looks at it).
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// Whether the certificate may be used for sealing at `now`.
    ///
    /// Refuses keys under [`MIN_RSA_BITS`] and certificates past NotAfter (kubeseal's rule:
    /// NotAfter itself is still valid); warns when fewer than [`EXPIRY_WARNING`] remain.
    pub fn check(&self, now: SystemTime) -> Result<Option<CertWarning>, CertError> {
        if self.bits < MIN_RSA_BITS {
            return Err(CertError::KeyTooSmall { bits: self.bits });
        }
        match self.not_after.duration_since(now) {
            Err(_) => Err(CertError::Expired {
                not_after: self.not_after,
            }),
            Ok(left) if left < EXPIRY_WARNING => Ok(Some(CertWarning::ExpiresSoon {
                not_after: self.not_after,
                days_left: left.as_secs() / DAY_SECS,
            })),
            Ok(_) => Ok(None),
        }
    }
}

/// Decodes a PKCS#1 `RSAPublicKey` without the `rsa` crate's default 1024-bit floor, so that a
/// small key is reported with its size by `check` rather than as a parse failure.
fn rsa_public_key(der: &[u8]) -> Result<(PublicKey, usize), CertError> {
    let malformed = |e: &dyn fmt::Display| CertError::MalformedRsaKey(e.to_string());
    let key = RsaPublicKeyRef::from_der(der).map_err(|e| malformed(&e))?;
    let n = key.modulus.as_bytes();
    let e = key.public_exponent.as_bytes();
    let bits = match n.first() {
        // DER integers carry no leading zero bytes here, so the first byte is significant.
        Some(&top) => (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        None => return Err(malformed(&"the modulus is zero")),
    };
    if e.is_empty() {
        return Err(malformed(&"the public exponent is zero"));
    }
    if bits > MAX_RSA_BITS {
        return Err(CertError::KeyTooLarge { bits });
    }
    let public_key = PublicKey::new_with_size_limits(
        BoxedUint::from_be_slice_vartime(n),
        BoxedUint::from_be_slice_vartime(e),
        1..=MAX_RSA_BITS,
    )
    .map_err(|e| malformed(&e))?;
    Ok((public_key, bits))
}

fn key_kind(oid: &str) -> &'static str {
    match oid {
        "1.2.840.10045.2.1" => "EC",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.2.840.10040.4.1" => "DSA",
        // Go does not load RSA-PSS keys from certificates, so kubeseal cannot seal with them.
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        _ => "unknown",
    }
}

/// Formats a time as RFC 3339 in UTC with second precision, e.g. `2024-01-01T00:00:00Z`.
pub fn rfc3339_utc(time: SystemTime) -> String {
    let secs: i64 = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        // Round towards the past, so 0.5 s before the epoch prints as 23:59:59.
        Err(before) => {
            let d = before.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            -whole - i64::from(d.subsec_nanos() > 0)
        }
    };
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{cert_fixture, fixture_key, sealing_fixture};
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn fixture() -> SealingCert {
        SealingCert::from_pem(&sealing_fixture("tls.crt")).unwrap()
    }

    #[test]
    fn controller_style_fixture_parses() {
        // Empty subject and issuer, Key Usage = Encipher Only: what a real controller makes.
        let cert = fixture();
        assert_eq!(cert.bits(), 4096);
        assert_eq!(rfc3339_utc(cert.not_before()), "2026-11-25T04:39:05Z");
        assert_eq!(rfc3339_utc(cert.not_after()), "2036-11-22T04:39:05Z");
        let a_year_in = cert.not_before() + Duration::from_secs(365 * DAY_SECS);
        assert_eq!(cert.check(a_year_in), Ok(None));
    }

    #[test]
    fn fixture_key_matches_the_fixture_private_key() {
        let key = fixture_key();
        assert_eq!(fixture().public_key(), key.as_public_key());
    }

    #[test]
    fn expiring_within_30_days_warns() {
        let cert = fixture();
        let now = cert.not_after() - Duration::from_secs(20 * DAY_SECS);
        let warning = cert.check(now).unwrap().unwrap();
        assert_eq!(
            warning,
            CertWarning::ExpiresSoon {
                not_after: cert.not_after(),
                days_left: 20
            }
        );
        assert_eq!(
            warning.to_string(),
            "certificate expires on 2036-11-22T04:39:05Z (in 20 days); after that kubeseal \
             refuses it and this tool will too"
        );
        let just_outside = cert.not_after() - EXPIRY_WARNING;
        assert_eq!(cert.check(just_outside), Ok(None));
        let inside = just_outside + Duration::from_secs(1);
        assert!(matches!(
            cert.check(inside),
            Ok(Some(CertWarning::ExpiresSoon { days_left: 29, .. }))
        ));
    }

    #[test]
    fn not_after_itself_is_still_valid() {
        let cert = fixture();
        let warning = cert.check(cert.not_after()).unwrap().unwrap();
        assert!(warning.to_string().contains("(in less than a day)"));
        let err = cert
            .check(cert.not_after() + Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "certificate expired on 2036-11-22T04:39:05Z"
        );
    }

    #[test]
    fn expired_certificate_is_refused() {
        let cert = SealingCert::from_pem(&cert_fixture("expired.crt")).unwrap();
        assert_eq!(cert.bits(), 2048);
        let err = cert.check(at(1_767_225_600)).unwrap_err(); // 2026-01-01
        assert_eq!(
            err,
            CertError::Expired {
                not_after: at(1_577_923_200)
            }
        );
        assert_eq!(
            err.to_string(),
            "certificate expired on 2020-01-02T00:00:00Z"
        );
    }

    #[test]
    fn small_key_is_refused() {
        let cert = SealingCert::from_pem(&cert_fixture("rsa1024.crt")).unwrap();
        assert_eq!(cert.bits(), 1024);
        let err = cert.check(cert.not_before()).unwrap_err();
        assert_eq!(err, CertError::KeyTooSmall { bits: 1024 });
        assert_eq!(
            err.to_string(),
            "certificate holds a 1024-bit RSA key; at least 2048 bits are required"
        );
    }

    #[test]
    fn rsa2048_is_accepted() {
        let cert = SealingCert::from_pem(&cert_fixture("rsa2048.crt")).unwrap();
        assert_eq!(cert.bits(), 2048);
        assert_eq!(cert.check(cert.not_before()), Ok(None));
    }

    #[test]
    fn non_rsa_key_is_refused() {
        let err = SealingCert::from_pem(&cert_fixture("ec-p256.crt")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "certificate key type is EC (algorithm 1.2.840.10045.2.1); sealing needs an RSA key"
        );
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(
            SealingCert::from_pem("hello"),
            Err(CertError::NoCertificate { found: vec![] })
        );
        assert_eq!(
            SealingCert::from_pem("").unwrap_err().to_string(),
            "no PEM CERTIFICATE block found"
        );
        let key_only = sealing_fixture("tls.key");
        assert_eq!(
            SealingCert::from_pem(&key_only).unwrap_err().to_string(),
            "no PEM CERTIFICATE block found (found RSA PRIVATE KEY)"
        );
        let bad_base64 = "-----BEGIN CERTIFICATE-----\nMII$\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            SealingCert::from_pem(bad_base64),
            Err(CertError::Pem(_))
        ));
        let not_der = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        let err = SealingCert::from_pem(not_der).unwrap_err();
        assert!(matches!(err, CertError::NotX509(_)), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("the CERTIFICATE block is not an X.509 certificate: ")
        );
    }

    #[test]
    fn first_certificate_wins_and_surroundings_are_skipped() {
        let bundle = format!(
            "{}\nsome text\n{}",
            cert_fixture("rsa2048.crt"),
            sealing_fixture("tls.crt")
        );
        assert_eq!(SealingCert::from_pem(&bundle).unwrap().bits(), 2048);
        let key_then_cert = format!(
            "{}{}",
            sealing_fixture("tls.key"),
            sealing_fixture("tls.crt")
        );
        assert_eq!(SealingCert::from_pem(&key_then_cert).unwrap().bits(), 4096);
    }

    #[test]
    fn crlf_and_indented_pem_are_accepted() {
        let pem = sealing_fixture("tls.crt");
        let crlf = pem.replace('\n', "\r\n");
        assert_eq!(SealingCert::from_pem(&crlf).unwrap().bits(), 4096);
        let indented: String = pem.lines().map(|l| format!("    {l}\n")).collect();
        let yaml = format!("cert: |\n{indented}");
        assert_eq!(SealingCert::from_pem(&yaml).unwrap().bits(), 4096);
    }

    #[test]
    fn mangled_der_never_panics() {
        use rand::rngs::StdRng;
        use rand::{RngExt as _, SeedableRng as _};
        let pem = sealing_fixture("tls.crt");
        let der = pem::blocks(&pem)[0].decode().unwrap();
        let mut rng = StdRng::seed_from_u64(0xCE47);
        for _ in 0..3_000 {
            let mut mangled = der.clone();
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..mangled.len());
                mangled[at] = rng.random();
            }
            let cut = rng.random_range(0..=mangled.len());
            let _ = SealingCert::from_der(&mangled);
            let _ = SealingCert::from_der(&mangled[..cut]);
        }
    }

    #[test]
    fn keys_under_the_rsa_crate_floor_still_report_their_size() {
        // PKCS#1 RSAPublicKey of a 512-bit key (`openssl rsa -RSAPublicKey_out -outform DER`).
        let der = crate::site::types::ciphertext::decode_go_base64(
            b"MEgCQQDU13DXNZFxm8OzZTCDliduzh1j+dfQe27EqrT57MJlyHfDGxK01WEcH2UtVotisXaKQBXjMupUUCov\
              DxSs2/bhAgMBAAE=",
        )
        .unwrap();
        let (_, bits) = rsa_public_key(&der).unwrap();
        assert_eq!(bits, 512);
    }

    #[test]
    fn odd_rsa_parameters_are_errors_not_panics() {
        use rsa::pkcs1::{RsaPublicKey, UintRef};
        use x509_cert::der::Encode as _;
        let cases: [(&[u8], &[u8]); 8] = [
            (&[1], &[3]),
            (&[3], &[3]),
            (&[15], &[1]),
            (&[16], &[3]),
            (&[0xFF; 32], &[0xFF; 16]),
            (&[0x80; 300], &[1, 0, 1]),
            (&[0xC3; 2049], &[1, 0, 1]),
            (&[0xC3; 256], &[]),
        ];
        for (n, e) in cases {
            let der = RsaPublicKey {
                modulus: UintRef::new(n).unwrap(),
                public_exponent: UintRef::new(e).unwrap(),
            }
            .to_der()
            .unwrap();
            let result = rsa_public_key(&der);
            assert!(result.is_err(), "n={n:?} e={e:?}");
        }
        assert!(matches!(
            rsa_public_key(&[0x30, 0x00]),
            Err(CertError::MalformedRsaKey(_))
        ));
        assert_eq!(
            rsa_public_key(
                &RsaPublicKey {
                    modulus: UintRef::new(&[0xC3; 2049]).unwrap(),
                    public_exponent: UintRef::new(&[1, 0, 1]).unwrap(),
                }
                .to_der()
                .unwrap()
            )
            .unwrap_err(),
            CertError::KeyTooLarge { bits: 16392 }
        );
    }

    #[test]
    fn rfc3339_known_dates() {
        let cases: [(i64, &str); 7] = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_709_251_199, "2024-02-29T23:59:59Z"),
            (1_704_067_200, "2024-01-01T00:00:00Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
            (-1, "1969-12-31T23:59:59Z"),
        ];
        for (secs, text) in cases {
            let time = if secs >= 0 {
                UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
            } else {
                UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
            };
            assert_eq!(rfc3339_utc(time), text, "{secs}");
        }
        assert_eq!(
            rfc3339_utc(UNIX_EPOCH - Duration::from_millis(500)),
            "1969-12-31T23:59:59Z"
        );
    }
}
