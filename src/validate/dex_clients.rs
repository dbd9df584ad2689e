//! CB031 unknown-connector, CB032 dex-client.
//!
//! What: an instance whose connector is not a Dex connector, or whose Dex static client is
//! missing or lacks the redirect URI `https://<host>/hub/oauth_callback`.
//! Why: Dex refuses a login with an unregistered redirect URI; an unknown connector offers
//! users no way in.
//! Fix: add the connector or the client, with the hub's callback URL.

use crate::diagnostics::{DEX_CLIENT, Diagnostic, UNKNOWN_CONNECTOR};
use crate::site::Site;

/// The OAuth callback of a hub, derived from its host (never typed twice).
pub fn callback_url(host: &str) -> String {
    format!("https://{host}/hub/oauth_callback")
}

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    // Without [dex] a hub that logs in through it lacks its issuer: CB038 says so.
    let Some(dex) = &site.spec.dex else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for i in &site.instances {
        let Some(auth) = &i.spec.auth.dex else {
            continue;
        };
        if !dex
            .connector
            .iter()
            .any(|c| c.id.get_ref().as_str() == auth.connector.get_ref())
        {
            let known: Vec<_> = dex
                .connector
                .iter()
                .map(|c| c.id.get_ref().to_string())
                .collect();
            out.push(
                Diagnostic::new(
                    UNKNOWN_CONNECTOR,
                    format!(
                        "connector `{}` is not a Dex connector",
                        auth.connector.get_ref()
                    ),
                )
                .at(i.file, auth.connector.span(), "unknown connector")
                .help(format!(
                    "use one of: {} (site.toml [[dex.connector]])",
                    known.join(", ")
                )),
            );
        }
        let url = callback_url(i.spec.instance.host.get_ref().as_str());
        match dex.static_client.iter().find(|c| c.id.get_ref().as_str() == auth.client.get_ref()) {
            None => out.push(
                Diagnostic::new(DEX_CLIENT, format!("Dex has no static client `{}`", auth.client.get_ref()))
                    .at(i.file, auth.client.span(), "no such client")
                    .help(format!(
                        "add to site.toml: [[dex.static_client]] id = \"{}\", public = false, redirect_uris = [\"{url}\"]",
                        auth.client.get_ref()
                    )),
            ),
            Some(c) if !c.redirect_uris.iter().any(|u| u.get_ref() == &url) => out.push(
                Diagnostic::new(DEX_CLIENT, format!("Dex client `{}` does not allow the redirect URI {url}", auth.client.get_ref()))
                    .at(i.file, auth.client.span(), "this client")
                    .also(site.file, c.id.span(), "defined here")
                    .help(format!("add \"{url}\" to its redirect_uris")),
            ),
            Some(_) => {}
        }
    }
    out
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
    fn finds_an_unknown_connector() {
        let (site, src) = site_with(
            &[],
            &[("connector = \"cern-iam\"", "connector = \"github\"")],
        );
        let (l, c) = pos(INSTANCE, "\"cern-iam\"");
        assert_finds(
            &check(&site),
            &src,
            &[(UNKNOWN_CONNECTOR, "instances/cms-prod.toml", l, c)],
        );
    }

    #[test]
    fn finds_a_wrong_redirect_uri() {
        let (site, src) = site_with(
            &[(
                "\"https://coffea.casa/hub/oauth_callback\"",
                "\"https://coffea.casa/oauth\"",
            )],
            &[],
        );
        let (l, c) = pos(INSTANCE, "\"cms-prod\" }");
        assert_finds(
            &check(&site),
            &src,
            &[(DEX_CLIENT, "instances/cms-prod.toml", l, c)],
        );
    }
}
