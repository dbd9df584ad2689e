//! `casa-build build [--check]`.

use std::io::Write;
use std::mem::ManuallyDrop;
use std::path::Path;

use super::{Format, Outcome, print_diagnostics, stdout, stopped};
use crate::check::SchemaLocation;
use crate::diagnostics::{self as diag, Diagnostic};
use crate::pipeline::{build, open_schemas};
use crate::sources::Sources;

pub(crate) fn run(
    dir: &Path,
    out: Option<&Path>,
    schemas: &[SchemaLocation],
    check: bool,
    format: Format,
) -> anyhow::Result<Outcome> {
    let sources = Sources::from_dir(dir)?;
    let out = out.map_or_else(|| dir.join("out"), Path::to_path_buf);
    // The output folder is replaced whole: one casa-build does not own is refused (exit 2),
    // reported with the site's own problems when there are any. `--check` only reads, and
    // files casa-build did not write are what it reports (as extra); a link, a file, the site
    // or `.git` are refused for it too.
    let refused: Vec<Diagnostic> = crate::emit::check_owned(&out, Some(dir))
        .err()
        .filter(|r| !(check && matches!(r, crate::emit::OutRefused::NotOurs { .. })))
        .map(|r| {
            Diagnostic::new(diag::OUT_REFUSED, r.to_string()).help(diag::OUT_REFUSED.info().fix)
        })
        .into_iter()
        .collect();
    // The build's values and the compiled schemas live until the process exits: freeing them
    // one by one took 8% of a 1,000-node build (README, "Where the time goes").
    let built = match open_schemas(schemas, dir, &sources)
        .map(ManuallyDrop::new)
        .and_then(|s| build(&sources, &s))
    {
        Ok(b) => ManuallyDrop::new(b),
        Err(mut diags) => {
            diags.extend(refused);
            return stopped(&diags, &sources, format);
        }
    };
    let mut warnings = built.warnings.clone();
    warnings.extend(super::check::check_cert(dir, &built.site));
    warnings.extend(refused);
    warnings.sort(&sources);
    if warnings.has_errors() {
        return stopped(&warnings, &sources, format);
    }
    let json = format == Format::Json;
    // As JSON the warnings go into the one result object, printed last.
    if !warnings.is_empty() && !json {
        print_diagnostics(&warnings, &sources, format)?;
    }
    let mut stdout = stdout();
    if check {
        let drift = crate::emit::compare(&built.tree, &out)?;
        if json {
            let list = |paths: &[String]| -> Vec<String> {
                paths
                    .iter()
                    .map(|p| out.join(p).display().to_string())
                    .collect()
            };
            drop(stdout);
            super::print_json(
                &warnings,
                &sources,
                serde_json::json!({
                    "out": out.display().to_string(),
                    "up_to_date": drift.is_empty(),
                    "files": built.tree.files.len(),
                    "missing": list(&drift.missing),
                    "stale": list(&drift.stale),
                    "extra": list(&drift.extra),
                }),
            )?;
            return Ok(if drift.is_empty() {
                Outcome::Ok
            } else {
                Outcome::Differences
            });
        }
        if drift.is_empty() {
            writeln!(
                stdout,
                "{} is up to date ({} files)",
                out.display(),
                built.tree.files.len()
            )?;
            return Ok(Outcome::Ok);
        }
        for (what, paths) in [
            ("missing", &drift.missing),
            ("stale", &drift.stale),
            ("extra", &drift.extra),
        ] {
            for p in paths {
                writeln!(stdout, "{what:<8} {}", out.join(p).display())?;
            }
        }
        writeln!(
            stdout,
            "{} is out of date: run `casa-build build` and commit it",
            out.display()
        )?;
        return Ok(Outcome::Differences);
    }
    let changed = crate::emit::write(&built.tree, &out)?;
    if json {
        drop(stdout);
        super::print_json(
            &warnings,
            &sources,
            serde_json::json!({
                "out": out.display().to_string(),
                "written": changed,
                "objects": built.manifests.len(),
                "files": built.tree.files.len(),
                "units": built.units.len(),
            }),
        )?;
        return Ok(Outcome::Ok);
    }
    writeln!(
        stdout,
        "{} {} objects in {} files under {} ({} units)",
        if changed { "wrote" } else { "unchanged:" },
        built.manifests.len(),
        built.tree.files.len(),
        out.display(),
        built.units.len()
    )?;
    Ok(Outcome::Ok)
}
