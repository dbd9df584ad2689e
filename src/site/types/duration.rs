//! A Flux reconcile interval: a Go duration in the subset Flux's CRDs admit. The
//! Kustomization's and GitRepository's `spec.interval` carry the pattern
//! `^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$` (fluxcd/kustomize-controller@v1.9.4:
//! config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml, fluxcd/source-controller@v1.9.1:
//! config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml), and the value is then read by
//! Go's `time.ParseDuration` through `metav1.Duration`, which refuses what overflows an int64 of
//! nanoseconds. Checked here so that `interval = "ten minutes"` is one error at its line instead
//! of a schema violation per Flux object after rendering.

use std::fmt;
use std::str::FromStr;

/// `10m`, `1h30m`, `90s`, `1.5h`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxInterval {
    text: String,
    nanos: u64,
}

impl FluxInterval {
    /// The duration in nanoseconds, as Go holds it.
    pub fn nanos(&self) -> u64 {
        self.nanos
    }
}

const UNITS: [(&str, u128); 4] = [
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

impl FromStr for FluxInterval {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{}` is not a Flux interval; write a Go duration of numbers with the units ms, s, m or h, such as `10m`, `1h30m` or `90s`",
                s.escape_debug()
            )
        };
        let mut rest = s;
        let mut total: u128 = 0;
        if rest.is_empty() {
            return Err(bad());
        }
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(bad());
            }
            let (whole, after) = rest.split_at(digits);
            let (frac, after) = match after.strip_prefix('.') {
                Some(f) => {
                    let n = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
                    if n == 0 {
                        return Err(bad());
                    }
                    f.split_at(n)
                }
                None => ("", after),
            };
            // `ms` before `m`, so that `5ms` is not read as five minutes and an `s`.
            let Some((unit, scale)) = UNITS
                .iter()
                .filter(|(u, _)| after.starts_with(u))
                .max_by_key(|(u, _)| u.len())
            else {
                return Err(bad());
            };
            let too_long = || {
                format!(
                    "`{s}` is longer than a Go duration can hold (about 2,562,047 hours); Flux would refuse it"
                )
            };
            let whole: u128 = whole.parse().map_err(|_| too_long())?;
            let mut part = whole.checked_mul(*scale).ok_or_else(too_long)?;
            // Go rounds the fraction down to whole nanoseconds; so does this.
            let mut unit_scale = *scale;
            for d in frac.bytes().take(30) {
                unit_scale /= 10;
                part += u128::from(d - b'0') * unit_scale;
            }
            total = total.checked_add(part).ok_or_else(too_long)?;
            if total > i64::MAX as u128 {
                return Err(too_long());
            }
            rest = &after[unit.len()..];
        }
        if total == 0 {
            // controller-runtime treats a zero RequeueAfter as "do not requeue": the unit would
            // reconcile again only when its objects change, never on a schedule.
            return Err(format!(
                "`{s}` is an interval of zero; Flux would not reconcile on a schedule (write e.g. `10m`)"
            ));
        }
        Ok(Self {
            text: s.to_owned(),
            nanos: u64::try_from(total).map_err(|_| bad())?,
        })
    }
}

impl fmt::Display for FluxInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

super::string_newtype_serde!(
    FluxInterval,
    "FluxInterval",
    "a Go duration with the units ms, s, m, h (e.g. `10m`, `1h30m`)",
    pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_flux_accepts() {
        for (text, nanos) in [
            ("10m", 600_000_000_000),
            ("1h30m", 5_400_000_000_000),
            ("90s", 90_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("500ms", 500_000_000),
            ("1m30s5ms", 90_005_000_000),
        ] {
            let d: FluxInterval = text.parse().unwrap();
            assert_eq!(d.nanos(), nanos, "{text}");
            assert_eq!(d.to_string(), text);
        }
    }

    #[test]
    fn refuses_what_the_crd_pattern_or_go_refuses() {
        for text in [
            "",
            "ten minutes",
            "10",
            "10 m",
            "m",
            "1.m",
            ".5h",
            "-1m",
            "10us",
            "1d",
            "10M",
            "0s",
            "0m0s",
        ] {
            assert!(text.parse::<FluxInterval>().is_err(), "{text:?}");
        }
        let e = "3000000h".parse::<FluxInterval>().unwrap_err();
        assert!(e.contains("longer than a Go duration"), "{e}");
        let e = "ten minutes".parse::<FluxInterval>().unwrap_err();
        assert!(e.starts_with("`ten minutes` is not a Flux interval"), "{e}");
    }
}
