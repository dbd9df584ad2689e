//! What a change does to the facility as a whole (pure): each side's site and objects -> its
//! nodes, Ceph OSDs and capacity (as `check` computes them), instances and public names, and
//! the lines that differ, for the top of a diff report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::manifest::Manifest;
use crate::site::types::human_bytes;
use crate::site::{Role, Site};

/// The facts of one side.
#[derive(Debug, Clone, PartialEq)]
pub struct Facility {
    /// Node name -> its roles.
    pub nodes: BTreeMap<String, Vec<Role>>,
    pub cores: u32,
    pub gpus: u32,
    /// OSDs, OSD hosts, raw and usable bytes; `None` without Ceph.
    pub ceph: Option<Ceph>,
    pub instances: BTreeSet<String>,
    /// Host names the tree publishes through its ingress.
    pub public_names: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ceph {
    pub osds: usize,
    pub hosts: usize,
    pub raw: f64,
    pub usable: f64,
}

impl Facility {
    pub fn of(site: &Site, manifests: &[Manifest]) -> Self {
        let ceph = site.spec.ceph.as_ref().map(|_| {
            let (raw, usable) = site.ceph_capacity();
            Ceph {
                osds: site.osd_count(),
                hosts: site.osd_plan().len(),
                raw,
                usable,
            }
        });
        Self {
            nodes: site
                .nodes
                .iter()
                .map(|n| (n.name.clone(), n.roles.clone()))
                .collect(),
            cores: site.nodes.iter().map(|n| n.cores).sum(),
            gpus: site
                .nodes
                .iter()
                .flat_map(|n| &n.gpus)
                .map(|g| g.count)
                .sum(),
            ceph,
            instances: site
                .instances
                .iter()
                .map(|i| i.spec.instance.name.get_ref().to_string())
                .collect(),
            public_names: public_names(manifests),
        }
    }

    fn role_count(&self, role: Role) -> usize {
        self.nodes.values().filter(|r| r.contains(&role)).count()
    }

    pub fn to_json(&self) -> Value {
        let roles: serde_json::Map<String, Value> = Role::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), json!(self.role_count(*r))))
            .collect();
        json!({
            "nodes": self.nodes.len(),
            "roles": roles,
            "cores": self.cores,
            "gpus": self.gpus,
            "ceph": self.ceph.as_ref().map(|c| json!({
                "osds": c.osds, "hosts": c.hosts, "raw_bytes": c.raw, "usable_bytes": c.usable,
            })),
            "instances": self.instances,
            "public_names": self.public_names,
        })
    }
}

/// Every host name an IngressRoute (`Host(...)` rules), Ingress or HTTPRoute serves.
fn public_names(manifests: &[Manifest]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for m in manifests {
        let v = &m.value;
        match (m.id.group.as_str(), m.id.kind.as_str()) {
            ("traefik.io", "IngressRoute") => {
                for route in v
                    .pointer("/spec/routes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let rule = route.get("match").and_then(Value::as_str).unwrap_or("");
                    for part in rule.split("Host(").skip(1) {
                        let inner = part.split(')').next().unwrap_or("");
                        for host in inner.split(',') {
                            let host = host.trim().trim_matches(|c| c == '`' || c == '"');
                            if !host.is_empty() {
                                names.insert(host.to_owned());
                            }
                        }
                    }
                }
            }
            ("networking.k8s.io", "Ingress") => {
                for rule in v
                    .pointer("/spec/rules")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(h) = rule.get("host").and_then(Value::as_str) {
                        names.insert(h.to_owned());
                    }
                }
            }
            ("gateway.networking.k8s.io", "HTTPRoute") => {
                for h in v
                    .pointer("/spec/hostnames")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(h) = h.as_str() {
                        names.insert(h.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    names
}

/// One fact that differs between the sides: what, and how it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub what: &'static str,
    pub text: String,
}

/// The facts that differ from `base` to `head`, in reading order; empty when the facility is
/// the same.
pub fn changes(base: &Facility, head: &Facility) -> Vec<Line> {
    let mut out = Vec::new();
    if base.nodes != head.nodes || base.cores != head.cores || base.gpus != head.gpus {
        let mut text = format!("{} -> {}", base.nodes.len(), head.nodes.len());
        let added: Vec<&String> = head
            .nodes
            .keys()
            .filter(|n| !base.nodes.contains_key(*n))
            .collect();
        let removed: Vec<&String> = base
            .nodes
            .keys()
            .filter(|n| !head.nodes.contains_key(*n))
            .collect();
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("+{}: {}", added.len(), names(&added)));
        }
        if !removed.is_empty() {
            parts.push(format!("-{}: {}", removed.len(), names(&removed)));
        }
        for role in Role::ALL {
            let (a, b) = (base.role_count(role), head.role_count(role));
            if a != b {
                parts.push(format!("{} {a} -> {b}", role.as_str()));
            }
        }
        if base.cores != head.cores {
            parts.push(format!("cores {} -> {}", base.cores, head.cores));
        }
        if base.gpus != head.gpus {
            parts.push(format!("GPUs {} -> {}", base.gpus, head.gpus));
        }
        if !parts.is_empty() {
            let _ = write!(text, " ({})", parts.join("; "));
        }
        out.push(Line {
            what: "nodes",
            text,
        });
    }
    match (&base.ceph, &head.ceph) {
        (Some(a), Some(b)) if a != b => out.push(Line {
            what: "ceph",
            text: format!(
                "{} -> {} OSDs on {} -> {} hosts; raw {} -> {}; usable {} -> {}",
                a.osds,
                b.osds,
                a.hosts,
                b.hosts,
                human_bytes(a.raw),
                human_bytes(b.raw),
                human_bytes(a.usable),
                human_bytes(b.usable)
            ),
        }),
        (Some(a), None) => out.push(Line {
            what: "ceph",
            text: format!(
                "removed ({} OSDs, usable {})",
                a.osds,
                human_bytes(a.usable)
            ),
        }),
        (None, Some(b)) => out.push(Line {
            what: "ceph",
            text: format!("added ({} OSDs, usable {})", b.osds, human_bytes(b.usable)),
        }),
        _ => {}
    }
    if let Some(line) = set_change("instances", &base.instances, &head.instances) {
        out.push(line);
    }
    if let Some(line) = set_change("public names", &base.public_names, &head.public_names) {
        out.push(line);
    }
    out
}

fn set_change(what: &'static str, a: &BTreeSet<String>, b: &BTreeSet<String>) -> Option<Line> {
    if a == b {
        return None;
    }
    let added: Vec<&String> = b.difference(a).collect();
    let removed: Vec<&String> = a.difference(b).collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("+ {}", names(&added)));
    }
    if !removed.is_empty() {
        parts.push(format!("- {}", names(&removed)));
    }
    Some(Line {
        what,
        text: format!("{} -> {} ({})", a.len(), b.len(), parts.join("; ")),
    })
}

fn names(v: &[&String]) -> String {
    const SHOWN: usize = 6;
    let shown: Vec<&str> = v.iter().take(SHOWN).map(|s| s.as_str()).collect();
    if v.len() > SHOWN {
        format!("{} and {} more", shown.join(", "), v.len() - SHOWN)
    } else {
        shown.join(", ")
    }
}

/// One line for an unchanged facility: "12 nodes, 600 OSDs (usable 110.6 TiB), 4 instances".
pub fn unchanged(f: &Facility) -> String {
    let mut s = format!("{} nodes", f.nodes.len());
    if let Some(c) = &f.ceph {
        let _ = write!(s, ", {} OSDs (usable {})", c.osds, human_bytes(c.usable));
    }
    let _ = write!(
        s,
        ", {} instances, {} public names",
        f.instances.len(),
        f.public_names.len()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facility(nodes: &[&str], osds: usize, instances: &[&str]) -> Facility {
        Facility {
            nodes: nodes
                .iter()
                .map(|n| ((*n).to_owned(), vec![Role::Storage]))
                .collect(),
            cores: 10 * nodes.len() as u32,
            gpus: 0,
            ceph: Some(Ceph {
                osds,
                hosts: nodes.len(),
                raw: osds as f64 * 1e12,
                usable: osds as f64 * 1e12 / 3.0,
            }),
            instances: instances.iter().map(|s| (*s).to_owned()).collect(),
            public_names: BTreeSet::new(),
        }
    }

    #[test]
    fn a_new_storage_node_shows_nodes_and_capacity() {
        let lines = changes(
            &facility(&["a", "b"], 10, &["x"]),
            &facility(&["a", "b", "c"], 15, &["x"]),
        );
        let what: Vec<&str> = lines.iter().map(|l| l.what).collect();
        assert_eq!(what, ["nodes", "ceph"]);
        assert_eq!(
            lines[0].text,
            "2 -> 3 (+1: c; storage 2 -> 3; cores 20 -> 30)"
        );
        assert!(
            lines[1]
                .text
                .starts_with("10 -> 15 OSDs on 2 -> 3 hosts; raw 9.1 TiB -> 13.6 TiB"),
            "{}",
            lines[1].text
        );
    }

    #[test]
    fn a_removed_instance_is_named_and_equal_sides_say_nothing() {
        let a = facility(&["a"], 5, &["x", "y"]);
        let lines = changes(&a, &facility(&["a"], 5, &["x"]));
        assert_eq!(
            lines,
            [Line {
                what: "instances",
                text: "2 -> 1 (- y)".to_owned()
            }]
        );
        assert!(changes(&a, &a).is_empty());
    }
}
