//! The server certificate check, as kubectl makes it. rustls (webpki) refuses a certificate
//! that is its own CA (`CaUsedAsEndEntity`), yet clusters made by hand or by small
//! installers serve exactly that: one self-signed certificate with `CA:TRUE`, given to clients
//! as `certificate-authority`. Go accepts it: `x509.Certificate.Verify` (go1.24
//! src/crypto/x509/verify.go) takes a leaf found in the root pool as a chain of its own,
//! after checking the host name, the validity period and the key usage. [`Verifier`] does the
//! same: the ordinary webpki check first, and only when that fails, a presented certificate
//! byte-for-byte equal to one of the configured CAs, valid now, for this host, for serving.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, DistinguishedName, Error as TlsError, SignatureScheme};
use x509_cert::der::Decode as _;

/// Extended key usages that allow serving TLS: serverAuth and anyExtendedKeyUsage.
const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
const ANY_EKU: &str = "2.5.29.37.0";
const EKU_EXTENSION: &str = "2.5.29.37";

#[derive(Debug)]
pub struct Verifier {
    inner: Arc<WebPkiServerVerifier>,
    roots: Vec<Vec<u8>>,
}

impl Verifier {
    pub fn new(inner: Arc<WebPkiServerVerifier>, roots: Vec<Vec<u8>>) -> Self {
        Self { inner, roots }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let refused = match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !self
            .roots
            .iter()
            .any(|r| r.as_slice() == end_entity.as_ref())
        {
            return Err(refused);
        }
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        check_validity_and_usage(end_entity.as_ref(), now.as_secs())?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

/// Go's `isValid` for a one-certificate chain: inside its validity period, and an extended
/// key usage (when the certificate has one) that allows serving TLS.
fn check_validity_and_usage(der: &[u8], now_secs: u64) -> Result<(), TlsError> {
    let cert = x509_cert::Certificate::from_der(der)
        .map_err(|_| TlsError::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
    let tbs = cert.tbs_certificate();
    let validity = tbs.validity();
    let secs = |t: x509_cert::time::Time| t.to_unix_duration().as_secs();
    if now_secs < secs(validity.not_before) {
        return Err(TlsError::InvalidCertificate(
            rustls::CertificateError::NotValidYet,
        ));
    }
    if now_secs > secs(validity.not_after) {
        return Err(TlsError::InvalidCertificate(
            rustls::CertificateError::Expired,
        ));
    }
    for ext in tbs.extensions().into_iter().flatten() {
        if ext.extn_id.to_string() != EKU_EXTENSION {
            continue;
        }
        let usages = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
            .map_err(|_| TlsError::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
        let allowed = usages.0.iter().any(|oid| {
            let oid = oid.to_string();
            oid == SERVER_AUTH || oid == ANY_EKU
        });
        if !allowed {
            return Err(TlsError::InvalidCertificate(
                rustls::CertificateError::InvalidPurpose,
            ));
        }
    }
    Ok(())
}

/// Seconds since the epoch, for tests of [`check_validity_and_usage`].
#[cfg(test)]
fn now() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tls")
            .join(name);
        let pem = std::fs::read(&path).unwrap();
        use rustls::pki_types::pem::PemObject as _;
        CertificateDer::from_pem_slice(&pem).unwrap().to_vec()
    }

    #[test]
    fn a_self_signed_server_certificate_is_valid_now_and_for_serving() {
        check_validity_and_usage(&fixture("selfsigned.pem"), now()).unwrap();
    }

    #[test]
    fn outside_its_validity_it_is_refused() {
        let der = fixture("selfsigned.pem");
        assert!(matches!(
            check_validity_and_usage(&der, 0),
            Err(TlsError::InvalidCertificate(
                rustls::CertificateError::NotValidYet
            ))
        ));
        assert!(matches!(
            check_validity_and_usage(&der, u64::MAX / 2),
            Err(TlsError::InvalidCertificate(
                rustls::CertificateError::Expired
            ))
        ));
    }

    #[test]
    fn a_client_only_certificate_is_refused_for_serving() {
        assert!(matches!(
            check_validity_and_usage(&fixture("client-only.pem"), now()),
            Err(TlsError::InvalidCertificate(
                rustls::CertificateError::InvalidPurpose
            ))
        ));
    }
}
