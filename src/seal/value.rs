//! What may be sealed: a value a Secret can hold. The API server refuses a Secret whose data
//! exceed 1 MiB (kubernetes/kubernetes@v1.33.0 pkg/apis/core/validation/validation.go
//! `ValidateSecret`, `MaxSecretSize`), so a larger value would seal, build and then never
//! unseal; an empty value is almost always a pipe that lost its input; a trailing newline is
//! most often `echo` where `printf %s` was meant, and is sealed as part of the value.

use crate::validate::MAX_SECRET_BYTES;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("the value is empty: nothing came on standard input")]
    Empty,
    /// `len` is what was read: input stops being read one byte past the limit.
    #[error("the value has more than {MAX_SECRET_BYTES} bytes, the most a Secret holds")]
    TooLarge { len: usize },
    #[error(
        "the value is {len} bytes and the other values of Secret {secret} {others}: together more than the {MAX_SECRET_BYTES} bytes a Secret holds"
    )]
    SecretTooLarge {
        len: usize,
        others: usize,
        secret: String,
    },
}

/// Checks a value before it is sealed into `secret`, whose other sealed values hold `others`
/// bytes. Returns a warning for a value that is sealed but looks unintended.
pub fn check_value(
    value: &[u8],
    secret: &str,
    others: usize,
) -> Result<Option<&'static str>, ValueError> {
    if value.is_empty() {
        return Err(ValueError::Empty);
    }
    if value.len() > MAX_SECRET_BYTES {
        return Err(ValueError::TooLarge { len: value.len() });
    }
    if value.len() + others > MAX_SECRET_BYTES {
        return Err(ValueError::SecretTooLarge {
            len: value.len(),
            others,
            secret: secret.to_owned(),
        });
    }
    Ok(value.ends_with(b"\n").then_some(
        "the value ends with a newline, which is sealed with it; if it is not part of the secret, pipe the value with `printf %s` (or `tr -d '\\n'`)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_too_large_and_trailing_newlines() {
        assert_eq!(check_value(b"", "s", 0), Err(ValueError::Empty));
        assert_eq!(check_value(b"hunter2", "s", 0), Ok(None));
        assert!(check_value(b"hunter2\n", "s", 0).unwrap().is_some());
        let big = vec![b'x'; MAX_SECRET_BYTES + 1];
        assert_eq!(
            check_value(&big, "s", 0),
            Err(ValueError::TooLarge {
                len: MAX_SECRET_BYTES + 1
            })
        );
        assert!(check_value(&big[..MAX_SECRET_BYTES], "s", 0).is_ok());
        assert!(matches!(
            check_value(&big[..1000], "ns/name", MAX_SECRET_BYTES - 999),
            Err(ValueError::SecretTooLarge { .. })
        ));
    }
}
