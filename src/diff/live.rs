//! `diff --live`: the built objects -> Flux's view of the site and the cluster's copy of every
//! object -> a report: each Flux unit (Ready, suspended, applied revision against the built
//! commit), then one entry per object (in sync, changed, missing, orphan of any kind, not
//! served, error) with a diff of canonical YAML.
//!
//! - `kubeconfig`: finding the cluster and the credentials, as kubectl does;
//! - `transport`, `tls`: one request, retried, capped, with kubectl's certificate check;
//! - `cluster`: discovery, lists, gets, dry-run applies (the requests);
//! - `compare`, `flux`: normalisation, comparison and Flux's view, pure;
//! - `review`: the danger review, the cluster as the side before the change;
//! - `report`: text, markdown and JSON, with every credential redacted (`crate::redact`).

mod cluster;
mod compare;
mod error;
mod flux;
mod kubeconfig;
mod report;
mod review;
mod revision;
mod timeout;
mod tls;
mod transport;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use crate::redact::{REDACTED, Redactor};
pub use cluster::{IN_FLIGHT, MAX_LISTED, PAGE, PAGE_CAP};
pub use compare::{
    Entry, Found, Inventory, Observed, Snapshot, Status, compare, normalise, parse_inventory_id,
    project,
};
pub use error::{Error, Failure};
pub use flux::{Built, Condition, Unit, UnitState, revision_commit};
pub use report::{Form, Report, SCHEMA_VERSION, Wait, json, markdown, text};
pub use revision::built_from;
pub use timeout::{Timeout, TimeoutError};

use crate::manifest::{Manifest, Unit as TreeUnit};

/// How often `--wait` asks Flux again, as `flux reconcile --timeout` polls (flux2 cmd/flux
/// `rootArgs.pollInterval`, 2 s).
pub const POLL: Duration = Duration::from_secs(2);

/// Where the cluster is and how to ask it.
#[derive(Debug, Clone)]
pub struct Options {
    /// A kubeconfig file; else `KUBECONFIG`, `~/.kube/config`, then the in-cluster account.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig instead of its current one.
    pub context: Option<String>,
    /// Compare with a server-side apply dry run instead of the desired fields.
    pub server_side: bool,
    /// The whole run (credentials, `--wait` and the comparison) must end within this.
    pub timeout: Duration,
    /// Poll until every Flux unit is Ready at the built revision (or the timeout ends)
    /// before comparing.
    pub wait: bool,
}

/// Compares `desired` (the built objects of site `site`, built from `built`) with the
/// cluster `opts` points at. Errors end the run: no configuration, no credentials, an
/// unreachable cluster, refused discovery, or no answer within `opts.timeout`. A refusal about
/// one resource is an entry, not an error.
pub async fn diff_live(
    desired: &[Manifest],
    units: &[TreeUnit],
    site: &str,
    built: &Built,
    opts: &Options,
) -> Result<Report, Failure> {
    let started = Instant::now();
    let deadline = started + opts.timeout;
    let mut redactor = Redactor::default();
    let mut server = String::new();
    let run = run(
        desired,
        units,
        site,
        built,
        opts,
        started,
        deadline,
        &mut redactor,
        &mut server,
    );
    let outcome = tokio::time::timeout_at(deadline.into(), run).await;
    let result = match outcome {
        Ok(result) => result,
        Err(_) => Err(Error::timeout(
            if server.is_empty() {
                "(not yet known)"
            } else {
                &server
            },
            opts.timeout,
        )),
    };
    match result {
        Ok(mut report) => {
            report.redactor = redactor;
            Ok(report)
        }
        Err(e) => Err(Failure::new(&e, &redactor)),
    }
}

#[allow(clippy::too_many_arguments)]
async fn run(
    desired: &[Manifest],
    tree_units: &[TreeUnit],
    site: &str,
    built: &Built,
    opts: &Options,
    started: Instant,
    deadline: Instant,
    redactor: &mut Redactor,
    server: &mut String,
) -> Result<Report, Error> {
    let loaded = kubeconfig::load(
        opts.kubeconfig.as_deref(),
        opts.context.as_deref(),
        deadline,
        opts.timeout,
        redactor,
    )
    .await?;
    let transport = transport::Transport::new(loaded.config, deadline)?;
    server.clone_from(&transport.server);
    let cluster = cluster::Cluster::new(transport, site);
    let catalog = cluster.discover(desired).await?;

    let mut wait = None;
    if opts.wait {
        let units: Vec<Manifest> = desired
            .iter()
            .filter(|m| flux::is_unit(m))
            .cloned()
            .collect();
        let mut polls = 0;
        loop {
            let began = Instant::now();
            let snap = cluster
                .snapshot(&catalog, &units, cluster::Scope::Desired)
                .await?;
            polls += 1;
            let view = flux::units(&units, &snap.ids, &snap.observed, built);
            if view.iter().all(Unit::is_done) {
                wait = Some(Wait::Ready {
                    after: started.elapsed(),
                    polls,
                });
                break;
            }
            // Stop while there is still time to say so: the next poll would not end before
            // the deadline.
            let poll_took = began.elapsed();
            if Instant::now() + POLL + poll_took * 2 >= deadline {
                return Ok(Report {
                    flux: view,
                    built: built.clone(),
                    entries: Vec::new(),
                    compared: false,
                    wait: Some(Wait::TimedOut {
                        after: started.elapsed(),
                        polls,
                    }),
                    unsearched: Vec::new(),
                    findings: Vec::new(),
                    server: cluster.t.server.clone(),
                    requests: cluster.t.requests(),
                    elapsed: started.elapsed(),
                    redactor: Redactor::default(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    let scope = cluster::Scope::Everything {
        server_side: opts.server_side,
    };
    let snapshot = cluster.snapshot(&catalog, desired, scope).await?;
    Ok(Report {
        flux: flux::units(desired, &snapshot.ids, &snapshot.observed, built),
        built: built.clone(),
        entries: compare(desired, site, &snapshot, opts.server_side),
        compared: true,
        wait,
        unsearched: snapshot.unsearched.clone(),
        findings: review::review(desired, tree_units, &snapshot),
        server: cluster.t.server.clone(),
        requests: cluster.t.requests(),
        elapsed: started.elapsed(),
        redactor: Redactor::default(),
    })
}
