//! CB038 component-requirement.
//!
//! What: a component the site runs needs what no enabled component provides (the needs and
//! the capabilities come from the registry rows: Triton's model bucket needs an object store,
//! a hub's login an OIDC issuer, any sealed value the Sealed Secrets controller).
//! Why: the objects that need it would wait forever, or the build would fail in a template
//! far from the setting that caused it.
//! Fix: enable a component that provides it, or change the setting that needs it.

use crate::diagnostics::{COMPONENT_REQUIREMENT, Diagnostic};
use crate::site::Site;
use crate::site::components::At;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (c, at) in site.targets_by_file() {
        for need in site.needs_of(c, at) {
            if site.is_provided(need.capability) {
                continue;
            }
            let who = match at {
                At::Site => format!("`{}`", c.name),
                At::Instance(i) => format!(
                    "`{}` of instance `{}`",
                    c.name,
                    i.spec.instance.name.get_ref()
                ),
            };
            let could: Vec<String> = site
                .registry
                .iter()
                .filter(|p| (p.provides)(site).contains(&need.capability))
                .map(|p| format!("`{}`", p.name))
                .collect();
            let mut d = Diagnostic::new(
                COMPONENT_REQUIREMENT,
                format!(
                    "{who} needs {}, which no component of the site provides",
                    need.capability.describe()
                ),
            )
            .help(if could.is_empty() {
                need.fix.clone()
            } else {
                format!("{} (provided by {})", need.fix, could.join(", "))
            });
            if let Some((file, span)) = need.at {
                d = d.at(file, span, need.why);
            }
            out.push(d);
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
    fn triton_without_an_object_store() {
        let store =
            &SITE[SITE.find("[ceph.object_store]").unwrap()..SITE.find("[traefik]").unwrap()];
        let (site, src) = site_with(&[(store, "")], &[]);
        let edited = SITE.replacen(store, "", 1);
        let (l, c) = pos(&edited, "bucket = \"triton-models\"");
        let found = check(&site);
        assert_finds(
            &found,
            &src,
            &[(COMPONENT_REQUIREMENT, "site.toml", l, c + 9)],
        );
        assert!(
            found[0].message.contains("an S3 object store"),
            "{}",
            found[0].message
        );
    }
}
