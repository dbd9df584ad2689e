//! CB096 traefik-entry-point.
//!
//! What: a `[[traefik.entry_point]]` whose name is longer than 15 characters or is one the
//! chart defines itself (traefik, web, websecure, metrics), or whose port (with its protocol)
//! another entry point already takes, publicly or in the pod.
//! Why: the chart names each container and Service port after its entry point, lower-cased and
//! cut to 15 characters (traefik-helm-chart@v41.3.0:traefik/templates/_helpers.tpl
//! `traefik.portname`, the Kubernetes limit for port names): two names alike in their first
//! 15 characters collide and a longer one no longer matches. A name the chart uses replaces
//! its entry point (`ports` is one map); the chart's pod ports 8000, 8080, 8443 and 9100 and
//! the public 80 and 443 are taken; two sockets on one port and protocol cannot both bind.
//! Fix: a name of at most 15 characters the chart does not define, and a free port.

use crate::diagnostics::{Diagnostic, TRAEFIK_ENTRY_POINT};
use crate::site::{Protocol, Site, TRAEFIK_CHART_PORTS};

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(traefik) = &site.spec.traefik else {
        return Vec::new();
    };
    let eps = &traefik.entry_point;
    let mut out = Vec::new();
    let finding = |msg: String, span: std::ops::Range<usize>, label: &str| {
        Diagnostic::new(TRAEFIK_ENTRY_POINT, msg)
            .at(site.file, span, label)
            .help(TRAEFIK_ENTRY_POINT.info().fix)
    };
    for (i, ep) in eps.iter().enumerate() {
        let name = ep.name.get_ref().as_str();
        if name.len() > 15 {
            out.push(finding(
                format!(
                    "Traefik entry point `{name}` has {} characters; port names have at most 15",
                    name.len()
                ),
                ep.name.span(),
                "too long",
            ));
        } else if TRAEFIK_CHART_PORTS.iter().any(|(n, _)| *n == name) {
            out.push(finding(
                format!("Traefik entry point `{name}` is one the chart defines itself"),
                ep.name.span(),
                "taken by the chart",
            ));
        }
        let public = *ep.port.get_ref();
        let inner = ep.container_port();
        let tcp = ep.protocol == Protocol::TCP;
        let clash = if tcp && (public == 80 || public == 443) {
            Some(format!(
                "port {public}/TCP is the chart's `web` or `websecure`"
            ))
        } else if tcp && TRAEFIK_CHART_PORTS.iter().any(|(_, p)| *p == inner) {
            Some(format!(
                "it would listen on {inner} in the pod, a port of the chart's own entry points"
            ))
        } else {
            eps[..i]
                .iter()
                .find(|o| {
                    o.protocol == ep.protocol
                        && (*o.port.get_ref() == public || o.container_port() == inner)
                })
                .map(|o| format!("entry point `{}` has the same port", o.name.get_ref()))
        };
        if let Some(why) = clash {
            out.push(finding(
                format!("Traefik entry point `{name}` cannot have port {public}: {why}"),
                ep.port.span(),
                "taken",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::*;

    const EPS: &str = "\n[[traefik.entry_point]]\nname = \"xrootd\"\nport = 1094\nprotocol = \"TCP\"\n\n[[traefik.entry_point]]\nname = \"dns\"\nport = 53\nprotocol = \"UDP\"\n";

    fn with(eps: &str) -> (Site, crate::sources::Sources, String) {
        let anchor = "\n[dex]";
        let (site, src) = site_with(&[(anchor, &format!("{eps}{anchor}"))], &[]);
        let text = SITE.replacen(anchor, &format!("{eps}{anchor}"), 1);
        (site, src, text)
    }

    #[test]
    fn passes_on_the_reference_site_and_with_free_entry_points() {
        assert!(check(&site_with(&[], &[]).0).is_empty());
        let (site, _, _) = with(EPS);
        assert!(check(&site).is_empty());
    }

    #[test]
    fn finds_a_long_name_a_chart_name_and_taken_ports() {
        let eps = "\n[[traefik.entry_point]]\nname = \"xrootd-redirector\"\nport = 1094\nprotocol = \"TCP\"\n\n[[traefik.entry_point]]\nname = \"metrics\"\nport = 2000\nprotocol = \"TCP\"\n\n[[traefik.entry_point]]\nname = \"xroot\"\nport = 1094\nprotocol = \"TCP\"\n\n[[traefik.entry_point]]\nname = \"alt\"\nport = 8443\nprotocol = \"TCP\"\n";
        let (site, src, text) = with(eps);
        let at = |needle: &str| {
            let (l, c) = pos(&text, needle);
            (TRAEFIK_ENTRY_POINT, "site.toml", l, c)
        };
        assert_finds(
            &check(&site),
            &src,
            &[
                at("\"xrootd-redirector\""),
                at("\"metrics\""),
                at("1094\nprotocol = \"TCP\"\n\n[[traefik.entry_point]]\nname = \"alt\""),
                at("8443\nprotocol"),
            ],
        );
    }

    #[test]
    fn a_privileged_port_is_served_from_an_unprivileged_one() {
        let (site, _, _) = with(EPS);
        let eps = &site.spec.traefik.as_ref().unwrap().entry_point;
        assert_eq!(eps[1].container_port(), 10_053);
        assert_eq!(eps[0].container_port(), 1094);
    }
}
