//! A Kubernetes resource quantity (`10Gi`, `3.2T`, `500m`), kept as written and as a number.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    text: String,
    value: f64,
}

impl Quantity {
    /// The value in base units (bytes for sizes, cores for CPU).
    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The size in the one form JupyterHub's and dask-gateway's memory traits accept: an
    /// integer with a binary suffix `K`, `M`, `G` or `T` (1024-based), or an integer of
    /// bytes. Kubernetes suffixes (`Gi`, decimal `G`) are refused there with a TraitError
    /// (jupyterhub/jupyterhub@5.5.0 `jupyterhub/traitlets.py` `ByteSpecification`,
    /// dask/dask-gateway@2026.3.0 `dask_gateway_server/traitlets.py` `MemoryLimit`).
    /// The largest suffix that keeps the value exact is used: `4Gi` -> `4G`, `1536Mi` ->
    /// `1536M`, decimal `4G` -> `3906250K`; fractions of a byte are dropped. Plain bytes stay
    /// a number: a string of digits would be read as a suffix and refused.
    pub fn byte_spec(&self) -> ByteSpec {
        let bytes = self.value.max(0.0).floor() as u64;
        for (suffix, unit) in [
            ("T", 1u64 << 40),
            ("G", 1 << 30),
            ("M", 1 << 20),
            ("K", 1 << 10),
        ] {
            if bytes > 0 && bytes.is_multiple_of(unit) {
                return ByteSpec::Suffixed(format!("{}{suffix}", bytes / unit));
            }
        }
        ByteSpec::Bytes(bytes)
    }
}

/// A size as [`Quantity::byte_spec`] writes it: rendered as a string with its suffix, or as
/// an integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ByteSpec {
    Suffixed(String),
    Bytes(u64),
}

impl fmt::Display for ByteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ByteSpec::Suffixed(s) => f.write_str(s),
            ByteSpec::Bytes(b) => write!(f, "{b}"),
        }
    }
}

impl serde::Serialize for ByteSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ByteSpec::Suffixed(t) => s.serialize_str(t),
            ByteSpec::Bytes(b) => s.serialize_u64(*b),
        }
    }
}

const SUFFIXES: &[(&str, f64)] = &[
    ("Ki", 1024.0),
    ("Mi", 1024.0 * 1024.0),
    ("Gi", 1024.0 * 1024.0 * 1024.0),
    ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ("Pi", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ("Ei", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ("n", 1e-9),
    ("u", 1e-6),
    ("m", 1e-3),
    ("", 1.0),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
    ("E", 1e18),
];

impl FromStr for Quantity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{s}` is not a Kubernetes quantity; expected a number with an optional suffix (Ki Mi Gi Ti Pi Ei, k M G T P E, m), e.g. `10Gi` or `3.2T`"
            )
        };
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (num, suffix) = s.split_at(split);
        if num.is_empty()
            || num.starts_with('.')
            || num.ends_with('.')
            || num.matches('.').count() > 1
        {
            return Err(bad());
        }
        let n: f64 = num.parse().map_err(|_| bad())?;
        let factor = if let Some(exp) = suffix.strip_prefix(['e', 'E']).filter(|e| !e.is_empty()) {
            let e: i32 = exp.parse().map_err(|_| bad())?;
            10f64.powi(e)
        } else {
            SUFFIXES
                .iter()
                .find(|(x, _)| *x == suffix)
                .map(|(_, f)| *f)
                .ok_or_else(bad)?
        };
        let value = n * factor;
        // `1e400` and `99999…9Ei` parse as infinity: a size Kubernetes cannot hold, which
        // serialises as `null` (no limit) wherever it is written as a number.
        if !value.is_finite() {
            return Err(format!(
                "`{s}` is too large a quantity; a Kubernetes quantity fits in 64 bits"
            ));
        }
        Ok(Self {
            text: s.to_owned(),
            value,
        })
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

super::string_newtype_serde!(
    Quantity,
    "Quantity",
    "a Kubernetes quantity, e.g. 10Gi, 3.2T, 500m",
    pattern = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$"
);

/// A quantity greater than zero: a size where nothing is no size (per-user storage, a memory
/// limit, a drive). `storage = "0"` would give every user a volume that holds nothing, a zero
/// memory limit a pod that is killed at start.
#[derive(Debug, Clone, PartialEq)]
pub struct PositiveQuantity(Quantity);

impl std::ops::Deref for PositiveQuantity {
    type Target = Quantity;
    fn deref(&self) -> &Quantity {
        &self.0
    }
}

impl FromStr for PositiveQuantity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let q: Quantity = s.parse()?;
        if q.value() > 0.0 {
            Ok(Self(q))
        } else {
            Err(format!(
                "`{s}` is zero; this size must be greater than zero"
            ))
        }
    }
}

impl fmt::Display for PositiveQuantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

super::string_newtype_serde!(
    PositiveQuantity,
    "PositiveQuantity",
    "a Kubernetes quantity greater than zero, e.g. 10Gi, 3.2T",
    pattern = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$"
);

/// Formats a byte count with a binary suffix, for summaries.
pub fn human_bytes(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", units[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_decimal_and_milli() {
        assert_eq!(
            "10Gi".parse::<Quantity>().unwrap().value(),
            10.0 * 1024.0 * 1024.0 * 1024.0
        );
        assert_eq!("3.2T".parse::<Quantity>().unwrap().value(), 3.2e12);
        assert_eq!("500m".parse::<Quantity>().unwrap().value(), 0.5);
        assert_eq!("2".parse::<Quantity>().unwrap().value(), 2.0);
        assert_eq!("1e3".parse::<Quantity>().unwrap().value(), 1000.0);
        assert_eq!("10Gi".parse::<Quantity>().unwrap().to_string(), "10Gi");
    }

    #[test]
    fn refuses_other_units_and_infinity() {
        for bad in [
            "10GB", "Gi", "", "1.2.3Gi", "-1Gi", ".5", "ten", "1e400", "nan", "inf",
        ] {
            assert!(bad.parse::<Quantity>().is_err(), "{bad}");
        }
    }

    #[test]
    fn positive_quantities_refuse_zero() {
        assert_eq!(
            "5Gi".parse::<PositiveQuantity>().unwrap().to_string(),
            "5Gi"
        );
        for zero in ["0", "0Gi", "0.0", "0e3"] {
            let e = zero.parse::<PositiveQuantity>().unwrap_err();
            assert!(e.contains("greater than zero"), "{zero}: {e}");
        }
    }

    #[test]
    fn byte_spec_is_exact_with_binary_suffixes() {
        let spec = |q: &str| q.parse::<Quantity>().unwrap().byte_spec().to_string();
        assert_eq!(spec("4Gi"), "4G");
        assert_eq!(spec("16Gi"), "16G");
        assert_eq!(spec("1536Mi"), "1536M");
        assert_eq!(spec("2Ti"), "2T");
        assert_eq!(spec("4G"), "3906250K");
        assert_eq!(spec("1000"), "1000");
        assert_eq!(spec("0"), "0");
        assert_eq!(spec("1.5Ki"), "1536");
        // Plain bytes are a number in the rendered values, never a string of digits.
        let bytes = "1000".parse::<Quantity>().unwrap().byte_spec();
        assert_eq!(
            serde_json::to_value(&bytes).unwrap(),
            serde_json::json!(1000)
        );
        let g = "4Gi".parse::<Quantity>().unwrap().byte_spec();
        assert_eq!(serde_json::to_value(&g).unwrap(), serde_json::json!("4G"));
    }

    #[test]
    fn human() {
        assert_eq!(
            human_bytes(1024.0 * 1024.0 * 1024.0 * 1024.0 * 106.0),
            "106.0 TiB"
        );
    }
}
