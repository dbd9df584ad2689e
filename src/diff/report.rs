//! Reports of a diff (pure): the changes of `resource::compare`, the danger review's
//! findings and the facility summary -> text for a terminal, markdown for a pull-request
//! comment (capped), or the JSON contract. The dangers come first, then what the change does
//! to the facility, then the objects grouped by Flux Kustomization (with its layer) and
//! component, with counts.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::danger::Finding;
use super::facility::{self, Facility};
use super::resource::{Change, Status};
use crate::manifest::Layer;

/// The version of the JSON form of `diff --base`; bumped when a field changes meaning or
/// goes away.
pub const SCHEMA_VERSION: u32 = crate::JSON_SCHEMA_VERSION;

/// GitHub refuses comments over 65,536 characters; the cap leaves room for what a CI job
/// adds around the report (a marker, a link to the full report).
pub const MARKDOWN_CAP: usize = 60_000;

/// Room kept at the end of a capped comment for the note saying what was left out.
const NOTE_RESERVE: usize = 2_000;

/// What a diff found, ready to print.
#[derive(Debug, Clone)]
pub struct Report {
    /// "base (REV)".
    pub base: String,
    /// "head (working tree)" or "head (REV)".
    pub head: String,
    pub changes: Vec<Change>,
    /// Objects rendered at head, for the "no changes" line.
    pub objects: usize,
    /// The committed `out/` at head against what its sources produce.
    pub stale: Option<Stale>,
    /// What the danger review found, sorted by code.
    pub findings: Vec<Finding>,
    /// The facility at base and at head.
    pub facility: Option<(Facility, Facility)>,
}

impl Report {
    /// The facts of the facility that differ, in reading order.
    pub fn facility_changes(&self) -> Vec<facility::Line> {
        self.facility
            .as_ref()
            .map(|(b, h)| facility::changes(b, h))
            .unwrap_or_default()
    }
}

fn findings_phrase(n: usize) -> String {
    if n == 1 {
        "1 danger".to_owned()
    } else {
        format!("{n} dangers")
    }
}

/// `out/` at head is not what its own sources build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// How the folder is named to the reader (`out/`).
    pub out: String,
    /// Files missing, different or extra.
    pub files: usize,
}

impl Stale {
    pub fn message(&self) -> String {
        let (noun, verb) = if self.files == 1 {
            ("file", "differs")
        } else {
            ("files", "differ")
        };
        format!(
            "{} is stale: {} {noun} {verb}; run casa-build build",
            self.out, self.files
        )
    }
}

/// Added, removed, changed, renamed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts([usize; 4]);

impl Counts {
    fn add(&mut self, s: Status) {
        self.0[s as usize] += 1;
    }

    pub fn get(&self, s: Status) -> usize {
        self.0[s as usize]
    }

    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }

    /// "1 added, 2 changed": the non-zero counts.
    pub fn phrase(&self) -> String {
        Status::ALL
            .iter()
            .filter(|s| self.get(**s) > 0)
            .map(|s| format!("{} {}", self.get(*s), s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn of<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Self {
        let mut c = Self::default();
        for ch in changes {
            c.add(ch.status);
        }
        c
    }
}

/// One Flux Kustomization's share of the changes.
#[derive(Debug, Clone)]
pub struct UnitGroup {
    pub unit: String,
    pub layer: Option<Layer>,
    pub counts: Counts,
    pub components: Vec<(String, Counts)>,
}

/// Changes grouped by unit, then component, in the order they are sorted in (layer, unit,
/// component).
pub fn groups(changes: &[Change]) -> Vec<UnitGroup> {
    let mut out: Vec<UnitGroup> = Vec::new();
    for c in changes {
        if out.last().is_none_or(|g| g.unit != c.unit) {
            out.push(UnitGroup {
                unit: c.unit.clone(),
                layer: c.layer,
                counts: Counts::default(),
                components: Vec::new(),
            });
        }
        let Some(group) = out.last_mut() else {
            continue;
        };
        group.counts.add(c.status);
        match group.components.last_mut() {
            Some((name, counts)) if *name == c.component => counts.add(c.status),
            _ => {
                let mut counts = Counts::default();
                counts.add(c.status);
                group.components.push((c.component.clone(), counts));
            }
        }
    }
    out
}

fn layer_name(l: Option<Layer>) -> &'static str {
    match l {
        Some(Layer::Controllers) => "controllers",
        Some(Layer::Config) => "config",
        Some(Layer::Platform) => "platform",
        Some(Layer::Apps) => "apps",
        None => "?",
    }
}

/// "changed HelmRelease.helm.toolkit.fluxcd.io cmsaf-prod/jupyterhub", with "(was NAME)" for
/// a rename.
fn title(c: &Change) -> String {
    match &c.from {
        Some(from) => format!("{} {} (was {from})", c.status.as_str(), c.id),
        None => format!("{} {}", c.status.as_str(), c.id),
    }
}

/// "unit / component", or the unit alone when the component is named the same.
fn place(c: &Change) -> String {
    if c.component.is_empty() || c.component == c.unit {
        c.unit.clone()
    } else {
        format!("{} / {}", c.unit, c.component)
    }
}

fn objects(n: usize) -> String {
    if n == 1 {
        "1 object".to_owned()
    } else {
        format!("{n} objects")
    }
}

/// The terminal report.
pub fn text(r: &Report) -> String {
    let mut s = String::new();
    if r.changes.is_empty() {
        let _ = writeln!(
            s,
            "no changes: {} and {} render the same {}",
            r.base,
            r.head,
            objects(r.objects)
        );
    } else {
        let counts = Counts::of(&r.changes);
        let _ = writeln!(
            s,
            "{} -> {}: {} change ({})",
            r.base,
            r.head,
            objects(counts.total()),
            counts.phrase()
        );
    }
    if let Some(stale) = &r.stale {
        let _ = writeln!(s, "{}", stale.message());
    }
    if r.changes.is_empty() {
        return s;
    }
    if !r.findings.is_empty() {
        let _ = writeln!(
            s,
            "\n{}: what this change destroys when Flux applies it",
            findings_phrase(r.findings.len())
        );
        for f in &r.findings {
            let info = f.code.info();
            let _ = writeln!(
                s,
                "  {} {}: {}\n    destroys: {}\n    fix: {}",
                f.code, info.name, f.message, f.destroys, info.fix
            );
        }
    }
    let lines = r.facility_changes();
    if !lines.is_empty() {
        s.push_str("\nfacility:\n");
        for l in &lines {
            let _ = writeln!(s, "  {}: {}", l.what, l.text);
        }
    } else if let Some((_, head)) = &r.facility {
        let _ = writeln!(s, "\nfacility unchanged: {}", facility::unchanged(head));
    }
    s.push('\n');
    for g in groups(&r.changes) {
        let _ = writeln!(
            s,
            "{} ({}): {}",
            g.unit,
            layer_name(g.layer),
            g.counts.phrase()
        );
        for (component, counts) in &g.components {
            let _ = writeln!(s, "  {component}: {}", counts.phrase());
        }
    }
    for c in &r.changes {
        let _ = writeln!(s, "\n{} [{}]", title(c), place(c));
        s.push_str(&c.diff);
        if !c.diff.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}

/// The JSON contract: one object with `schema_version`, the two sides, the counts, the stale
/// note, the facility at base and head with the facts that differ, the danger review's
/// `findings`, and `changes`: one object per change with `group`, `kind`, `namespace`,
/// `name`, `status`, `layer`, `diff` (and `from` for a rename), plus `kustomization` and
/// `component`.
pub fn json(r: &Report) -> Value {
    let counts = Counts::of(&r.changes);
    let mut by_status = serde_json::Map::new();
    for s in Status::ALL {
        by_status.insert(s.as_str().to_owned(), json!(counts.get(s)));
    }
    let facility = r.facility.as_ref().map(|(b, h)| {
        json!({
            "base": b.to_json(),
            "head": h.to_json(),
            "changes": facility::changes(b, h)
                .iter()
                .map(|l| json!({"what": l.what, "text": l.text}))
                .collect::<Vec<_>>(),
        })
    });
    json!({
        "schema_version": SCHEMA_VERSION,
        "base": r.base,
        "head": r.head,
        "summary": {"objects": r.objects, "changes": by_status, "dangers": r.findings.len()},
        "stale": r.stale.as_ref().map(|s| json!({"out": s.out, "files": s.files, "message": s.message()})),
        "facility": facility,
        "findings": r.findings.iter().map(Finding::to_json).collect::<Vec<_>>(),
        "changes": changes_json(&r.changes),
    })
}

/// One object per change.
pub fn changes_json(changes: &[Change]) -> Value {
    Value::Array(
        changes
            .iter()
            .map(|c| {
                let mut v = json!({
                    "group": c.id.group,
                    "kind": c.id.kind,
                    "namespace": c.id.namespace,
                    "name": c.id.name,
                    "status": c.status,
                    "layer": c.layer,
                    "kustomization": c.unit,
                    "component": c.component,
                    "diff": c.diff,
                });
                if let Some(from) = &c.from {
                    v["from"] = json!(from);
                }
                v
            })
            .collect(),
    )
}

/// Text that a running character count can be kept of.
struct Budget {
    out: String,
    used: usize,
}

impl Budget {
    fn push(&mut self, s: &str) {
        self.used += s.chars().count();
        self.out.push_str(s);
    }

    /// Pushes `s` if the text stays within `limit` characters.
    fn try_push(&mut self, s: &str, limit: usize) -> bool {
        let n = s.chars().count();
        if self.used + n > limit {
            return false;
        }
        self.used += n;
        self.out.push_str(s);
        true
    }
}

/// The pull-request comment: a summary table, then one `<details>` block per object holding
/// a `diff` code block. At most `cap` characters: what does not fit is named in a closing
/// note, and `full` (the file holding the whole report) is pointed at.
pub fn markdown(r: &Report, cap: usize, full: Option<&str>) -> String {
    let mut b = Budget {
        out: String::new(),
        used: 0,
    };
    let counts = Counts::of(&r.changes);
    let mut head = String::from("### casa-build diff\n\n");
    if r.changes.is_empty() {
        let _ = writeln!(
            head,
            "No changes: {} and {} render the same {}.",
            code(&r.base),
            code(&r.head),
            objects(r.objects)
        );
    } else {
        let _ = writeln!(
            head,
            "{} → {}: **{} change** ({}).",
            code(&r.base),
            code(&r.head),
            objects(counts.total()),
            counts.phrase()
        );
    }
    if let Some(stale) = &r.stale {
        let _ = write!(
            head,
            "\n> [!WARNING]\n> {}\n",
            escape(&stale.message()).replace("casa-build build", "`casa-build build`")
        );
    }
    // The header is short and always kept, but never allowed past the cap.
    b.push(&truncate_chars(&head, cap));
    if r.changes.is_empty() {
        return b.out;
    }

    let limit = cap.saturating_sub(NOTE_RESERVE.min(cap / 4));
    // The dangers come first and are left out last: a reader who sees nothing else must
    // see what the change destroys.
    let mut omitted_findings = 0usize;
    if !r.findings.is_empty() {
        b.try_push(
            &format!(
                "\n> [!CAUTION]\n> **{}**: what this change destroys when Flux applies it.\n>\n",
                findings_phrase(r.findings.len())
            ),
            limit,
        );
        for f in &r.findings {
            let info = f.code.info();
            let item = format!(
                "> - **{}** `{}`: {}. **Destroys:** {}. **Fix:** {}.\n",
                f.code,
                info.name,
                escape(&arrows(&f.message)),
                escape(&f.destroys),
                escape(info.fix)
            );
            if !b.try_push(&item, limit) {
                omitted_findings += 1;
            }
        }
    }
    let lines = r.facility_changes();
    if !lines.is_empty() {
        let mut table = String::from("\n**Facility**\n\n| | base → head |\n| --- | --- |\n");
        for l in &lines {
            let _ = writeln!(table, "| {} | {} |", l.what, escape(&arrows(&l.text)));
        }
        b.try_push(&table, limit);
    } else if let Some((_, head)) = &r.facility {
        b.try_push(
            &format!(
                "\nFacility unchanged: {}.\n",
                escape(&facility::unchanged(head))
            ),
            limit,
        );
    }
    let mut omitted_rows = 0usize;
    b.try_push(
        "\n| Flux Kustomization | layer | component | added | removed | changed | renamed |\n| --- | --- | --- | ---: | ---: | ---: | ---: |\n",
        limit,
    );
    for g in groups(&r.changes) {
        for (component, c) in &g.components {
            let row = format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                escape(&g.unit),
                layer_name(g.layer),
                escape(component),
                c.get(Status::Added),
                c.get(Status::Removed),
                c.get(Status::Changed),
                c.get(Status::Renamed),
            );
            if !b.try_push(&row, limit) {
                omitted_rows += 1;
            }
        }
    }
    b.try_push(
        &format!(
            "| **total** | | | {} | {} | {} | {} |\n",
            counts.get(Status::Added),
            counts.get(Status::Removed),
            counts.get(Status::Changed),
            counts.get(Status::Renamed)
        ),
        limit,
    );

    let mut omitted: Vec<&Change> = Vec::new();
    for c in &r.changes {
        let fence = fence_for(&c.diff);
        let block = format!(
            "\n<details><summary>{} <code>{}</code> · {}</summary>\n\n{fence}diff\n{}{}{fence}\n\n</details>\n",
            c.status.as_str(),
            escape(&c.id.to_string()),
            escape(&place(c)),
            c.diff,
            if c.diff.ends_with('\n') { "" } else { "\n" },
        );
        if !b.try_push(&block, limit) {
            omitted.push(c);
        }
    }
    if omitted.is_empty() && omitted_rows == 0 && omitted_findings == 0 {
        return b.out;
    }
    let room = cap.saturating_sub(b.used);
    let note = note(&omitted, omitted_rows, omitted_findings, full, room);
    b.push(&note);
    b.out
}

/// The closing note of a capped comment, at most `room` characters.
fn note(
    omitted: &[&Change],
    rows: usize,
    findings: usize,
    full: Option<&str>,
    room: usize,
) -> String {
    let mut what = Vec::new();
    if findings > 0 {
        what.push(findings_phrase(findings));
    }
    if !omitted.is_empty() {
        what.push(format!(
            "the diffs of {} ({})",
            objects(omitted.len()),
            Counts::of(omitted.iter().copied()).phrase()
        ));
    }
    if rows > 0 {
        what.push(format!(
            "{rows} row{} of the summary table",
            if rows == 1 { "" } else { "s" }
        ));
    }
    let mut s = format!(
        "\n---\n**Not shown** (a comment is capped at {MARKDOWN_CAP} characters): {}.",
        what.join(" and ")
    );
    let end = match full {
        Some(f) => format!(" The full report is in {}.\n", code(f)),
        None => " Run `casa-build diff` with `--out-file FILE` for the full report.\n".to_owned(),
    };
    let end_len = end.chars().count();
    let mut used = s.chars().count() + end_len;
    if !omitted.is_empty() {
        let mut listed = 0;
        let mut list = String::from(" Left out:");
        for (i, c) in omitted.iter().enumerate() {
            let item = format!(
                "{} {} <code>{}</code>",
                if i == 0 { "" } else { "," },
                c.status.as_str(),
                escape(&c.id.to_string())
            );
            // Keep room for ", and N more".
            let more = 32;
            if used + list.chars().count() + item.chars().count() + more > room {
                break;
            }
            list.push_str(&item);
            listed += 1;
        }
        if listed < omitted.len() {
            let _ = write!(
                list,
                "{} and {} more",
                if listed == 0 { "" } else { "," },
                omitted.len() - listed
            );
        }
        list.push('.');
        used += list.chars().count();
        if used <= room {
            s.push_str(&list);
        }
    }
    s.push_str(&end);
    truncate_chars(&s, room)
}

/// The markdown report of a side whose site is invalid: which side, and its diagnostics.
pub fn markdown_invalid(side: &str, diagnostics: &str, cap: usize) -> String {
    let head = format!(
        "### casa-build diff\n\n**The site at {} is invalid**: no diff. Its diagnostics:\n\n",
        code(side)
    );
    let fence = fence_for(diagnostics);
    let tail = format!("\n{fence}\n");
    let room = cap.saturating_sub(head.chars().count() + tail.chars().count() + fence.len() + 6);
    let mut body = truncate_chars(diagnostics, room);
    if !body.ends_with('\n') {
        body.push('\n');
    }
    truncate_chars(&format!("{head}{fence}text\n{body}{fence}\n"), cap)
}

/// A code fence longer than any run of backticks in `text`, so no text can close it early.
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for ch in text.chars() {
        if ch == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// "a -> b" as "a → b": the arrow of the text form, which HTML escaping would spell `-&gt;`.
fn arrows(s: &str) -> String {
    s.replace(" -> ", " → ")
}

/// Inline code that survives any text: HTML `<code>` with the text escaped.
fn code(s: &str) -> String {
    format!("<code>{}</code>", escape(s))
}

/// Escapes text for markdown table cells and HTML.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn truncate_chars(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ResourceId;

    fn change(
        unit: &str,
        component: &str,
        name: &str,
        status: Status,
        diff_lines: usize,
    ) -> Change {
        let diff = std::iter::once("--- a/x\n+++ b/x\n@@ -1 +1 @@\n".to_owned())
            .chain((0..diff_lines).map(|i| format!("+line {i} of {name}\n")))
            .collect();
        Change {
            id: ResourceId {
                group: "helm.toolkit.fluxcd.io".to_owned(),
                kind: "HelmRelease".to_owned(),
                namespace: Some("ns".to_owned()),
                name: name.to_owned(),
            },
            from: (status == Status::Renamed).then(|| format!("{name}-old")),
            status,
            unit: unit.to_owned(),
            layer: Some(Layer::Apps),
            component: component.to_owned(),
            diff,
        }
    }

    fn report(changes: Vec<Change>) -> Report {
        Report {
            base: "base (HEAD)".to_owned(),
            head: "head (working tree)".to_owned(),
            changes,
            objects: 10,
            stale: None,
            findings: Vec::new(),
            facility: None,
        }
    }

    #[test]
    fn no_changes_says_so() {
        let r = report(Vec::new());
        assert_eq!(
            text(&r),
            "no changes: base (HEAD) and head (working tree) render the same 10 objects\n"
        );
        assert!(markdown(&r, MARKDOWN_CAP, None).contains("No changes"));
        assert_eq!(json(&r)["changes"], json!([]));
        assert_eq!(json(&r)["schema_version"], SCHEMA_VERSION);
    }

    #[test]
    fn text_groups_by_unit_and_component_with_counts() {
        let mut r = report(vec![
            change("instance-a", "dask", "d", Status::Added, 1),
            change("instance-a", "jupyterhub", "j", Status::Changed, 1),
            change("instance-a", "jupyterhub", "k", Status::Removed, 1),
            change("instance-b", "jupyterhub", "r", Status::Renamed, 1),
        ]);
        r.stale = Some(Stale {
            out: "out/".to_owned(),
            files: 3,
        });
        let t = text(&r);
        assert!(
            t.starts_with(
                "base (HEAD) -> head (working tree): 4 objects change (1 added, 1 removed, 1 changed, 1 renamed)\n\
                 out/ is stale: 3 files differ; run casa-build build\n\n\
                 instance-a (apps): 1 added, 1 removed, 1 changed\n  dask: 1 added\n  jupyterhub: 1 removed, 1 changed\n\
                 instance-b (apps): 1 renamed\n  jupyterhub: 1 renamed\n"
            ),
            "{t}"
        );
        assert!(t.contains("\nrenamed HelmRelease.helm.toolkit.fluxcd.io ns/r (was r-old) [instance-b / jupyterhub]\n--- a/x\n"), "{t}");
    }

    #[test]
    fn json_has_the_contract_fields() {
        let r = report(vec![change(
            "instance-b",
            "jupyterhub",
            "r",
            Status::Renamed,
            1,
        )]);
        let v = json(&r);
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["summary"]["changes"]["renamed"], 1);
        assert_eq!(v["findings"], json!([]));
        let o = &v["changes"][0];
        for key in [
            "group",
            "kind",
            "namespace",
            "name",
            "status",
            "layer",
            "diff",
            "from",
        ] {
            assert!(o.get(key).is_some(), "{key} missing in {o}");
        }
        assert_eq!(o["status"], "renamed");
        assert_eq!(o["layer"], "apps");
        assert_eq!(o["from"], "r-old");
    }

    fn dangerous() -> Report {
        let mut r = report(vec![change(
            "instance-a",
            "jupyterhub",
            "j",
            Status::Removed,
            1,
        )]);
        let ns = ResourceId {
            group: String::new(),
            kind: "Namespace".to_owned(),
            namespace: None,
            name: "a<b>".to_owned(),
        };
        r.findings = vec![Finding::new(
            crate::diagnostics::NAMESPACE_REMOVED,
            &ns,
            "Namespace a<b> leaves the tree",
            "every object in it",
        )];
        let fac = |instances: &[&str]| Facility {
            nodes: Default::default(),
            cores: 0,
            gpus: 0,
            ceph: None,
            instances: instances.iter().map(|s| (*s).to_owned()).collect(),
            public_names: Default::default(),
        };
        r.facility = Some((fac(&["a", "b"]), fac(&["b"])));
        r
    }

    #[test]
    fn dangers_and_the_facility_come_before_the_objects_in_every_form() {
        let r = dangerous();
        let t = text(&r);
        let danger = t
            .find("1 danger: what this change destroys when Flux applies it\n  CB120 namespace-removed: Namespace a<b> leaves the tree\n    destroys: every object in it\n    fix: ")
            .expect(&t);
        let fac = t
            .find("\nfacility:\n  instances: 2 -> 1 (- a)\n")
            .expect(&t);
        let objects = t.find("\nremoved HelmRelease").expect(&t);
        assert!(danger < fac && fac < objects, "{t}");

        let m = markdown(&r, MARKDOWN_CAP, None);
        let danger = m.find("> [!CAUTION]\n> **1 danger**").expect(&m);
        assert!(
            m.contains("> - **CB120** `namespace-removed`: Namespace a&lt;b&gt; leaves the tree. **Destroys:** every object in it. **Fix:** "),
            "{m}"
        );
        let fac = m.find("| instances | 2 → 1 (- a) |").expect(&m);
        let table = m.find("| Flux Kustomization |").expect(&m);
        assert!(danger < fac && fac < table, "{m}");

        let j = json(&r);
        assert_eq!(j["summary"]["dangers"], 1);
        assert_eq!(j["findings"][0]["code"], "CB120");
        assert_eq!(j["findings"][0]["name"], "namespace-removed");
        assert_eq!(j["findings"][0]["object"]["kind"], "Namespace");
        assert_eq!(j["facility"]["changes"][0]["what"], "instances");
        assert_eq!(j["facility"]["head"]["instances"], json!(["b"]));
    }

    #[test]
    fn a_capped_comment_keeps_the_dangers_over_the_diffs() {
        let mut r = dangerous();
        r.changes = (0..50)
            .map(|i| {
                change(
                    "instance-a",
                    "jupyterhub",
                    &format!("o{i}"),
                    Status::Changed,
                    40,
                )
            })
            .collect();
        let m = markdown(&r, 8_000, None);
        assert!(m.chars().count() <= 8_000);
        assert!(m.contains("**CB120**"), "{m}");
        assert!(m.contains("**Not shown**"), "{m}");
    }

    #[test]
    fn markdown_has_a_table_and_one_details_block_per_object() {
        let r = report(vec![
            change("instance-a", "jupyterhub", "j", Status::Changed, 2),
            change("instance-a", "jupyterhub", "k", Status::Added, 2),
        ]);
        let m = markdown(&r, MARKDOWN_CAP, Some("diff.md"));
        assert!(
            m.contains("| instance-a | apps | jupyterhub | 1 | 0 | 1 | 0 |\n"),
            "{m}"
        );
        assert_eq!(m.matches("<details>").count(), 2);
        assert_eq!(m.matches("```diff\n").count(), 2);
        assert!(!m.contains("Not shown"));
    }

    #[test]
    fn markdown_is_capped_and_says_what_was_left_out() {
        let changes: Vec<_> = (0..400)
            .map(|i| {
                change(
                    "instance-a",
                    "jupyterhub",
                    &format!("obj-{i:03}"),
                    Status::Changed,
                    40,
                )
            })
            .collect();
        let r = report(changes);
        let full = markdown(&r, usize::MAX, None);
        assert!(full.chars().count() > 3 * MARKDOWN_CAP);
        let m = markdown(&r, MARKDOWN_CAP, Some("diff.md"));
        assert!(m.chars().count() <= MARKDOWN_CAP, "{}", m.chars().count());
        assert!(m.chars().count() > MARKDOWN_CAP - NOTE_RESERVE - 5_000);
        let shown = m.matches("<details>").count();
        assert!(shown > 10 && shown < 400, "{shown}");
        let left = 400 - shown;
        assert!(
            m.contains(&format!("**Not shown** (a comment is capped at 60000 characters): the diffs of {left} objects ({left} changed).")),
            "{}",
            &m[m.len() - 3000..]
        );
        assert!(m.contains("The full report is in <code>diff.md</code>."));
        assert!(m.contains("more."));
        // Every block shown is whole.
        assert_eq!(m.matches("</details>").count(), shown);
    }

    #[test]
    fn markdown_cap_holds_for_a_huge_table_and_tiny_caps() {
        let changes: Vec<_> = (0..3000)
            .map(|i| change(&format!("unit-{i:04}"), "c", "x", Status::Added, 1))
            .collect();
        let r = report(changes);
        for cap in [0, 10, 500, 5_000, MARKDOWN_CAP] {
            let m = markdown(&r, cap, None);
            assert!(m.chars().count() <= cap, "cap {cap}: {}", m.chars().count());
        }
        let m = markdown(&r, MARKDOWN_CAP, None);
        assert!(
            m.contains("rows of the summary table"),
            "{}",
            &m[m.len() - 500..]
        );
    }

    #[test]
    fn a_diff_cannot_close_its_code_block() {
        let mut c = change("u", "c", "x", Status::Changed, 0);
        c.diff.push_str("+value: ```` not a fence\n");
        let m = markdown(&report(vec![c]), MARKDOWN_CAP, None);
        assert!(m.contains("`````diff\n"), "{m}");
    }

    #[test]
    fn invalid_side_report_names_the_side_and_stays_under_the_cap() {
        let m = markdown_invalid("base (HEAD~1)", "error[CB001]: bad\n", MARKDOWN_CAP);
        assert!(m.contains("<code>base (HEAD~1)</code> is invalid"));
        assert!(m.contains("```text\nerror[CB001]: bad\n```\n"), "{m}");
        let long = "x".repeat(100_000);
        assert!(
            markdown_invalid("head", &long, MARKDOWN_CAP)
                .chars()
                .count()
                <= MARKDOWN_CAP
        );
    }
}
