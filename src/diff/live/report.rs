//! Renders a live diff, Flux's view first, then the objects: text for the terminal, markdown
//! for a pull request or an issue, JSON for tools (one object, `schema_version` 1; see the
//! README). Pure, and every string passes through the run's [`Redactor`] on the way out.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::compare::{Entry, Status};
use super::flux::{Built, Unit, UnitState};
use crate::diff::danger::Finding;
use crate::redact::Redactor;

/// The version of the JSON form; bumped when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = crate::JSON_SCHEMA_VERSION;

/// How `--wait` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Every unit was Ready at the built revision after this long.
    Ready { after: Duration, polls: usize },
    /// The timeout ended first; the objects were not compared.
    TimedOut { after: Duration, polls: usize },
}

/// The result of one `diff --live` run.
#[derive(Debug, Clone)]
pub struct Report {
    pub flux: Vec<Unit>,
    pub built: Built,
    pub entries: Vec<Entry>,
    /// False when `--wait` used up the timeout: `entries` is empty then.
    pub compared: bool,
    pub wait: Option<Wait>,
    /// Kinds not searched for orphans, with why.
    pub unsearched: Vec<String>,
    /// What applying the tree to this cluster destroys (the danger review), sorted by code.
    pub findings: Vec<Finding>,
    /// The API server asked (without user-info).
    pub server: String,
    pub requests: usize,
    pub elapsed: Duration,
    pub redactor: Redactor,
}

/// The output forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Text,
    Markdown,
    Json,
}

impl Report {
    pub fn count(&self, status: Status) -> usize {
        self.entries.iter().filter(|e| e.status == status).count()
    }

    /// Objects that could not be compared (the run ends with exit code 3).
    pub fn errors(&self) -> usize {
        self.count(Status::Error)
    }

    /// The Flux units that are not Ready at the built revision.
    pub fn units_not_ready(&self) -> Vec<&Unit> {
        self.flux.iter().filter(|u| !u.is_done()).collect()
    }

    /// Drift, missing objects, orphans, kinds the cluster lacks, or Flux units not Ready at
    /// the built revision (exit code 1).
    pub fn has_differences(&self) -> bool {
        !self.units_not_ready().is_empty()
            || !self.compared
            || self
                .entries
                .iter()
                .any(|e| !matches!(e.status, Status::InSync | Status::Error))
    }

    fn summary(&self) -> String {
        let counts: Vec<String> = Status::ALL
            .iter()
            .map(|s| (s, self.count(*s)))
            .filter(|(s, n)| *n > 0 || **s == Status::InSync)
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect();
        let objects = if self.compared {
            counts.join(", ")
        } else {
            "objects not compared (--wait used the whole --timeout)".to_owned()
        };
        format!(
            "{objects} ({} requests to {} in {:.1} s)",
            self.requests,
            self.server,
            self.elapsed.as_secs_f64()
        )
    }

    /// The first line of the Flux summary.
    fn flux_heading(&self) -> String {
        let built = match (self.built.short(), self.built.dirty) {
            (Some(c), false) => format!("built from {c}"),
            (Some(c), true) => format!("built from {c} with uncommitted changes"),
            (None, _) => format!(
                "built commit unknown: {}",
                self.built
                    .note
                    .as_deref()
                    .unwrap_or("the site is not in a git repository")
            ),
        };
        let mut states: Vec<(UnitState, usize)> = Vec::new();
        for u in &self.flux {
            match states.iter_mut().find(|(s, _)| *s == u.state) {
                Some((_, n)) => *n += 1,
                None => states.push((u.state, 1)),
            }
        }
        states.sort();
        let counts: Vec<String> = states
            .iter()
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect();
        let wait = match self.wait {
            Some(Wait::Ready { after, polls }) => format!(
                "; all ready after {:.1} s ({polls} polls)",
                after.as_secs_f64()
            ),
            Some(Wait::TimedOut { after, polls }) => format!(
                "; still not ready after {:.1} s ({polls} polls, --timeout)",
                after.as_secs_f64()
            ),
            None => String::new(),
        };
        if self.flux.is_empty() {
            format!("flux ({built}): the tree has no Flux units")
        } else {
            format!(
                "flux ({built}): {} units, {}{wait}",
                self.flux.len(),
                counts.join(", ")
            )
        }
    }

    /// The report in `form`, every credential the run met redacted, and control characters
    /// escaped in the forms people read.
    pub fn render(&self, form: Form) -> String {
        match form {
            Form::Text => self.redactor.for_terminal(&text(self)),
            Form::Markdown => self.redactor.for_terminal(&markdown(self)),
            Form::Json => {
                let mut v = json(self);
                redact_value(&mut v, &self.redactor);
                serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
            }
        }
    }
}

/// A server's words on one line, control characters escaped (`\u{1b}`): an answer must not
/// drive the terminal it is shown on.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

fn redact_value(v: &mut Value, r: &Redactor) {
    match v {
        Value::String(s) => *s = r.redact(s),
        Value::Array(a) => a.iter_mut().for_each(|x| redact_value(x, r)),
        Value::Object(o) => o.values_mut().for_each(|x| redact_value(x, r)),
        _ => {}
    }
}

fn object(e: &Entry) -> String {
    match &e.id.namespace {
        Some(ns) => format!("{ns}/{}", e.id.name),
        None => e.id.name.clone(),
    }
}

fn kind(e: &Entry) -> String {
    if e.id.group.is_empty() {
        e.id.kind.clone()
    } else {
        format!("{}.{}", e.id.kind, e.id.group)
    }
}

fn unit_name(u: &Unit) -> String {
    match &u.id.namespace {
        Some(ns) => format!("{} {ns}/{}", u.id.kind, u.id.name),
        None => format!("{} {}", u.id.kind, u.id.name),
    }
}

/// The Flux summary (every unit), then every object that is not in sync with its diff,
/// then a summary line.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", report.flux_heading());
    for u in &report.flux {
        let _ = writeln!(
            out,
            "{:<11} {}: {}",
            u.state.as_str(),
            unit_name(u),
            u.detail
        );
    }
    out.push('\n');
    if !report.findings.is_empty() {
        let _ = writeln!(
            out,
            "{}: what applying the tree to this cluster destroys",
            dangers(report.findings.len())
        );
        for f in &report.findings {
            let info = f.code.info();
            let _ = writeln!(
                out,
                "  {} {}: {}\n    destroys: {}\n    fix: {}",
                f.code,
                info.name,
                printable(&f.message),
                printable(&f.destroys),
                info.fix
            );
        }
        out.push('\n');
    }
    for e in report.entries.iter().filter(|e| e.status != Status::InSync) {
        let _ = write!(out, "{:<11} {} {}", e.status.as_str(), kind(e), object(e));
        match &e.detail {
            Some(d) => {
                let _ = writeln!(out, ": {}", printable(d));
            }
            None => out.push('\n'),
        }
        if let Some(diff) = &e.diff {
            out.push_str(diff);
            if !diff.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    for why in &report.unsearched {
        let _ = writeln!(out, "not searched for orphans: {}", printable(why));
    }
    let _ = writeln!(out, "{}", report.summary());
    out
}

fn dangers(n: usize) -> String {
    if n == 1 {
        "1 danger".to_owned()
    } else {
        format!("{n} dangers")
    }
}

fn cell(s: &str) -> String {
    printable(s).replace('|', "\\|")
}

/// The Flux table, then a table of what is not in sync, each diff folded under its object.
pub fn markdown(report: &Report) -> String {
    let mut out = format!("### Live cluster: `{}`\n\n", report.server);
    let _ = writeln!(out, "{}\n", cell(&report.flux_heading()));
    if !report.flux.is_empty() {
        out.push_str("| state | unit | detail |\n|---|---|---|\n");
        for u in &report.flux {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                u.state.as_str(),
                cell(&unit_name(u)),
                cell(&u.detail)
            );
        }
        out.push('\n');
    }
    if !report.findings.is_empty() {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> **{}**: what applying the tree to this cluster destroys.\n>",
            dangers(report.findings.len())
        );
        for f in &report.findings {
            let info = f.code.info();
            let _ = writeln!(
                out,
                "> - **{}** `{}`: {}. **Destroys:** {}. **Fix:** {}.",
                f.code,
                info.name,
                cell(&f.message),
                cell(&f.destroys),
                info.fix
            );
        }
        out.push('\n');
    }
    let shown: Vec<&Entry> = report
        .entries
        .iter()
        .filter(|e| e.status != Status::InSync)
        .collect();
    if !report.compared {
        out.push_str("The objects were not compared: `--wait` used the whole `--timeout`.\n\n");
    } else if shown.is_empty() {
        out.push_str("Every object is in sync.\n\n");
    } else {
        out.push_str("| status | kind | object | detail |\n|---|---|---|---|\n");
        for e in &shown {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                e.status.as_str(),
                kind(e),
                object(e),
                cell(e.detail.as_deref().unwrap_or(""))
            );
        }
        out.push('\n');
        for e in shown {
            if let Some(diff) = &e.diff {
                let _ = write!(
                    out,
                    "<details><summary>{} {} {}</summary>\n\n```diff\n{diff}{}```\n\n</details>\n\n",
                    e.status.as_str(),
                    kind(e),
                    object(e),
                    if diff.ends_with('\n') { "" } else { "\n" }
                );
            }
        }
    }
    if !report.unsearched.is_empty() {
        out.push_str("Not searched for orphans:\n\n");
        for why in &report.unsearched {
            let _ = writeln!(out, "- {}", cell(why));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", report.summary());
    out
}

/// Everything: the Flux units, every object (in sync or not), what was not searched.
pub fn json(report: &Report) -> Value {
    let units: Vec<Value> = report
        .flux
        .iter()
        .map(|u| {
            json!({
                "group": u.id.group,
                "kind": u.id.kind,
                "namespace": u.id.namespace,
                "name": u.id.name,
                "state": u.state,
                "ready": u.ready.as_ref().map(|c| json!({"status": c.status, "reason": c.reason, "message": c.message})),
                "suspended": u.suspended,
                "applied": u.applied,
                "wanted": u.wanted,
                "detail": u.detail,
            })
        })
        .collect();
    let objects: Vec<Value> = report
        .entries
        .iter()
        .map(|e| {
            json!({
                "group": e.id.group,
                "kind": e.id.kind,
                "namespace": e.id.namespace,
                "name": e.id.name,
                "status": e.status,
                "diff": e.diff,
                "detail": e.detail,
                "found": e.found,
            })
        })
        .collect();
    let mut counts = serde_json::Map::new();
    for s in Status::ALL {
        counts.insert(s.as_str().to_owned(), json!(report.count(s)));
    }
    let wait = report.wait.map(|w| match w {
        Wait::Ready { after, polls } => {
            json!({"outcome": "ready", "seconds": after.as_secs_f64(), "polls": polls})
        }
        Wait::TimedOut { after, polls } => {
            json!({"outcome": "timed-out", "seconds": after.as_secs_f64(), "polls": polls})
        }
    });
    json!({
        "schema_version": SCHEMA_VERSION,
        "server": report.server,
        "built_from": {"commit": report.built.commit, "dirty": report.built.dirty, "note": report.built.note},
        "flux": units,
        "wait": wait,
        "compared": report.compared,
        "objects": objects,
        "unsearched": report.unsearched,
        "findings": report.findings.iter().map(Finding::to_json).collect::<Vec<_>>(),
        "summary": {"objects": counts, "dangers": report.findings.len(), "requests": report.requests, "seconds": report.elapsed.as_secs_f64()},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::live::compare::Found;
    use crate::diff::live::flux::Condition;
    use crate::manifest::ResourceId;

    fn id(group: &str, kind: &str, ns: Option<&str>, name: &str) -> ResourceId {
        ResourceId {
            group: group.into(),
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        }
    }

    fn report() -> Report {
        let entry = |id, status, diff: Option<&str>, detail: Option<&str>| Entry {
            id,
            status,
            diff: diff.map(Into::into),
            detail: detail.map(Into::into),
            found: if status == Status::Orphan {
                vec![Found::Label]
            } else {
                vec![]
            },
        };
        let mut redactor = Redactor::default();
        redactor.add("planted-token-1234");
        Report {
            flux: vec![
                Unit {
                    id: id(
                        "kustomize.toolkit.fluxcd.io",
                        "Kustomization",
                        Some("flux-system"),
                        "dex",
                    ),
                    state: UnitState::Ready,
                    ready: Some(Condition {
                        status: "True".into(),
                        reason: "ReconciliationSucceeded".into(),
                        message: "Applied revision: main@sha1:1a2b".into(),
                    }),
                    suspended: false,
                    applied: Some("main@sha1:1a2b".into()),
                    wanted: Some("1a2b".into()),
                    detail: "at main@sha1:1a2b".into(),
                },
                Unit {
                    id: id("helm.toolkit.fluxcd.io", "HelmRelease", Some("dex"), "dex"),
                    state: UnitState::NotReady,
                    ready: Some(Condition {
                        status: "False".into(),
                        reason: "InstallFailed".into(),
                        message: "token planted-token-1234 | rejected".into(),
                    }),
                    suspended: false,
                    applied: None,
                    wanted: Some("0.24.0".into()),
                    detail: "Ready False, InstallFailed: token planted-token-1234 | rejected"
                        .into(),
                },
            ],
            built: Built {
                commit: Some("1a2b3c4d5e6f708192a3".into()),
                dirty: false,
                note: None,
            },
            entries: vec![
                entry(id("", "Namespace", None, "dex"), Status::InSync, None, None),
                entry(
                    id("apps", "Deployment", Some("triton"), "triton"),
                    Status::Changed,
                    Some("--- live\n+++ tree\n@@ -1 +1 @@\n-a: 1\n+a: 2\n"),
                    None,
                ),
                entry(
                    id("", "Service", Some("x"), "old"),
                    Status::Orphan,
                    None,
                    Some("a | b\u{1b}[2J"),
                ),
            ],
            compared: true,
            wait: None,
            unsearched: vec!["list secrets in all namespaces: forbidden (403)".into()],
            findings: Vec::new(),
            server: "https://k8s:6443".into(),
            requests: 7,
            elapsed: Duration::from_millis(300),
            redactor,
        }
    }

    #[test]
    fn text_starts_with_flux_then_lists_what_differs() {
        let t = report().render(Form::Text);
        assert_eq!(
            t,
            "flux (built from 1a2b3c4d5e6f): 2 units, 1 not-ready, 1 ready\n\
             ready       Kustomization flux-system/dex: at main@sha1:1a2b\n\
             not-ready   HelmRelease dex/dex: Ready False, InstallFailed: token REDACTED | rejected\n\
             \n\
             changed     Deployment.apps triton/triton\n--- live\n+++ tree\n@@ -1 +1 @@\n-a: 1\n+a: 2\n\
             orphan      Service x/old: a | b\\u{1b}[2J\n\
             not searched for orphans: list secrets in all namespaces: forbidden (403)\n\
             1 in-sync, 1 changed, 1 orphan (7 requests to https://k8s:6443 in 0.3 s)\n"
        );
    }

    #[test]
    fn markdown_has_the_flux_table_first_and_escapes_cells() {
        let m = report().render(Form::Markdown);
        let flux = m.find("| not-ready | HelmRelease dex/dex |").expect(&m);
        let objects = m
            .find("| orphan | Service | x/old | a \\| b\\u{1b}[2J |")
            .expect(&m);
        assert!(flux < objects, "{m}");
        assert!(m.contains("<details><summary>changed Deployment.apps triton/triton</summary>\n\n```diff\n--- live"), "{m}");
        assert!(!m.contains("planted-token-1234"), "{m}");
        assert!(!m.contains("| in-sync |"), "{m}");
    }

    #[test]
    fn json_has_flux_first_and_every_object() {
        let text = report().render(Form::Json);
        assert!(!text.contains("planted-token-1234"));
        let j: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(j["schema_version"], 1);
        assert_eq!(j["flux"][1]["state"], "not-ready");
        assert_eq!(j["flux"][1]["ready"]["reason"], "InstallFailed");
        assert_eq!(j["objects"].as_array().unwrap().len(), 3);
        assert_eq!(
            j["objects"][0],
            json!({"group": "", "kind": "Namespace", "namespace": null, "name": "dex", "status": "in-sync", "diff": null, "detail": null, "found": []})
        );
        assert_eq!(j["objects"][2]["found"], json!(["label"]));
        assert_eq!(j["summary"]["objects"]["changed"], 1);
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        assert!(
            keys.iter().position(|k| *k == "flux") < keys.iter().position(|k| *k == "objects"),
            "{keys:?}"
        );
    }

    #[test]
    fn differences_include_units_not_ready() {
        let mut r = report();
        r.entries.retain(|e| e.status == Status::InSync);
        assert!(r.has_differences());
        r.flux.retain(|u| u.state == UnitState::Ready);
        assert!(!r.has_differences());
    }
}
