//! `casa-build diff --base REV [--head REV]`: what a change to the site destroys (the danger
//! review), what it does to the facility, and the objects it adds, removes, changes or
//! renames, for a terminal, a pull request (markdown) or a program (JSON).

use std::io::Write;
use std::mem::ManuallyDrop;
use std::path::Path;

use anyhow::Context;

use super::{DiffFormat, FailOn, Outcome, stderr, stdout};
use crate::check::SchemaLocation;
use crate::diagnostics::{Diagnostics, render_human};
use crate::diff::danger::{self, Review};
use crate::diff::facility::Facility;
use crate::diff::git::SiteRepo;
use crate::diff::{MARKDOWN_CAP, Report, Side, Stale, report, stale_files};
use crate::pipeline::{Build, Shared, build, build_shared, open_schemas, schema_locations};
use crate::redact::escape_controls;
use crate::sources::Sources;

pub(crate) struct Options<'a> {
    pub site: &'a Path,
    pub base: &'a str,
    pub head: Option<&'a str>,
    pub schemas: &'a [SchemaLocation],
    pub format: DiffFormat,
    pub out_file: Option<&'a Path>,
    pub fail_on: Option<FailOn>,
}

/// The folder of the generated tree inside the site folder, as `build` writes it.
const OUT: &str = "out";

pub(crate) fn run(o: &Options<'_>) -> anyhow::Result<Outcome> {
    let repo = SiteRepo::open(o.site)?;
    let base_rev = repo.resolve(o.base)?;
    let head_rev = o.head.map(|h| repo.resolve(h)).transpose()?;
    let base_sources = repo.sources(&base_rev)?;
    let head_sources = match &head_rev {
        Some(rev) => repo.sources(rev)?,
        None => Sources::from_dir(o.site)?,
    };
    let base_label = format!("base ({})", base_rev.label());
    let head_label = match &head_rev {
        Some(rev) => format!("head ({})", rev.label()),
        None => "head (working tree)".to_owned(),
    };

    // One schema store serves both sides when they name the same schemas: its compiled
    // validators are cached, so the second build costs much less than the first.
    // The template environments and the objects of units that did not change are shared
    // the same way (`pipeline::Shared`).
    // Both builds, what they share and the compiled schemas live until the process exits, as
    // in `build`: freeing them value by value is work nobody waits for.
    let mut shared = ManuallyDrop::new(Shared::default());
    let (head_built, store) = match open_schemas(o.schemas, o.site, &head_sources) {
        Ok(store) => (
            build_shared(&head_sources, &store, &mut shared, None),
            Some(ManuallyDrop::new(store)),
        ),
        Err(d) => (Err(d), None),
    };
    let same_schemas = schema_locations(o.schemas, o.site, &base_sources)
        == schema_locations(o.schemas, o.site, &head_sources);
    let previous = head_built.as_ref().ok();
    let base_built = match store.filter(|_| same_schemas) {
        Some(store) => build_shared(&base_sources, &store, &mut shared, previous),
        None => open_schemas(o.schemas, o.site, &base_sources)
            .and_then(|store| build(&base_sources, &store)),
    };

    let (base, head) = match (base_built, head_built) {
        (Ok(b), Ok(h)) => (ManuallyDrop::new(b), ManuallyDrop::new(h)),
        (base, head) => {
            let mut invalid = Vec::new();
            if let Err(d) = &base {
                invalid.push((&base_label, d, &base_sources));
            }
            if let Err(d) = &head {
                invalid.push((&head_label, d, &head_sources));
            }
            print_invalid(&invalid, o)?;
            let outcome = invalid
                .iter()
                .map(|(_, d, _)| Outcome::of_errors(d))
                .max_by_key(|o| o.code())
                .unwrap_or(Outcome::Invalid);
            return Ok(outcome);
        }
    };

    let changes = crate::diff::compare(side(&base), side(&head));
    let stale = stale_out(&repo, head_rev.as_ref(), &head, o.site)?;
    let changed = !changes.is_empty();
    let unread = match &head_rev {
        Some(rev) => repo.unread_instance_files(rev)?,
        None => crate::sources::unread_instance_files(o.site),
    };
    let (before, after) = (
        danger::Side::of_tree(&base.manifests, &base.units),
        danger::Side::of_tree(&head.manifests, &head.units),
    );
    let findings = danger::review(&Review {
        before: &before,
        after: &after,
        before_name: "base",
        unread_instance_files: &unread,
    });
    let report = Report {
        base: base_label,
        head: head_label,
        changes,
        objects: head.manifests.len(),
        stale,
        findings,
        facility: Some((
            Facility::of(&base.site, &base.manifests),
            Facility::of(&head.site, &head.manifests),
        )),
    };
    let output_name = o.out_file.map(|p| p.display().to_string());
    let (shown, full) = match o.format {
        // What people read has its control characters escaped (a value of an object may
        // hold one; YAML quotes it, but a report is not only YAML).
        DiffFormat::Text => {
            let t = escape_controls(&report::text(&report)).into_owned();
            let shown = if super::color(super::Stream::Stdout) {
                super::paint_diff(&t)
            } else {
                t.clone()
            };
            (shown, t)
        }
        DiffFormat::Json => {
            let j = serde_json::to_string_pretty(&report::json(&report))? + "\n";
            (j.clone(), j)
        }
        DiffFormat::Markdown => (
            escape_controls(&report::markdown(
                &report,
                MARKDOWN_CAP,
                output_name.as_deref(),
            ))
            .into_owned(),
            escape_controls(&report::markdown(&report, usize::MAX, None)).into_owned(),
        ),
    };
    stdout().write_all(shown.as_bytes())?;
    // The JSON form holds the stale note too; a reader of the terminal sees it beside.
    if o.format == DiffFormat::Json
        && let Some(stale) = &report.stale
    {
        writeln!(stderr(), "warning: {}", stale.message())?;
    }
    if let Some(path) = o.out_file {
        write_output(path, &full)?;
    }
    // A stale out/ alone is not a change of objects: `build --check` is the gate for that,
    // and keeping the two apart keeps exit 1 meaning "the cluster would change". A danger
    // is a change like any other unless the caller gates on it.
    if o.fail_on == Some(FailOn::Danger) && !report.findings.is_empty() {
        return Ok(Outcome::Danger);
    }
    Ok(if changed {
        Outcome::Differences
    } else {
        Outcome::Ok
    })
}

fn side(b: &Build) -> Side<'_> {
    Side {
        manifests: &b.manifests,
        units: &b.units,
    }
}

/// Compares the committed out/ at head with what head's sources build. Nothing is said when
/// head has no out/ at all: a repository that does not commit the tree is not stale.
fn stale_out(
    repo: &SiteRepo,
    head_rev: Option<&crate::diff::git::Revision>,
    head: &Build,
    site: &Path,
) -> anyhow::Result<Option<Stale>> {
    let files = match head_rev {
        Some(rev) => {
            let committed = repo.files(rev, OUT)?;
            if committed.is_empty() {
                return Ok(None);
            }
            stale_files(&head.tree, &committed)
        }
        None => {
            let out = site.join(OUT);
            if !out.is_dir() {
                return Ok(None);
            }
            let drift = crate::emit::compare(&head.tree, &out)?;
            drift.missing.len() + drift.stale.len() + drift.extra.len()
        }
    };
    Ok((files > 0).then(|| Stale {
        out: format!("{OUT}/"),
        files,
    }))
}

/// Says which side is invalid, with its diagnostics (their paths are relative to that
/// side's site folder); the markdown report says it too, so a pull request shows why.
fn print_invalid(
    invalid: &[(&String, &Diagnostics, &Sources)],
    o: &Options<'_>,
) -> anyhow::Result<()> {
    let mut all = String::new();
    let mut err = stderr();
    for (label, diags, sources) in invalid {
        let rendered = render_human(diags, sources);
        let what = match Outcome::of_errors(diags) {
            Outcome::Environment => "cannot be checked",
            _ => "is invalid",
        };
        writeln!(
            err,
            "error: the site at {label} {what} ({} error(s)):",
            diags.errors()
        )?;
        err.write_all(rendered.as_bytes())?;
        all.push_str(&format!("{label}:\n{rendered}\n"));
    }
    if o.format == DiffFormat::Markdown {
        let labels = invalid
            .iter()
            .map(|(l, _, _)| l.as_str())
            .collect::<Vec<_>>()
            .join(" and ");
        let shown = report::markdown_invalid(&labels, &all, MARKDOWN_CAP);
        stdout().write_all(shown.as_bytes())?;
        if let Some(path) = o.out_file {
            write_output(path, &report::markdown_invalid(&labels, &all, usize::MAX))?;
        }
    }
    Ok(())
}

fn write_output(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
