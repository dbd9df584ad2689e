//! Every secret a site needs, where it is written in the sources and where it goes in the
//! cluster. One enumeration drives `secrets list`, `seal`, the identity rules and the
//! SealedSecrets the build emits.

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

struct Collector<'a> {
    slots: Vec<SecretSlot<'a>>,
    file: FileId,
    file_path: String,
    component: &'static str,
    instance: Option<String>,
}

impl<'a> Collector<'a> {
    fn add(
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

pub const BGP_SECRET: &str = "bgp-passwords";
pub const CALICO_NAMESPACE: &str = "calico-system";
pub const DEX_SECRET: &str = "dex-env";
pub const HUB_OAUTH_SECRET: &str = "hub-oauth";
pub const CONDOR_SECRET: &str = "htcondor-pool-password";
pub const XCACHE_SECRET: &str = "xcache-token";
pub const TRITON_SECRET: &str = "triton-s3";

pub fn rgw_user_secret(user: &str) -> String {
    format!("rgw-user-{user}")
}

/// Every secret slot of the site, in file order.
pub fn secret_slots(site: &Site) -> Vec<SecretSlot<'_>> {
    let s = &site.spec;
    let mut c = Collector {
        slots: Vec::new(),
        file: site.file,
        file_path: crate::sources::SITE_FILE.to_owned(),
        component: "calico",
        instance: None,
    };
    if let Some(bgp) = &s.calico.bgp {
        for (i, p) in bgp.peer.iter().enumerate() {
            let idx = i.to_string();
            let key = p.name.get_ref().as_str();
            c.add(
                &["calico", "bgp", "peer", &idx, "password"],
                CALICO_NAMESPACE,
                BGP_SECRET,
                key,
                p.password.as_ref(),
                p.name.span(),
            );
        }
    }
    c.component = "rook-ceph";
    if let Some(os) = &s.ceph.object_store {
        let ns = s.ceph.namespace.as_str();
        for (i, u) in os.user.iter().enumerate() {
            let idx = i.to_string();
            let name = rgw_user_secret(u.name.get_ref().as_str());
            c.add(
                &["ceph", "object_store", "user", &idx, "access_key"],
                ns,
                &name,
                "access-key",
                u.access_key.as_ref(),
                u.name.span(),
            );
            c.add(
                &["ceph", "object_store", "user", &idx, "secret_key"],
                ns,
                &name,
                "secret-key",
                u.secret_key.as_ref(),
                u.name.span(),
            );
        }
    }
    c.component = "dex";
    let dex_ns = s.dex.namespace.as_str();
    for (i, con) in s.dex.connector.iter().enumerate() {
        let idx = i.to_string();
        let key = connector_secret_env(con.id.get_ref().as_str());
        c.add(
            &["dex", "connector", &idx, "client_secret"],
            dex_ns,
            DEX_SECRET,
            &key,
            con.client_secret.as_ref(),
            con.id.span(),
        );
    }
    for (i, cl) in s.dex.static_client.iter().enumerate() {
        if cl.public {
            continue;
        }
        let idx = i.to_string();
        let key = client_secret_env(cl.id.get_ref().as_str());
        c.add(
            &["dex", "static_client", &idx, "secret"],
            dex_ns,
            DEX_SECRET,
            &key,
            cl.secret.as_ref(),
            cl.id.span(),
        );
    }
    if let Some(t) = &s.triton {
        c.component = "triton";
        let ns = t.namespace.as_str();
        c.add(
            &["triton", "access_key"],
            ns,
            TRITON_SECRET,
            "AWS_ACCESS_KEY_ID",
            t.access_key.as_ref(),
            t.bucket.span(),
        );
        c.add(
            &["triton", "secret_key"],
            ns,
            TRITON_SECRET,
            "AWS_SECRET_ACCESS_KEY",
            t.secret_key.as_ref(),
            t.bucket.span(),
        );
    }
    for inst in &site.instances {
        let spec = &inst.spec;
        c.file = inst.file;
        c.file_path = inst.path.clone();
        c.component = "jupyterhub";
        c.instance = Some(spec.instance.name.get_ref().to_string());
        let ns = spec.instance.namespace.get_ref().as_str();
        c.add(
            &["auth", "client_secret"],
            ns,
            HUB_OAUTH_SECRET,
            "OAUTH_CLIENT_SECRET",
            spec.auth.client_secret.as_ref(),
            spec.auth.client.span(),
        );
        if *spec.dask.mode.get_ref() == super::DaskMode::Tier2 {
            c.add(
                &["dask", "condor_token"],
                ns,
                CONDOR_SECRET,
                "token",
                spec.dask.condor_token.as_ref(),
                spec.dask.mode.span(),
            );
        }
        if let Some(x) = &spec.xcache {
            c.add(
                &["xcache", "token"],
                ns,
                XCACHE_SECRET,
                "token",
                x.token.as_ref(),
                x.token_days.span(),
            );
        }
    }
    c.slots
}
