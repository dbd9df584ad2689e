//! The template context: the site as the operator wrote it (`site`, `instance`) plus what is
//! derived once so templates stay declarative: each component's own values (its registry
//! row's `context` hook: OSD device paths, the ranges Calico announces, secret names) and
//! the per-instance URLs and profiles made here.

use serde_json::{Map, Value, json};

use crate::manifest::Unit;
use crate::site::Site;

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Everything shared by all units: the site as written, the pinned charts, the Flux units,
/// and what each enabled component derives for its templates.
pub(super) fn site_context(site: &Site, units: &[Unit]) -> Value {
    let s = &site.spec;
    let charts: Map<String, Value> = s
        .charts
        .get_ref()
        .iter()
        .map(|(k, c)| {
            let oci = c.repository.starts_with("oci://");
            (k.clone(), json!({"name": k, "chart": c.chart.clone().unwrap_or_else(|| k.clone()), "repository": c.repository, "version": c.version, "oci": oci}))
        })
        .collect();
    let root = s.gitops.path.trim_matches('/');
    let flux_units: Vec<Value> = units
        .iter()
        .filter(|u| !u.entry)
        .map(|u| json!({"name": u.name, "layer": u.layer, "path": format!("./{root}/{}", u.path), "depends_on": u.depends_on, "suspend": u.suspend}))
        .collect();
    let mut ctx = json!({
        "site": to_value(s),
        "name": site.name(),
        "nodes": to_value(&site.nodes),
        "charts": charts,
        "flux_units": flux_units,
    });
    for c in site.components() {
        merge(&mut ctx, (c.context)(site));
    }
    ctx
}

/// Adds a component's values; maps present on both sides merge (several components add
/// their Secret names under `secrets`).
fn merge(ctx: &mut Value, add: Map<String, Value>) {
    let Some(into) = ctx.as_object_mut() else {
        return;
    };
    for (k, v) in add {
        match (into.get_mut(&k), v) {
            (Some(Value::Object(have)), Value::Object(more)) => have.extend(more),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// What one unit adds to the site context: the unit, and for an instance unit the instance
/// with its derived values (`instance` is null elsewhere). The keys never clash with the site
/// context's, so the merge needs no precedence.
pub(super) fn unit_context(site: &Site, unit: &Unit) -> Value {
    let mut ctx = json!({"unit": to_value(unit), "instance": Value::Null});
    let Some(name) = &unit.instance else {
        return ctx;
    };
    let Some(inst) = site
        .instances
        .iter()
        .find(|i| i.spec.instance.name.get_ref().as_str() == name)
    else {
        return ctx;
    };
    let spec = &inst.spec;
    let issuer = site.spec.dex.issuer.trim_end_matches('/');
    let mut v = to_value(spec);
    let host = spec.instance.host.get_ref().to_string();
    v["callback_url"] = json!(format!("https://{host}/hub/oauth_callback"));
    v["authorize_url"] = json!(format!("{issuer}/auth"));
    v["token_url"] = json!(format!("{issuer}/token"));
    v["userdata_url"] = json!(format!("{issuer}/userinfo"));
    // The z2jh release the hub runs: the hub's authenticator settings differ between
    // oauthenticator 16 (z2jh 3.x) and 17 (z2jh 4.x).
    v["hub_version"] = json!(spec.hub_chart.clone().or_else(|| {
        site.spec
            .charts
            .get_ref()
            .get("jupyterhub")
            .map(|c| c.version.clone())
    }));
    // KubeSpawner's memory traits take K/M/G/T only (`Quantity::byte_spec`).
    v["memory"] = json!({
        "guarantee": spec.singleuser.memory_guarantee.byte_spec(),
        "limit": spec.singleuser.memory_limit.byte_spec(),
    });
    v["dask_worker_memory"] = json!(site.spec.dask.worker_memory.byte_spec());
    let default_worker = site.spec.dask.worker_image.get_ref();
    v["profiles"] = spec
        .profile
        .iter()
        .map(|p| {
            let worker = p
                .worker_image
                .as_ref()
                .map_or(default_worker, |w| w.get_ref());
            json!({
                "display_name": p.display_name,
                "description": p.description,
                "default": p.default,
                "image": p.image.get_ref().to_string(),
                "worker_image": worker.to_string(),
                "worker_repository": worker.repository(),
                "worker_tag": worker.tag().unwrap_or_default(),
            })
        })
        .collect();
    let default = spec
        .profile
        .iter()
        .find(|p| p.default)
        .or(spec.profile.first());
    let worker = default
        .and_then(|p| p.worker_image.as_ref().map(|w| w.get_ref()))
        .unwrap_or(site.spec.dask.worker_image.get_ref());
    v["default_profile"] = json!({
        "worker_repository": worker.repository(),
        "worker_tag": worker.tag().unwrap_or_default(),
    });
    v["max_workers"] = json!(spec.dask.max_workers.unwrap_or(site.spec.dask.max_workers));
    v["xcache_enabled"] = json!(spec.xcache.as_ref().is_some_and(|x| x.token.is_some()));
    v["condor_enabled"] = json!(spec.dask.condor_token.is_some());
    ctx["instance"] = v;
    ctx
}
