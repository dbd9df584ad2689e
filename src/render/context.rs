//! The template context: the site as the operator wrote it (`site`, `instance`) plus what is
//! derived once so templates stay declarative: each component's own values (its registry
//! row's `context` hook: OSD device paths, the ranges Calico announces, secret names) and
//! the per-instance URLs and profiles made here.

use serde_json::{Map, Value, json};

use crate::manifest::Unit;
use crate::site::{DaskMode, Instance, Profile, Site, StorageUse, Toleration, home_class};

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
        .map(|u| json!({"name": u.name, "layer": u.layer, "path": format!("./{root}/{}", u.path), "depends_on": u.depends_on, "suspend": u.suspend, "timeout": format!("{}m", u.timeout_minutes)}))
        .collect();
    let tenant = site.tenant().map(|t| {
        json!({
            "namespace": t.namespace,
            "service_account": t.service_account,
        })
    });
    let mut ctx = json!({
        "site": to_value(s),
        "name": site.name(),
        "nodes": to_value(&site.nodes),
        "charts": charts,
        "flux_units": flux_units,
        "helm_repositories": helm_repositories(site),
        // What several components read: where Flux objects live, whether Namespaces are
        // emitted, the ingress every public name goes through, how a Service asks for its
        // LoadBalancer address, and the StorageClass of each use.
        "flux_namespace": site.flux_namespace(),
        "emit_namespaces": site.emits_namespaces(),
        "tenant": tenant,
        "ingress": crate::site::ingress_value(site),
        "lb_annotation": site.lb_annotation(),
        "storage": {
            "block": site.storage_class(StorageUse::Block),
            "shared": site.storage_class(StorageUse::Shared),
        },
    });
    for c in site.components() {
        merge(&mut ctx, (c.context)(site));
    }
    ctx
}

/// The HelmRepositories the tree defines: every pinned chart in the Flux namespace; for a
/// tenant, one per namespace that installs the chart, since Flux's multi-tenancy lockdown
/// (`--no-cross-namespace-refs`) refuses a HelmRelease whose source is in another namespace.
fn helm_repositories(site: &Site) -> Vec<Value> {
    let charts = site.spec.charts.get_ref();
    let repo = |key: &str, ns: &str| {
        charts.get(key).map(|c| {
            json!({"key": key, "namespace": ns, "repository": c.repository, "oci": c.repository.starts_with("oci://")})
        })
    };
    if site.tenant().is_none() {
        return charts
            .keys()
            .filter_map(|k| repo(k, site.flux_namespace()))
            .collect();
    }
    let mut pairs: Vec<(&'static str, String)> = Vec::new();
    for (c, at) in site.targets() {
        let ns = match at.instance() {
            Some(i) => i.spec.instance.namespace.get_ref().to_string(),
            None => site.flux_namespace().to_owned(),
        };
        for chart in (c.charts)(site, at) {
            if !pairs.iter().any(|(k, n)| *k == chart && *n == ns) {
                pairs.push((chart, ns.clone()));
            }
        }
    }
    pairs.sort();
    pairs.iter().filter_map(|(k, ns)| repo(k, ns)).collect()
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
    ctx["instance"] = instance_value(site, inst);
    ctx
}

fn instance_value(site: &Site, inst: &Instance) -> Value {
    let spec = &inst.spec;
    let mut v = to_value(spec);
    let host = spec.instance.host.get_ref().to_string();
    v["callback_url"] = json!(format!("https://{host}/hub/oauth_callback"));
    v["login"] = login_value(site, inst);
    // The z2jh release the hub runs: the hub's authenticator settings differ between
    // oauthenticator 16 (z2jh 3.x) and 17 (z2jh 4.x).
    v["hub_version"] = json!(spec.hub_chart.clone().or_else(|| {
        site.spec
            .charts
            .get_ref()
            .get("jupyterhub")
            .map(|c| c.version.clone())
    }));
    let site_dask = site.spec.dask.as_ref();
    v["dask_worker_memory"] = json!(site_dask.map(|d| d.worker_memory.byte_spec()));
    let default_worker = site_dask.map(|d| d.worker_image.get_ref());
    let su = &spec.singleuser;
    let pool = crate::site::pool::pool(site, inst);
    v["profiles"] = spec
        .profile
        .iter()
        .map(|p| {
            let mut pv = profile_value(inst, p, default_worker);
            pv["pool_job_extra"] = json!(pool.as_ref().and_then(|pool| {
                pool_job_extra(pool, pv["worker_image"].as_str().unwrap_or_default())
            }));
            pv
        })
        .collect();
    let default = spec
        .profile
        .iter()
        .find(|p| p.default)
        .or(spec.profile.first());
    let worker = default
        .and_then(|p| p.worker_image.as_ref().map(|w| w.get_ref()))
        .or(site_dask.map(|d| d.worker_image.get_ref()));
    v["default_profile"] = json!({
        "worker_repository": worker.map(|w| w.repository()),
        "worker_tag": worker.and_then(|w| w.tag()).unwrap_or_default(),
    });
    v["memory"] = json!({
        "guarantee": su.memory.guarantee.get_ref().byte_spec(),
        "limit": su.memory.limit.get_ref().byte_spec(),
    });
    v["home_class"] = json!(su.home.as_ref().and_then(|h| home_class(site, h)));
    v["volumes"] = su.volume.iter().map(volume_value).collect();
    v["extra_tolerations"] = json!(su.tolerations.iter().map(toleration).collect::<Vec<_>>());
    let dask = spec.dask.as_ref();
    v["max_workers"] = json!(
        dask.and_then(|d| d.max_workers)
            .or(site_dask.map(|d| d.max_workers))
    );
    v["dask_mode"] = json!(dask.map(|d| match d.mode.get_ref() {
        DaskMode::Tier2 => "tier2",
        DaskMode::Pool => "pool",
        DaskMode::Gateway => "gateway",
    }));
    v["xcache_enabled"] = json!(spec.xcache.as_ref().is_some_and(|x| x.token.is_some()));
    v["condor_enabled"] = json!(dask.is_some_and(|d| d.condor_token.is_some()));
    v["pool"] = json!(crate::site::pool::pool(site, inst));
    if let Some(g) = dask.and_then(|d| d.gateway.as_ref()) {
        v["dask"]["gateway"]["image_repository"] = json!(g.image.get_ref().repository());
        v["dask"]["gateway"]["image_tag"] = json!(g.image.get_ref().tag().unwrap_or_default());
    }
    // The spawn hook's settings and the key Secrets the hub pod mounts for it.
    let settings = crate::site::hook::settings(site, inst);
    v["hook"] = json!({
        "settings_json": serde_json::to_string_pretty(&settings).unwrap_or_default() + "\n",
        "settings": settings,
        "keys": crate::site::hook::key_mounts(site, inst),
    });
    v
}

/// The authenticator and its settings, per login alternative. Group membership needs
/// `manage_groups` with oauthenticator 17 (`oauth2.py` `_requires_manage_groups`: setting
/// `allowed_groups` or `auth_state_groups_key` without it raises ValueError at hub start),
/// and is read from the auth state (`auth_state_groups_key`, `<user_auth_state_key>.<claim>`;
/// `oauth_user` for GenericOAuthenticator, `cilogon_user` for CILogonOAuthenticator).
fn login_value(site: &Site, inst: &Instance) -> Value {
    let auth = &inst.spec.auth;
    if let Some(d) = &auth.dex {
        let issuer = site
            .spec
            .dex
            .as_ref()
            .map_or("", |d| d.issuer.as_str().trim_end_matches('/'));
        return json!({
            "authenticator": "generic-oauth",
            "client_id": d.client,
            "authorize_url": format!("{issuer}/auth"),
            "token_url": format!("{issuer}/token"),
            "userdata_url": format!("{issuer}/userinfo"),
            "connector": d.connector,
            // Dex's scopes (dex@v2.45.1 `server/oauth2.go`): `groups` for the groups claim,
            // `offline_access` for the refresh token `refresh_pre_spawn` uses.
            "scopes": ["openid", "email", "profile", "groups", "offline_access"],
            "username_claim": "email",
            "groups_key": "oauth_user.groups",
            "groups_claim": "groups",
        });
    }
    if let Some(o) = &auth.oidc {
        return json!({
            "authenticator": "generic-oauth",
            "client_id": o.client_id,
            "authorize_url": o.authorize_url,
            "token_url": o.token_url,
            "userdata_url": o.userdata_url,
            "connector": Value::Null,
            "scopes": o.scopes,
            "username_claim": o.username_claim,
            "groups_key": o.groups_claim.as_ref().map(|c| format!("oauth_user.{c}")),
            "groups_claim": o.groups_claim,
        });
    }
    if let Some(c) = &auth.cilogon {
        let idps: serde_json::Map<String, Value> = c
            .idp
            .get_ref()
            .iter()
            .map(|i| {
                let mut derivation = json!({"username_claim": i.username_claim});
                if let Some(d) = &i.strip_domain {
                    derivation["action"] = json!("strip_idp_domain");
                    derivation["domain"] = json!(d);
                } else if let Some(p) = &i.prefix {
                    derivation["action"] = json!("prefix");
                    derivation["prefix"] = json!(p.get_ref());
                }
                let mut idp = json!({"username_derivation": derivation});
                if i.allow_all {
                    idp["allow_all"] = json!(true);
                }
                if !i.allowed_domains.is_empty() {
                    idp["allowed_domains"] = json!(i.allowed_domains);
                }
                if i.default {
                    idp["default"] = json!(true);
                }
                (i.entity_id.clone(), idp)
            })
            .collect();
        return json!({
            "authenticator": "cilogon",
            "client_id": c.client_id,
            "scopes": c.scopes,
            "idps": idps,
            "groups_key": c.groups_claim.as_ref().map(|g| format!("cilogon_user.{g}")),
            "groups_claim": c.groups_claim,
        });
    }
    Value::Null
}

/// The HTCondor submit commands a profile's Dask jobs get in the instance's pool, as the
/// Python literal dask reads from `DASK_JOBQUEUE__COFFEA_CASA__JOB_EXTRA[_DIRECTIVES]`
/// (dask/dask@2022.05.0 dask/config.py `collect_env`: `ast.literal_eval`; JSON strings are
/// Python string literals). CoffeaCasaCluster merges them last, over its docker-universe
/// defaults (CoffeaTeam/coffea-casa@2023.08.11 and HEAD coffea_casa/coffea_casa.py
/// `job_extra` / `job_extra_directives`): vanilla universe, and the docker commands emptied,
/// since a `docker_image` would make a vanilla job a container job and an empty value is
/// no value (htcondor/htcondor@v25.13.2 src/condor_utils/submit_utils.cpp `SetUniverse`,
/// `submit_param`). The job runs on the execute pods that carry the profile's worker image,
/// with their own `/bin/sh` (dask-jobqueue's executable).
fn pool_job_extra(pool: &Value, worker_image: &str) -> Option<String> {
    let group = pool["groups"]
        .as_array()?
        .iter()
        .find(|g| g["worker_image"] == worker_image)?;
    let extra = json!({
        "universe": "vanilla",
        "docker_image": "",
        "container_service_names": "",
        "dask_container_port": "",
        "nanny_container_port": "",
        "transfer_executable": "False",
        "requirements": group["requirements"],
    });
    // KubeSpawner expands every environment value with `str.format` (the user's name and
    // the like: jupyterhub/kubespawner@7.0.0 kubespawner/spawner.py
    // `_expand_user_properties`, 6.x the same), so the dict's braces are doubled to stay
    // braces.
    Some(extra.to_string().replace('{', "{{").replace('}', "}}"))
}

fn profile_value(
    inst: &Instance,
    p: &Profile,
    default_worker: Option<&crate::site::types::ImageRef>,
) -> Value {
    let su = &inst.spec.singleuser;
    let worker = p
        .worker_image
        .as_ref()
        .map(|w| w.get_ref())
        .or(default_worker);
    let mut node_selector: serde_json::Map<String, Value> = p
        .node_selector
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut resources = serde_json::Map::new();
    if let Some(g) = &p.gpu {
        let product = g.product.get_ref().as_str();
        // GPU feature discovery's labels and the device plugin's resources
        // (k8s-device-plugin@v0.20.0 `internal/lm/resource.go` getProductName: `-SHARED`
        // when time-slicing replicas > 1 and the resource is not renamed;
        // `internal/lm/mig-strategy.go`: `nvidia.com/mig-<profile>` and its `.product`
        // label `<product>-MIG-<profile>` under the mixed strategy).
        let (resource, label, value) = match &g.mig {
            Some(m) => {
                let m = m.get_ref().as_str();
                (
                    format!("nvidia.com/mig-{m}"),
                    format!("nvidia.com/mig-{m}.product"),
                    format!("{product}-MIG-{m}"),
                )
            }
            None if g.shared => (
                "nvidia.com/gpu".to_owned(),
                "nvidia.com/gpu.product".to_owned(),
                format!("{product}-SHARED"),
            ),
            None => (
                "nvidia.com/gpu".to_owned(),
                "nvidia.com/gpu.product".to_owned(),
                product.to_owned(),
            ),
        };
        node_selector.insert(label, json!(value));
        resources.insert(resource, json!(g.count.get_ref().to_string()));
    }
    json!({
        "display_name": p.display_name,
        "description": p.description,
        "default": p.default,
        "image": p.image.get_ref().to_string(),
        "worker_image": worker.map(ToString::to_string),
        "worker_repository": worker.map(|w| w.repository()),
        "worker_tag": worker.and_then(|w| w.tag()).unwrap_or_default(),
        "cpu": p.cpu.as_ref().map(|c| json!({"guarantee": c.guarantee.get_ref(), "limit": c.limit.get_ref()})),
        "memory": p.memory.as_ref().map(|m| json!({
            "guarantee": m.guarantee.get_ref().byte_spec(),
            "limit": m.limit.get_ref().byte_spec(),
        })),
        "resources": resources,
        "node_selector": node_selector,
        // A list override replaces the spawner's tolerations (kubespawner@7.0.0
        // `spawner.py` _apply_overrides merges dicts only), so it repeats the chart's.
        "tolerations": if p.tolerations.is_empty() { Value::Null } else { json!(tolerations(&su.tolerations, &p.tolerations)) },
    })
}

/// z2jh's own user-pod tolerations (zero-to-jupyterhub-k8s@4.4.0 `jupyterhub/values.yaml`
/// `scheduling.userPods.tolerations`), then the instance's and the profile's.
fn tolerations(instance: &[Toleration], profile: &[Toleration]) -> Vec<Value> {
    let chart = ["hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated"]
        .map(|k| json!({"key": k, "operator": "Equal", "value": "user", "effect": "NoSchedule"}));
    chart
        .into_iter()
        .chain(instance.iter().chain(profile).map(toleration))
        .collect()
}

fn toleration(t: &Toleration) -> Value {
    let mut v = json!({"key": t.key, "operator": t.operator});
    if let Some(val) = &t.value {
        v["value"] = json!(val);
    }
    if let Some(e) = &t.effect {
        v["effect"] = json!(e);
    }
    v
}

fn volume_value(vol: &crate::site::Volume) -> Value {
    let source = if let Some(c) = &vol.claim {
        json!({"persistentVolumeClaim": {"claimName": c.get_ref()}})
    } else if let Some(n) = &vol.nfs {
        json!({"nfs": {"server": n.get_ref().server, "path": n.get_ref().path}})
    } else if let Some(h) = &vol.host_path {
        json!({"hostPath": {"path": h.get_ref(), "type": "Directory"}})
    } else {
        Value::Null
    };
    json!({
        "name": vol.name,
        "mount": vol.mount,
        "read_only": vol.read_only,
        "source": source,
        "propagation": if vol.propagate_host_mounts { Some("HostToContainer") } else { None },
    })
}
