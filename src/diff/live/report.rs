//! Renders a live diff: text for the terminal, markdown for a pull request or an issue, JSON
//! for tools (an array of `{group, kind, namespace, name, status, diff, detail}`). Pure.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::compare::{Entry, Status};

/// The result of one `diff --live` run.
#[derive(Debug, Clone)]
pub struct Report {
    pub entries: Vec<Entry>,
    /// The API server asked.
    pub server: String,
    pub requests: usize,
    pub elapsed: Duration,
}

impl Report {
    pub fn count(&self, status: Status) -> usize {
        self.entries.iter().filter(|e| e.status == status).count()
    }

    /// Objects that could not be compared (the run ends with exit code 3).
    pub fn errors(&self) -> usize {
        self.count(Status::Error)
    }

    /// Drift, missing objects, orphans, or kinds the cluster lacks (exit code 1).
    pub fn has_differences(&self) -> bool {
        self.entries
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
        format!(
            "{} ({} requests to {} in {:.1} s)",
            counts.join(", "),
            self.requests,
            self.server,
            self.elapsed.as_secs_f64()
        )
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

/// Every entry that is not in sync, with its diff, then a summary line.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for e in report.entries.iter().filter(|e| e.status != Status::InSync) {
        let _ = write!(out, "{:<11} {} {}", e.status.as_str(), kind(e), object(e));
        match &e.detail {
            Some(d) => {
                let _ = writeln!(out, ": {d}");
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
    let _ = writeln!(out, "{}", report.summary());
    out
}

/// A table of what is not in sync, each diff folded under its object.
pub fn markdown(report: &Report) -> String {
    let mut out = format!("### Live cluster: `{}`\n\n", report.server);
    let shown: Vec<&Entry> = report
        .entries
        .iter()
        .filter(|e| e.status != Status::InSync)
        .collect();
    if shown.is_empty() {
        out.push_str("Everything is in sync.\n\n");
    } else {
        out.push_str("| status | kind | object | detail |\n|---|---|---|---|\n");
        for e in &shown {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                e.status.as_str(),
                kind(e),
                object(e),
                e.detail.as_deref().unwrap_or("").replace('|', "\\|")
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
    let _ = writeln!(out, "{}", report.summary());
    out
}

/// Every entry, in sync or not.
pub fn json(report: &Report) -> Value {
    Value::Array(
        report
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
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ResourceId;

    fn report() -> Report {
        let id = |kind: &str, ns: Option<&str>, name: &str| ResourceId {
            group: if kind == "Deployment" {
                "apps".into()
            } else {
                String::new()
            },
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        };
        Report {
            entries: vec![
                Entry {
                    id: id("Namespace", None, "dex"),
                    status: Status::InSync,
                    diff: None,
                    detail: None,
                },
                Entry {
                    id: id("Deployment", Some("triton"), "triton"),
                    status: Status::Changed,
                    diff: Some("--- live\n+++ tree\n@@ -1 +1 @@\n-a: 1\n+a: 2\n".into()),
                    detail: None,
                },
                Entry {
                    id: id("Service", Some("x"), "old"),
                    status: Status::Orphan,
                    diff: None,
                    detail: Some("a | b".into()),
                },
            ],
            server: "https://k8s:6443".into(),
            requests: 7,
            elapsed: Duration::from_millis(300),
        }
    }

    #[test]
    fn text_lists_what_differs_and_sums_up() {
        let t = text(&report());
        assert_eq!(
            t,
            "changed     Deployment.apps triton/triton\n--- live\n+++ tree\n@@ -1 +1 @@\n-a: 1\n+a: 2\n\
             orphan      Service x/old: a | b\n\
             1 in-sync, 1 changed, 1 orphan (7 requests to https://k8s:6443 in 0.3 s)\n"
        );
    }

    #[test]
    fn markdown_escapes_table_cells_and_folds_diffs() {
        let m = markdown(&report());
        assert!(m.contains("| orphan | Service | x/old | a \\| b |"), "{m}");
        assert!(m.contains("<details><summary>changed Deployment.apps triton/triton</summary>\n\n```diff\n--- live"), "{m}");
        assert!(!m.contains("Namespace"), "{m}");
    }

    #[test]
    fn json_has_the_contract_fields_for_every_entry() {
        let j = json(&report());
        assert_eq!(j.as_array().unwrap().len(), 3);
        assert_eq!(
            j[0],
            json!({"group": "", "kind": "Namespace", "namespace": null, "name": "dex", "status": "in-sync", "diff": null, "detail": null})
        );
        assert_eq!(j[1]["status"], "changed");
    }
}
