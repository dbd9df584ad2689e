//! CB126 `replicas-lowered`: a Ceph pool keeps fewer copies: `replicated.size` of a
//! CephBlockPool, of a CephFilesystem's metadata or data pools, or of a CephObjectStore's
//! pools goes down.
//!
//! Why: Rook sets the pool's `size` to the new value (rook/rook@v1.20
//! `Documentation/CRDs/Block-Storage/ceph-block-pool-crd.md`, `replicated.size`), and Ceph
//! drops the extra copies at once: with one copy fewer, one host fewer can fail before data
//! is lost.
//! Fix: keep the size, or lower it knowingly one pool at a time.

use serde_json::Value;

use super::{Finding, Review, named};
use crate::diagnostics::REPLICAS_LOWERED;

pub(super) fn check(r: &Review<'_>) -> Vec<Finding> {
    r.changed()
        .filter(|(id, _, _)| id.group == "ceph.rook.io")
        .filter_map(|(id, old, new)| {
            let lowered: Vec<String> = pools(&id.kind)
                .iter()
                .flat_map(|p| sizes(old, p).into_iter().zip(sizes(new, p)).map(move |(a, b)| (p, a, b)))
                .filter(|(_, (_, a), (_, b))| b < a)
                .map(|(_, (at, a), (_, b))| format!("{at} {a} -> {b}"))
                .collect();
            (!lowered.is_empty()).then(|| {
                Finding::new(
                    REPLICAS_LOWERED,
                    id,
                    format!("{} keeps fewer copies: {}", named(id), lowered.join(", ")),
                    "the extra copies of every object in the pool, at once: one host fewer can fail before data is lost",
                )
            })
        })
        .collect()
}

/// The pools of a kind, as JSON pointers (a trailing `*` is every item of a list).
fn pools(kind: &str) -> &'static [&'static str] {
    match kind {
        "CephBlockPool" => &["/spec"],
        "CephFilesystem" => &["/spec/metadataPool", "/spec/dataPools/*"],
        "CephObjectStore" => &["/spec/metadataPool", "/spec/dataPool"],
        _ => &[],
    }
}

/// (where, replicated.size) of each pool the pointer names.
fn sizes(v: &Value, pointer: &str) -> Vec<(String, u64)> {
    let size = |p: &Value| p.pointer("/replicated/size").and_then(Value::as_u64);
    match pointer.strip_suffix("/*") {
        Some(list) => v
            .pointer(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, p)| {
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| i.to_string(), str::to_owned);
                Some((format!("data pool {name}"), size(p)?))
            })
            .collect(),
        None => v
            .pointer(pointer)
            .and_then(|p| {
                Some((
                    pointer
                        .trim_start_matches("/spec")
                        .trim_start_matches('/')
                        .to_owned(),
                    size(p)?,
                ))
            })
            .map(|(at, s)| {
                (
                    if at.is_empty() {
                        "replicated.size".to_owned()
                    } else {
                        at
                    },
                    s,
                )
            })
            .into_iter()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::danger::testing::run;
    use serde_json::json;

    fn pool(size: u64) -> Value {
        json!({"apiVersion": "ceph.rook.io/v1", "kind": "CephBlockPool", "metadata": {"name": "p", "namespace": "rook-ceph"}, "spec": {"replicated": {"size": size}}})
    }

    #[test]
    fn fewer_copies_is_a_finding_and_more_is_not() {
        let found = run(check, &[("u", pool(3))], &[("u", pool(2))]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("replicated.size 3 -> 2"),
            "{found:?}"
        );
        assert!(run(check, &[("u", pool(2))], &[("u", pool(3))]).is_empty());
    }
}
