//! A MIG profile of an NVIDIA GPU (`1g.10gb`): compute slices, `g.`, memory in GB. Under the
//! GPU operator's `mixed` strategy each profile is its own resource, `nvidia.com/mig-<profile>`
//! (k8s-device-plugin@v0.20.0 `internal/lm/mig-strategy.go` newMigStrategyMixedLabeler).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MigProfile(String);

impl MigProfile {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for MigProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let ok = s.split_once("g.").is_some_and(|(slices, mem)| {
            matches!(slices.parse::<u8>(), Ok(1..=8))
                && !slices.starts_with('0')
                && mem.strip_suffix("gb").is_some_and(|m| {
                    !m.is_empty()
                        && m.len() <= 3
                        && m.bytes().all(|b| b.is_ascii_digit())
                        && !m.starts_with('0')
                })
        });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "`{s}` is not a MIG profile; expected `<slices>g.<memory>gb` as nvidia-smi names them, e.g. `1g.10gb` or `3g.40gb`"
            ))
        }
    }
}

impl fmt::Display for MigProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

super::string_newtype_serde!(
    MigProfile,
    "MigProfile",
    "a MIG profile, e.g. 1g.10gb",
    pattern = r"^[1-8]g\.[1-9][0-9]{0,2}gb$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles() {
        for ok in ["1g.5gb", "1g.10gb", "2g.20gb", "3g.40gb", "7g.80gb"] {
            assert_eq!(ok.parse::<MigProfile>().unwrap().to_string(), ok);
        }
        for bad in [
            "1g10gb",
            "0g.5gb",
            "9g.5gb",
            "1g.gb",
            "1g.05gb",
            "1G.5GB",
            "",
            "1g.5gb+me",
        ] {
            assert!(bad.parse::<MigProfile>().is_err(), "{bad}");
        }
    }
}
