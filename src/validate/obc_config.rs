//! CB092 obc-config-not-allowed (over the rendered objects): every key an
//! ObjectBucketClaim sets under `spec.additionalConfig` is one the Rook operator of the tree
//! accepts: its rook-ceph release's `obcAllowAdditionalConfigFields`, or the operator's default
//! "maxObjects,maxSize" when the release does not set it.
//!
//! Why: the operator refuses any other key ("OBC config %q is not allowed", rook@v1.20.6:
//! pkg/operator/ceph/object/bucket/util.go `additionalConfigSpecFromMap`), and the bucket
//! library never marks a claim Failed: it stays Pending for ever, and only a timeout says so.
//!
//! Fix: allow the key in the operator's values (templates/rook-ceph-operator derives the list
//! from the keys the site's claims set), or stop setting it.

use serde_json::Value;

use crate::diagnostics::{Diagnostic, OBC_CONFIG_NOT_ALLOWED};
use crate::manifest::Manifest;
use crate::site::{OBC_DEFAULT_FIELDS, Site};

/// The keys the tree's Rook operator accepts.
fn allowed(manifests: &[Manifest]) -> Vec<String> {
    let set = manifests
        .iter()
        .filter(|m| m.id.kind == "HelmRelease")
        .find(|m| {
            m.value
                .pointer("/spec/chart/spec/chart")
                .and_then(Value::as_str)
                == Some("rook-ceph")
        })
        .and_then(|m| {
            m.value
                .pointer("/spec/values/obcAllowAdditionalConfigFields")
        })
        .and_then(Value::as_str);
    match set {
        // rook@v1.20.6:pkg/operator/ceph/controller/controller_utils.go splits on "," as is.
        Some(list) => list.split(',').map(str::to_owned).collect(),
        None => OBC_DEFAULT_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
    }
}

pub(super) fn check(site: &Site, manifests: &[Manifest]) -> Vec<Diagnostic> {
    let allowed = allowed(manifests);
    let mut out = Vec::new();
    for m in manifests
        .iter()
        .filter(|m| m.id.kind == "ObjectBucketClaim" && m.id.group == "objectbucket.io")
    {
        let Some(config) = m
            .value
            .pointer("/spec/additionalConfig")
            .and_then(Value::as_object)
        else {
            continue;
        };
        for key in config.keys().filter(|k| !allowed.contains(k)) {
            let mut d = Diagnostic::new(
                OBC_CONFIG_NOT_ALLOWED,
                format!(
                    "{} sets additionalConfig `{key}`, which the Rook operator does not allow (it allows: {}); the claim would stay Pending",
                    m.id,
                    allowed.join(", ")
                ),
            )
            .help(OBC_CONFIG_NOT_ALLOWED.info().fix);
            let bucket = site
                .spec
                .ceph
                .as_ref()
                .and_then(|c| c.object_store.as_ref())
                .and_then(|os| os.bucket.iter().find(|b| b.name.as_str() == m.id.name));
            if let Some(b) = bucket {
                d = d.at(site.file, b.owner.span(), "the claim of this bucket");
            }
            out.push(d);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(v: Value) -> Manifest {
        Manifest {
            id: crate::manifest::ResourceId::of(&v).unwrap(),
            unit: "u".into(),
            template: "t".into(),
            value: v,
        }
    }

    fn obc(config: Value) -> Manifest {
        manifest(
            json!({"apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim", "metadata": {"name": "triton-models", "namespace": "triton"}, "spec": {"bucketName": "triton-models", "additionalConfig": config}}),
        )
    }

    fn rook(values: Value) -> Manifest {
        manifest(
            json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "rook-ceph", "namespace": "rook-ceph"}, "spec": {"chart": {"spec": {"chart": "rook-ceph"}}, "values": values}}),
        )
    }

    #[test]
    fn the_default_allows_quotas_only() {
        let (site, src) = crate::validate::testing::site_with(&[], &[]);
        let found = check(
            &site,
            &[obc(json!({"bucketOwner": "triton"})), rook(json!({}))],
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("`bucketOwner`")
                && found[0].message.contains("maxObjects, maxSize")
        );
        // Pointed at the bucket's owner in the site.
        let (file, l, _) = found[0].location(&src).unwrap();
        assert_eq!(file, "site.toml");
        assert_eq!(
            l,
            crate::validate::testing::pos(crate::validate::testing::SITE, "owner = \"triton\"").0
        );
        assert!(check(&site, &[obc(json!({"maxSize": "2G"}))]).is_empty());
    }

    #[test]
    fn what_the_operator_allows_passes() {
        let (site, _) = crate::validate::testing::site_with(&[], &[]);
        let ms = [
            obc(json!({"bucketOwner": "triton", "maxObjects": "1000"})),
            rook(json!({"obcAllowAdditionalConfigFields": "maxObjects,maxSize,bucketOwner"})),
        ];
        assert!(check(&site, &ms).is_empty());
    }
}
