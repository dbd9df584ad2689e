//! `casa-build build [--check]`.

use std::io::Write;
use std::path::Path;

use super::{Format, Outcome, print_diagnostics};
use crate::pipeline::{build, open_schemas};
use crate::sources::Sources;

pub(crate) fn run(
    dir: &Path,
    out: Option<&Path>,
    schemas: Option<&Path>,
    check: bool,
    format: Format,
) -> anyhow::Result<Outcome> {
    let sources = Sources::from_dir(dir)?;
    let store = match open_schemas(schemas, dir, &sources) {
        Ok(s) => s,
        Err(diags) => {
            print_diagnostics(&diags, &sources, format)?;
            return Ok(Outcome::Invalid);
        }
    };
    let built = match build(&sources, &store) {
        Ok(b) => b,
        Err(diags) => {
            print_diagnostics(&diags, &sources, format)?;
            return Ok(Outcome::Invalid);
        }
    };
    let mut warnings = built.warnings.clone();
    warnings.extend(super::check::check_cert(dir, &built.site));
    warnings.sort(&sources);
    if warnings.has_errors() {
        print_diagnostics(&warnings, &sources, format)?;
        return Ok(Outcome::Invalid);
    }
    if !warnings.is_empty() {
        print_diagnostics(&warnings, &sources, format)?;
    }
    let out = out.map_or_else(|| dir.join("out"), Path::to_path_buf);
    let mut stdout = std::io::stdout().lock();
    if check {
        let drift = crate::emit::compare(&built.tree, &out)?;
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
