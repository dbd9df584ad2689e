//! The danger review (pure): two sides of a change (the base tree and the head tree for
//! `diff --base`, the cluster and the tree for `diff --live`) -> findings about what the
//! change destroys when Flux applies it: user data deleted with a Namespace or a claim, an
//! instance gone, an update the API server refuses, Ceph OSDs moved or dropped, fewer
//! replicas, pools removed, CRDs removed under their objects, objects pruned and re-created
//! by a move between Flux units, a sealed value's scope widened.
//!
//! Each finding has a code of the CB120-CB139 range (registered with what, why and fix in
//! `diagnostics::code`, shown by `casa-build explain`). One rule per file, each a pure
//! function of the [`Review`]; a finding never changes the exit code of `diff` unless
//! `--fail-on danger` asks for it.

mod claim_immutable;
mod claim_removed;
mod crd_removed;
mod instance_removed;
mod namespace_removed;
mod osds_moved;
mod pool_removed;
mod replicas_lowered;
mod scope_changed;
mod selector_changed;
mod storage_class_immutable;
mod unit_moved;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::diagnostics::Code;
use crate::manifest::{Manifest, ResourceId, Unit};

/// What one side holds of an object.
#[derive(Debug, Clone, Copy)]
pub struct Object<'a> {
    /// The object; `None` when only its identity is known (an entry of a Flux inventory).
    pub value: Option<&'a Value>,
    /// The Flux Kustomization that applies it, when known.
    pub unit: Option<&'a str>,
}

/// What a side says of one Flux Kustomization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnitFlags {
    /// `spec.prune`: Flux deletes what leaves the unit (and, when the unit itself is
    /// deleted, everything it applied).
    pub prune: bool,
    /// `spec.suspend`: the unit is not reconciled, and deleting it deletes nothing it applied.
    pub suspend: bool,
}

/// One side of a review: every object by identity, and the Flux units by name.
#[derive(Debug, Clone, Default)]
pub struct Side<'a> {
    pub objects: BTreeMap<&'a ResourceId, Object<'a>>,
    pub units: BTreeMap<&'a str, UnitFlags>,
}

impl<'a> Side<'a> {
    /// A side of built objects, with each unit's `spec.prune` and `spec.suspend` as the
    /// tree's Kustomizations say. The entry unit has no Kustomization in the tree: `flux
    /// bootstrap` applies it with its own, which prunes (flux2 `pkg/manifestgen/sync`
    /// writes `prune: true`).
    pub fn of_tree(manifests: &'a [Manifest], units: &'a [Unit]) -> Self {
        let mut flags: BTreeMap<&'a str, UnitFlags> = manifests
            .iter()
            .filter(|m| is_kustomization(&m.id))
            .map(|m| (m.id.name.as_str(), UnitFlags::of(&m.value)))
            .collect();
        for u in units.iter().filter(|u| u.entry) {
            flags.insert(
                u.name.as_str(),
                UnitFlags {
                    prune: true,
                    suspend: false,
                },
            );
        }
        let objects = manifests
            .iter()
            .map(|m| {
                (
                    &m.id,
                    Object {
                        value: Some(&m.value),
                        unit: Some(m.unit.as_str()),
                    },
                )
            })
            .collect();
        Self {
            objects,
            units: flags,
        }
    }
}

impl UnitFlags {
    /// The flags of a Kustomization object.
    pub fn of(kustomization: &Value) -> Self {
        let flag = |p: &str| kustomization.pointer(p).and_then(Value::as_bool) == Some(true);
        Self {
            prune: flag("/spec/prune"),
            suspend: flag("/spec/suspend"),
        }
    }
}

/// What a review compares: the objects before the change and after it, and what the rules
/// may say about the site's files.
#[derive(Debug, Clone)]
pub struct Review<'a> {
    pub before: &'a Side<'a>,
    pub after: &'a Side<'a>,
    /// How the reader names the side before the change ("base", "the cluster").
    pub before_name: &'a str,
    /// Files in the head's `instances/` folder that are not read (no `.toml` ending).
    pub unread_instance_files: &'a [String],
}

impl<'a> Review<'a> {
    /// Objects before the change that the tree no longer holds and that Flux deletes: their
    /// unit, still there, prunes (a suspended one when it is resumed); or their unit is
    /// itself deleted, pruning and not suspended (kustomize-controller@v1.7
    /// `internal/controller/kustomization_controller.go` finalizerShouldDeleteResources:
    /// "A suspended Kustomization or one without an inventory will not delete resources").
    pub fn deleted(&self) -> impl Iterator<Item = (&'a ResourceId, Object<'a>)> + '_ {
        self.before
            .objects
            .iter()
            .filter(|(id, _)| !self.after.objects.contains_key(*id))
            .filter(|(_, o)| self.deletes(o))
            .map(|(id, o)| (*id, *o))
    }

    /// Whether Flux deletes an object once it leaves its unit (with the unit itself, or
    /// for a move into another).
    pub fn deletes(&self, o: &Object<'_>) -> bool {
        let Some(unit) = o.unit else { return false };
        match (self.after.units.get(unit), self.before.units.get(unit)) {
            (Some(now), _) => now.prune,
            (None, Some(was)) => was.prune && !was.suspend,
            (None, None) => false,
        }
    }

    /// Objects on both sides whose content is known on both, before then after.
    pub fn changed(&self) -> impl Iterator<Item = (&'a ResourceId, &'a Value, &'a Value)> + '_ {
        self.before.objects.iter().filter_map(|(id, o)| {
            let new = self.after.objects.get(*id)?.value?;
            let old = o.value?;
            (old != new).then_some((*id, old, new))
        })
    }

    /// Objects present on both sides (content or not), before then after.
    pub fn kept(&self) -> impl Iterator<Item = (&'a ResourceId, Object<'a>, Object<'a>)> + '_ {
        self.before
            .objects
            .iter()
            .filter_map(|(id, o)| Some((*id, *o, *self.after.objects.get(*id)?)))
    }
}

/// One danger found: what changes, and what it destroys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    /// The object the finding is about.
    pub id: ResourceId,
    /// What the change does to it.
    pub message: String,
    /// What is lost or stopped when Flux applies it.
    pub destroys: String,
}

impl Finding {
    pub fn new(
        code: Code,
        id: &ResourceId,
        message: impl Into<String>,
        destroys: impl Into<String>,
    ) -> Self {
        Self {
            code,
            id: id.clone(),
            message: message.into(),
            destroys: destroys.into(),
        }
    }

    /// The finding as the JSON forms carry it.
    pub fn to_json(&self) -> Value {
        let info = self.code.info();
        json!({
            "code": self.code.0,
            "name": info.name,
            "object": {
                "group": self.id.group,
                "kind": self.id.kind,
                "namespace": self.id.namespace,
                "name": self.id.name,
            },
            "message": self.message,
            "destroys": self.destroys,
            "fix": info.fix,
        })
    }
}

type Rule = fn(&Review<'_>) -> Vec<Finding>;

/// Every rule, in code order.
const RULES: &[Rule] = &[
    namespace_removed::check,
    claim_removed::check,
    instance_removed::check,
    storage_class_immutable::check,
    claim_immutable::check,
    osds_moved::check,
    replicas_lowered::check,
    pool_removed::check,
    selector_changed::check,
    crd_removed::check,
    unit_moved::check,
    scope_changed::check,
];

/// Runs every rule; findings come sorted by code, then object.
pub fn review(r: &Review<'_>) -> Vec<Finding> {
    let mut out: Vec<Finding> = RULES.iter().flat_map(|rule| rule(r)).collect();
    out.sort_by(|a, b| (a.code, &a.id, &a.message).cmp(&(b.code, &b.id, &b.message)));
    out.dedup();
    out
}

pub(crate) fn is_kustomization(id: &ResourceId) -> bool {
    id.kind == "Kustomization" && id.group == "kustomize.toolkit.fluxcd.io"
}

pub(crate) fn is(id: &ResourceId, group: &str, kind: &str) -> bool {
    id.group == group && id.kind == kind
}

/// "Namespace cmsaf-dev", "PersistentVolumeClaim cmsaf-dev/cvmfs": how messages name an object.
pub(crate) fn named(id: &ResourceId) -> String {
    match &id.namespace {
        Some(ns) => format!("{} {ns}/{}", id.kind, id.name),
        None => format!("{} {}", id.kind, id.name),
    }
}

/// A text list of names: "a", "a and b", "a, b and 3 more".
pub(crate) fn list(names: &[String]) -> String {
    const SHOWN: usize = 4;
    match names {
        [] => String::new(),
        [one] => format!("`{one}`"),
        _ if names.len() <= SHOWN => {
            let (last, rest) = names.split_last().unwrap_or((&names[0], &[]));
            let rest: Vec<String> = rest.iter().map(|n| format!("`{n}`")).collect();
            format!("{} and `{last}`", rest.join(", "))
        }
        _ => {
            let shown: Vec<String> = names[..SHOWN].iter().map(|n| format!("`{n}`")).collect();
            format!("{} and {} more", shown.join(", "), names.len() - SHOWN)
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Sides made of literal objects, for the rules' own tests.
    use super::*;

    pub(crate) struct Fixture {
        pub ids: Vec<ResourceId>,
        pub values: Vec<Value>,
        pub units: Vec<String>,
    }

    impl Fixture {
        pub(crate) fn new(objects: &[(&str, Value)]) -> Self {
            let values: Vec<Value> = objects.iter().map(|(_, v)| v.clone()).collect();
            Self {
                ids: values
                    .iter()
                    .map(|v| ResourceId::of(v).expect("an identity"))
                    .collect(),
                units: objects.iter().map(|(u, _)| (*u).to_owned()).collect(),
                values,
            }
        }

        /// A side whose every unit prunes and none is suspended.
        pub(crate) fn side(&self) -> Side<'_> {
            Side {
                objects: self
                    .ids
                    .iter()
                    .zip(&self.values)
                    .zip(&self.units)
                    .map(|((id, v), u)| {
                        (
                            id,
                            Object {
                                value: Some(v),
                                unit: Some(u.as_str()),
                            },
                        )
                    })
                    .collect(),
                units: self
                    .units
                    .iter()
                    .map(|u| {
                        (
                            u.as_str(),
                            UnitFlags {
                                prune: true,
                                suspend: false,
                            },
                        )
                    })
                    .collect(),
            }
        }
    }

    /// The codes a rule finds going from `before` to `after`.
    pub(crate) fn run(
        rule: Rule,
        before: &[(&str, Value)],
        after: &[(&str, Value)],
    ) -> Vec<Finding> {
        let b = Fixture::new(before);
        let a = Fixture::new(after);
        let (bs, as_) = (b.side(), a.side());
        rule(&Review {
            before: &bs,
            after: &as_,
            before_name: "base",
            unread_instance_files: &[],
        })
    }
}
