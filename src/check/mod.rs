//! Stage `check`: every generated object against its schema (built-in kinds for the site's
//! Kubernetes version, CRDs by group/kind/version, a HelmRelease's values against its chart's
//! schema merged over the chart's defaults), and the references between objects. The schemas
//! come from the user's locations over the embedded catalog.

pub mod catalog;
mod dask_netpol;
pub mod emitted;
mod refs;
pub mod schema;
mod traefik_rbac;

use serde_json::Value;

use crate::diagnostics::{self as diag, Diagnostic, Diagnostics};
use crate::manifest::Manifest;
use crate::site::Site;
pub use dask_netpol::check_dask_netpol;
pub use refs::check_references;
pub use schema::{Coverage, Lookup, Origin, SchemaError, SchemaLocation, SchemaStore, Violation};
pub use traefik_rbac::check_traefik_rbac;

/// Checks each manifest against the store; unknown kinds are errors unless the site allows
/// them.
pub fn check_schemas(site: &Site, store: &SchemaStore, manifests: &[Manifest]) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let allowed = &site.spec.site.allowed_kinds;
    let release = site.spec.site.kubernetes_version.get_ref().release();
    // A broken schema file is said once, however many objects use it.
    let mut seen = std::collections::BTreeSet::new();
    let mut unusable = |diags: &mut Diagnostics, e: &SchemaError| {
        if seen.insert(e.to_string()) {
            diags.push(schemas_unusable(e));
        }
    };
    for m in manifests {
        let at = |pointer: &str, message: &str| {
            Diagnostic::new(
                diag::SCHEMA_VIOLATION,
                format!(
                    "{} (from {}, unit {}): {} at {}",
                    m.id,
                    m.template,
                    m.unit,
                    message,
                    display_pointer(pointer)
                ),
            )
            .help(diag::SCHEMA_VIOLATION.info().fix)
        };
        match store.validate(release, &m.value) {
            Ok(violations) => diags.extend(violations.iter().map(|v| at(&v.pointer, &v.message))),
            Err(Lookup::NoSchema { .. })
                if allowed
                    .iter()
                    .any(|k| *k == format!("{}/{}", m.api_version(), m.id.kind)) => {}
            Err(e @ Lookup::NoSchema { .. }) => {
                let why = crate::kinds::without_schema(m.api_version(), &m.id.kind)
                    .map(|k| format!("{}; ", k.why))
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::new(
                        diag::UNKNOWN_KIND,
                        format!("{} (from {}): {e}", m.id, m.template),
                    )
                    .help(format!(
                        "{why}add the schema (--schemas), or allow it: [site] allowed_kinds = [\"{}/{}\"]",
                        m.api_version(),
                        m.id.kind
                    )),
                );
            }
            Err(Lookup::Schema(e)) => unusable(&mut diags, &e),
            Err(e) => diags.push(
                Diagnostic::new(
                    diag::UNKNOWN_KIND,
                    format!("{} (from {}): {e}", m.id, m.template),
                )
                .help(diag::TEMPLATE_ERROR.info().fix),
            ),
        }
        if m.id.kind == "HelmRelease" && m.id.group == "helm.toolkit.fluxcd.io" {
            let spec = m.value.pointer("/spec/chart/spec");
            let chart = spec
                .and_then(|s| s.get("chart"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let version = spec
                .and_then(|s| s.get("version"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let values = m
                .value
                .pointer("/spec/values")
                .cloned()
                .unwrap_or(Value::Null);
            match store.validate_chart_values(chart, version, &values) {
                Ok(violations) => diags.extend(
                    violations
                        .iter()
                        .map(|v| at(&format!("/spec/values{}", v.pointer), &v.message)),
                ),
                // A chart the schema location does not know is not checked; its values still
                // reach Helm, which is where a wrong key would surface.
                Err(Lookup::NoChart { .. }) => {}
                Err(Lookup::Schema(e)) => unusable(&mut diags, &e),
                Err(e) => diags.push(Diagnostic::new(
                    diag::SCHEMA_VIOLATION,
                    format!("{}: chart {chart} {version}: {e}", m.id),
                )),
            }
        }
    }
    diags
}

/// A schema file or location that cannot be used: trouble with the environment (exit 3), not
/// with the site.
pub fn schemas_unusable(e: &SchemaError) -> Diagnostic {
    Diagnostic::new(diag::SCHEMAS_UNUSABLE, e.to_string()).help(diag::SCHEMAS_UNUSABLE.info().fix)
}

fn display_pointer(p: &str) -> String {
    if p.is_empty() {
        "(root)".to_owned()
    } else {
        p.to_owned()
    }
}
