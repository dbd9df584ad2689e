//! CB086 xcache-token-lifetime.
//!
//! What: an instance's XCache tokens live longer than the XCache servers accept.
//! Why: XrdMacaroons refuses a macaroon whose `before:` lies further ahead than its
//! `macaroons.maxduration` (24 hours unless set): "Max token age is greater than configured
//! max duration; rejecting" (xrootd/xrootd@v6.1.0 src/XrdMacaroons/XrdMacaroonsAuthz.cc
//! `verify_before`, XrdMacaroonsConfigure.cc). Every read through the cache would fail.
//! Fix: shorten `[xcache] token_days` of the instance, or set `[xcache] max_token_days` of
//! the site to the servers' `macaroons.maxduration`.

use crate::diagnostics::{Diagnostic, XCACHE_TOKEN_LIFETIME};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(x) = &site.spec.xcache else {
        return Vec::new();
    };
    let max = x.max_days();
    site.instances
        .iter()
        .filter_map(|i| i.spec.xcache.as_ref().map(|ix| (i, ix)))
        .filter(|(_, ix)| *ix.token_days.get_ref() > max)
        .map(|(i, ix)| {
            let d = Diagnostic::new(
                XCACHE_TOKEN_LIFETIME,
                format!(
                    "XCache tokens of {} days outlive the servers' limit of {max} day(s)",
                    ix.token_days.get_ref()
                ),
            )
            .at(i.file, ix.token_days.span(), "longer than `macaroons.maxduration`");
            match &x.max_token_days {
                Some(m) => d.also(site.file, m.span(), "the servers' limit"),
                None => d,
            }
            .help(format!(
                "use token_days <= {max}, or set [xcache] max_token_days to the servers' macaroons.maxduration (in days; XrdMacaroons' default is 1)"
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::*;

    #[test]
    fn passes_on_the_reference_site() {
        assert!(check(&site_with(&[], &[]).0).is_empty());
    }

    #[test]
    fn finds_tokens_longer_than_the_servers_allow() {
        let (site, src) = site_with(&[("max_token_days = 364", "max_token_days = 30")], &[]);
        let (l, c) = pos(INSTANCE, "token_days = 364");
        let c = c + "token_days = ".len();
        assert_finds(
            &check(&site),
            &src,
            &[(XCACHE_TOKEN_LIFETIME, "instances/cms-prod.toml", l, c)],
        );
    }

    #[test]
    fn the_default_limit_is_one_day() {
        let (site, src) = site_with(&[("max_token_days = 364 ", "")], &[]);
        let (l, c) = pos(INSTANCE, "token_days = 364");
        let c = c + "token_days = ".len();
        assert_finds(
            &check(&site),
            &src,
            &[(XCACHE_TOKEN_LIFETIME, "instances/cms-prod.toml", l, c)],
        );
    }
}
