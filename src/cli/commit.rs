//! `casa-build commit`: build, write out/, and commit exactly the changes under out/.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::{Format, Outcome, print_diagnostics, stderr, stdout, stopped};
use crate::check::SchemaLocation;
use crate::commit::{OutRepo, message};
use crate::pipeline::{build, open_schemas};
use crate::sources::Sources;

pub(crate) fn run(
    site: &Path,
    repo: Option<&Path>,
    schemas: &[SchemaLocation],
    msg: Option<&str>,
) -> anyhow::Result<Outcome> {
    let sources = Sources::from_dir(site)?;
    let built = match open_schemas(schemas, site, &sources).and_then(|s| build(&sources, &s)) {
        Ok(b) => b,
        Err(diags) => return stopped(&diags, &sources, Format::Text),
    };
    if !built.warnings.is_empty() {
        print_diagnostics(&built.warnings, &sources, Format::Text)?;
    }

    // Everything that can refuse runs before out/ is written, so a refusal changes nothing.
    let out_dir = site.join("out");
    let repo = OutRepo::open(repo, &out_dir)?;
    repo.check_staged()?;
    let signature = repo.signature()?;
    let mut err = stderr();
    let gitops = built.site.spec.gitops.path.trim_matches('/');
    if gitops != repo.out() {
        writeln!(
            err,
            "warning: the tree is committed at {}/ but [gitops] path is {gitops:?}: Flux reads the tree from there",
            repo.out()
        )?;
    }

    crate::emit::write(&built.tree, &out_dir)?;
    let plan = repo.plan(&built.tree)?;
    let mut stdout = stdout();
    if plan.is_empty() {
        repo.sync_index(&built.tree)?;
        writeln!(
            stdout,
            "nothing to commit: {}/ at HEAD is what the sources produce",
            repo.out()
        )?;
        return Ok(Outcome::Ok);
    }
    let text = match msg.filter(|m| !m.trim().is_empty()) {
        Some(m) => m.to_owned(),
        None => {
            let objects: BTreeMap<String, _> = built
                .manifests
                .iter()
                .filter_map(|m| {
                    let unit = built.units.iter().find(|u| u.name == m.unit)?;
                    Some((format!("{}/{}", unit.path, m.file_name()), m.id.clone()))
                })
                .collect();
            message(&plan, &objects, &repo.removed_objects(&plan))
        }
    };
    let id = repo.commit(&plan, &built.tree, &text, &signature)?;
    repo.sync_index(&built.tree)?;
    let short: String = id.to_string().chars().take(7).collect();
    writeln!(
        stdout,
        "committed {short}: {} ({} added, {} changed, {} removed files under {}/)",
        text.lines().next().unwrap_or_default(),
        plan.added.len(),
        plan.changed.len(),
        plan.removed.len(),
        repo.out()
    )?;
    Ok(Outcome::Ok)
}
