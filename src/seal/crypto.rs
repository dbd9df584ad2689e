//! Sealing and unsealing one value, byte for byte as kubeseal and the controller do.
//!
//! Sealing draws a fresh 32-byte session key, encrypts it with RSA-OAEP (SHA-256 for both the
//! OAEP hash and MGF1, the scope label as OAEP label), and encrypts the value with AES-256-GCM
//! under a nonce of twelve zero bytes. The zero nonce is safe only because a session key is
//! never reused, which is why the key comes from the caller's RNG on every call.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, Nonce};
use aes_gcm::aes::Aes192;
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::TryCryptoRng;
use rand::rngs::SysRng;
use rsa::traits::PublicKeyParts as _;
use rsa::{Oaep, PrivateKey, PublicKey};
use sha2::Sha256;

pub use crate::site::types::ciphertext::{SealedBytes, SealedFormatError, parse_sealed};

/// Size of the AES-256 session key kubeseal draws for every value.
pub const SESSION_KEY_LEN: usize = 32;

/// Why sealing failed. None of these can be caused by the plaintext's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The random number generator failed to produce the session key.
    #[error("the random number generator failed: {0}")]
    Rng(String),
    /// RSA-OAEP refused the key or failed (also covers RNG failure during padding).
    #[error("encrypting the session key with RSA-OAEP failed: {0}")]
    Rsa(String),
    /// The RSA ciphertext does not fit the format's 2-byte length prefix.
    #[error(
        "the RSA ciphertext is {0} bytes; the sealed format's length prefix allows at most 65535"
    )]
    RsaTooLong(usize),
    /// AES-GCM refused the value (only possible beyond 64 GiB).
    #[error("encrypting the value with AES-GCM failed: {len} bytes is too long for AES-GCM")]
    Aead {
        /// Plaintext length.
        len: usize,
    },
}

/// Why a sealed value did not open. Never includes any decrypted bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsealError {
    /// The text is not a sealed value at all.
    #[error(transparent)]
    Format(#[from] SealedFormatError),
    /// The RSA part is longer than this key's modulus; Go refuses that too.
    #[error("the RSA part is {len} bytes, longer than this key's {modulus_len}-byte modulus")]
    RsaPartTooLong {
        /// Length of the RSA part.
        len: usize,
        /// Modulus size in bytes.
        modulus_len: usize,
    },
    /// RSA-OAEP decryption failed: the usual "no key could decrypt secret".
    #[error(
        "decrypting the session key with RSA-OAEP failed: the value was sealed for another \
         key, another scope, namespace or name, or it is corrupted"
    )]
    Rsa,
    /// The session key has a size AES does not accept.
    #[error("the session key is {len} bytes; AES needs 16, 24 or 32")]
    SessionKeyLength {
        /// Length of the decrypted session key.
        len: usize,
    },
    /// The AES-GCM tag did not verify.
    #[error("authenticating the value with AES-GCM failed: it is corrupted")]
    Authentication,
}

/// Seals `plaintext` for `pubkey` under an OAEP `label` (see [`super::Scope::label`]), returning
/// standard padded base64 as kubeseal writes it.
///
/// All randomness (the session key and the OAEP seed) comes from `rng`, so a seeded RNG gives
/// reproducible output in tests; real sealing must use a cryptographic RNG, e.g. through
/// [`seal_with_os_rng`]. Any [`rand::CryptoRng`] qualifies.
pub fn seal<R>(
    pubkey: &PublicKey,
    label: &[u8],
    plaintext: &[u8],
    rng: &mut R,
) -> Result<String, SealError>
where
    R: TryCryptoRng + ?Sized,
{
    let mut session_key = [0u8; SESSION_KEY_LEN];
    rng.try_fill_bytes(&mut session_key)
        .map_err(|e| SealError::Rng(e.to_string()))?;
    let result = seal_with_session_key(pubkey, label, plaintext, &session_key, rng);
    // Best effort only (no zeroize dependency here): the key also lives inside the cipher.
    session_key.fill(0);
    result
}

/// [`seal`] with the operating system's RNG.
pub fn seal_with_os_rng(
    pubkey: &PublicKey,
    label: &[u8],
    plaintext: &[u8],
) -> Result<String, SealError> {
    seal(pubkey, label, plaintext, &mut SysRng)
}

fn seal_with_session_key<R>(
    pubkey: &PublicKey,
    label: &[u8],
    plaintext: &[u8],
    session_key: &[u8; SESSION_KEY_LEN],
    rng: &mut R,
) -> Result<String, SealError>
where
    R: TryCryptoRng + ?Sized,
{
    let rsa_part = pubkey
        .encrypt(rng, Oaep::<Sha256>::new_with_label(label), session_key)
        .map_err(|e| SealError::Rsa(e.to_string()))?;
    let rsa_len =
        u16::try_from(rsa_part.len()).map_err(|_| SealError::RsaTooLong(rsa_part.len()))?;
    let cipher = Aes256Gcm::new(&(*session_key).into());
    let aes_part = cipher
        .encrypt(&zero_nonce::<Aes256Gcm>(), plaintext)
        .map_err(|_| SealError::Aead {
            len: plaintext.len(),
        })?;
    let mut out = Vec::with_capacity(2 + rsa_part.len() + aes_part.len());
    out.extend_from_slice(&rsa_len.to_be_bytes());
    out.extend_from_slice(&rsa_part);
    out.extend_from_slice(&aes_part);
    Ok(STANDARD.encode(out))
}

/// Opens a sealed value the way the controller does, with one of its private keys and the
/// label of the object holding the value.
///
/// Accepts what Go accepts beyond what [`seal`] writes: base64 wrapped over lines, an RSA part
/// shorter than the modulus (leading zero bytes dropped), and 16- or 24-byte session keys.
pub fn unseal(
    privkey: &PrivateKey,
    label: &[u8],
    sealed_b64: &str,
) -> Result<Vec<u8>, UnsealError> {
    let sealed = parse_sealed(sealed_b64)?;
    let rsa_part = sealed.rsa_ciphertext();
    let modulus_len = privkey.size();
    if rsa_part.len() > modulus_len {
        return Err(UnsealError::RsaPartTooLong {
            len: rsa_part.len(),
            modulus_len,
        });
    }
    // Go reads the RSA part as an integer; the rsa crate wants exactly the modulus length.
    let mut padded = vec![0u8; modulus_len - rsa_part.len()];
    padded.extend_from_slice(rsa_part);
    let session_key = privkey
        .decrypt(Oaep::<Sha256>::new_with_label(label), &padded)
        .map_err(|_| UnsealError::Rsa)?;
    let aes_part = sealed.aes_ciphertext();
    match session_key.len() {
        16 => open::<Aes128Gcm>(&session_key, aes_part),
        24 => open::<AesGcm<Aes192, U12>>(&session_key, aes_part),
        32 => open::<Aes256Gcm>(&session_key, aes_part),
        len => Err(UnsealError::SessionKeyLength { len }),
    }
}

fn open<C>(key: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, UnsealError>
where
    C: KeyInit + Aead + AeadCore<NonceSize = U12>,
{
    let cipher =
        C::new_from_slice(key).map_err(|_| UnsealError::SessionKeyLength { len: key.len() })?;
    cipher
        .decrypt(&zero_nonce::<C>(), ciphertext)
        .map_err(|_| UnsealError::Authentication)
}

fn zero_nonce<C: AeadCore<NonceSize = U12>>() -> Nonce<C> {
    Nonce::<C>::from([0u8; 12])
}

#[cfg(test)]
mod tests {
    use super::super::Scope;
    use super::super::test_support::{cert_fixture, fixture_cert, fixture_key, seeded_rng};
    use super::super::{SealingCert, private_key_from_pem};
    use super::*;

    fn decode(text: &str) -> SealedBytes {
        parse_sealed(text).unwrap()
    }

    /// Rebuilds a sealed value by hand, to produce what other sealers might emit.
    fn assemble(rsa_part: &[u8], aes_part: &[u8]) -> String {
        let mut out = u16::try_from(rsa_part.len())
            .unwrap()
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(rsa_part);
        out.extend_from_slice(aes_part);
        STANDARD.encode(out)
    }

    const NS: &str = "analysis";
    const NAME: &str = "db-credentials";

    fn seal_fixture(scope: Scope, plaintext: &[u8], seed: u64) -> String {
        let label = scope.label(NS, NAME);
        seal(
            fixture_cert().public_key(),
            &label,
            plaintext,
            &mut seeded_rng(seed),
        )
        .unwrap()
    }

    fn open_as(
        scope: Scope,
        namespace: &str,
        name: &str,
        sealed: &str,
    ) -> Result<Vec<u8>, UnsealError> {
        unseal(fixture_key(), &scope.label(namespace, name), sealed)
    }

    #[test]
    fn round_trip_strict() {
        let sealed = seal_fixture(Scope::Strict, b"hunter2", 1);
        assert_eq!(
            open_as(Scope::Strict, NS, NAME, &sealed).unwrap(),
            b"hunter2"
        );
    }

    #[test]
    fn round_trip_namespace_wide() {
        let sealed = seal_fixture(Scope::NamespaceWide, b"hunter2", 2);
        assert_eq!(
            open_as(Scope::NamespaceWide, NS, NAME, &sealed).unwrap(),
            b"hunter2"
        );
    }

    #[test]
    fn round_trip_cluster_wide() {
        let sealed = seal_fixture(Scope::ClusterWide, b"hunter2", 3);
        assert_eq!(
            open_as(Scope::ClusterWide, NS, NAME, &sealed).unwrap(),
            b"hunter2"
        );
    }

    #[test]
    fn strict_is_bound_to_namespace_and_name() {
        let sealed = seal_fixture(Scope::Strict, b"v", 4);
        assert_eq!(
            open_as(Scope::Strict, "other", NAME, &sealed),
            Err(UnsealError::Rsa)
        );
        assert_eq!(
            open_as(Scope::Strict, NS, "renamed", &sealed),
            Err(UnsealError::Rsa)
        );
        // The annotation, not only the names, must match the sealing scope.
        assert_eq!(
            open_as(Scope::NamespaceWide, NS, NAME, &sealed),
            Err(UnsealError::Rsa)
        );
    }

    #[test]
    fn namespace_wide_survives_rename_not_move() {
        let sealed = seal_fixture(Scope::NamespaceWide, b"v", 5);
        assert_eq!(
            open_as(Scope::NamespaceWide, NS, "renamed", &sealed).unwrap(),
            b"v"
        );
        assert_eq!(
            open_as(Scope::NamespaceWide, "other", NAME, &sealed),
            Err(UnsealError::Rsa)
        );
        assert_eq!(
            open_as(Scope::Strict, NS, NAME, &sealed),
            Err(UnsealError::Rsa)
        );
    }

    #[test]
    fn cluster_wide_survives_rename_and_move() {
        let sealed = seal_fixture(Scope::ClusterWide, b"v", 6);
        assert_eq!(
            open_as(Scope::ClusterWide, "other", "renamed", &sealed).unwrap(),
            b"v"
        );
        assert_eq!(
            open_as(Scope::NamespaceWide, NS, NAME, &sealed),
            Err(UnsealError::Rsa)
        );
    }

    #[test]
    fn sealing_twice_differs_and_both_open() {
        let key = fixture_cert().public_key();
        let label = Scope::Strict.label(NS, NAME);
        let first = seal_with_os_rng(key, &label, b"same value").unwrap();
        let second = seal_with_os_rng(key, &label, b"same value").unwrap();
        assert_ne!(first, second);
        assert_ne!(
            decode(&first).aes_ciphertext(),
            decode(&second).aes_ciphertext()
        );
        for sealed in [first, second] {
            assert_eq!(
                unseal(fixture_key(), &label, &sealed).unwrap(),
                b"same value"
            );
        }
    }

    #[test]
    fn same_seed_same_text() {
        assert_eq!(
            seal_fixture(Scope::Strict, b"x", 42),
            seal_fixture(Scope::Strict, b"x", 42)
        );
        assert_ne!(
            seal_fixture(Scope::Strict, b"x", 42),
            seal_fixture(Scope::Strict, b"x", 43)
        );
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let sealed = seal_fixture(Scope::Strict, b"", 7);
        let bytes = decode(&sealed);
        assert_eq!(bytes.as_bytes().len(), 2 + 512 + 16);
        assert_eq!(bytes.plaintext_len(), 0);
        assert_eq!(open_as(Scope::Strict, NS, NAME, &sealed).unwrap(), b"");
    }

    #[test]
    fn binary_and_long_values_round_trip() {
        let value: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let sealed = seal_fixture(Scope::ClusterWide, &value, 8);
        assert_eq!(decode(&sealed).plaintext_len(), value.len());
        assert_eq!(open_as(Scope::ClusterWide, "", "", &sealed).unwrap(), value);
    }

    #[test]
    fn output_shape_matches_kubeseal() {
        for seed in 0..8 {
            let sealed = seal_fixture(Scope::Strict, b"value", seed);
            assert!(
                ["AgA", "AgB", "AgC", "AgD"].contains(&&sealed[..3]),
                "{}",
                &sealed[..3]
            );
            assert!(!sealed.contains(['\n', '-', '_']));
            assert_eq!(sealed.len() % 4, 0);
            let bytes = decode(&sealed);
            assert_eq!(bytes.rsa_ciphertext().len(), 512);
            assert_eq!(bytes.aes_ciphertext().len(), 5 + 16);
        }
        let small = SealingCert::from_pem(&cert_fixture("rsa2048.crt")).unwrap();
        let sealed = seal(small.public_key(), b"", b"v", &mut seeded_rng(9)).unwrap();
        assert!(["AQA", "AQB", "AQC", "AQD"].contains(&&sealed[..3]));
        assert_eq!(decode(&sealed).rsa_ciphertext().len(), 256);
    }

    #[test]
    fn wrapped_base64_still_opens() {
        let sealed = seal_fixture(Scope::Strict, b"wrapped", 10);
        let wrapped: String = sealed
            .as_bytes()
            .chunks(76)
            .map(|line| format!("{}\r\n", std::str::from_utf8(line).unwrap()))
            .collect();
        assert_eq!(
            open_as(Scope::Strict, NS, NAME, &wrapped).unwrap(),
            b"wrapped"
        );
    }

    /// Go reads the RSA part as a big-endian integer, so a sealer that drops leading zero bytes
    /// still works there; one byte more than the modulus does not.
    #[test]
    fn short_rsa_part_opens_and_long_one_is_refused() {
        let label = Scope::Strict.label(NS, NAME);
        let mut rng = seeded_rng(11);
        let sealed = (0..5_000)
            .map(|_| seal(fixture_cert().public_key(), &label, b"short", &mut rng).unwrap())
            .find(|s| decode(s).rsa_ciphertext()[0] == 0)
            .expect("some seed gives an RSA ciphertext with a leading zero byte");
        let bytes = decode(&sealed);
        let trimmed = assemble(&bytes.rsa_ciphertext()[1..], bytes.aes_ciphertext());
        assert_eq!(decode(&trimmed).rsa_ciphertext().len(), 511);
        assert_eq!(unseal(fixture_key(), &label, &trimmed).unwrap(), b"short");

        let mut longer = vec![0u8];
        longer.extend_from_slice(bytes.rsa_ciphertext());
        let too_long = assemble(&longer, bytes.aes_ciphertext());
        assert_eq!(
            unseal(fixture_key(), &label, &too_long),
            Err(UnsealError::RsaPartTooLong {
                len: 513,
                modulus_len: 512
            })
        );
    }

    /// The controller accepts any AES key size; kubeseal only ever writes 32 bytes.
    #[test]
    fn aes128_and_aes192_session_keys_open() {
        let label = Scope::Strict.label(NS, NAME);
        let key = fixture_cert().public_key();
        let mut rng = seeded_rng(12);
        for len in [16usize, 24] {
            let session_key = vec![0x5A; len];
            let rsa_part = key
                .encrypt(
                    &mut rng,
                    Oaep::<Sha256>::new_with_label(label.clone()),
                    &session_key,
                )
                .unwrap();
            let aes_part = if len == 16 {
                Aes128Gcm::new_from_slice(&session_key)
                    .unwrap()
                    .encrypt(&zero_nonce::<Aes128Gcm>(), b"small key".as_slice())
                    .unwrap()
            } else {
                AesGcm::<Aes192, U12>::new_from_slice(&session_key)
                    .unwrap()
                    .encrypt(
                        &zero_nonce::<AesGcm<Aes192, U12>>(),
                        b"small key".as_slice(),
                    )
                    .unwrap()
            };
            let sealed = assemble(&rsa_part, &aes_part);
            assert_eq!(
                unseal(fixture_key(), &label, &sealed).unwrap(),
                b"small key"
            );
        }
        // A session key of a size AES does not take.
        let rsa_part = key
            .encrypt(
                &mut rng,
                Oaep::<Sha256>::new_with_label(label.clone()),
                &[1u8; 20],
            )
            .unwrap();
        let sealed = assemble(&rsa_part, &[0u8; 16]);
        assert_eq!(
            unseal(fixture_key(), &label, &sealed),
            Err(UnsealError::SessionKeyLength { len: 20 })
        );
    }

    #[test]
    fn corruption_is_detected() {
        let label = Scope::Strict.label(NS, NAME);
        let sealed = seal_fixture(Scope::Strict, b"do not print me", 13);
        let bytes = decode(&sealed);

        let mut aes = bytes.aes_ciphertext().to_vec();
        let last = aes.len() - 1;
        aes[last] ^= 1;
        let bad_tag = assemble(bytes.rsa_ciphertext(), &aes);
        let err = unseal(fixture_key(), &label, &bad_tag).unwrap_err();
        assert_eq!(err, UnsealError::Authentication);

        let mut rsa_part = bytes.rsa_ciphertext().to_vec();
        rsa_part[100] ^= 0x80;
        let bad_rsa = assemble(&rsa_part, bytes.aes_ciphertext());
        assert_eq!(
            unseal(fixture_key(), &label, &bad_rsa),
            Err(UnsealError::Rsa)
        );

        // Cut at a 4-character boundary the base64 still decodes, and only GCM notices.
        let cut_whole_groups = &sealed[..sealed.len() - 8];
        assert_eq!(
            unseal(fixture_key(), &label, cut_whole_groups),
            Err(UnsealError::Authentication)
        );
        let cut_mid_group = &sealed[..sealed.len() - 3];
        assert!(matches!(
            unseal(fixture_key(), &label, cut_mid_group),
            Err(UnsealError::Format(
                SealedFormatError::MissingPadding { .. }
            ))
        ));

        for err in [
            UnsealError::Authentication,
            UnsealError::Rsa,
            UnsealError::Format(SealedFormatError::EmptyRsaPart),
        ] {
            assert!(!err.to_string().contains("do not print me"));
            assert!(!format!("{err:?}").contains("do not print me"));
        }
    }

    #[test]
    fn wrong_key_fails_cleanly() {
        let other = private_key_from_interop();
        let sealed = seal_fixture(Scope::Strict, b"v", 14);
        assert_eq!(
            unseal(&other, &Scope::Strict.label(NS, NAME), &sealed),
            Err(UnsealError::Rsa)
        );
    }

    fn private_key_from_interop() -> PrivateKey {
        private_key_from_pem(include_str!("testdata/kubeseal-interop.key")).unwrap()
    }

    /// Values that real `kubeseal --raw` sealed (strict scope, `my-namespace/my-secret`) for a
    /// key a real controller generated; see `testdata/README.md`. Checks `unseal` against Go's
    /// output rather than against our own `seal`.
    #[test]
    fn kubeseal_interop() {
        let key = private_key_from_interop();
        let label = Scope::Strict.label("my-namespace", "my-secret");
        let cases: [(&str, &[u8]); 3] = [
            (
                "AgDDXV+gjKNivbyd10Jlqu1NminUmp/wSHx1Wd95O7MUV9uvQtq5iscLO4Y72X+fE0b1SYnte+TQJKSU\
                 UI2tjLnm6YonYyWdu/DPOKp0GWOTd9J0maBZHfVSruyqETLRQ31q39gdY0Ma8u5d8dmmcIeToUM4p//h\
                 3yZTJ7zrkx1LR61y9oxdkk8bngIIh73+lRbZs6Afq+VD8DDl/0lyIBQk4+t9qLLYdLXAG0+Kf3mQuBtT\
                 obH07l8aImS9bvyf6zlF6rfalksw+4J8/knRwJES53p+sm+SnM3UVSQEF8ddPopHY/2ELx3XiNi2UHAi\
                 ceaw7o0K1CuBjEbmCERqMvn7y+lGZLp9Lvy1MEL8WF5ePjGr1L5HekVJzrV74JnoK19mpwLm1SEEV3gz\
                 6qw4MLzmdnz9/CNgzAOgAMeA7nSqNSN4kSqF3hRT17v0hVq36fI/czT2r0blbrMyHymf9nqq/c3dZEgw\
                 exHugW/fkMRpwbbV1+sfnw4pSUonPWpBIaTb4jQ0+PVC8iWkViebNz9Mpds8SHbdN7PtDHFlgCv7Su2/\
                 BYg627FJoEY6wB3LlsYDnRAw1XexRlOI9DPzIMlvvn/wkIqw7NSkVslY7szHQfCZ7ZB5hbJ+WpxzXitw\
                 YB2HX6hNj+hsi9i+aa3BxRhFncIPDynuQDQXC19VS7qkMQbmwGotnoSWAkY6srQjPPwvyBcZ4mM1BGPL\
                 Y+0WjZzt6DwSG2yl",
                b"my-password-for-prd-db",
            ),
            (
                "AgBB85hViv11KytxGuIHv0N7fApZcWWLW66P+PbCFpD6iYI23zkFNPNi5aEBlYVoXcSuLY02uPu/97Sp\
                 VfJ5vKd/aWsILOqJIq2O07OrDr++Bd2Y2ooSLW7kWjCKj7bo+JGe2AoLHolRFGHo3VIEuEzKXuBfVb+8\
                 aJ/iD+KVx1unkY1aA5JkLn01fZXummvW+PeqDHTNV4HWbKrGLrRWRATwusE2GdTDj+v9FV5RzBM33Ase\
                 tcDCE2z5nJ9jWU2Oqe/9EO2NarkYsrsDE4qitr4ehx0tv8u1zPWbG0+uFeAE/24PJy59c587YGfYDfY/\
                 MbkdK5o/iBFCfLTUxeYAxOA0bsRt2f5uWcLU/6HyC9p4ooTyTq1yKgq33xduwFeBb3fQZjc8IIO1tbUg\
                 ajXbl13+SfFXnl/E9m61Cnf0IFJ9OG+29cVUYjVxkL0NBc47hZF4mc+Gd5PPv9nVjZXwtToNolql8440\
                 fbDKo9hQFxcxKxagCv6otldhsPH1YpW5yvWj81LlJjm2KzlsTE83RMB0SYzXZVD4iVShFXZzdzNJsmVW\
                 2BeNrOpPNqdEFTjHJ0tEDdx/15TtOglHsiCjiHBsJM8nbMzRcu8FImZTrxQmBrvv3mU2NeAPJTfJjP5O\
                 uz6CYOqT75lfzuv9KVlw4tLiFpzxl7qW2cTMwNPiuDdvQkd9TYJwBwoCT5QPOgZYU7SHRwcXtaMGNKcg\
                 0JmS7MA6CQ==",
                b"my-prd-api-secret",
            ),
            (
                "AgC/2XZMbPyZZkO7Euv07PjzC4s2du/moRcy+dpZf60V+cVgGx24cq8QZDOnrNJj8zpACW+qlsj+whya\
                 62upc0WnR4BaEBLZWZf9tLyXhvH8HaYahHv3KlLvzivTDdf2yKrK/af0befBwxmWuEhMpzJ31q8wpqaW\
                 SBNQP12nrjPHisvwnD0Z5uhwnBEcdaqWsvZ2cDbpw9pWXj52Y2IjQzqisoTMb5E7yl4KVExJ3XGMEWh6\
                 0pQfq84DT7PU4PiUvDpZaUqDY5NTtp09nSNC3GBswHUIluYKjJkv7/RzDlzLpru0vHIl7nsooRUmKneb\
                 JjJd2rI7liIRd5l3NC7XySt2gW6ejkw0iVZJZ1o2lAVZfY2vdLQ8+csWwT6W6uu6Mlj1qgCEkQ9dtLRI\
                 T8uKAcq/MjbEpGFV1/Grgjxd3ZOBQUlixRn4DEvh4Z4sU37imn6E4KenrAgXo5dnvetTfUs5y+oYi0J3\
                 bAUUoWBAQsmARDQbBjnVeRDJlmo5YBZBZ7M3+XmVP/i/gJBm5qjxkngWSE0/s2QW+doZkYOC++6BS6Jj\
                 oi07S/BZcjzTJTIuagf5YCa5bH3w4u3A05vInvOqcKgvWxNar6QlBYnD1f2dBUQANUME/+yREsOw9ZFD\
                 3gJAnLxfBc6MwJjPZ/b8NV+3fC4lDWspsErbDcExK44npKxaRUtUOeZOs8xVKUdH0mSwSUQD1N4Q+TKw\
                 xPzBzdM6weYOeKyTWN6gsODL",
                b"This is a secret message !!!",
            ),
        ];
        for (sealed, plaintext) in cases {
            assert_eq!(unseal(&key, &label, sealed).unwrap(), plaintext);
        }
        let wrong_label = Scope::Strict.label("my-namespace", "other-secret");
        assert_eq!(
            unseal(&key, &wrong_label, cases[0].0),
            Err(UnsealError::Rsa)
        );
    }
}
