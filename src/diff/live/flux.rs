//! Flux's own view of the site, pure: the tree's Flux objects (GitRepository, Kustomizations,
//! HelmReleases) and what the cluster holds for them -> one [`Unit`] each: its Ready condition
//! (reason and message), whether it is suspended, and the revision it last applied against
//! the one the tree was built from.
//!
//! The fields read, at the pinned controllers (../shared/schemas/SOURCES.md):
//! - `status.conditions[type=Ready]` (metav1.Condition) and `status.observedGeneration`: all
//!   three kinds (fluxcd/pkg apis/meta; kstatus counts a condition as current only once the
//!   observed generation reached `metadata.generation`);
//! - `spec.suspend`: all three (kustomize-controller@v1.9.4 api/v1/kustomization_types.go,
//!   helm-controller@v1.6.3 api/v2/helmrelease_types.go, source-controller@v1.9.1
//!   api/v1/gitrepository_types.go);
//! - Kustomization `status.lastAppliedRevision`, GitRepository `status.artifact.revision`:
//!   `<branch>@sha1:<commit>` (fluxcd/pkg git/git.go `Commit.String`; older controllers wrote
//!   `<branch>/<commit>`, both read as pkg git/utils.go `ExtractHashFromRevision` reads them);
//! - HelmRelease: the chart version of the newest `status.history` entry (api/v2
//!   snapshot_types.go `Snapshots.Latest`, highest `version`), else
//!   `status.lastAttemptedRevision` (`1.2.3`, or `1.2.3+<digest>` from an OCI source), against
//!   the tree's `spec.chart.spec.version`.

use serde_json::Value;

use super::compare::Observed;
use crate::manifest::{Manifest, ResourceId};

pub const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";
pub const HELM_GROUP: &str = "helm.toolkit.fluxcd.io";
pub const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";

/// The commit the tree was built from, when the site is in a git repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Built {
    /// The full commit id of `HEAD`.
    pub commit: Option<String>,
    /// Files of the site differ from that commit (the tree is not exactly what it holds).
    pub dirty: bool,
    /// Why there is no commit (not a repository, no commit yet), for the report.
    pub note: Option<String>,
}

impl Built {
    pub fn short(&self) -> Option<&str> {
        self.commit.as_deref().map(|c| &c[..c.len().min(12)])
    }
}

/// Where one unit stands, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitState {
    /// The tree has it; the cluster does not.
    Missing,
    /// `spec.suspend: true` where the tree does not ask for it: Flux applies nothing for it.
    Suspended,
    /// Suspended, as the tree asks (`spec.suspend: true` in the tree too).
    SuspendedByTree,
    /// Ready is not True (failed, or still progressing), or not for the current generation.
    NotReady,
    /// Ready, at another revision than the tree's.
    Stale,
    /// Ready at the tree's revision (or Ready, when the revision cannot be known).
    Ready,
    /// It could not be read (the request was refused): see the object entry.
    Unknown,
}

impl UnitState {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitState::Missing => "missing",
            UnitState::Suspended => "suspended",
            UnitState::SuspendedByTree => "suspended-by-tree",
            UnitState::NotReady => "not-ready",
            UnitState::Stale => "stale",
            UnitState::Ready => "ready",
            UnitState::Unknown => "unknown",
        }
    }
}

/// The Ready condition as the controller wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub status: String,
    pub reason: String,
    pub message: String,
}

/// One Flux object of the site, as Flux sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: ResourceId,
    pub state: UnitState,
    pub ready: Option<Condition>,
    pub suspended: bool,
    /// The revision the controller last applied (fetched, for a GitRepository).
    pub applied: Option<String>,
    /// The revision the tree asks for: the built commit, or a HelmRelease's chart version.
    pub wanted: Option<String>,
    /// One line: why it is in this state.
    pub detail: String,
}

impl Unit {
    /// Ready at the tree's revision, or suspended as the tree asks: what `--wait` waits for.
    pub fn is_done(&self) -> bool {
        matches!(self.state, UnitState::Ready | UnitState::SuspendedByTree)
    }
}

/// Whether `m` is one of the Flux kinds the summary reports.
pub fn is_unit(m: &Manifest) -> bool {
    matches!(
        (m.id.group.as_str(), m.id.kind.as_str()),
        (KUSTOMIZE_GROUP, "Kustomization")
            | (HELM_GROUP, "HelmRelease")
            | (SOURCE_GROUP, "GitRepository")
    )
}

/// One unit per Flux object of the tree, GitRepositories first, then Kustomizations, then
/// HelmReleases, each by namespace and name. `ids` and `observed` are aligned with `desired`.
pub fn units(
    desired: &[Manifest],
    ids: &[ResourceId],
    observed: &[Observed],
    built: &Built,
) -> Vec<Unit> {
    let mut out: Vec<Unit> = desired
        .iter()
        .enumerate()
        .filter(|(_, m)| is_unit(m))
        .map(|(i, m)| {
            let id = ids.get(i).cloned().unwrap_or_else(|| m.id.clone());
            unit(
                id,
                m,
                observed.get(i).unwrap_or(&Observed::NotServed),
                built,
            )
        })
        .collect();
    let order = |k: &str| match k {
        "GitRepository" => 0,
        "Kustomization" => 1,
        _ => 2,
    };
    out.sort_by(|a, b| {
        order(&a.id.kind)
            .cmp(&order(&b.id.kind))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

fn unit(id: ResourceId, m: &Manifest, observed: &Observed, built: &Built) -> Unit {
    let helm = m.id.group == HELM_GROUP;
    let wanted = if helm {
        m.value
            .pointer("/spec/chart/spec/version")
            .and_then(Value::as_str)
            .filter(|v| is_exact_version(v))
            .map(str::to_owned)
    } else {
        built.commit.clone()
    };
    let mut u = Unit {
        id,
        state: UnitState::Unknown,
        ready: None,
        suspended: false,
        applied: None,
        wanted,
        detail: String::new(),
    };
    let live = match observed {
        Observed::Live { live, .. } => live,
        Observed::Missing => {
            u.state = UnitState::Missing;
            u.detail = "not in the cluster".to_owned();
            return u;
        }
        Observed::NotServed => {
            u.state = UnitState::Missing;
            u.detail = format!(
                "the cluster does not serve {} {} (is Flux installed?)",
                m.api_version(),
                m.id.kind
            );
            return u;
        }
        Observed::Fault(message) => {
            u.detail = message.clone();
            return u;
        }
    };
    u.suspended = live.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    u.ready = ready_condition(live);
    u.applied = match m.id.kind.as_str() {
        "Kustomization" => text_at(live, "/status/lastAppliedRevision"),
        "GitRepository" => text_at(live, "/status/artifact/revision"),
        _ => latest_chart_version(live).or_else(|| text_at(live, "/status/lastAttemptedRevision")),
    };
    let generation = live.pointer("/metadata/generation").and_then(Value::as_i64);
    let observed_generation = live
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64);
    let current = match (generation, observed_generation) {
        (Some(g), Some(o)) => o >= g,
        (Some(_), None) => false,
        _ => true,
    };
    let ready_true = u.ready.as_ref().is_some_and(|c| c.status == "True");
    let condition_text = match &u.ready {
        Some(c) => {
            let mut t = format!("Ready {}", c.status);
            if !c.reason.is_empty() {
                t.push_str(&format!(", {}", c.reason));
            }
            if !c.message.is_empty() {
                t.push_str(&format!(": {}", c.message));
            }
            t
        }
        None => "no Ready condition yet".to_owned(),
    };
    let at_revision = match (&u.applied, &u.wanted) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(applied), Some(wanted)) => {
            if helm {
                applied == wanted || applied.split('+').next() == Some(wanted.as_str())
            } else {
                same_commit(applied, wanted)
            }
        }
    };
    let shown = |rev: &str| short_revision(rev);
    let tree_suspends = m.value.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    if u.suspended && tree_suspends {
        u.state = UnitState::SuspendedByTree;
        u.detail = format!(
            "suspended, as the tree says (spec.suspend: true); last applied {}",
            u.applied
                .as_deref()
                .map(shown)
                .unwrap_or_else(|| "nothing".to_owned())
        );
    } else if u.suspended {
        u.state = UnitState::Suspended;
        u.detail = format!("spec.suspend is true, Flux applies nothing for it ({condition_text})");
    } else if !ready_true {
        u.state = UnitState::NotReady;
        u.detail = condition_text;
    } else if !current {
        u.state = UnitState::NotReady;
        u.detail = format!(
            "Ready is for generation {}, the object is at generation {}: the controller has not reconciled the change yet",
            observed_generation.unwrap_or_default(),
            generation.unwrap_or_default()
        );
    } else if !at_revision {
        u.state = UnitState::Stale;
        let wanted = u.wanted.as_deref().unwrap_or_default();
        u.detail = match (&u.applied, helm) {
            (Some(a), true) => format!("chart {a} applied, the tree asks for {wanted}"),
            (Some(a), false) => format!(
                "applied {}, the tree was built from {}",
                shown(a),
                &wanted[..wanted.len().min(12)]
            ),
            (None, _) => "Ready, but no revision applied yet".to_owned(),
        };
    } else {
        u.state = UnitState::Ready;
        u.detail = match (&u.applied, &u.wanted) {
            (Some(a), None) if !helm => format!(
                "at {} (the built commit is unknown: {})",
                shown(a),
                built
                    .note
                    .as_deref()
                    .unwrap_or("the site is not in a git repository")
            ),
            (Some(a), _) => format!("at {}", shown(a)),
            (None, _) => condition_text,
        };
    }
    u.detail = one_line(&u.detail);
    u
}

fn ready_condition(live: &Value) -> Option<Condition> {
    let conditions = live.pointer("/status/conditions")?.as_array()?;
    let c = conditions
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))?;
    let text = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Some(Condition {
        status: text("status"),
        reason: text("reason"),
        message: one_line(&text("message")),
    })
}

fn text_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The chart version of the history entry with the highest release `version`.
fn latest_chart_version(live: &Value) -> Option<String> {
    live.pointer("/status/history")?
        .as_array()?
        .iter()
        .max_by_key(|s| s.get("version").and_then(Value::as_i64).unwrap_or(i64::MIN))?
        .get("chartVersion")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A pinned version, not a semver range (`1.x`, `>=1.0`, `^2`, `*`): only those can be
/// compared with what was applied.
fn is_exact_version(v: &str) -> bool {
    !v.is_empty()
        && !v
            .chars()
            .any(|c| matches!(c, '<' | '>' | '=' | '^' | '~' | '*' | '|' | ' ' | 'x' | 'X'))
}

/// A revision with its commit id cut to 12 characters (`main@sha1:1a2b3c4d5e6f`), as the
/// summary shows it; the JSON form keeps the whole.
fn short_revision(revision: &str) -> String {
    let commit = revision_commit(revision);
    if commit.len() > 12 && commit.chars().all(|c| c.is_ascii_hexdigit()) {
        format!(
            "{}{}",
            &revision[..revision.len() - commit.len()],
            &commit[..12]
        )
    } else {
        revision.to_owned()
    }
}

/// The commit of a Flux revision (`main@sha1:<id>`, `sha1:<id>`, `main/<id>`, `<id>`), as
/// fluxcd/pkg `ExtractHashFromRevision` reads it.
pub fn revision_commit(revision: &str) -> &str {
    if let Some(i) = revision.rfind(':') {
        return &revision[i + 1..];
    }
    match revision.rfind('/') {
        Some(i) => &revision[i + 1..],
        None => revision,
    }
}

fn same_commit(revision: &str, commit: &str) -> bool {
    let applied = revision_commit(revision);
    !applied.is_empty()
        && (applied.eq_ignore_ascii_case(commit)
            // An abbreviated id on either side still names one commit.
            || (applied.len() >= 7 && commit.starts_with(applied))
            || (commit.len() >= 7 && applied.starts_with(commit)))
}

/// Controller messages span lines (a kustomize build error, a Helm failure with its log);
/// the summary shows them on one, control characters escaped, at most 300 characters.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if out.chars().count() >= 300 {
            out.push('…');
            break;
        }
        match c {
            '\n' | '\r' | '\t' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COMMIT: &str = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";

    fn manifest(v: Value) -> Manifest {
        Manifest {
            id: ResourceId::of(&v).unwrap(),
            unit: "u".into(),
            template: "t".into(),
            value: v,
        }
    }

    fn kustomization() -> Manifest {
        manifest(
            json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "dex", "namespace": "flux-system"}, "spec": {"path": "./out/dex"}}),
        )
    }

    fn helmrelease() -> Manifest {
        manifest(
            json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "dex", "namespace": "dex"},
            "spec": {"chart": {"spec": {"chart": "dex", "version": "0.24.0"}}}}),
        )
    }

    /// A live object with the status its controller writes.
    fn live(m: &Manifest, status: Value, suspend: bool) -> Observed {
        let mut v = m.value.clone();
        v["metadata"]["generation"] = json!(2);
        if suspend {
            v["spec"]["suspend"] = json!(true);
        }
        v["status"] = status;
        Observed::Live {
            live: v,
            dry_run: None,
        }
    }

    fn ready(reason: &str) -> Value {
        json!([{"type": "Ready", "status": "True", "reason": reason, "message": "Applied revision: main@sha1:x", "lastTransitionTime": "2026-06-15T04:16:00Z", "observedGeneration": 2}])
    }

    fn one(m: &Manifest, o: Observed, built: &Built) -> Unit {
        units(
            std::slice::from_ref(m),
            std::slice::from_ref(&m.id),
            &[o],
            built,
        )
        .remove(0)
    }

    fn built() -> Built {
        Built {
            commit: Some(COMMIT.into()),
            ..Built::default()
        }
    }

    #[test]
    fn ready_at_the_built_commit() {
        let k = kustomization();
        let u = one(
            &k,
            live(
                &k,
                json!({"observedGeneration": 2, "conditions": ready("ReconciliationSucceeded"), "lastAppliedRevision": format!("main@sha1:{COMMIT}")}),
                false,
            ),
            &built(),
        );
        assert_eq!(u.state, UnitState::Ready, "{u:?}");
        assert!(u.is_done());
        assert_eq!(u.detail, "at main@sha1:1a2b3c4d5e6f");
        assert_eq!(u.applied, Some(format!("main@sha1:{COMMIT}")));
    }

    #[test]
    fn another_commit_is_stale_and_an_old_spelling_still_compares() {
        let k = kustomization();
        let stale = one(
            &k,
            live(
                &k,
                json!({"observedGeneration": 2, "conditions": ready("ReconciliationSucceeded"), "lastAppliedRevision": "main@sha1:0000000000000000000000000000000000000001"}),
                false,
            ),
            &built(),
        );
        assert_eq!(stale.state, UnitState::Stale);
        assert_eq!(
            stale.detail,
            "applied main@sha1:000000000000, the tree was built from 1a2b3c4d5e6f"
        );
        let legacy = one(
            &k,
            live(
                &k,
                json!({"observedGeneration": 2, "conditions": ready("ReconciliationSucceeded"), "lastAppliedRevision": format!("main/{COMMIT}")}),
                false,
            ),
            &built(),
        );
        assert_eq!(legacy.state, UnitState::Ready);
    }

    #[test]
    fn not_ready_shows_reason_and_message_on_one_line() {
        let h = helmrelease();
        let u = one(
            &h,
            live(
                &h,
                json!({"observedGeneration": 2, "conditions": [{"type": "Ready", "status": "False", "reason": "InstallFailed", "message": "Helm install failed for release dex/dex with chart dex@0.24.0:\n\tcontext deadline exceeded\u{1b}[0m"}]}),
                false,
            ),
            &built(),
        );
        assert_eq!(u.state, UnitState::NotReady);
        assert_eq!(
            u.detail,
            "Ready False, InstallFailed: Helm install failed for release dex/dex with chart dex@0.24.0: context deadline exceeded\\u{1b}[0m"
        );
    }

    #[test]
    fn an_unobserved_generation_is_not_ready_yet() {
        let k = kustomization();
        let u = one(
            &k,
            live(
                &k,
                json!({"observedGeneration": 1, "conditions": ready("ReconciliationSucceeded"), "lastAppliedRevision": format!("main@sha1:{COMMIT}")}),
                false,
            ),
            &built(),
        );
        assert_eq!(u.state, UnitState::NotReady);
        assert!(
            u.detail
                .contains("generation 1, the object is at generation 2"),
            "{}",
            u.detail
        );
    }

    #[test]
    fn suspended_wins_over_ready() {
        let k = kustomization();
        let u = one(
            &k,
            live(
                &k,
                json!({"observedGeneration": 2, "conditions": ready("ReconciliationSucceeded"), "lastAppliedRevision": format!("main@sha1:{COMMIT}")}),
                true,
            ),
            &built(),
        );
        assert_eq!(u.state, UnitState::Suspended);
        assert!(u.suspended);
        assert!(!u.is_done());
        assert!(u.detail.starts_with("spec.suspend is true"), "{}", u.detail);
        // Suspended because the tree says so: nothing to wait for.
        let mut asked = kustomization();
        asked.value["spec"]["suspend"] = json!(true);
        let u = one(
            &asked,
            live(
                &asked,
                json!({"observedGeneration": 2, "conditions": ready("ReconciliationSucceeded"), "lastAppliedRevision": "main@sha1:0000000000000000000000000000000000000001"}),
                true,
            ),
            &built(),
        );
        assert_eq!(u.state, UnitState::SuspendedByTree);
        assert!(u.is_done());
        assert_eq!(
            u.detail,
            "suspended, as the tree says (spec.suspend: true); last applied main@sha1:000000000000"
        );
    }

    #[test]
    fn helm_releases_compare_the_latest_chart_version() {
        let h = helmrelease();
        let history = |versions: &[(i64, &str)]| {
            json!(versions.iter().map(|(v, c)| json!({"version": v, "chartVersion": c, "status": "deployed", "name": "dex", "namespace": "dex", "chartName": "dex", "configDigest": "sha256:0", "digest": "sha256:0", "firstDeployed": "2026-06-15T04:16:00Z", "lastDeployed": "2026-06-15T04:16:00Z"})).collect::<Vec<_>>())
        };
        let at = one(
            &h,
            live(
                &h,
                json!({"observedGeneration": 2, "conditions": ready("UpgradeSucceeded"), "history": history(&[(1, "0.23.0"), (2, "0.24.0")])}),
                false,
            ),
            &built(),
        );
        assert_eq!(at.state, UnitState::Ready, "{at:?}");
        let behind = one(
            &h,
            live(
                &h,
                json!({"observedGeneration": 2, "conditions": ready("UpgradeSucceeded"), "history": history(&[(3, "0.23.0"), (2, "0.24.0")])}),
                false,
            ),
            &built(),
        );
        assert_eq!(behind.state, UnitState::Stale);
        assert_eq!(
            behind.detail,
            "chart 0.23.0 applied, the tree asks for 0.24.0"
        );
        let oci = one(
            &h,
            live(
                &h,
                json!({"observedGeneration": 2, "conditions": ready("UpgradeSucceeded"), "lastAttemptedRevision": "0.24.0+1234567890ab"}),
                false,
            ),
            &built(),
        );
        assert_eq!(oci.state, UnitState::Ready);
    }

    #[test]
    fn missing_and_unknown_commit() {
        let k = kustomization();
        assert_eq!(
            one(&k, Observed::Missing, &built()).state,
            UnitState::Missing
        );
        let u = one(
            &k,
            live(
                &k,
                json!({"observedGeneration": 2, "conditions": ready("ReconciliationSucceeded"), "lastAppliedRevision": "main@sha1:abc"}),
                false,
            ),
            &Built {
                note: Some("the site is not in a git repository".into()),
                ..Built::default()
            },
        );
        assert_eq!(u.state, UnitState::Ready);
        assert!(
            u.detail
                .contains("the built commit is unknown: the site is not in a git repository"),
            "{}",
            u.detail
        );
    }

    #[test]
    fn revisions_read_as_flux_reads_them() {
        assert_eq!(revision_commit("main@sha1:abc"), "abc");
        assert_eq!(revision_commit("feature/x@sha1:abc"), "abc");
        assert_eq!(revision_commit("main/abc"), "abc");
        assert_eq!(revision_commit("abc"), "abc");
        assert!(!is_exact_version("1.x"));
        assert!(!is_exact_version(">=1.0.0"));
        assert!(is_exact_version("v1.20.6"));
    }
}
