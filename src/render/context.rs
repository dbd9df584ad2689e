//! The template context: the site as the operator wrote it (`site`, `instance`) plus what is
//! derived once here so templates stay declarative (OSD device paths, the ranges Calico
//! announces, secret environment names, URLs).

use serde_json::{Map, Value, json};

use super::Unit;
use crate::site::secrets::{
    CONDOR_SECRET, DEX_SECRET, HUB_OAUTH_SECRET, TRITON_SECRET, XCACHE_SECRET, client_secret_env,
    connector_secret_env, rgw_user_secret,
};
use crate::site::{Advertiser, Site};

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Everything shared by all units.
pub(super) fn site_context(site: &Site, units: &[Unit]) -> Value {
    let s = &site.spec;
    let osd_nodes: Vec<Value> = site
        .osd_plan()
        .iter()
        .map(|p| json!({"name": p.node, "devices": p.devices.iter().map(|d| json!({"name": format!("/dev/disk/by-id/{d}")})).collect::<Vec<_>>()}))
        .collect();
    let calico_lb: Vec<String> = s
        .metallb
        .pool
        .iter()
        .filter(|p| *p.advertise.get_ref() == Advertiser::Calico)
        .flat_map(|p| p.addresses.iter().map(|a| a.get_ref().to_string()))
        .collect();
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
    let issuer = s.dex.issuer.trim_end_matches('/');
    let connectors: Vec<Value> = s
        .dex
        .connector
        .iter()
        .map(|c| {
            let mut v = to_value(c);
            v["secret_env"] = json!(connector_secret_env(c.id.get_ref().as_str()));
            v
        })
        .collect();
    let clients: Vec<Value> = s
        .dex
        .static_client
        .iter()
        .map(|c| {
            let mut v = to_value(c);
            v["secret_env"] = json!(client_secret_env(c.id.get_ref().as_str()));
            v
        })
        .collect();
    let metallb_speaker = s
        .metallb
        .pool
        .iter()
        .any(|p| *p.advertise.get_ref() != Advertiser::Calico);
    let gpu_model = s.triton.as_ref().map(|t| t.gpu_model.get_ref().to_string());
    let gpu_nodes: Vec<&str> = site
        .nodes
        .iter()
        .filter(|n| {
            n.gpus
                .iter()
                .any(|g| Some(g.model.get_ref().to_string()) == gpu_model)
        })
        .map(|n| n.name.as_str())
        .collect();
    let object_store = s.ceph.object_store.as_ref().map(|os| {
        json!({
            "endpoint": format!("rook-ceph-rgw-{}.{}.svc:{}", os.name, s.ceph.namespace, os.port),
            "users": os.user.iter().map(|u| json!({"name": u.name, "display_name": u.display_name, "secret": rgw_user_secret(u.name.get_ref().as_str()), "has_keys": u.access_key.is_some() && u.secret_key.is_some()})).collect::<Vec<_>>(),
        })
    });
    let host = issuer
        .split("://")
        .nth(1)
        .unwrap_or(issuer)
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    json!({
        "site": to_value(s),
        "name": site.name(),
        "nodes": to_value(&site.nodes),
        "osd_nodes": osd_nodes,
        "calico_lb_cidrs": calico_lb,
        "charts": charts,
        "flux_units": flux_units,
        "dex": {"issuer": issuer, "host": host, "connectors": connectors, "static_clients": clients, "secret": DEX_SECRET},
        "gpu_nodes": gpu_nodes,
        "metallb_speaker": metallb_speaker,
        "object_store": object_store,
        "secrets": {"hub_oauth": HUB_OAUTH_SECRET, "condor": CONDOR_SECRET, "xcache": XCACHE_SECRET, "triton": TRITON_SECRET},
    })
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
    let default_worker = site.spec.dask.worker_image.to_string();
    v["profiles"] = spec
        .profile
        .iter()
        .map(|p| {
            json!({
                "display_name": p.display_name,
                "description": p.description,
                "default": p.default,
                "image": p.image.get_ref().to_string(),
                "worker_image": p.worker_image.as_ref().map_or(default_worker.clone(), |w| w.get_ref().to_string()),
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
        .unwrap_or(&site.spec.dask.worker_image);
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
