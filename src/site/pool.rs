//! An instance's in-cluster HTCondor pool (`[dask] mode = "pool"`, the `htcondor`
//! component): the names its daemons, the hub's spawn hook and the user pods agree on.
//!
//! The coffea-casa client submits docker-universe jobs (CoffeaTeam/coffea-casa
//! coffea_casa/coffea_casa.py `job_extra_directives`), which need a Docker daemon on the
//! execute node: HTCondor's own Kubernetes example runs one privileged beside each execute
//! pod (htcondor/htcondor@v25.13.2 build/docker/k8s/pool.yaml, `dind-daemon`). Here the
//! user pods turn the jobs into vanilla-universe jobs instead (their dask config), and each
//! execute pod carries the worker image's environment, so a job runs the worker as a plain
//! process: no container runtime, no privilege (see `templates/htcondor/`).

use serde_json::{Value, json};

use super::instance::{CONDOR_SECRET, DaskMode};
use super::{Instance, Site};

/// The central manager's Service: the pool's CONDOR_HOST, collector on HTCondor's shared
/// port.
pub const CM_SERVICE: &str = "htcondor-cm";
pub const SCHEDD_SERVICE: &str = "htcondor-schedd";
/// HTCondor's shared port (`SHARED_PORT_PORT`, htcondor/htcondor@v25.13.2
/// src/condor_utils/param_info.in): every daemon of a pod behind one port.
pub const CONDOR_PORT: u16 = 9618;
/// The machine attribute an execute pod advertises with its worker image; jobs of a
/// profile require theirs.
pub const WORKER_IMAGE_ATTR: &str = "CasaWorkerImage";
/// Where the worker image's environment sits in an execute pod: the same paths as in the
/// image, since conda environments hold absolute paths (`/opt/conda`, the coffea-casa
/// images' CONDA_DIR).
pub const WORKER_ENV: &str = "/opt/conda";

/// The pool of an instance, when it runs one.
pub fn pool(site: &Site, i: &Instance) -> Option<Value> {
    let d = i.spec.dask.as_ref()?;
    if *d.mode.get_ref() != DaskMode::Pool {
        return None;
    }
    let p = d.pool.as_ref()?;
    let ns = i.spec.instance.namespace.get_ref().as_str();
    let cm = format!("{CM_SERVICE}.{ns}.svc");
    let dask = site.spec.dask.as_ref();
    let groups: Vec<Value> = super::worker_images(site, i)
        .into_iter()
        .enumerate()
        .map(|(n, w)| {
            json!({
                "name": format!("htcondor-execute-{}", n + 1),
                "worker_image": w.to_string(),
                // A ClassAd string literal: image references hold no quote or backslash.
                "requirements": format!("(TARGET.{WORKER_IMAGE_ATTR} =?= \"{w}\")"),
            })
        })
        .collect();
    Some(json!({
        "cm_host": cm,
        "port": CONDOR_PORT,
        // As HTCondor's own setup names it: TRUST_DOMAIN = $(CONDOR_HOST)
        // (src/condor_utils/param_info.in `security:get_htcondor_idtokens`); the issuer of
        // every IDTOKEN of the pool.
        "trust_domain": cm,
        // A name with `@` is taken as it is (src/condor_utils/get_daemon_name.cpp
        // `build_valid_daemon_name`), so clients can name it as SCHEDD_HOST.
        "schedd_name": format!("dask@{SCHEDD_SERVICE}.{ns}.svc"),
        "identity": format!("{}@{cm}", p.submitter.get_ref()),
        "execute_nodes": p.execute_nodes,
        "token_days": p.token_days,
        "groups": groups,
        "worker_env": WORKER_ENV,
        "cores": dask.map(|d| d.worker_cores),
        // HTCondor's MEMORY is in MiB; the slot holds the worker's whole memory
        // (dask-jobqueue asks RequestMemory = floor(DaskWorkerMemory / 1048576),
        // dask/dask-jobqueue@0.7.3 dask_jobqueue/htcondor.py).
        "memory_mib": dask.map(|d| (d.worker_memory.value() / 1_048_576.0).ceil() as u64),
        "image": dask
            .and_then(|d| d.pool.as_ref())
            .map(|p| p.image.get_ref().to_string()),
        "key_secret": CONDOR_SECRET,
    }))
}
