//! CB030 duplicate-instance.
//!
//! What: two instances with the same name, namespace or hub host.
//! Why: one namespace and one DNS name per JupyterHub.
//! Fix: rename one.

use std::collections::HashMap;

use crate::diagnostics::{DUPLICATE_INSTANCE, Diagnostic};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen: HashMap<(&str, String), (crate::sources::FileId, std::ops::Range<usize>)> =
        HashMap::new();
    for i in &site.instances {
        let m = &i.spec.instance;
        let keys = [
            ("name", m.name.get_ref().to_string(), m.name.span()),
            (
                "namespace",
                m.namespace.get_ref().to_string(),
                m.namespace.span(),
            ),
            ("host", m.host.get_ref().to_string(), m.host.span()),
        ];
        for (what, value, span) in keys {
            if let Some((file, first)) = seen.insert((what, value.clone()), (i.file, span.clone()))
            {
                out.push(
                    Diagnostic::new(
                        DUPLICATE_INSTANCE,
                        format!("two instances use the {what} `{value}`"),
                    )
                    .at(i.file, span, "again here")
                    .also(file, first, "first here")
                    .help(DUPLICATE_INSTANCE.info().fix),
                );
            }
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
    fn finds_a_second_instance_on_the_same_host() {
        let (mut site, mut src) = site_with(&[], &[]);
        let copy = INSTANCE
            .replace("name = \"cms-prod\"", "name = \"cms-copy\"")
            .replace("\"cmsaf-prod\"", "\"cmsaf-copy\"");
        let id = src.add("instances/zz-copy.toml", copy.clone());
        let spec = toml::from_str(&copy).unwrap();
        site.instances.push(crate::site::Instance {
            file: id,
            path: "instances/zz-copy.toml".into(),
            spec,
        });
        let (l, c) = pos(&copy, "\"coffea.casa\"");
        assert_finds(
            &check(&site),
            &src,
            &[(DUPLICATE_INSTANCE, "instances/zz-copy.toml", l, c)],
        );
    }
}
