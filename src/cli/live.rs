//! `casa-build diff --live`: build the site, compare every object with the cluster, print the
//! report. Exit 0 in sync; 1 drift, missing objects, orphans or kinds the cluster lacks; 2 an
//! invalid site; 3 no cluster, no answer, or objects that could not be compared.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::{DiffFormat, Format, Outcome, print_diagnostics};
use crate::diff::live::{self, Options};
use crate::pipeline::{build, open_schemas};
use crate::sources::Sources;

/// The `diff --live` flags, as parsed.
pub(crate) struct LiveArgs<'a> {
    pub site: &'a Path,
    pub schemas: Option<&'a Path>,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub server_side: bool,
    pub timeout: Duration,
    pub format: DiffFormat,
}

pub(crate) fn run(args: LiveArgs<'_>) -> anyhow::Result<Outcome> {
    let diag_format = match args.format {
        DiffFormat::Json => Format::Json,
        DiffFormat::Text | DiffFormat::Markdown => Format::Text,
    };
    let sources = Sources::from_dir(args.site)?;
    let built = match open_schemas(args.schemas, args.site, &sources)
        .and_then(|store| build(&sources, &store))
    {
        Ok(b) => b,
        Err(diags) => {
            print_diagnostics(&diags, &sources, diag_format)?;
            return Ok(Outcome::Invalid);
        }
    };
    let opts = Options {
        kubeconfig: args.kubeconfig,
        context: args.context,
        server_side: args.server_side,
        timeout: args.timeout,
    };
    // One thread is plenty: the work is waiting on the network, and the machine is shared.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(live::diff_live(&built.manifests, built.site.name(), &opts))?;
    let text = match args.format {
        DiffFormat::Text => live::text(&report),
        DiffFormat::Markdown => live::markdown(&report),
        DiffFormat::Json => serde_json::to_string_pretty(&live::json(&report))? + "\n",
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    let errors = report.errors();
    if errors > 0 {
        anyhow::bail!(
            "{errors} object{} could not be compared with the cluster (see the report)",
            if errors == 1 { "" } else { "s" }
        );
    }
    Ok(if report.has_differences() {
        Outcome::Differences
    } else {
        Outcome::Ok
    })
}
