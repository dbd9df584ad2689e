//! The hub's spawn hook (`hub/casa_hook.py`): its source, shipped into every hub pod, and the
//! settings each instance gives it, derived from the site and instance files. The hook reads
//! the settings as JSON (`hub.extraFiles`, z2jh renders `data` of a `.json` file with toJson).

use serde_json::{Value, json};

use super::instance::{CONDOR_SECRET, DaskMode, XCACHE_SECRET};
use super::platform::TRITON_SECRET;
use super::{Instance, Site};

/// The hook's Python source.
pub const HOOK_SOURCE: &str = include_str!("../../hub/casa_hook.py");

/// Where the hub pod sees the hook's files. `/usr/local/etc/jupyterhub` is on the hub's
/// `sys.path` (z2jh 4.4.0 files/hub/jupyterhub_config.py), so the module imports by name.
pub const HOOK_PATH: &str = "/usr/local/etc/jupyterhub/casa_hook.py";
pub const SETTINGS_PATH: &str = "/usr/local/etc/jupyterhub/casa_hook.json";
/// The hook's keys, mounted from their sealed Secrets into the hub pod only.
pub const KEYS_DIR: &str = "/etc/casa-hook";
/// The pool key's file name: the key id HTCondor looks it up by.
pub const CONDOR_KEY_FILE: &str = "htcondor/POOL";
pub const XCACHE_KEY_FILE: &str = "xcache/secretkey";

/// Where the user image reads the Secret (CoffeaTeam/coffea-casa coffea_casa/coffea_casa.py
/// `SECRETS_DIR`) and the user-owned copy (`SECRETS_DIR_CHOWN`, BEARER_TOKEN_FILE).
pub const SECRETS_MOUNT: &str = "/etc/cmsaf-secrets";
pub const CHOWN_MOUNT: &str = "/etc/cmsaf-secrets-chown";

/// The Dask ports of the user's scheduler and worker (coffea_casa.py: scheduler 8786; the
/// sidecar worker's contact port 8788, docker/k8s-worker) and the instance Traefik's entry
/// points for them (templates/dask/traefik.yaml.j2).
pub const SCHEDULER_PORT: u16 = 8786;
pub const WORKER_PORT: u16 = 8788;

/// Lifetime of a user's Dask CA and certificate, and how long before expiry they, and the
/// tokens, are made anew.
const CERTIFICATE_DAYS: u32 = 365;
const RENEW_DAYS: u32 = 30;

/// Triton's gRPC port (triton-inference-server/server@v2.25.0 src/main.cc `grpc_port_`).
const TRITON_GRPC_PORT: u16 = 8001;

/// Whether the instance's Tier-2 HTCondor pool is in use.
pub fn uses_tier2_condor(site: &Site, i: &Instance) -> bool {
    tier2(i) && site_htcondor(site).is_some()
}

/// Whether the instance's users scale out to the Tier-2 (Dask mode `tier2`).
fn tier2(i: &Instance) -> bool {
    i.spec
        .dask
        .as_ref()
        .is_some_and(|d| *d.mode.get_ref() == DaskMode::Tier2)
}

fn site_htcondor(site: &Site) -> Option<&super::HtCondor> {
    site.spec.dask.as_ref().and_then(|d| d.htcondor.as_ref())
}

/// The pool signing key of an instance that has one.
fn condor_key(i: &Instance) -> bool {
    i.spec
        .dask
        .as_ref()
        .is_some_and(|d| d.condor_token.is_some())
}

/// `(host:port, bucket)` of the S3 store holding Triton's models: the site's object store
/// and `[triton] bucket`, or the store of `model_repository`, read as Triton reads it
/// (`s3://[http://|https://]host:port/bucket[/path]`: triton-inference-server/core@r22.08
/// src/filesystem.cc `S3FileSystem::ParsePath`).
fn triton_bucket(site: &Site, t: &super::Triton) -> Option<(String, String)> {
    if let Some(r) = &t.model_repository {
        let rest = r.get_ref().strip_prefix("s3://")?;
        let rest = rest
            .strip_prefix("http://")
            .or_else(|| rest.strip_prefix("https://"))
            .unwrap_or(rest);
        let (host, path) = rest.split_once('/')?;
        let bucket = path.split('/').next().filter(|b| !b.is_empty())?;
        return host
            .contains(':')
            .then(|| (host.to_owned(), bucket.to_owned()));
    }
    let b = t.bucket.as_ref()?;
    Some((site.object_store_endpoint()?, b.get_ref().clone()))
}

/// Whether the instance's users get the site's Triton.
pub fn uses_triton(site: &Site, i: &Instance) -> bool {
    site.spec.triton.is_some()
        && i.spec
            .inference
            .as_ref()
            .is_some_and(|x| *x.triton.get_ref())
}

/// The settings file of one instance's hook.
pub fn settings(site: &Site, i: &Instance) -> Value {
    let spec = &i.spec;
    let keys = |f: &str| format!("{KEYS_DIR}/{f}");
    let dask = spec
        .instance
        .dask_base_domain
        .as_ref()
        .filter(|_| tier2(i))
        .map(|base| {
            json!({
                "base_domain": base.to_string(),
                "service_domain": null,
                "scheduler_port": SCHEDULER_PORT,
                "worker_port": WORKER_PORT,
                "entry_points": ["dask", "daskworker"],
            })
        });
    let pool = super::pool::pool(site, i);
    // The in-cluster pool's workers reach the scheduler through its Service by its cluster
    // name, so no public name, Dask Traefik or route.
    let dask = dask.or_else(|| {
        pool.as_ref().map(|_| {
            json!({
                "base_domain": null,
                "service_domain": format!("{}.svc", spec.instance.namespace.get_ref()),
                "scheduler_port": SCHEDULER_PORT,
                "worker_port": WORKER_PORT,
                "entry_points": [],
            })
        })
    });
    let tier2_token = site_htcondor(site)
        .filter(|_| tier2(i) && condor_key(i))
        .map(|h| {
            json!({
                "key_file": keys(CONDOR_KEY_FILE),
                "key_id": h.key_id,
                "issuer": h.trust_domain.clone().unwrap_or_else(|| h.uid_domain.to_string()),
                "identity": h.identity.get_ref(),
                "scopes": h.scopes,
                "days": h.token_days,
            })
        });
    // The same scheme for the instance's own pool: its POOL key, its trust domain, the
    // authorization a submitter needs (READ to find the schedd, WRITE to submit).
    let pool_token = pool.as_ref().filter(|_| condor_key(i)).map(|p| {
        json!({
            "key_file": keys(CONDOR_KEY_FILE),
            "key_id": "POOL",
            "issuer": p["trust_domain"],
            "identity": p["identity"],
            "scopes": ["READ", "WRITE"],
            "days": p["token_days"],
        })
    });
    let htcondor = tier2_token.or(pool_token);
    let xcache = match (&site.spec.xcache, &spec.xcache) {
        (Some(site_x), Some(x)) if x.token.is_some() => Some(json!({
            "key_file": keys(XCACHE_KEY_FILE),
            "location": site_x.location,
            "path": site_x.path,
            "activities": site_x.activities,
            "days": x.token_days.get_ref(),
        })),
        _ => None,
    };
    let triton = site
        .spec
        .triton
        .as_ref()
        .filter(|_| uses_triton(site, i))
        .map(|t| {
            let grpc_host = t.hostname.as_ref().map_or_else(
                || format!("triton.{}.svc", t.namespace),
                ToString::to_string,
            );
            let bucket = triton_bucket(site, t);
            json!({
                "namespace": t.namespace.to_string(),
                "secret": TRITON_SECRET,
                "grpc": format!("{grpc_host}:{TRITON_GRPC_PORT}"),
                "bucket_host": bucket.as_ref().map(|b| &b.0),
                "bucket": bucket.as_ref().map(|b| &b.1),
                // Whether the bucket is on the site's RGW pods (the user-pod policy then
                // lets sessions reach them).
                "site_bucket": t.model_repository.is_none() && bucket.is_some(),
            })
        });
    json!({
        "uid": spec.singleuser.uid,
        "gid": spec.singleuser.gid,
        "secret_mount": SECRETS_MOUNT,
        "chown_mount": CHOWN_MOUNT,
        "certificate_days": CERTIFICATE_DAYS,
        "renew_days": RENEW_DAYS,
        "access_token": true,
        "dask": dask,
        "htcondor": htcondor,
        "xcache": xcache,
        "triton": triton,
    })
}

/// What the hub pod mounts for the hook: the keys it signs with, from the instance's
/// sealed Secrets (`null` entries are dropped by the template).
pub fn key_mounts(site: &Site, i: &Instance) -> Value {
    let spec = &i.spec;
    let mut v = Vec::new();
    if (uses_tier2_condor(site, i) || super::pool::pool(site, i).is_some()) && condor_key(i) {
        v.push(json!({"name": "casa-hook-htcondor", "secret": CONDOR_SECRET, "key": "token", "file": "POOL", "dir": format!("{KEYS_DIR}/htcondor")}));
    }
    if site.spec.xcache.is_some() && spec.xcache.as_ref().is_some_and(|x| x.token.is_some()) {
        v.push(json!({"name": "casa-hook-xcache", "secret": XCACHE_SECRET, "key": "token", "file": "secretkey", "dir": format!("{KEYS_DIR}/xcache")}));
    }
    json!(v)
}
