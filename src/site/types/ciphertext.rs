//! The shape of a stored sealed value, checked without any key.
//!
//! A value is standard base64 of `L (2 bytes, big-endian) ‖ RSA part (L bytes) ‖ AES-GCM part`.
//! Base64 is decoded the way Go's `base64.StdEncoding` does it, because that is what the
//! controller runs: CR and LF are skipped anywhere, padding is required, nothing may follow it,
//! and (unlike the `base64` crate's default) non-zero bits in the last symbol are ignored.

use std::fmt;

/// Length of the AES-GCM tag that ends every value.
pub(crate) const GCM_TAG_LEN: usize = 16;

/// Why a stored value cannot be a sealed value. Never quotes the input, which may be a
/// plaintext pasted where a sealed value belongs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealedFormatError {
    /// A byte outside the standard alphabet (spaces and the URL-safe `-`/`_` included).
    #[error(
        "not base64: the character at byte {offset} is not in the standard alphabet \
         (A-Z, a-z, 0-9, +, / and = padding; only line breaks may be added)"
    )]
    InvalidCharacter {
        /// Byte offset in the text.
        offset: usize,
    },
    /// `=` where padding cannot start, or a lone `=` where two are needed.
    #[error("not base64: misplaced or incomplete '=' padding at byte {offset}")]
    BadPadding {
        /// Byte offset of the first `=` concerned.
        offset: usize,
    },
    /// Something other than line breaks after the padding.
    #[error("not base64: unexpected data at byte {offset}, after the '=' padding")]
    DataAfterPadding {
        /// Byte offset of the first extra character.
        offset: usize,
    },
    /// The text stops inside a 4-character group: padding is missing or the text is cut short.
    #[error(
        "not base64: {symbols} characters is not a multiple of 4; \
         the '=' padding is missing or the value is cut short"
    )]
    MissingPadding {
        /// Number of base64 symbols (line breaks not counted).
        symbols: usize,
    },
    /// Nothing at all.
    #[error("sealed value is empty")]
    Empty,
    /// Too short to hold the 2-byte length prefix.
    #[error("sealed value is {len} byte long; at least 2 are needed for the RSA length prefix")]
    TooShort {
        /// Decoded length.
        len: usize,
    },
    /// The length prefix is zero.
    #[error("sealed value declares an empty RSA part")]
    EmptyRsaPart,
    /// The length prefix runs past the end of the value.
    #[error(
        "sealed value declares a {declared}-byte RSA part but only {available} bytes follow \
         the length prefix"
    )]
    RsaPartTruncated {
        /// The length prefix.
        declared: usize,
        /// Bytes after the prefix.
        available: usize,
    },
    /// Too little left after the RSA part for the AES-GCM tag.
    #[error(
        "sealed value leaves {remaining} bytes after its {rsa_len}-byte RSA part; \
         the AES-GCM part needs at least 16 (its tag)"
    )]
    AesPartTooShort {
        /// The length prefix.
        rsa_len: usize,
        /// Bytes after the RSA part.
        remaining: usize,
    },
}

/// A decoded sealed value whose layout has been checked.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedBytes {
    bytes: Vec<u8>,
    rsa_len: usize,
}

impl SealedBytes {
    /// The whole decoded value, length prefix included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The RSA-OAEP ciphertext of the session key (`L` bytes; may be shorter than the modulus).
    pub fn rsa_ciphertext(&self) -> &[u8] {
        self.bytes.get(2..2 + self.rsa_len).unwrap_or_default()
    }

    /// The AES-GCM ciphertext of the value with its 16-byte tag appended.
    pub fn aes_ciphertext(&self) -> &[u8] {
        self.bytes.get(2 + self.rsa_len..).unwrap_or_default()
    }

    /// Length of the sealed plaintext (GCM does not pad, so the ciphertext shows it anyway).
    pub fn plaintext_len(&self) -> usize {
        self.aes_ciphertext().len().saturating_sub(GCM_TAG_LEN)
    }
}

impl fmt::Debug for SealedBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedBytes")
            .field("rsa_len", &self.rsa_len)
            .field("aes_len", &self.aes_ciphertext().len())
            .finish_non_exhaustive()
    }
}

/// Checks that `text` has the shape of a sealed value and splits it. Never panics.
///
/// Passing this does not mean any key opens the value; it means the controller would get as
/// far as trying its keys.
pub fn parse_sealed(text: &str) -> Result<SealedBytes, SealedFormatError> {
    let bytes = decode_go_base64(text.as_bytes()).map_err(SealedFormatError::from)?;
    let (len_prefix, rest) = match bytes.as_slice() {
        [] => return Err(SealedFormatError::Empty),
        [hi, lo, rest @ ..] => (u16::from_be_bytes([*hi, *lo]), rest),
        short => return Err(SealedFormatError::TooShort { len: short.len() }),
    };
    let rsa_len = usize::from(len_prefix);
    if rsa_len == 0 {
        return Err(SealedFormatError::EmptyRsaPart);
    }
    if rest.len() < rsa_len {
        return Err(SealedFormatError::RsaPartTruncated {
            declared: rsa_len,
            available: rest.len(),
        });
    }
    let remaining = rest.len() - rsa_len;
    if remaining < GCM_TAG_LEN {
        return Err(SealedFormatError::AesPartTooShort { rsa_len, remaining });
    }
    Ok(SealedBytes { bytes, rsa_len })
}

/// Base64 failures, shared with the PEM reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base64Error {
    InvalidCharacter { offset: usize },
    BadPadding { offset: usize },
    DataAfterPadding { offset: usize },
    MissingPadding { symbols: usize },
}

impl From<Base64Error> for SealedFormatError {
    fn from(err: Base64Error) -> Self {
        match err {
            Base64Error::InvalidCharacter { offset } => Self::InvalidCharacter { offset },
            Base64Error::BadPadding { offset } => Self::BadPadding { offset },
            Base64Error::DataAfterPadding { offset } => Self::DataAfterPadding { offset },
            Base64Error::MissingPadding { symbols } => Self::MissingPadding { symbols },
        }
    }
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SealedFormatError::from(*self).fmt(f)
    }
}

fn sextet(symbol: u8) -> Option<u8> {
    match symbol {
        b'A'..=b'Z' => Some(symbol - b'A'),
        b'a'..=b'z' => Some(symbol - b'a' + 26),
        b'0'..=b'9' => Some(symbol - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes standard, padded base64 with the leniency of Go's `base64.StdEncoding`.
pub(crate) fn decode_go_base64(text: &[u8]) -> Result<Vec<u8>, Base64Error> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut group = [0u8; 4];
    let mut filled = 0;
    let mut symbols = 0;
    let mut input = text
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, b)| !matches!(b, b'\r' | b'\n'));
    while let Some((offset, byte)) = input.next() {
        if let Some(value) = sextet(byte) {
            group[filled] = value;
            filled += 1;
            symbols += 1;
            if filled == 4 {
                out.extend_from_slice(&[
                    group[0] << 2 | group[1] >> 4,
                    group[1] << 4 | group[2] >> 2,
                    group[2] << 6 | group[3],
                ]);
                filled = 0;
            }
            continue;
        }
        if byte != b'=' {
            return Err(Base64Error::InvalidCharacter { offset });
        }
        match filled {
            2 => {
                if !matches!(input.next(), Some((_, b'='))) {
                    return Err(Base64Error::BadPadding { offset });
                }
                out.push(group[0] << 2 | group[1] >> 4);
            }
            3 => out
                .extend_from_slice(&[group[0] << 2 | group[1] >> 4, group[1] << 4 | group[2] >> 2]),
            _ => return Err(Base64Error::BadPadding { offset }),
        }
        if let Some((offset, _)) = input.next() {
            return Err(Base64Error::DataAfterPadding { offset });
        }
        return Ok(out);
    }
    if filled != 0 {
        return Err(Base64Error::MissingPadding { symbols });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use rand::rngs::StdRng;
    use rand::{Rng as _, RngExt as _, SeedableRng as _};

    /// The base64 of a length prefix `rsa_len` followed by `rsa + aes` filler bytes.
    fn sample(rsa_len: u16, rsa: usize, aes: usize) -> String {
        let mut bytes = rsa_len.to_be_bytes().to_vec();
        bytes.extend(std::iter::repeat_n(0xAB, rsa + aes));
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn splits_a_well_formed_value() {
        let sealed = parse_sealed(&sample(4, 4, 19)).unwrap();
        assert_eq!(sealed.rsa_ciphertext().len(), 4);
        assert_eq!(sealed.aes_ciphertext().len(), 19);
        assert_eq!(sealed.plaintext_len(), 3);
        assert_eq!(sealed.as_bytes().len(), 25);
        assert_eq!(
            format!("{sealed:?}"),
            "SealedBytes { rsa_len: 4, aes_len: 19, .. }"
        );
    }

    #[test]
    fn only_the_tag_is_enough() {
        assert_eq!(parse_sealed(&sample(4, 4, 16)).unwrap().plaintext_len(), 0);
    }

    #[test]
    fn wrapped_lines_are_accepted_anywhere() {
        let text = sample(4, 4, 20); // 28 bytes: 40 symbols, ends with "="
        let plain = parse_sealed(&text).unwrap();
        let wrapped: String = text
            .chars()
            .enumerate()
            .flat_map(|(i, c)| {
                let sep = if i % 7 == 6 { "\r\n" } else { "" };
                std::iter::once(c).chain(sep.chars())
            })
            .collect();
        assert!(wrapped.contains("\r\n"));
        assert_eq!(parse_sealed(&wrapped).unwrap(), plain);
        assert_eq!(parse_sealed(&format!("\n{text}\n\n")).unwrap(), plain);

        // Between two padding characters, and a lone CR.
        let text = sample(4, 4, 19); // 25 bytes -> "==" at the end
        assert!(text.ends_with("=="));
        let split = format!("{}=\r={}", &text[..text.len() - 2], "\r");
        assert_eq!(parse_sealed(&split).unwrap(), parse_sealed(&text).unwrap());
    }

    #[test]
    fn base64_errors_carry_byte_offsets() {
        let good = sample(4, 4, 18); // 24 bytes -> 32 symbols, no padding
        assert!(!good.contains('='));

        let with_space = format!("{} {}", &good[..8], &good[8..]);
        assert_eq!(
            parse_sealed(&with_space),
            Err(SealedFormatError::InvalidCharacter { offset: 8 })
        );
        let url_safe = format!("\n{}-{}", &good[..3], &good[4..]);
        assert_eq!(
            parse_sealed(&url_safe),
            Err(SealedFormatError::InvalidCharacter { offset: 4 })
        );
        let non_ascii = format!("{}é{}", &good[..5], &good[6..]);
        assert_eq!(
            parse_sealed(&non_ascii),
            Err(SealedFormatError::InvalidCharacter { offset: 5 })
        );
        assert_eq!(
            parse_sealed(&format!("{good}\t")),
            Err(SealedFormatError::InvalidCharacter { offset: 32 })
        );
    }

    #[test]
    fn padding_rules() {
        use SealedFormatError::*;
        // Unpadded, as a URL-safe or "raw" encoder would give.
        assert_eq!(parse_sealed("AgA"), Err(MissingPadding { symbols: 3 }));
        assert_eq!(parse_sealed("AgABAg"), Err(MissingPadding { symbols: 6 }));
        assert_eq!(parse_sealed("A"), Err(MissingPadding { symbols: 1 }));
        // "=" where no padding can be.
        assert_eq!(parse_sealed("===="), Err(BadPadding { offset: 0 }));
        assert_eq!(parse_sealed("A==="), Err(BadPadding { offset: 1 }));
        assert_eq!(parse_sealed("AgAB=AAA"), Err(BadPadding { offset: 4 }));
        // One "=" where two are needed.
        assert_eq!(parse_sealed("AA="), Err(BadPadding { offset: 2 }));
        assert_eq!(parse_sealed("AA=A"), Err(BadPadding { offset: 2 }));
        // Anything after the padding.
        assert_eq!(
            parse_sealed("AgA=AgA="),
            Err(DataAfterPadding { offset: 4 })
        );
        assert_eq!(parse_sealed("AA===="), Err(DataAfterPadding { offset: 4 }));
        assert_eq!(parse_sealed("AgA= "), Err(DataAfterPadding { offset: 4 }));
        assert_eq!(
            parse_sealed("AgA=\n\nx"),
            Err(DataAfterPadding { offset: 6 })
        );
    }

    #[test]
    fn non_zero_trailing_bits_are_ignored_like_go() {
        // "AgB=" and "AgA=" both decode to 02 00 under Go's non-strict decoder.
        assert_eq!(decode_go_base64(b"AgB=").unwrap(), [2, 0]);
        assert_eq!(decode_go_base64(b"AgA=").unwrap(), [2, 0]);
        assert_eq!(decode_go_base64(b"AB==").unwrap(), [0]);
    }

    #[test]
    fn layout_errors() {
        use SealedFormatError::*;
        assert_eq!(parse_sealed(""), Err(Empty));
        assert_eq!(parse_sealed("\r\n"), Err(Empty));
        assert_eq!(parse_sealed("AA=="), Err(TooShort { len: 1 }));
        assert_eq!(parse_sealed(&sample(0, 0, 16)), Err(EmptyRsaPart));
        assert_eq!(
            parse_sealed(&sample(512, 511, 0)),
            Err(RsaPartTruncated {
                declared: 512,
                available: 511
            })
        );
        assert_eq!(
            parse_sealed(&sample(u16::MAX, 10, 0)),
            Err(RsaPartTruncated {
                declared: 65535,
                available: 10
            })
        );
        assert_eq!(
            parse_sealed(&sample(512, 512, 15)),
            Err(AesPartTooShort {
                rsa_len: 512,
                remaining: 15
            })
        );
        assert_eq!(
            parse_sealed(&sample(512, 512, 0)),
            Err(AesPartTooShort {
                rsa_len: 512,
                remaining: 0
            })
        );
    }

    #[test]
    fn messages_are_lowercase_and_name_the_value() {
        let cases = [
            (
                SealedFormatError::RsaPartTruncated {
                    declared: 512,
                    available: 30,
                },
                "sealed value declares a 512-byte RSA part but only 30 bytes follow the length prefix",
            ),
            (
                SealedFormatError::InvalidCharacter { offset: 7 },
                "not base64: the character at byte 7 is not in the standard alphabet \
                 (A-Z, a-z, 0-9, +, / and = padding; only line breaks may be added)",
            ),
            (
                SealedFormatError::MissingPadding { symbols: 3 },
                "not base64: 3 characters is not a multiple of 4; the '=' padding is missing \
                 or the value is cut short",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }

    /// The `base64` crate configured like Go's `StdEncoding` (after removing CR/LF, which the
    /// crate does not skip) is an independent oracle for the decoder.
    fn oracle(text: &[u8]) -> Option<Vec<u8>> {
        let engine = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new()
                .with_decode_allow_trailing_bits(true)
                .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
        );
        let stripped: Vec<u8> = text
            .iter()
            .copied()
            .filter(|b| !matches!(b, b'\r' | b'\n'))
            .collect();
        engine.decode(stripped).ok()
    }

    #[test]
    fn decoder_agrees_with_an_independent_oracle_and_never_panics() {
        const SYMBOLS: &[u8] = b"AQgw/+=\r\n -_\xC3";
        let mut rng = StdRng::seed_from_u64(0x5EA1);
        for round in 0..50_000 {
            let len = rng.random_range(0..14);
            let text: Vec<u8> = (0..len)
                .map(|_| SYMBOLS[rng.random_range(0..SYMBOLS.len())])
                .collect();
            let ours = decode_go_base64(&text).ok();
            assert_eq!(ours, oracle(&text), "round {round}: {text:?}");
            if let Ok(text) = std::str::from_utf8(&text) {
                let _ = parse_sealed(text);
            }
        }
    }

    #[test]
    fn random_bytes_round_trip_through_wrapped_base64() {
        let mut rng = StdRng::seed_from_u64(7);
        for len in 0..200 {
            let mut bytes = vec![0u8; len];
            rng.fill_bytes(&mut bytes);
            let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
            let wrapped: Vec<u8> = text
                .as_bytes()
                .chunks(5)
                .flat_map(|chunk| chunk.iter().copied().chain(*b"\n"))
                .collect();
            assert_eq!(decode_go_base64(&wrapped).unwrap(), bytes);
        }
    }
}
