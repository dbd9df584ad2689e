//! Every secret a site needs, where it is written in the sources and where it goes in the
//! cluster. One enumeration drives `secrets list`, `seal`, the identity rules and the
//! SealedSecrets the build emits.

use super::components::{At, Capability, Component};
use super::types::{Scope, SealedValue};
use super::{Site, Spanned};
use crate::sources::FileId;

/// One secret field of the site.
#[derive(Debug, Clone)]
pub struct SecretSlot<'a> {
    /// `<file>#<dotted path>` (array entries by index): what `seal` takes.
    pub location: String,
    pub file: FileId,
    pub file_path: String,
    /// Path of the field inside its file.
    pub path: Vec<String>,
    /// The Secret it becomes part of.
    pub namespace: String,
    pub name: String,
    pub key: String,
    /// The scope it is sealed with (strict unless the value says otherwise).
    pub scope: Scope,
    pub value: Option<&'a Spanned<SealedValue>>,
    /// A span next to the field, to point at when the value is missing.
    pub anchor: std::ops::Range<usize>,
    pub component: &'static str,
    pub instance: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretStatus {
    Sealed,
    Missing,
    Mismatch,
    /// Not a well-formed sealed value (cut short, not base64, a plaintext pasted in): `check`
    /// rejects it (CB042), so `secrets list` must not call it sealed.
    Malformed,
}

impl SecretSlot<'_> {
    pub fn status(&self) -> SecretStatus {
        match self.value {
            None => SecretStatus::Missing,
            Some(v) if !self.matches(v.get_ref()) => SecretStatus::Mismatch,
            Some(v) if super::types::parse_sealed(&v.get_ref().sealed).is_err() => {
                SecretStatus::Malformed
            }
            Some(_) => SecretStatus::Sealed,
        }
    }

    /// Whether a value sealed for its recorded identity would unseal here: the controller's
    /// label depends on the scope, namespace and name only; the key must match so that a
    /// value is not silently moved to another field.
    pub fn matches(&self, v: &SealedValue) -> bool {
        let ns_ok = v.namespace.as_deref() == Some(self.namespace.as_str());
        let name_ok = v.name.as_deref() == Some(self.name.as_str());
        let identity_ok = match v.scope {
            Scope::Strict => ns_ok && name_ok,
            Scope::NamespaceWide => ns_ok,
            Scope::ClusterWide => true,
        };
        identity_ok && v.key == self.key
    }
}

/// Where components add their secret fields: [`secret_slots`] sets the file, component and
/// instance before it asks each component's `secrets` hook.
pub struct Slots<'a> {
    slots: Vec<SecretSlot<'a>>,
    file: FileId,
    file_path: String,
    component: &'static str,
    instance: Option<String>,
}

impl<'a> Slots<'a> {
    /// Adds one secret field: its path in the file, the Secret it goes to, its value if
    /// sealed, and a span to point at when it is missing.
    pub fn add(
        &mut self,
        path: &[&str],
        ns: &str,
        name: &str,
        key: &str,
        value: Option<&'a Spanned<SealedValue>>,
        anchor: std::ops::Range<usize>,
    ) {
        let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        self.slots.push(SecretSlot {
            location: format!("{}#{}", self.file_path, path.join(".")),
            file: self.file,
            file_path: self.file_path.clone(),
            path,
            namespace: ns.to_owned(),
            name: name.to_owned(),
            key: key.to_owned(),
            scope: value.map_or(Scope::Strict, |v| v.get_ref().scope),
            value,
            anchor,
            component: self.component,
            instance: self.instance.clone(),
        });
    }
}

/// Environment variable name Dex reads a connector's secret from.
pub fn connector_secret_env(id: &str) -> String {
    format!("{}_CLIENT_SECRET", env_name(id))
}

/// Environment variable name Dex reads a static client's secret from.
pub fn client_secret_env(id: &str) -> String {
    format!("CLIENT_{}_SECRET", env_name(id))
}

fn env_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

impl<'a> Slots<'a> {
    /// An empty list for one component at one target, so each slot records the file it is
    /// written in and the component and instance it belongs to.
    pub fn for_target(site: &'a Site, c: &Component, at: At<'a>) -> Self {
        let (file, file_path, instance) = match at.instance() {
            Some(i) => (
                i.file,
                i.path.clone(),
                Some(i.spec.instance.name.get_ref().to_string()),
            ),
            None => (site.file, crate::sources::SITE_FILE.to_owned(), None),
        };
        Slots {
            slots: Vec::new(),
            file,
            file_path,
            component: c.name,
            instance,
        }
    }

    pub fn into_slots(self) -> Vec<SecretSlot<'a>> {
        self.slots
    }
}

/// Every secret slot of the site: each enabled component's, site-wide ones first, in
/// registry order.
pub fn secret_slots(site: &Site) -> Vec<SecretSlot<'_>> {
    site.targets_by_file()
        .into_iter()
        .flat_map(|(c, at)| {
            let mut slots = Slots::for_target(site, c, at);
            (c.secrets)(site, at, &mut slots);
            slots.into_slots()
        })
        .collect()
}

/// How secret values reach the cluster (`render::secrets` documents the seam another backend
/// plugs into).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsBackend {
    /// Values sealed for the cluster's Sealed Secrets controller, emitted as SealedSecrets.
    SealedSecrets,
}

impl SecretsBackend {
    /// What a component with a secret field needs from the cluster.
    pub fn capability(self) -> Capability {
        match self {
            SecretsBackend::SealedSecrets => Capability::SealedSecrets,
        }
    }

    /// How the requirement rule says to satisfy that need.
    pub fn fix(self) -> &'static str {
        match self {
            SecretsBackend::SealedSecrets => {
                "run the Sealed Secrets controller (the `sealed-secrets` component), or declare the cluster's: [site] cluster_provides = [\"sealed-secrets\"]"
            }
        }
    }
}

impl Site {
    /// The site's secrets backend (Sealed Secrets: `[sealing]`).
    pub fn secrets_backend(&self) -> SecretsBackend {
        SecretsBackend::SealedSecrets
    }
}
