//! `casa-build diff --live`: build the site, ask the cluster (and Flux) about every object,
//! print the report. Exit 0 in sync and Flux ready at the built commit; 1 drift, missing
//! objects, orphans, kinds the cluster lacks, or Flux units not ready (with `--wait`: still
//! not ready when the timeout ended); 2 an invalid site; 3 no cluster, no credentials, no
//! answer, or objects that could not be compared; with `--fail-on danger`, 2 when the danger
//! review finds what applying the tree would destroy.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{DiffFormat, FailOn, Format, Outcome, stderr, stdout, stopped};
use crate::check::SchemaLocation;
use crate::diff::live::{self, Form, Options, Timeout};
use crate::pipeline::{build, open_schemas};
use crate::sources::Sources;

/// The `diff --live` flags, as parsed.
pub(crate) struct LiveArgs<'a> {
    pub site: &'a Path,
    pub schemas: &'a [SchemaLocation],
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub server_side: bool,
    pub timeout: Timeout,
    pub wait: bool,
    pub format: DiffFormat,
    pub fail_on: Option<FailOn>,
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
        Err(diags) => return stopped(&diags, &sources, diag_format),
    };
    let revision = live::built_from(args.site);
    let opts = Options {
        kubeconfig: args.kubeconfig,
        context: args.context,
        server_side: args.server_side,
        timeout: args.timeout.as_duration(),
        wait: args.wait,
    };
    // One thread is plenty: the work is waiting on the network, and the machine is shared.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(live::diff_live(
        &built.manifests,
        &built.units,
        built.site.name(),
        &revision,
        &opts,
    ))?;
    let form = match args.format {
        DiffFormat::Text => Form::Text,
        DiffFormat::Markdown => Form::Markdown,
        DiffFormat::Json => Form::Json,
    };
    let rendered = report.render(form);
    let rendered = if form == Form::Text && super::color(super::Stream::Stdout) {
        super::paint_diff(&rendered)
    } else {
        rendered
    };
    stdout().write_all(rendered.as_bytes())?;
    let errors = report.errors();
    if errors > 0 {
        anyhow::bail!(
            "{errors} object{} could not be compared with the cluster (see the report)",
            if errors == 1 { "" } else { "s" }
        );
    }
    if let Some(live::Wait::TimedOut { after, .. }) = report.wait {
        let not_ready: Vec<String> = report
            .units_not_ready()
            .iter()
            .map(|u| {
                let name = match &u.id.namespace {
                    Some(ns) => format!("{ns}/{}", u.id.name),
                    None => u.id.name.clone(),
                };
                format!("{} {name} ({})", u.id.kind, u.state.as_str())
            })
            .collect();
        let at = revision
            .short()
            .map(|c| format!(" at {c}"))
            .unwrap_or_default();
        let message = format!(
            "error: {} Flux unit{} not ready{at} after {:.0} s (--timeout {}): {}\n",
            not_ready.len(),
            if not_ready.len() == 1 { "" } else { "s" },
            after.as_secs_f64(),
            args.timeout,
            not_ready.join(", ")
        );
        stderr().write_all(report.redactor.redact(&message).as_bytes())?;
    }
    if args.fail_on == Some(FailOn::Danger) && !report.findings.is_empty() {
        return Ok(Outcome::Danger);
    }
    Ok(if report.has_differences() {
        Outcome::Differences
    } else {
        Outcome::Ok
    })
}
