//! Fixture loading for the unit tests.
//!
//! This module is compiled both inside casa-build (`/work/main`, manifest dir one level below
//! the shared fixtures) and inside a stand-alone scratch crate two levels down, so each fixture
//! directory is tried relative to `CARGO_MANIFEST_DIR` in both places.

use std::path::PathBuf;
use std::sync::OnceLock;

use rand::SeedableRng as _;
use rand::rngs::StdRng;
use rsa::PrivateKey;

use super::cert::SealingCert;
use super::key::private_key_from_pem;

/// The throwaway controller key pair (`tls.crt`, `tls.key`), relative to the manifest dir.
const SEALING_FIXTURE_DIRS: &[&str] = &[
    "../shared/fixtures/sealing",
    "../../shared/fixtures/sealing",
];

/// The small certificates made for the certificate checks, relative to the manifest dir.
const CERT_FIXTURE_DIRS: &[&str] = &["tests/fixtures/certs", "../../main/tests/fixtures/certs"];

fn read_from(dirs: &[&str], name: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in dirs {
        let path = root.join(dir).join(name);
        if let Ok(text) = std::fs::read_to_string(&path) {
            return text;
        }
    }
    panic!(
        "fixture {name} not found under {} in any of {dirs:?}",
        root.display()
    );
}

pub(crate) fn sealing_fixture(name: &str) -> String {
    read_from(SEALING_FIXTURE_DIRS, name)
}

pub(crate) fn cert_fixture(name: &str) -> String {
    read_from(CERT_FIXTURE_DIRS, name)
}

/// The fixture private key, parsed once: loading a 4096-bit key validates it, which is slow in
/// a debug build.
pub(crate) fn fixture_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| private_key_from_pem(&sealing_fixture("tls.key")).unwrap())
}

pub(crate) fn fixture_cert() -> &'static SealingCert {
    static CERT: OnceLock<SealingCert> = OnceLock::new();
    CERT.get_or_init(|| SealingCert::from_pem(&sealing_fixture("tls.crt")).unwrap())
}

/// A deterministic RNG, so that a failing test can be replayed.
pub(crate) fn seeded_rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}
