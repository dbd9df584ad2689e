//! Fuzz target: the sealed-value parser (`parse_sealed`), which reads operator-supplied text
//! before any key is at hand. It must return an error, never panic, and what it accepts must
//! hold together (the RSA part and the AES part inside the decoded bytes).

#![no_main]

use casa_build::seal::parse_sealed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sealed) = parse_sealed(text) {
        let (rsa, aes) = (sealed.rsa_ciphertext(), sealed.aes_ciphertext());
        assert!(!rsa.is_empty(), "an accepted value has an RSA part");
        assert!(
            aes.len() >= 16,
            "an accepted value has at least the GCM tag"
        );
        assert_eq!(2 + rsa.len() + aes.len(), sealed.as_bytes().len());
    }
});
