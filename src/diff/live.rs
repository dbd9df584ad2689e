//! `diff --live`: the built objects -> the cluster's copies -> one entry per object (in sync,
//! changed, missing, orphan, not served, error) with a diff of canonical YAML.
//!
//! - `cluster`: the kube adapter (kubeconfig, discovery, label-selected lists, gets, dry-run
//!   applies, retries); the only part that does I/O.
//! - `compare`: normalisation and comparison, pure.
//! - `report`: text, markdown and JSON, pure.

mod cluster;
mod compare;
mod report;

use std::time::Instant;

pub use cluster::{Error, IN_FLIGHT, Options};
pub use compare::{
    Entry, Inventory, Observed, Snapshot, Status, compare, normalise, parse_inventory_id, project,
};
pub use report::{Report, json, markdown, text};

use crate::manifest::Manifest;

/// Compares `desired` (the built objects of site `site`) with the cluster `opts` points at.
/// Errors end the run: no configuration, an unreachable cluster, refused discovery, or no
/// answer within `opts.timeout`. A refusal about one resource is an entry, not an error.
pub async fn diff_live(desired: &[Manifest], site: &str, opts: &Options) -> Result<Report, Error> {
    let started = Instant::now();
    let cluster = cluster::Cluster::connect(opts).await?;
    let snapshot = tokio::time::timeout(opts.timeout, cluster.snapshot(desired, opts.server_side))
        .await
        .map_err(|_| Error::Timeout {
            server: cluster.server.clone(),
            timeout: opts.timeout,
        })??;
    Ok(Report {
        entries: compare(desired, site, &snapshot, opts.server_side),
        server: cluster.server.clone(),
        requests: cluster.requests(),
        elapsed: started.elapsed(),
    })
}
