//! Loading the controller's RSA private key from PEM, for tests and test-only decryption.
//!
//! The controller stores its key as PKCS#1 (`RSA PRIVATE KEY`) in the `tls.key` of its key
//! Secret; PKCS#8 (`PRIVATE KEY`) is what `openssl genpkey` and most other tools write.

use rsa::PrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;

use super::pem;

/// Why a PEM text did not yield an RSA private key. Never includes key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No `RSA PRIVATE KEY` or `PRIVATE KEY` block.
    #[error("no PEM RSA PRIVATE KEY or PRIVATE KEY block found{}", found_labels(.found))]
    NoKey {
        /// Labels of the other PEM blocks present, if any.
        found: Vec<String>,
    },
    /// A passphrase-protected key (legacy PEM encryption or PKCS#8 `ENCRYPTED PRIVATE KEY`).
    #[error("the private key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)")]
    Encrypted,
    /// The block body is not base64.
    #[error("the {label} block is not valid PEM: {reason}")]
    Pem {
        /// The block's label.
        label: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The DER inside is not an RSA key of the announced kind.
    #[error("the {label} block is not a usable RSA private key: {reason}")]
    Malformed {
        /// The block's label.
        label: String,
        /// What is wrong with it.
        reason: String,
    },
}

fn found_labels(found: &[String]) -> String {
    if found.is_empty() {
        String::new()
    } else {
        format!(" (found {})", found.join(", "))
    }
}

/// Loads the first RSA private key in a PEM text, PKCS#1 or PKCS#8.
pub fn private_key_from_pem(text: &str) -> Result<PrivateKey, KeyError> {
    let blocks = pem::blocks(text);
    let Some(block) = blocks
        .iter()
        .find(|b| matches!(b.label, "RSA PRIVATE KEY" | "PRIVATE KEY"))
    else {
        if blocks.iter().any(|b| b.label == "ENCRYPTED PRIVATE KEY") {
            return Err(KeyError::Encrypted);
        }
        return Err(KeyError::NoKey {
            found: blocks.iter().map(|b| b.label.to_owned()).collect(),
        });
    };
    if block.has_headers() {
        return Err(KeyError::Encrypted);
    }
    let label = block.label.to_owned();
    let der = block.decode().map_err(|e| KeyError::Pem {
        label: label.clone(),
        reason: e.to_string(),
    })?;
    let key = if label == "RSA PRIVATE KEY" {
        PrivateKey::from_pkcs1_der(&der).map_err(|e| e.to_string())
    } else {
        PrivateKey::from_pkcs8_der(&der).map_err(|e| e.to_string())
    };
    key.map_err(|reason| KeyError::Malformed { label, reason })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{fixture_key, sealing_fixture};
    use super::*;
    use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};

    #[test]
    fn pkcs1_fixture_loads() {
        let key = fixture_key();
        assert_eq!(rsa::traits::PublicKeyParts::size(key), 512);
    }

    #[test]
    fn pkcs8_loads_to_the_same_key() {
        let pkcs8 = fixture_key().to_pkcs8_pem(LineEnding::LF).unwrap();
        assert!(pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = private_key_from_pem(&pkcs8).unwrap();
        assert_eq!(again.as_public_key(), fixture_key().as_public_key());
    }

    #[test]
    fn missing_or_wrong_blocks_are_refused() {
        assert_eq!(
            private_key_from_pem("nothing here")
                .unwrap_err()
                .to_string(),
            "no PEM RSA PRIVATE KEY or PRIVATE KEY block found"
        );
        assert_eq!(
            private_key_from_pem(&sealing_fixture("tls.crt"))
                .unwrap_err()
                .to_string(),
            "no PEM RSA PRIVATE KEY or PRIVATE KEY block found (found CERTIFICATE)"
        );
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(private_key_from_pem(encrypted), Err(KeyError::Encrypted));
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                      DEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(private_key_from_pem(legacy), Err(KeyError::Encrypted));
        let not_a_key =
            "-----BEGIN RSA PRIVATE KEY-----\naGVsbG8=\n-----END RSA PRIVATE KEY-----\n";
        assert!(matches!(
            private_key_from_pem(not_a_key),
            Err(KeyError::Malformed { .. })
        ));
        let not_base64 = "-----BEGIN PRIVATE KEY-----\na$==\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            private_key_from_pem(not_base64),
            Err(KeyError::Pem { .. })
        ));
    }
}
