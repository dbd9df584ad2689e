//! Stage `render`: validated `Site` -> `Vec<Manifest>`. Each Flux unit (one folder of `out/`,
//! one Flux Kustomization) renders the templates of its components; every document is parsed
//! back into a value, labelled, and given its identity. SealedSecrets are built here from the
//! site's secret slots: the ciphertext is copied, never re-sealed, so rebuilding changes
//! nothing.

mod context;
mod env;
mod fill;
pub mod health;
mod secrets;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::diagnostics::{self as diag, Diagnostic, Diagnostics};
use crate::manifest::{COMPONENT, INSTANCE, MANAGED_BY, Manifest, PART_OF, ResourceId, Unit};
use crate::site::Site;
use crate::sources::Sources;

pub use crate::site::components::units;
pub use env::environment;

/// Renders every object of the site, in unit order.
pub fn render(site: &Site, sources: &Sources) -> Result<Vec<Manifest>, Diagnostics> {
    render_shared(site, sources, &mut Shared::default(), None)
}

/// What one render leaves for a render of another revision of the same site (`diff --base`
/// builds both sides in one process): the template environments with their parsed
/// templates and fill skeletons, and what each unit was rendered from.
///
/// Rendering is a function of the templates and the context: a unit whose context (the
/// site's part and its own, as JSON values) is equal to the one the previous render saw, with
/// the same templates, renders to the objects it rendered then, labels included (they come
/// from the site's name, the unit and the template folder). Those are copied from the
/// previous render's objects instead of rendered again.
///
/// The default keeps only the environments: keeping the contexts holds the site's part as a
/// JSON value beside its template value for the rest of the build (84 MB more at 4,000
/// nodes), which only a second render repays ([`Shared::keeping`]).
#[derive(Default)]
pub struct Shared {
    renderer: Option<(Vec<(String, String)>, Renderer)>,
    last: Option<Rendered>,
    keep: bool,
}

/// What the last render saw: the site's part of the context, and per unit its own part (with
/// the health checks of the entry unit) and where its objects are in the render's output.
struct Rendered {
    site: Value,
    units: HashMap<String, (Value, std::ops::Range<usize>)>,
    objects: usize,
    copied: usize,
}

impl Shared {
    /// Keeps what each render saw, so the next one can copy the units that did not change.
    pub fn keeping() -> Self {
        Self {
            keep: true,
            ..Self::default()
        }
    }

    /// How many units the last successful render copied from the one before it.
    pub fn copied(&self) -> usize {
        self.last.as_ref().map_or(0, |l| l.copied)
    }
}

/// [`render`], sharing with the render before it. `previous` is that render's output (it
/// must be: the objects copied are found by their place in it); `None` renders every unit.
pub fn render_shared(
    site: &Site,
    sources: &Sources,
    shared: &mut Shared,
    previous: Option<&[Manifest]>,
) -> Result<Vec<Manifest>, Diagnostics> {
    if shared
        .renderer
        .as_ref()
        .is_none_or(|(templates, _)| *templates != sources.templates)
    {
        let env = environment(&sources.templates)
            .map_err(|e| Diagnostics::from(vec![template_error("templates", &e)]))?;
        shared.renderer = Some((sources.templates.clone(), Renderer::new(env)));
        shared.last = None;
    }
    let Some((_, renderer)) = shared.renderer.as_mut() else {
        unreachable!("set above")
    };
    let units = units(site);
    let site_json = context::site_context(site, &units);
    let reuse = match (shared.last.take(), previous) {
        (Some(last), Some(prev)) if last.objects == prev.len() && last.site == site_json => {
            Some((last.units, prev))
        }
        _ => None,
    };
    // The site part of the context is converted to a template value once and shared by every
    // unit (minijinja values are reference-counted); only `unit` and `instance` are made per
    // unit. Cloning and converting the whole site per unit made render quadratic: 2.8 s of a
    // 3.3 s build at 1,000 nodes and 100 instances.
    let base = minijinja::Value::from(minijinja::value::Serde(&site_json));
    let keep = shared.keep;
    let site_json = keep.then_some(site_json);
    let mut out = Vec::new();
    let mut diags = Diagnostics::new();
    let mut seen = HashMap::new();
    let mut copies = 0;
    let mut one =
        |unit: &Unit, health: Option<&Value>, out: &mut Vec<Manifest>, diags: &mut Diagnostics| {
            let mut own = context::unit_context(site, unit);
            if let Some(h) = health {
                own["flux_health"] = h.clone();
            }
            let start = out.len();
            let copied = reuse.as_ref().and_then(|(units, prev)| {
                let (ctx, range) = units.get(&unit.name)?;
                (*ctx == own)
                    .then(|| prev.get(range.clone()))
                    .flatten()
                    .filter(|objects| objects.iter().all(|m| m.unit == unit.name))
            });
            match copied {
                Some(objects) => {
                    out.extend_from_slice(objects);
                    copies += 1;
                }
                None => {
                    let before = diags.len();
                    renderer.unit(&base, site, unit, &own, out, diags);
                    if diags.len() != before {
                        return;
                    }
                }
            }
            if keep {
                seen.insert(unit.name.clone(), (own, start..out.len()));
            }
        };
    // The entry unit renders last: its Kustomizations carry health checks for the kinds the
    // other units turned out to hold.
    for unit in units.iter().filter(|u| !u.entry) {
        one(unit, None, &mut out, &mut diags);
    }
    secrets::emit(site, &units, &mut out, &mut diags);
    let health = unit_health(&units, &out);
    for unit in units.iter().filter(|u| u.entry) {
        one(unit, Some(&health), &mut out, &mut diags);
    }
    check_duplicates(&out, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    shared.last = site_json.map(|site| Rendered {
        site,
        units: seen,
        objects: out.len(),
        copied: copies,
    });
    Ok(out)
}

/// The templates, rendered both ways: `env` prints values as JSON text to parse; `fill_env`
/// prints them as holes (`fill`). `env` renders whatever cannot be filled, so every error
/// reads as the plain render says it.
struct Renderer {
    env: minijinja::Environment<'static>,
    fill_env: minijinja::Environment<'static>,
    skeletons: fill::Skeletons,
    fillable: HashMap<String, bool>,
}

impl Renderer {
    fn new(env: minijinja::Environment<'static>) -> Self {
        let mut fill_env = env.clone();
        fill_env.set_formatter(fill::formatter);
        Self {
            env,
            fill_env,
            skeletons: fill::Skeletons::default(),
            fillable: HashMap::new(),
        }
    }

    /// Renders one unit; `own` is its part of the context (`unit`, `instance` and, for the
    /// entry unit, `flux_health`), over the site's part `base`.
    fn unit(
        &mut self,
        base: &minijinja::Value,
        site: &Site,
        unit: &Unit,
        own: &Value,
        out: &mut Vec<Manifest>,
        diags: &mut Diagnostics,
    ) {
        let layers = vec![
            base.clone(),
            minijinja::Value::from(minijinja::value::Serde(own)),
        ];
        let ctx = minijinja::value::merge_maps(layers);
        for component in &unit.components {
            for name in env::component_templates(&self.env, component) {
                if let Some(docs) = self.filled(&name, &ctx) {
                    add_documents(docs, &name, unit, site, out, diags);
                    continue;
                }
                let rendered = self.env.get_template(&name).and_then(|t| t.render(&ctx));
                match rendered {
                    Ok(text) => parse_documents(&text, &name, unit, site, out, diags),
                    Err(e) => diags.push(template_error(&name, &e)),
                }
            }
        }
    }

    /// The documents of a template rendered with holes, when it can be (`fill`).
    fn filled(&mut self, name: &str, ctx: &minijinja::Value) -> Option<Vec<Value>> {
        let env = &self.env;
        let fills = *self.fillable.entry(name.to_owned()).or_insert_with(|| {
            let source = |n: &str| env.get_template(n).ok().map(|t| t.source().to_owned());
            source(name).is_some_and(|s| fill::fillable(&s, source))
        });
        if !fills {
            return None;
        }
        let (text, holes) =
            fill::with_holes(|| self.fill_env.get_template(name).and_then(|t| t.render(ctx)));
        self.skeletons.fill(text.ok()?, holes)
    }
}

/// Per unit, the `healthCheckExprs` for the custom kinds it holds.
fn unit_health(units: &[Unit], out: &[Manifest]) -> Value {
    let mut kinds: HashMap<&str, BTreeSet<(&str, &str)>> = HashMap::new();
    for m in out {
        kinds
            .entry(m.unit.as_str())
            .or_default()
            .insert((m.id.group.as_str(), m.id.kind.as_str()));
    }
    let map: serde_json::Map<String, Value> = units
        .iter()
        .filter(|u| !u.entry)
        .map(|u| {
            let held = kinds.get(u.name.as_str());
            let exprs = health::exprs_for(|g, k| held.is_some_and(|h| h.contains(&(g, k))));
            (u.name.clone(), Value::Array(exprs))
        })
        .collect();
    Value::Object(map)
}

fn template_error(name: &str, e: &minijinja::Error) -> Diagnostic {
    let mut msg = format!("template {name}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    Diagnostic::new(diag::TEMPLATE_ERROR, msg).help(diag::TEMPLATE_ERROR.info().fix)
}

fn parse_documents(
    text: &str,
    template: &str,
    unit: &Unit,
    site: &Site,
    out: &mut Vec<Manifest>,
    diags: &mut Diagnostics,
) {
    let docs: Vec<Value> = match serde_saphyr::from_str_multiple(text) {
        Ok(d) => d,
        Err(e) => {
            diags.push(
                Diagnostic::new(
                    diag::TEMPLATE_ERROR,
                    format!("template {template} did not render valid YAML: {e}"),
                )
                .help(diag::TEMPLATE_ERROR.info().fix),
            );
            return;
        }
    };
    add_documents(docs, template, unit, site, out, diags);
}

/// Labels the documents a template rendered and gives each its identity.
fn add_documents(
    docs: Vec<Value>,
    template: &str,
    unit: &Unit,
    site: &Site,
    out: &mut Vec<Manifest>,
    diags: &mut Diagnostics,
) {
    for mut doc in docs.into_iter().filter(|d| !d.is_null()) {
        let Some(id) = ResourceId::of(&doc) else {
            diags.push(
                Diagnostic::new(diag::TEMPLATE_ERROR, format!("template {template} rendered a document without apiVersion, kind and metadata.name"))
                    .help(diag::TEMPLATE_ERROR.info().fix),
            );
            continue;
        };
        // The component is the template's folder: an instance unit holds jupyterhub and dask.
        let component = template.split('/').next().unwrap_or(template);
        label(&mut doc, site, unit, component);
        out.push(Manifest {
            id,
            unit: unit.name.clone(),
            template: template.to_owned(),
            value: doc,
        });
    }
}

/// The labels every object carries; the live diff finds what the tree no longer has by them.
pub(super) fn labels(site: &Site, unit: &Unit, component: &str) -> BTreeMap<&'static str, String> {
    let mut l = BTreeMap::from([
        (MANAGED_BY, "casa-build".to_owned()),
        (PART_OF, site.name().to_owned()),
        (COMPONENT, component.to_owned()),
    ]);
    if let Some(i) = &unit.instance {
        l.insert(INSTANCE, i.clone());
    }
    l
}

pub(super) fn label(doc: &mut Value, site: &Site, unit: &Unit, component: &str) {
    let labels = labels(site, unit, component);
    if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
        let entry = meta.entry("labels").or_insert_with(|| json!({}));
        if let Some(map) = entry.as_object_mut() {
            for (k, v) in labels {
                map.insert(k.to_owned(), Value::String(v));
            }
        }
    }
}

fn check_duplicates(out: &[Manifest], diags: &mut Diagnostics) {
    let mut seen: HashMap<&ResourceId, &Manifest> = HashMap::new();
    for m in out {
        if let Some(first) = seen.insert(&m.id, m) {
            diags.push(
                Diagnostic::new(
                    diag::DUPLICATE_OBJECT,
                    format!(
                        "{} is generated twice: by {} and by {}",
                        m.id, first.template, m.template
                    ),
                )
                .help(diag::DUPLICATE_OBJECT.info().fix),
            );
        }
    }
}
