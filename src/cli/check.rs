//! `casa-build check`, `explain` and `schema`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;

use super::{Format, Outcome, print_diagnostics, stderr, stdout};
use crate::check::SchemaLocation;
use crate::diagnostics::{Code, Diagnostics};
use crate::pipeline::{check_kubernetes_version, open_schemas};
use crate::site::types::human_bytes;
use crate::site::{Role, Site};
use crate::sources::Sources;

/// Loads and validates the site at `dir`, as `build` does before it renders: the sources,
/// the site when it loaded, and every diagnostic sorted for reading. The schema locations are
/// opened too, so a release no schemas cover is refused here exactly as `build` refuses it.
pub(crate) fn load_and_validate(
    dir: &Path,
    schemas: &[SchemaLocation],
) -> anyhow::Result<(Sources, Option<Site>, Diagnostics)> {
    let sources = Sources::from_dir(dir)?;
    let (site, mut diags) = crate::site::load(&sources);
    if let Some(site) = &site {
        diags.extend(crate::validate::validate(site));
        match open_schemas(schemas, dir, &sources) {
            Ok(store) => diags.extend(check_kubernetes_version(site, &store)),
            Err(unusable) => diags.extend(unusable),
        }
        diags.extend(check_cert(dir, site));
        // The rules over rendered objects (a tenant's cluster-scoped objects) need the
        // objects: render, which needs no schemas, once the site itself is valid.
        if !diags.has_errors() {
            match crate::render::render(site, &sources) {
                Ok(manifests) => {
                    diags.extend(crate::validate::validate_manifests(site, &manifests))
                }
                Err(d) => diags.extend(d),
            }
        }
    }
    diags.sort(&sources);
    Ok((sources, site, diags))
}

/// Reads the site's sealing certificate (an input like the TOML files, read at the edge) and
/// checks it.
pub(crate) fn check_cert(dir: &Path, site: &Site) -> Vec<crate::diagnostics::Diagnostic> {
    use crate::sources::{Read, read_site_file};
    let cert = &site.spec.sealing.cert;
    let pem = match read_site_file(dir, cert.get_ref().as_str()) {
        Ok(Read::Bytes(b)) => Some(b),
        Ok(Read::Refused(r)) => {
            return vec![
                crate::diagnostics::Diagnostic::new(
                    crate::diagnostics::SITE_FILE_REFUSED,
                    format!(
                        "the sealing certificate {} {r}; it was not read",
                        cert.get_ref()
                    ),
                )
                .at(site.file, cert.span(), "the sealing certificate")
                .help(crate::diagnostics::SITE_FILE_REFUSED.info().fix),
            ];
        }
        Err(_) => None,
    };
    crate::validate::sealing_cert::check(site, pem.as_deref(), std::time::SystemTime::now())
}

pub(crate) fn run(
    dir: &Path,
    schemas: &[SchemaLocation],
    format: Format,
) -> anyhow::Result<Outcome> {
    let (sources, site, diags) = load_and_validate(dir, schemas)?;
    let valid = site.as_ref().filter(|_| !diags.has_errors());
    if format == Format::Json {
        let fields = serde_json::json!({
            "valid": valid.is_some(),
            "summary": valid.map(summary_json),
        });
        super::print_json(&diags, &sources, fields)?;
    } else {
        print_diagnostics(&diags, &sources, format)?;
        if let Some(site) = valid {
            stdout().write_all(summary(site).as_bytes())?;
        }
    }
    Ok(match valid {
        Some(_) => Outcome::Ok,
        None => Outcome::of_errors(&diags),
    })
}

/// The summary of a valid site as data: what `summary` prints, for `check -o json`.
pub fn summary_json(site: &Site) -> serde_json::Value {
    let roles: serde_json::Map<String, serde_json::Value> = Role::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), site.nodes_with(*r).count().into()))
        .collect();
    let ceph = site.spec.ceph.as_ref().map(|ceph| {
        let (raw, usable) = site.ceph_capacity();
        serde_json::json!({
            "osds": site.osd_count(),
            "hosts": site.osd_plan().len(),
            "osds_per_device": ceph.osds_per_device.get_ref(),
            // Whole bytes: the sums of drive sizes are integers held as f64.
            "raw_bytes": raw.round() as u64,
            "usable_bytes": usable.round() as u64,
            "replicas": ceph.block_pool.replicas.get_ref(),
        })
    });
    let mut gpus: BTreeMap<String, u32> = BTreeMap::new();
    for n in &site.nodes {
        for g in &n.gpus {
            *gpus.entry(g.model.get_ref().to_string()).or_default() += g.count;
        }
    }
    let instances: Vec<_> = site
        .instances
        .iter()
        .map(|i| {
            let m = &i.spec.instance;
            serde_json::json!({
                "name": m.name.get_ref().to_string(),
                "host": m.host.get_ref().to_string(),
                "namespace": m.namespace.get_ref().to_string(),
                "suspended": m.suspend,
            })
        })
        .collect();
    serde_json::json!({
        "site": site.name(),
        "domain": site.spec.site.domain.to_string(),
        "nodes": site.nodes.len(),
        "roles": roles,
        "cores": site.nodes.iter().map(|n| u64::from(n.cores)).sum::<u64>(),
        "ceph": ceph,
        "gpus": gpus,
        "instances": instances,
    })
}

/// The short summary printed for a valid site.
pub fn summary(site: &Site) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "site {} ({}): valid", site.name(), site.spec.site.domain);
    let roles: Vec<String> = Role::ALL
        .iter()
        .map(|r| (r, site.nodes_with(*r).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| format!("{n} {}", r.as_str()))
        .collect();
    let cores: u32 = site.nodes.iter().map(|n| n.cores).sum();
    if site.nodes.is_empty() {
        let _ = writeln!(s, "nodes: none described");
    } else {
        let _ = writeln!(
            s,
            "nodes: {} ({}); {cores} cores",
            site.nodes.len(),
            roles.join(", ")
        );
    }
    if let Some(ceph) = &site.spec.ceph {
        let plan = site.osd_plan();
        let (raw, usable) = site.ceph_capacity();
        let _ = writeln!(
            s,
            "ceph: {} OSDs on {} hosts ({} per device), raw {}, usable {} ({}x replica, full ratio 0.95)",
            site.osd_count(),
            plan.len(),
            ceph.osds_per_device.get_ref(),
            human_bytes(raw),
            human_bytes(usable),
            ceph.block_pool.replicas.get_ref()
        );
    }
    let mut gpus: BTreeMap<String, u32> = BTreeMap::new();
    for n in &site.nodes {
        for g in &n.gpus {
            *gpus.entry(g.model.get_ref().to_string()).or_default() += g.count;
        }
    }
    let gpu_list: Vec<_> = gpus.iter().map(|(m, c)| format!("{c}x {m}")).collect();
    let _ = writeln!(
        s,
        "gpus: {}",
        if gpu_list.is_empty() {
            "none".to_owned()
        } else {
            gpu_list.join(", ")
        }
    );
    let _ = writeln!(s, "instances: {}", site.instances.len());
    for i in &site.instances {
        let m = &i.spec.instance;
        let _ = writeln!(
            s,
            "  {:<16} https://{:<40} ns {}{}",
            m.name.get_ref().to_string(),
            m.host.get_ref().to_string(),
            m.namespace.get_ref(),
            if m.suspend { " (suspended)" } else { "" }
        );
    }
    s
}

pub(crate) fn explain(code: Option<&str>, format: Format) -> anyhow::Result<Outcome> {
    let json = |info: &crate::diagnostics::CodeInfo| {
        serde_json::json!({
            "code": info.code.0,
            "name": info.name,
            "severity": info.severity,
            "what": info.summary,
            "why": info.why,
            "fix": info.fix,
        })
    };
    let Some(code) = code else {
        // Every code: one line each, or all of them as data.
        let codes = crate::diagnostics::CODES;
        if format == Format::Json {
            let list: Vec<_> = codes.iter().map(json).collect();
            super::print_json(
                &Diagnostics::new(),
                &Sources::new(),
                serde_json::json!({ "codes": list }),
            )?;
        } else {
            let mut out = String::new();
            for c in codes {
                let _ = writeln!(out, "{}  {:<28} {}", c.code, c.name, c.summary);
            }
            out.push_str("\n`casa-build explain CODE` says why and how to fix it.\n");
            stdout().write_all(out.as_bytes())?;
        }
        return Ok(Outcome::Ok);
    };
    let Some(info) = Code::lookup(code) else {
        let codes: Vec<_> = crate::diagnostics::CODES.iter().map(|c| c.code.0).collect();
        writeln!(
            stderr(),
            "error: no diagnostic code {code}\n  = help: the codes are {} (`casa-build explain` lists them)",
            codes.join(", ")
        )?;
        // A code that does not exist is a bad argument, not a bad site.
        return Ok(Outcome::Usage);
    };
    if format == Format::Json {
        super::print_json(&Diagnostics::new(), &Sources::new(), json(info))?;
        return Ok(Outcome::Ok);
    }
    let sev = match info.severity {
        crate::diagnostics::Severity::Error => "error",
        crate::diagnostics::Severity::Warning => "warning",
    };
    let text = format!(
        "{} {} ({sev})\n\nWhat: {}\nWhy:  {}\nFix:  {}\n",
        info.code, info.name, info.summary, info.why, info.fix
    );
    stdout().write_all(text.as_bytes())?;
    Ok(Outcome::Ok)
}

pub(crate) fn write_schemas(out: &Path) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for (name, schema) in [
        ("site.schema.json", crate::site::site_schema()),
        ("instance.schema.json", crate::site::instance_schema()),
    ] {
        let path = out.join(name);
        let text = serde_json::to_string_pretty(&schema)? + "\n";
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(Outcome::Ok)
}
