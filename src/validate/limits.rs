//! CB064 limit-below-guarantee.
//!
//! What: a session's CPU or memory limit below its guarantee, in `[singleuser]` or in a
//! profile (a profile's own `cpu`/`memory`, which replace the instance's).
//! Why: the spawner asks Kubernetes for requests (guarantees) above the limits, and the API
//! server refuses the pod ("must be less than or equal to ... limit"): every spawn fails.
//! Fix: a limit at least the guarantee.
//!
//! Example: `memory = { guarantee = "8Gi", limit = "4Gi" }`.

use crate::diagnostics::{Diagnostic, LIMIT_BELOW_GUARANTEE};
use crate::site::{Cpu, Memory, Site};
use crate::sources::FileId;

fn cpu(file: FileId, who: &str, c: &Cpu, out: &mut Vec<Diagnostic>) {
    let (g, l) = (c.guarantee.get_ref().get(), c.limit.get_ref().get());
    if l < g {
        out.push(
            Diagnostic::new(
                LIMIT_BELOW_GUARANTEE,
                format!("{who}: a CPU limit of {l} is below the guarantee of {g}"),
            )
            .at(file, c.limit.span(), "the limit")
            .also(file, c.guarantee.span(), "the guarantee")
            .help(LIMIT_BELOW_GUARANTEE.info().fix),
        );
    }
}

fn memory(file: FileId, who: &str, m: &Memory, out: &mut Vec<Diagnostic>) {
    let (g, l) = (m.guarantee.get_ref(), m.limit.get_ref());
    if l.value() < g.value() {
        out.push(
            Diagnostic::new(
                LIMIT_BELOW_GUARANTEE,
                format!("{who}: a memory limit of {l} is below the guarantee of {g}"),
            )
            .at(file, m.limit.span(), "the limit")
            .also(file, m.guarantee.span(), "the guarantee")
            .help(LIMIT_BELOW_GUARANTEE.info().fix),
        );
    }
}

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for i in &site.instances {
        let su = &i.spec.singleuser;
        let who = format!("sessions of instance `{}`", i.spec.instance.name.get_ref());
        cpu(i.file, &who, &su.cpu, &mut out);
        memory(i.file, &who, &su.memory, &mut out);
        for p in &i.spec.profile {
            let who = format!("profile `{}`", p.display_name);
            if let Some(c) = &p.cpu {
                cpu(i.file, &who, c, &mut out);
            }
            if let Some(m) = &p.memory {
                memory(i.file, &who, m, &mut out);
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
    fn passes_on_the_reference_site_and_at_equality() {
        assert!(check(&site_with(&[], &[]).0).is_empty());
        let (site, _) = site_with(&[], &[("limit = \"16Gi\"", "limit = \"4Gi\"")]);
        assert!(check(&site).is_empty());
    }

    #[test]
    fn a_memory_limit_below_the_guarantee() {
        let (site, src) = site_with(&[], &[("limit = \"16Gi\"", "limit = \"2Gi\"")]);
        let (l, c) = pos(INSTANCE, "\"16Gi\"");
        assert_finds(
            &check(&site),
            &src,
            &[(LIMIT_BELOW_GUARANTEE, "instances/cms-prod.toml", l, c)],
        );
    }

    #[test]
    fn a_profile_cpu_limit_below_its_guarantee() {
        let add = "default = true\ncpu = { guarantee = 4.0, limit = 2.0 }\n";
        let (site, src) = site_with(&[], &[("default = true\n", add)]);
        let edited = INSTANCE.replacen("default = true\n", add, 1);
        let (l, c) = pos(&edited, "2.0 }");
        assert_finds(
            &check(&site),
            &src,
            &[(LIMIT_BELOW_GUARANTEE, "instances/cms-prod.toml", l, c)],
        );
    }
}
