//! `--timeout`: how long `diff --live` may talk to the cluster, written as kubectl's
//! `--request-timeout` is (`30s`, `2m`, `1h`, `1m30s`, `500ms`), or a bare number of seconds
//! (what the flag took before units were accepted).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A duration between [`Timeout::MIN`] and [`Timeout::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timeout(Duration);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeoutError {
    #[error(
        "{0:?} is not a duration: write a number with a unit (30s, 2m, 1h, 1m30s, 500ms) or a number of seconds"
    )]
    Syntax(String),
    #[error("{0:?} is out of range: the timeout must be between 1s and 24h")]
    Range(String),
}

impl Timeout {
    pub const MIN: Duration = Duration::from_secs(1);
    pub const MAX: Duration = Duration::from_secs(24 * 3600);

    pub fn as_duration(self) -> Duration {
        self.0
    }

    /// A timeout of `d`, clamped into the accepted range.
    pub fn clamped(d: Duration) -> Self {
        Self(d.clamp(Self::MIN, Self::MAX))
    }
}

impl Default for Timeout {
    /// kubectl has no overall default; 30 s is what `diff --live` always waited.
    fn default() -> Self {
        Self(Duration::from_secs(30))
    }
}

impl FromStr for Timeout {
    type Err = TimeoutError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let s = text.trim();
        let syntax = || TimeoutError::Syntax(text.to_owned());
        let d = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            Duration::from_secs(
                s.parse()
                    .map_err(|_| TimeoutError::Range(text.to_owned()))?,
            )
        } else {
            parse_go_duration(s).ok_or_else(syntax)?
        };
        if !(Self::MIN..=Self::MAX).contains(&d) {
            return Err(TimeoutError::Range(text.to_owned()));
        }
        Ok(Self(d))
    }
}

/// Go's `time.ParseDuration` for the units a timeout needs (no sign, no `us`/`ns`): one or
/// more `<number><unit>` with units `h`, `m`, `s`, `ms`, the number possibly fractional.
fn parse_go_duration(s: &str) -> Option<Duration> {
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (scale, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else {
            return None;
        };
        rest = &rest[len..];
        total += number * scale;
    }
    // Beyond a day the range check refuses it anyway; this keeps the conversion finite.
    (total.is_finite() && total < 1e9).then(|| Duration::from_secs_f64(total))
}

impl fmt::Display for Timeout {
    /// The shortest spelling that parses back to the same duration (`90s` reads `1m30s`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let (h, m, s, rest) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 || (h == 0 && m == 0 && rest == 0) {
            write!(f, "{s}s")?;
        }
        if rest > 0 {
            write!(f, "{rest}ms")?;
        }
        Ok(())
    }
}

crate::site::types::string_newtype_serde!(
    Timeout,
    "Timeout",
    "a duration: 30s, 2m, 1h, 1m30s, 500ms, or a number of seconds",
    pattern = r"^([0-9]+|([0-9]+(\.[0-9]+)?(h|ms|m|s))+)$"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> f64 {
        s.parse::<Timeout>().unwrap().as_duration().as_secs_f64()
    }

    #[test]
    fn units_and_bare_seconds() {
        assert_eq!(secs("30s"), 30.0);
        assert_eq!(secs("2m"), 120.0);
        assert_eq!(secs("1h"), 3600.0);
        assert_eq!(secs("1m30s"), 90.0);
        assert_eq!(secs("1.5m"), 90.0);
        assert_eq!(secs("1500ms"), 1.5);
        assert_eq!(secs("45"), 45.0);
        assert_eq!(secs(" 2m "), 120.0);
    }

    #[test]
    fn bad_spellings_say_what_is_accepted() {
        for bad in ["", "ten minutes", "30x", "s", "-5s", "1m-3s", "5 s", "1e3s"] {
            let e = bad.parse::<Timeout>().unwrap_err();
            assert!(matches!(e, TimeoutError::Syntax(_)), "{bad:?}: {e}");
            assert!(e.to_string().contains("30s, 2m"), "{e}");
        }
        for out in ["0", "0s", "500ms", "25h", "999999999999999999999"] {
            assert!(
                matches!(out.parse::<Timeout>(), Err(TimeoutError::Range(_))),
                "{out:?}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        for (input, shown) in [
            ("90", "1m30s"),
            ("30s", "30s"),
            ("2m", "2m"),
            ("1h", "1h"),
            ("1500ms", "1s500ms"),
            ("3601", "1h1s"),
        ] {
            let t: Timeout = input.parse().unwrap();
            assert_eq!(t.to_string(), shown);
            assert_eq!(t.to_string().parse::<Timeout>().unwrap(), t);
        }
    }
}
