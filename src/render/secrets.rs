//! The secrets backend's seam: every secret field of the site (`site::secrets::secret_slots`,
//! one enumeration over the registry) becomes objects of the tree here. Sealed Secrets is the
//! one backend: a field holds ciphertext sealed for its Secret (`site::types::SealedValue`),
//! which becomes a SealedSecret per target Secret, with every key of it.
//!
//! Another backend plugs in at four places, and nowhere else: its value type in
//! `site/types` (what a secret field holds: a SOPS-encrypted value, or for External Secrets
//! a key in the remote store); a variant of [`crate::site::SecretsBackend`] with the
//! capability its controller provides (every component with a secret field then needs it,
//! `Site::needs_of`) and the component that runs it; a branch of [`emit`] (SOPS: a `Secret`
//! whose data is SOPS-encrypted, and `spec.decryption` on the unit's Flux Kustomization;
//! External Secrets: an `ExternalSecret` per target Secret against a `SecretStore`); and its
//! own identity rules in place of CB041-CB043, which check what Sealed Secrets needs (the
//! namespace, name and scope a value was sealed for).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::{label, labels};
use crate::diagnostics::{self as diag, Diagnostic, Diagnostics};
use crate::manifest::{Manifest, ResourceId, Unit};
use crate::site::{SecretsBackend, Site, secret_slots};

/// Adds the objects that carry the site's secrets, for the site's backend.
pub(super) fn emit(site: &Site, units: &[Unit], out: &mut Vec<Manifest>, diags: &mut Diagnostics) {
    match site.secrets_backend() {
        SecretsBackend::SealedSecrets => sealed_secrets(site, units, out, diags),
    }
}

/// One SealedSecret per target Secret, with all its keys, the scope annotations on the object
/// (where the controller reads them) and on the template (as kubeseal writes them).
fn sealed_secrets(site: &Site, units: &[Unit], out: &mut Vec<Manifest>, diags: &mut Diagnostics) {
    let mut groups: BTreeMap<(String, String), Vec<crate::site::SecretSlot<'_>>> = BTreeMap::new();
    for slot in secret_slots(site) {
        if slot.value.is_some() {
            groups
                .entry((slot.namespace.clone(), slot.name.clone()))
                .or_default()
                .push(slot);
        }
    }
    // By name, once: a scan of the units per Secret is quadratic in the instance count.
    let units_by_name: HashMap<&str, &Unit> = units.iter().map(|u| (u.name.as_str(), u)).collect();
    for ((ns, name), slots) in groups {
        let scope = slots[0].scope;
        if let Some(other) = slots.iter().find(|s| s.scope != scope) {
            diags.push(
                Diagnostic::new(diag::SECRET_MISMATCH, format!("values of Secret {ns}/{name} are sealed with different scopes ({scope} and {})", other.scope))
                    .help("one SealedSecret has one scope: re-seal the values with the same --scope"),
            );
            continue;
        }
        // The unit of the component the secret belongs to (an instance's for its hub).
        let unit_name = match (site.component(slots[0].component), &slots[0].instance) {
            (Some(c), None) => c.unit_name(crate::site::components::At::Site),
            (Some(_), Some(i)) => crate::site::components::instance_unit(i),
            (None, _) => continue,
        };
        let Some(&unit) = units_by_name.get(unit_name.as_str()) else {
            continue;
        };
        let data: serde_json::Map<String, Value> = slots
            .iter()
            .filter_map(|s| {
                s.value
                    .map(|v| (s.key.clone(), Value::String(v.get_ref().sealed.clone())))
            })
            .collect();
        let annotations: serde_json::Map<String, Value> = scope
            .annotations()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        let component = slots[0].component;
        let secret_labels: serde_json::Map<String, Value> = labels(site, unit, component)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v)))
            .collect();
        let mut meta = json!({"name": name, "namespace": ns});
        let mut template_meta = json!({"name": name, "namespace": ns, "labels": secret_labels});
        if !annotations.is_empty() {
            meta["annotations"] = Value::Object(annotations.clone());
            template_meta["annotations"] = Value::Object(annotations);
        }
        let mut doc = json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": meta,
            "spec": {"encryptedData": data, "template": {"metadata": template_meta, "type": "Opaque"}},
        });
        label(&mut doc, site, unit, component);
        let Some(id) = ResourceId::of(&doc) else {
            continue;
        };
        out.push(Manifest {
            id,
            unit: unit.name.clone(),
            template: "(sealed secrets)".to_owned(),
            value: doc,
        });
    }
}
