//! CB130 `unit-moved`: an object moves from one Flux Kustomization to another.
//!
//! Why: the two Kustomizations reconcile independently; when the old one applies first, the
//! object has left its inventory while it still carries the old owner's labels, so its
//! garbage collection deletes it (fluxcd/kustomize-controller prunes what left the inventory
//! and is still labelled `kustomize.toolkit.fluxcd.io/name` with its name), and the new one
//! re-creates it: a Namespace comes back empty, a claim with a new, empty volume.
//! Fix: move it in two steps (first add it to the new unit with
//! `kustomize.toolkit.fluxcd.io/prune: disabled`, then remove it from the old), or keep it.

use super::{Finding, Review, named};
use crate::diagnostics::UNIT_MOVED;

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.kept()
        .filter_map(|(id, before, after)| {
            let (from, to) = (before.unit?, after.unit?);
            (from != to && r.deletes(&before)).then(|| {
                let holds = match (id.group.as_str(), id.kind.as_str()) {
                    ("", "Namespace") => "everything in the namespace, the users' home volumes included",
                    ("", "PersistentVolumeClaim") => "the claim's volume and its data",
                    _ => "the object, until the new unit re-creates it",
                };
                Finding::new(
                    UNIT_MOVED,
                    id,
                    format!("{} moves from Flux Kustomization {from} to {to}: the old one may prune it before the new one applies it", named(id)),
                    holds,
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::danger::testing::run;
    use serde_json::json;

    #[test]
    fn a_move_between_units_is_a_finding() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}});
        let found = run(check, &[("dex", ns.clone())], &[("triton", ns.clone())]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("from Flux Kustomization dex to triton"),
            "{found:?}"
        );
        assert!(run(check, &[("dex", ns.clone())], &[("dex", ns)]).is_empty());
    }
}
