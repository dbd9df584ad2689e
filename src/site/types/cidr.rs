//! An IPv4 or IPv6 network in CIDR notation, with no host bits set.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr(IpNet);

impl Cidr {
    pub fn net(&self) -> IpNet {
        self.0
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(ip)
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.0.contains(&other.0.network()) || other.0.contains(&self.0.network())
    }

    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    /// Number of addresses, saturating for huge IPv6 ranges.
    pub fn size(&self) -> u128 {
        let bits = self.0.max_prefix_len() - self.0.prefix_len();
        1u128.checked_shl(u32::from(bits)).unwrap_or(u128::MAX)
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let net: IpNet = s.parse().map_err(|_| {
            format!(
                "`{s}` is not a CIDR; expected an address and prefix length such as `10.244.0.0/16`"
            )
        })?;
        if net.trunc() != net {
            return Err(format!(
                "`{s}` has host bits set; the network is `{}`",
                net.trunc()
            ));
        }
        Ok(Self(net))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

super::string_newtype_serde!(
    Cidr,
    "Cidr",
    "a network in CIDR notation, e.g. 10.244.0.0/16",
    pattern = r"^[0-9a-fA-F:.]+/[0-9]{1,3}$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_round_trips_and_overlaps() {
        let a: Cidr = "10.244.0.0/16".parse().unwrap();
        assert_eq!(a.to_string(), "10.244.0.0/16");
        let b: Cidr = "10.244.8.0/24".parse().unwrap();
        let c: Cidr = "10.96.0.0/12".parse().unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
        assert_eq!(b.size(), 256);
    }

    #[test]
    fn refuses_host_bits_and_garbage() {
        assert!(
            "10.244.0.1/16"
                .parse::<Cidr>()
                .unwrap_err()
                .contains("10.244.0.0/16")
        );
        assert!("10.244.0.0".parse::<Cidr>().is_err());
        assert!("banana".parse::<Cidr>().is_err());
    }
}
