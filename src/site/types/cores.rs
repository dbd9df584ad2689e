//! A CPU amount in cores, as z2jh's `singleuser.cpu.guarantee` and `.limit` take it (a
//! number: `0.5`, `4`). TOML has `nan` and `inf` floats, and serde_json writes both as `null`:
//! `cpu_limit = nan` rendered `limit: null`, which KubeSpawner reads as "no limit". So a CPU
//! amount is finite, not negative, and at most [`MAX_CORES`]; a limit is also above zero.

use std::fmt;
use std::str::FromStr;

/// More cores than any node this tool describes has (the largest two-socket servers have
/// 384 threads): a larger number is a typo, or a quantity in millicores written as cores.
pub const MAX_CORES: f64 = 4096.0;

fn check(v: f64, positive: bool) -> Result<f64, String> {
    if !v.is_finite() {
        return Err(format!(
            "`{v}` is not a number of cores; write a finite number such as 0.5 or 4"
        ));
    }
    if v < 0.0 {
        return Err(format!("{v} cores is negative; a CPU amount is 0 or more"));
    }
    if positive && v == 0.0 {
        return Err("0 cores is no CPU at all; a limit must be greater than zero".to_owned());
    }
    if v > MAX_CORES {
        return Err(format!(
            "{v} cores is more than {MAX_CORES}; is it millicores written as cores?"
        ));
    }
    Ok(v)
}

macro_rules! cores_type {
    ($(#[$doc:meta])* $ty:ident, $positive:expr, $desc:literal, $min:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
        pub struct $ty(f64);

        impl $ty {
            pub fn get(self) -> f64 {
                self.0
            }
        }

        impl TryFrom<f64> for $ty {
            type Error = String;
            fn try_from(v: f64) -> Result<Self, String> {
                check(v, $positive).map(Self)
            }
        }

        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let v: f64 = s
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{s}` is not a number of cores, such as 0.5 or 4"))?;
                Self::try_from(v)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_f64(self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a number of cores")
                    }
                    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<$ty, E> {
                        $ty::try_from(v).map_err(E::custom)
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$ty, E> {
                        $ty::try_from(v as f64).map_err(E::custom)
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$ty, E> {
                        $ty::try_from(v as f64).map_err(E::custom)
                    }
                }
                d.deserialize_any(V)
            }
        }

        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "number",
                    "description": $desc,
                    $min: 0,
                    "maximum": MAX_CORES,
                })
            }
        }
    };
}

cores_type!(
    /// A CPU guarantee: 0 (none) or more cores.
    Cores,
    false,
    "a number of CPU cores, 0 or more (e.g. 0.5)",
    "minimum"
);

cores_type!(
    /// A CPU limit: more than 0 cores.
    PositiveCores,
    true,
    "a number of CPU cores greater than 0 (e.g. 4)",
    "exclusiveMinimum"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Holder {
        #[allow(dead_code)]
        cpu: PositiveCores,
    }

    #[test]
    fn nan_infinity_negative_and_zero_are_refused() {
        for text in [
            "cpu = nan",
            "cpu = inf",
            "cpu = -inf",
            "cpu = -1.0",
            "cpu = 0",
            "cpu = 5000",
        ] {
            let e = toml::from_str::<Holder>(text).unwrap_err();
            assert_eq!(e.span(), Some(6..text.len()), "{text}");
        }
        assert_eq!(toml::from_str::<Holder>("cpu = 4").unwrap().cpu.get(), 4.0);
        assert_eq!("0".parse::<Cores>().unwrap().get(), 0.0);
        assert!("-0.5".parse::<Cores>().is_err());
        assert_eq!("0.5".parse::<Cores>().unwrap().to_string(), "0.5");
    }
}
