//! `casa-build commit`: build, write out/, and commit exactly the changes under out/.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::{Format, Outcome, print_diagnostics};
use crate::commit::{OutRepo, message};
use crate::pipeline::{build, open_schemas};
use crate::sources::Sources;

pub(crate) fn run(
    site: &Path,
    repo: Option<&Path>,
    schemas: Option<&Path>,
    msg: Option<&str>,
) -> anyhow::Result<Outcome> {
    let sources = Sources::from_dir(site)?;
    let store = match open_schemas(schemas, site, &sources) {
        Ok(s) => s,
        Err(diags) => {
            print_diagnostics(&diags, &sources, Format::Text)?;
            return Ok(Outcome::Invalid);
        }
    };
    let built = match build(&sources, &store) {
        Ok(b) => b,
        Err(diags) => {
            print_diagnostics(&diags, &sources, Format::Text)?;
            return Ok(Outcome::Invalid);
        }
    };
    if !built.warnings.is_empty() {
        print_diagnostics(&built.warnings, &sources, Format::Text)?;
    }

    // Everything that can refuse runs before out/ is written, so a refusal changes nothing.
    let out_dir = site.join("out");
    let repo = OutRepo::open(repo, &out_dir)?;
    repo.check_staged()?;
    let signature = repo.signature()?;
    let mut err = std::io::stderr().lock();
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
    let mut stdout = std::io::stdout().lock();
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
