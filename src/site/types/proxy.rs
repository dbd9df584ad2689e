//! `CVMFS_HTTP_PROXY`: a chain of proxy groups. The value ends up in `default.local`, which
//! the cvmfs-csi chart passes through Helm's `tpl` (cvmfs-csi@v2.5.2:deployments/helm/
//! cvmfs-csi/templates/extra-configmaps.yaml) and the CVMFS client then sources with
//! `/bin/sh` as root in a privileged container ("The .conf and .local configuration files
//! are ... sourced by /bin/sh", cvmfs/doc-cvmfs cpt-configure.rst). So the grammar is the
//! proxy list's own and nothing more: no quote, `$`, backtick, backslash, brace, blank or
//! newline can pass, and neither template code nor shell can ride in on the value.
//!
//! Grammar (cpt-configure.rst, "Proxy Lists"): groups separated by `;` (tried in order),
//! proxies in a group separated by `|` (load-balanced); each proxy is `http://HOST[:PORT]`
//! (HOST a host name or an IPv4 address), `DIRECT` (no proxy) or `auto` (WPAD discovery).

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use super::Hostname;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvmfsProxy(String);

impl CvmfsProxy {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_proxy(p: &str) -> Result<(), String> {
    if p == "DIRECT" || p == "auto" {
        return Ok(());
    }
    let Some(rest) = p.strip_prefix("http://") else {
        return Err(format!(
            "`{p}` is not `http://HOST[:PORT]`, `DIRECT` or `auto`"
        ));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, port)) => (h, Some(port)),
        None => (rest, None),
    };
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|n| n > 0)
    {
        return Err(format!(
            "`{p}` has port `{port}`, not a number from 1 to 65535"
        ));
    }
    if host.parse::<Ipv4Addr>().is_err() && host.parse::<Hostname>().is_err() {
        return Err(format!(
            "`{p}` names host `{host}`, which is neither a host name nor an IPv4 address"
        ));
    }
    Ok(())
}

impl FromStr for CvmfsProxy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        for group in s.split(';') {
            for proxy in group.split('|') {
                check_proxy(proxy).map_err(|why| {
                    format!("`{s}` is not a CVMFS proxy list: {why}; write groups separated by `;` of proxies separated by `|`, e.g. `http://squid1.example.org:3128|http://squid2.example.org:3128;DIRECT`")
                })?;
            }
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for CvmfsProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

super::string_newtype_serde!(
    CvmfsProxy,
    "CvmfsProxy",
    "a CVMFS proxy list: groups separated by ';' of proxies separated by '|', each http://HOST[:PORT], DIRECT or auto",
    pattern = r"^(DIRECT|auto|http://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?)([;|](DIRECT|auto|http://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?))*$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_lists_parse_and_round_trip() {
        for ok in [
            "http://squid.example.unl.edu:3128",
            "http://10.0.0.1:3128|http://10.0.0.2:3128;DIRECT",
            "auto;DIRECT",
            "DIRECT",
            "http://squid.example.org/",
        ] {
            let p: CvmfsProxy = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(p.to_string(), ok);
        }
    }

    #[test]
    fn shell_and_template_characters_cannot_pass() {
        for bad in [
            "http://squid:3128\"; rm -rf / #",
            "http://$(hostname):3128",
            "http://`id`:3128",
            "http://squid.example.org:3128{{ lookup \"v1\" \"Secret\" \"\" \"\" }}",
            "http://squid.example.org:3128\nCVMFS_SERVER_URL=http://evil",
            "http://squid.example.org:3128 ",
            "http://squid.example.org:99999",
            "https://squid.example.org:3128",
            "",
            "http://squid.example.org:3128;;DIRECT",
        ] {
            assert!(bad.parse::<CvmfsProxy>().is_err(), "{bad:?} passed");
        }
        let e = "http://a.b:3128|http://$x"
            .parse::<CvmfsProxy>()
            .unwrap_err();
        assert!(e.contains("`http://$x`"), "{e}");
    }
}
