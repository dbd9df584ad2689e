//! References between generated objects: each Flux Kustomization's path is a folder of the
//! tree and its `dependsOn` names existing Kustomizations without a cycle; each HelmRelease's
//! source exists; each Secret an object refers to is made by a SealedSecret of the tree, by a
//! chart that is known to make it, or is declared external.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

use crate::diagnostics::{BROKEN_REFERENCE, Diagnostic, Diagnostics};
use crate::manifest::Manifest;
use crate::manifest::Unit;
use crate::site::Site;

pub fn check_references(site: &Site, manifests: &[Manifest], units: &[Unit]) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let broken =
        |msg: String| Diagnostic::new(BROKEN_REFERENCE, msg).help(BROKEN_REFERENCE.info().fix);

    // Flux Kustomizations: paths and the dependsOn graph.
    let root = format!("./{}/", site.spec.gitops.path.trim_matches('/'));
    let folders: HashSet<&str> = units.iter().map(|u| u.path.as_str()).collect();
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in manifests
        .iter()
        .filter(|m| m.id.kind == "Kustomization" && m.id.group == "kustomize.toolkit.fluxcd.io")
    {
        // A Kustomization of another source (the Gateway API CRDs from their upstream
        // repository) has paths of that source.
        let source = m
            .value
            .pointer("/spec/sourceRef/name")
            .and_then(Value::as_str);
        if source != Some(site.name()) {
            continue;
        }
        let path = m
            .value
            .pointer("/spec/path")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !path
            .strip_prefix(&root)
            .is_some_and(|p| folders.contains(p))
        {
            diags.push(broken(format!(
                "{}: spec.path {path} is not a folder of the generated tree",
                m.id
            )));
        }
        let deps = m
            .value
            .pointer("/spec/dependsOn")
            .and_then(Value::as_array)
            .map_or_else(Vec::new, |a| {
                a.iter()
                    .filter_map(|d| d.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            });
        graph.insert(m.id.name.clone(), deps);
    }
    for (name, deps) in &graph {
        for d in deps.iter().filter(|d| !graph.contains_key(*d)) {
            diags.push(broken(format!(
                "Kustomization {name} depends on {d}, which the tree does not define"
            )));
        }
    }
    if let Some(cycle) = find_cycle(&graph) {
        diags.push(broken(format!(
            "Kustomizations depend on each other in a cycle: {}",
            cycle.join(" -> ")
        )));
    }

    // Custom kinds: the unit holding one waits for the unit that installs its CRD. The
    // dependency comes from the component's declared `kinds`; an object whose group is not
    // declared would be applied before its CRD exists and fail Flux's dry run.
    let crd_groups = crate::site::components::crd_groups(site);
    let by_name: BTreeMap<&str, &Unit> = units.iter().map(|u| (u.name.as_str(), u)).collect();
    let mut reported = BTreeSet::new();
    for m in manifests {
        let group = m.id.group.as_str();
        if !crd_groups.contains(&group) || crate::site::components::is_preinstalled(site, group) {
            continue;
        }
        let installers = crate::site::components::crd_units(site, group);
        // No unit of the tree installs them: the cluster does (`[site] cluster_provides`),
        // or the requirement rule (CB038) has reported the missing component.
        if installers.is_empty() {
            continue;
        }
        let Some(unit) = by_name.get(m.unit.as_str()) else {
            continue;
        };
        let served = installers
            .iter()
            .any(|i| *i == unit.name || unit.depends_on.contains(i));
        if !served && reported.insert((unit.name.clone(), group.to_owned())) {
            diags.push(broken(format!(
                "{} (unit {}) is a kind of {group}, but its unit does not depend on {} (add {group:?} to the `kinds` of the component that renders it, src/site/components.rs)",
                m.id,
                unit.name,
                installers.join(", ")
            )));
        }
    }

    // HelmRelease sources.
    let ids: HashSet<(String, Option<String>, String)> = manifests
        .iter()
        .map(|m| (m.id.kind.clone(), m.id.namespace.clone(), m.id.name.clone()))
        .collect();
    for m in manifests.iter().filter(|m| m.id.kind == "HelmRelease") {
        let Some(src) = m.value.pointer("/spec/chart/spec/sourceRef") else {
            diags.push(broken(format!("{} has no chart source", m.id)));
            continue;
        };
        let kind = src
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let name = src
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let ns = src
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| m.id.namespace.clone());
        if !ids.contains(&(kind.clone(), ns.clone(), name.clone())) {
            diags.push(broken(format!(
                "{} takes its chart from {kind} {}/{name}, which the tree does not define",
                m.id,
                ns.unwrap_or_default()
            )));
        }
    }

    // Secrets.
    let sealed: HashSet<(String, String)> = manifests
        .iter()
        .filter(|m| m.id.kind == "SealedSecret")
        .filter_map(|m| Some((m.id.namespace.clone()?, m.id.name.clone())))
        .collect();
    let external = external_secrets(site);
    for m in manifests {
        let mut refs = BTreeSet::new();
        secret_refs(&m.value, &mut refs);
        // cert-manager's ingress-shim makes the TLS Secret of an Ingress that names an issuer.
        if m.id.kind == "Ingress" && has_issuer(&m.value) {
            for t in m
                .value
                .pointer("/spec/tls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = t.get("secretName").and_then(Value::as_str) {
                    refs.remove(n);
                }
            }
        }
        let ns = match (&m.id.namespace, m.id.kind.as_str()) {
            (Some(ns), _) => ns.clone(),
            // Calico reads BGP passwords from its own namespace (operator install).
            (None, "BGPPeer") => crate::site::CALICO_NAMESPACE.to_owned(),
            (None, _) => continue,
        };
        for name in refs {
            let key = (ns.clone(), name.clone());
            if !sealed.contains(&key) && !external.contains(&key) {
                diags.push(broken(format!(
                    "{} refers to Secret {ns}/{name}, which no SealedSecret of the tree makes and the site does not declare external",
                    m.id
                )));
            }
        }
    }
    diags
}

/// Secrets made outside the tree: Flux's deploy key (by `flux bootstrap`), z2jh's `hub`
/// Secret in each instance namespace (by the chart), and those the site declares.
fn external_secrets(site: &Site) -> HashSet<(String, String)> {
    let mut v: HashSet<(String, String)> = site
        .spec
        .site
        .external_secrets
        .iter()
        .filter_map(|s| s.split_once('/'))
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
    if let Some(s) = &site.spec.gitops.secret {
        v.insert((site.flux_namespace().to_owned(), s.clone()));
    }
    for i in &site.instances {
        v.insert((
            i.spec.instance.namespace.get_ref().to_string(),
            "hub".to_owned(),
        ));
    }
    v
}

/// Whether an object asks cert-manager for its certificates.
fn has_issuer(v: &Value) -> bool {
    v.pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .is_some_and(|a| {
            a.contains_key("cert-manager.io/cluster-issuer")
                || a.contains_key("cert-manager.io/issuer")
        })
}

/// Names of Secrets an object refers to in its own namespace.
fn secret_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("secretKeyRef" | "secretRef" | "accessKeyRef", Value::Object(r)) => {
                        if let Some(name) = r.get("name").and_then(Value::as_str) {
                            out.insert(name.to_owned());
                        }
                    }
                    ("secretName" | "apiTokenFromSecretName", Value::String(name)) => {
                        out.insert(name.clone());
                    }
                    _ => secret_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| secret_refs(i, out)),
        _ => {}
    }
}

fn find_cycle(graph: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    // Iterative DFS with colours; returns the first cycle found, in order.
    #[derive(Clone, Copy, PartialEq)]
    enum C {
        White,
        Grey,
        Black,
    }
    let mut colour: BTreeMap<&str, C> = graph.keys().map(|k| (k.as_str(), C::White)).collect();
    for start in graph.keys() {
        if colour[start.as_str()] != C::White {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
        colour.insert(start.as_str(), C::Grey);
        while let Some((node, i)) = stack.pop() {
            let deps = &graph[node];
            if let Some(next) = deps.get(i) {
                stack.push((node, i + 1));
                match colour.get(next.as_str()) {
                    Some(C::Grey) => {
                        let from = stack
                            .iter()
                            .position(|(n, _)| *n == next.as_str())
                            .unwrap_or(0);
                        let mut cycle: Vec<String> =
                            stack[from..].iter().map(|(n, _)| (*n).to_owned()).collect();
                        cycle.push(next.clone());
                        return Some(cycle);
                    }
                    Some(C::White) => {
                        colour.insert(next.as_str(), C::Grey);
                        stack.push((next.as_str(), 0));
                    }
                    _ => {}
                }
            } else {
                colour.insert(node, C::Black);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cycle_and_none_in_a_dag() {
        let g = |edges: &[(&str, &[&str])]| {
            edges
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            find_cycle(&g(&[("a", &["b"]), ("b", &["c"]), ("c", &[])])),
            None
        );
        assert_eq!(
            find_cycle(&g(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])])),
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
    }

    #[test]
    fn collects_secret_references() {
        let v = serde_json::json!({"spec": {"env": [{"valueFrom": {"secretKeyRef": {"name": "a", "key": "k"}}}], "volumes": [{"secret": {"secretName": "b"}}], "envFrom": [{"secretRef": {"name": "c"}}]}});
        let mut out = BTreeSet::new();
        secret_refs(&v, &mut out);
        assert_eq!(out.into_iter().collect::<Vec<_>>(), ["a", "b", "c"]);
    }
}
