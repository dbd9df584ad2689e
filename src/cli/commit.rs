//! `casa-build commit [-a | PATH...]`: the site's staged (or given) source changes and the
//! `out/` they build, in one commit made by `git commit` (hooks, signing, identity as git's).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Format, Outcome, print_diagnostics, stderr, stdout, stopped};
use crate::check::SchemaLocation;
use crate::commit::{CommitRepo, Include, message};
use crate::diagnostics::{self as diag, Diagnostic, Diagnostics};
use crate::diff::git::SiteRepo;
use crate::pipeline::{build, open_schemas};
use crate::sources::{Read, Sources};

pub(crate) struct Options<'a> {
    pub site: &'a Path,
    pub repo: Option<&'a Path>,
    pub schemas: &'a [SchemaLocation],
    pub message: Option<&'a str>,
    pub all: bool,
    pub paths: &'a [PathBuf],
}

pub(crate) fn run(o: &Options<'_>) -> anyhow::Result<Outcome> {
    let out_dir = o.site.join("out");
    let repo = CommitRepo::open(o.repo, &out_dir)?;
    // Everything that can refuse comes before anything is written, the lock first: a stale
    // `.git/index.lock` is refused here, not after HEAD has moved.
    let lock = repo.lock_index()?;
    repo.check_conflicts()?;
    repo.check_identity()?;
    // Every object made from here on stays in memory until the commit is made.
    let odb = repo.odb()?;
    let _held = crate::commit::hold_objects(&odb)?;
    let include = if o.all {
        Include::All
    } else if !o.paths.is_empty() {
        Include::Paths(o.paths.to_vec())
    } else {
        Include::Staged
    };
    let (source_tree, paths) = repo.source_tree(&include)?;

    // The site as the commit will hold it, read from git objects like `diff --base`.
    let site_repo = SiteRepo::open_in(o.repo, o.site)?;
    site_repo.share_odb(&odb)?;
    let sources = site_repo.sources_of_tree(source_tree, "the commit")?;
    let built = match open_schemas(o.schemas, o.site, &sources).and_then(|s| build(&sources, &s)) {
        Ok(b) => b,
        Err(diags) => return stopped(&diags, &sources, Format::Text),
    };
    let mut warnings = built.warnings.clone();
    let cert = built.site.spec.sealing.cert.get_ref().as_str();
    let pem = match site_repo.site_file(source_tree, cert, "the commit")? {
        Some(Read::Bytes(b)) => Some(b),
        _ => None,
    };
    warnings.extend(crate::validate::sealing_cert::check(
        &built.site,
        pem.as_deref(),
        std::time::SystemTime::now(),
    ));
    warnings.sort(&sources);
    if !warnings.is_empty() {
        print_diagnostics(&warnings, &sources, Format::Text)?;
    }
    if warnings.has_errors() {
        return Ok(Outcome::Invalid);
    }
    if let Err(refused) = crate::emit::check_owned(&out_dir, Some(o.site)) {
        let d = Diagnostic::new(diag::OUT_REFUSED, refused.to_string())
            .help(diag::OUT_REFUSED.info().fix);
        print_diagnostics(&Diagnostics::from(vec![d]), &sources, Format::Text)?;
        return Ok(Outcome::Invalid);
    }

    // Site files that differ in the work tree stay out of the commit; with no other source
    // change in it, the operator most likely forgot to stage them.
    let source_changes = repo.source_changes(source_tree)?;
    let unstaged = unstaged_site_files(o.site, &sources, site_repo.prefix())?;
    let mut err = stderr();
    if !unstaged.is_empty() {
        if source_changes.is_empty() {
            return Err(crate::commit::CommitError::Unstaged { paths: unstaged }.into());
        }
        writeln!(
            err,
            "warning: not in this commit (changed in the work tree, not staged): {}",
            unstaged.join(", ")
        )?;
    }
    let gitops = built.site.spec.gitops.path.trim_matches('/');
    if gitops != repo.out() {
        writeln!(
            err,
            "warning: the tree is committed at {}/ but [gitops] path is {gitops:?}: Flux reads the tree from there",
            repo.out()
        )?;
    }
    drop(err);

    let commit_tree = repo.commit_tree(source_tree, &built.tree)?;
    let mut stdout = stdout();
    if repo.head_tree_id()? == Some(commit_tree) {
        // HEAD has every object already: nothing held needs writing.
        crate::emit::write(&built.tree, &out_dir)?;
        writeln!(
            stdout,
            "nothing to commit: {}/ at HEAD is what the sources produce",
            repo.out()
        )?;
        return Ok(Outcome::Ok);
    }
    let plan = repo.plan(&built.tree)?;
    let text = match o.message.filter(|m| !m.trim().is_empty()) {
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
            message(
                &plan,
                &objects,
                &repo.removed_objects(&plan),
                &source_changes,
            )
        }
    };

    // The work tree's out/ becomes the committed one before git runs, so the hooks see what
    // is committed; if git refuses, the old tree goes back.
    repo.write_held(commit_tree)?;
    let replaced = crate::emit::replace(&built.tree, &out_dir)?;
    let (id, committed) = match repo.run_git_commit(commit_tree, &text) {
        Ok(made) => made,
        Err(e) => {
            replaced.undo()?;
            drop(lock);
            return Err(e.into());
        }
    };
    replaced.finish();
    repo.write_index(lock, id, &paths)?;
    if committed != commit_tree {
        writeln!(
            stderr(),
            "warning: the repository's hooks changed what was committed; `casa-build build --check` tells whether out/ still matches its sources"
        )?;
    }
    let short: String = id.to_string().chars().take(7).collect();
    writeln!(
        stdout,
        "committed {short}: {} ({} added, {} changed, {} removed files under {}/{})",
        text.lines().next().unwrap_or_default(),
        plan.added.len(),
        plan.changed.len(),
        plan.removed.len(),
        repo.out(),
        if source_changes.is_empty() {
            String::new()
        } else {
            format!(", with {}", source_changes.join(", "))
        }
    )?;
    Ok(Outcome::Ok)
}

/// The site's source files whose work-tree text differs from the commit's (changed, added or
/// removed), as paths of the work tree.
fn unstaged_site_files(
    site: &Path,
    committed: &Sources,
    prefix: &str,
) -> anyhow::Result<Vec<String>> {
    let disk = Sources::from_dir(site)?;
    let files = |s: &Sources| -> BTreeMap<String, String> {
        s.files()
            .map(|(_, f)| (f.path.clone(), f.text.clone()))
            .chain(
                s.templates
                    .iter()
                    .map(|(n, t)| (format!("{}/{n}", crate::sources::TEMPLATES_DIR), t.clone())),
            )
            .collect()
    };
    let (a, b) = (files(&disk), files(committed));
    let mut paths: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .map(|p| {
            if prefix.is_empty() {
                p.clone()
            } else {
                format!("{prefix}/{p}")
            }
        })
        .collect();
    paths.sort();
    paths.dedup();
    Ok(paths)
}
