//! Bitnami Sealed Secrets encryption, written to match what the controller decrypts.
//!
//! - [`cert`]: the controller's sealing certificate (PEM), with the checks kubeseal makes and a
//!   few it does not (key size, expiry warning);
//! - [`crypto`]: sealing one value, checking a stored value's shape without a key, and opening a
//!   value with the controller's private key (for tests and test-only tooling);
//! - [`key`]: loading the controller's private key from PEM.
//!
//! The wire format is the controller's hybrid scheme: a 2-byte big-endian length, an RSA-OAEP
//! (SHA-256) encryption of a fresh AES-256 session key under the scope label, then AES-GCM of
//! the value with a zero nonce, all in standard base64. The value's grammar (its stored shape,
//! [`parse_sealed`]) and its [`Scope`] are site vocabulary and live in `site::types`; this module
//! adds the keys and the cryptography.

pub mod cert;
pub mod crypto;
pub mod edit;
pub mod key;
mod pem;
#[cfg(test)]
mod test_support;
pub mod value;

pub use cert::{CertError, CertWarning, SealingCert, rfc3339_utc};
pub use crypto::{SealError, UnsealError, seal, seal_with_os_rng, unseal};
pub use key::{KeyError, private_key_from_pem};
pub use value::{ValueError, check_value};
// rsa 0.10 renamed its key types to `PublicKey`/`PrivateKey` and deprecated the `Rsa…` aliases;
// re-exporting under the old names keeps call sites readable without the deprecation warning.
pub use crate::site::types::ciphertext::{SealedBytes, SealedFormatError, parse_sealed};
pub use crate::site::types::scope::{
    CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION, ParseScopeError, Scope,
};
pub use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
