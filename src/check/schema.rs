//! Schema check: validates generated Kubernetes objects and Helm chart values offline against
//! JSON Schemas, the way kubeconform does.
//!
//! - Stage: after rendering, before writing manifests. The caller walks every generated object
//!   (and every HelmRelease's `spec.values`) and asks a shared [`SchemaStore`] for violations.
//! - Input: layers of schemas, searched in order: the user's schema locations (each a folder
//!   laid out as `shared/schemas/SOURCES.md` describes: `k8s/v<M>.<m>.0-{standalone,local}-strict/`,
//!   `crds/<group>/<kind>_<version>.json`, `charts/<chart>[/<version>]/{values.yaml,values.schema.json}`),
//!   then the embedded catalog ([`super::catalog`]); a Kubernetes release per object; objects
//!   as `serde_json::Value`.
//! - Output: a list of [`Violation`]s (JSON pointer into the object and a short message) per
//!   object, or a [`Lookup`] outcome when no schema applies ([`Lookup::NoSchema`], which the
//!   caller may tolerate for kinds it allows to be unknown) or a schema file is broken.
//!
//! A file found in an earlier layer hides the same file in later ones: a user location adds
//! kinds and overrides the embedded schemas file by file (a newer chart, another CRD version).
//! Every schema file is read, parsed and compiled at most once per store, on first use, and
//! the store is `Send + Sync`, so one store serves a whole build of thousands of objects from
//! any number of threads, for any Kubernetes release its layers cover.
//!
//! Secrets: messages never echo a value of a Secret, of any field under a `data`,
//! `stringData` or `encryptedData` key, or of a field whose name looks like a credential
//! (`password`, `token`, `secret`, ...); such messages say "value" instead. Other echoed
//! values are cut to about 80 characters.
//!
//! Charts without a `values.schema.json` (dex, cvmfs-csi, rook-ceph, sealed-secrets in the
//! shared set) have nothing to validate against: [`SchemaStore::validate_chart_values`] returns
//! no violations for them rather than guessing from `values.yaml`, whose keys are examples as
//! much as a contract (many charts pass whole sub-trees through to templates unchecked).
//!
//! Cost, measured once (2-core machine, dependencies at opt-level 1 as in `cargo test`):
//! compiling all 72 object schemas a site can use (32 built-in kinds, 40 CRD versions) takes
//! about 0.15 s in all, 25 ms for the largest (Calico's Installation); the 6 chart schemas with
//! their parsed defaults about 40 ms; preparing `_definitions.json` for the first kind outside
//! the standalone set 8 to 15 ms. Validating 1,000 objects of 10 kinds against the cached
//! validators then takes about 4 ms.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::hash::Hash;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::{Map, Value};

use super::catalog::{self, Catalog, CatalogError, DEFAULTS_JSON};
use crate::site::types::KubernetesRelease;

/// The flavours of a release's built-in schemas: `k8s/v<major>.<minor>.0-<flavour>`.
const STANDALONE_SUFFIX: &str = "-standalone-strict";
const LOCAL_SUFFIX: &str = "-local-strict";
/// The `$id` under which every `-local-strict` file expects `_definitions.json`
/// (their `$ref`s are `/api/_definitions.json#/$defs/...`, relative to their own `$id`).
const DEFINITIONS_URI: &str = "https://kubernetes.io/api/_definitions.json";
/// A chart's files in a schema folder.
const VALUES_YAML: &str = "values.yaml";
const VALUES_SCHEMA: &str = "values.schema.json";
/// The top-level folders of the kubeconform layout; a user location has at least one.
const LAYOUT: [&str; 3] = ["k8s", "crds", "charts"];
/// How many characters of an offending value a message may echo.
const PREVIEW_CHARS: usize = 80;
/// Placeholder for a value that must not be echoed.
const REDACTED: &str = "value";

/// Where a user's schema location was given. The order of the variants is the precedence:
/// a file in the flag's folder hides the same file in the environment's, and so on down to
/// the embedded catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// `--schemas DIR`.
    Flag,
    /// The `CASA_SCHEMAS` environment variable.
    Environment,
    /// `[site] schemas` in `site.toml`, relative to the site folder.
    SiteFile,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Flag => "--schemas",
            Origin::Environment => "CASA_SCHEMAS",
            Origin::SiteFile => "[site] schemas",
        })
    }
}

/// A user's schema folder and where it was given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchemaLocation {
    pub dir: PathBuf,
    pub origin: Origin,
}

/// A schema file that could not be used, or a schema location that is not one. Each names
/// the file or folder involved.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SchemaError {
    /// A user's schema location is missing, unreadable, or not laid out like kubeconform's.
    #[error("schema location {} (from {origin}) {problem}", .dir.display())]
    Location {
        dir: PathBuf,
        origin: Origin,
        problem: String,
    },
    /// A schema or values file exists but cannot be read.
    #[error("cannot read {file}: {message}")]
    Read { file: String, message: String },
    /// A schema file is not JSON.
    #[error("invalid json in {file}: {message}")]
    Json { file: String, message: String },
    /// A chart's `values.yaml` is not YAML (or not representable as JSON).
    #[error("invalid yaml in {file}: {message}")]
    Yaml { file: String, message: String },
    /// `_definitions.json` could not be registered for the `-local-strict` schemas.
    #[error("cannot register {file} as schema definitions: {message}")]
    Registry { file: String, message: String },
    /// A schema file is JSON but not a schema the validator can compile.
    #[error("schema {file} does not compile: {message}")]
    Compile { file: String, message: String },
    /// The embedded catalog is damaged.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// Why an object or a chart's values could not be checked at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Lookup {
    /// No schema file exists for this apiVersion and kind. Distinct from the others so the
    /// caller can treat unknown kinds as errors or, where allowed, as warnings.
    #[error("no schema for {api_version} {kind} (looked in {})", join(.looked_in))]
    NoSchema {
        api_version: String,
        kind: String,
        looked_in: Vec<String>,
    },
    /// No layer knows this chart (neither its defaults nor its `values.schema.json`).
    #[error(
        "no values or schema for chart {chart} {version} (looked in {})",
        join(.looked_in)
    )]
    NoChart {
        chart: String,
        version: String,
        looked_in: Vec<String>,
    },
    /// The object has no usable `apiVersion`/`kind` strings, so no schema can be chosen.
    #[error("object has no valid apiVersion and kind (apiVersion {api_version}, kind {kind})")]
    Untyped { api_version: String, kind: String },
    /// A schema (or defaults) file exists but is unusable.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

/// One schema violation in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer (RFC 6901) into the validated object, e.g.
    /// `/spec/storage/nodes/0/config/osdsPerDevice`; empty for the object itself.
    pub pointer: String,
    /// What is wrong, in the validator's words, with any echoed value cut short or redacted.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

/// Which folder a built-in or custom schema came from; it decides how it compiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// Self-contained (`#/$defs/...` only): compiles with no registry.
    Standalone,
    /// Refers to `_definitions.json` in its own folder: compiles with that folder's registry.
    Local,
    /// Extracted from a CRD, self-contained; also chart `values.schema.json` files.
    Plain,
}

/// One source of schema files: a user's folder or the embedded catalog.
#[derive(Debug)]
enum Layer {
    Dir(SchemaLocation),
    Embedded(&'static Catalog),
}

impl Layer {
    fn has_file(&self, rel: &str) -> bool {
        match self {
            Layer::Dir(location) => location.dir.join(rel).is_file(),
            Layer::Embedded(catalog) => catalog.contains(rel),
        }
    }

    fn read(&self, rel: &str) -> Result<Vec<u8>, SchemaError> {
        let not_found = || SchemaError::Read {
            file: self.describe(rel),
            message: "no such file".to_owned(),
        };
        match self {
            Layer::Dir(location) => {
                fs::read(location.dir.join(rel)).map_err(|error| SchemaError::Read {
                    file: self.describe(rel),
                    message: error.to_string(),
                })
            }
            Layer::Embedded(catalog) => Ok(catalog.read(rel).ok_or_else(not_found)??),
        }
    }

    /// How a file of this layer is named in messages: its path, or its place in the catalog.
    fn describe(&self, rel: &str) -> String {
        match self {
            Layer::Dir(location) => location.dir.join(rel).display().to_string(),
            Layer::Embedded(_) => format!("(embedded catalog)/{rel}"),
        }
    }

    /// Whether the layer has built-in schemas (either flavour) for the release.
    fn covers(&self, release: KubernetesRelease) -> bool {
        match self {
            Layer::Dir(location) => [STANDALONE_SUFFIX, LOCAL_SUFFIX].iter().any(|suffix| {
                location
                    .dir
                    .join("k8s")
                    .join(format!("{}{suffix}", release.folder()))
                    .is_dir()
            }),
            Layer::Embedded(catalog) => catalog.releases().contains(&release),
        }
    }

    /// The releases the layer has built-in schemas for, in order.
    fn releases(&self) -> Vec<KubernetesRelease> {
        match self {
            Layer::Dir(location) => {
                let Ok(entries) = fs::read_dir(location.dir.join("k8s")) else {
                    return Vec::new();
                };
                let mut releases: Vec<_> = entries
                    .filter_map(Result::ok)
                    .filter_map(|entry| entry.file_name().into_string().ok())
                    .filter(|name| {
                        name.ends_with(STANDALONE_SUFFIX) || name.ends_with(LOCAL_SUFFIX)
                    })
                    .filter_map(|name| KubernetesRelease::from_folder(&name))
                    .collect();
                releases.sort();
                releases.dedup();
                releases
            }
            Layer::Embedded(catalog) => catalog.releases().to_vec(),
        }
    }

    /// The file holding a chart's defaults: `values.yaml` in a folder, its JSON form in the
    /// catalog.
    fn defaults_name(&self) -> &'static str {
        match self {
            Layer::Dir(_) => VALUES_YAML,
            Layer::Embedded(_) => DEFAULTS_JSON,
        }
    }

    fn name(&self) -> String {
        match self {
            Layer::Dir(location) => {
                format!("{} (from {})", location.dir.display(), location.origin)
            }
            Layer::Embedded(_) => "the embedded catalog".to_owned(),
        }
    }
}

/// What one layer contributes to the Kubernetes releases a store covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The layer, as messages name it: a folder and where it was given, or the catalog.
    pub layer: String,
    pub releases: Vec<KubernetesRelease>,
}

/// One file of one layer: what the caches are keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FileRef {
    layer: usize,
    rel: String,
}

#[derive(Debug, Clone)]
enum Resolution {
    Found(FileRef, Flavour),
    Missing(Vec<String>),
}

/// A value computed once per key, shared by every caller that asks for the same key.
type Slot<T> = Arc<OnceLock<T>>;
type Cache<K, T> = Mutex<HashMap<K, Slot<T>>>;

/// A chart folder's two files, as found in one layer.
#[derive(Debug, Clone)]
struct ChartFiles {
    values: Option<FileRef>,
    schema: Option<FileRef>,
}

/// Loads schemas from its layers on demand and validates objects against them.
///
/// Share one per build (behind `&` or `Arc`): compiled validators are cached per file.
pub struct SchemaStore {
    layers: Vec<Layer>,
    /// `_definitions.json` of a `-local-strict` folder, prepared once, the first time a kind
    /// of that folder outside the standalone set is validated.
    registries: Cache<FileRef, Result<Arc<Registry<'static>>, SchemaError>>,
    /// (release, apiVersion, kind) -> schema file or the paths tried.
    resolved: Mutex<HashMap<(KubernetesRelease, String, String), Resolution>>,
    /// schema file -> compiled validator.
    validators: Cache<FileRef, Result<Arc<Validator>, SchemaError>>,
    /// chart defaults file -> parsed defaults.
    defaults: Cache<FileRef, Result<Arc<Value>, SchemaError>>,
}

impl fmt::Debug for SchemaStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaStore")
            .field("layers", &self.layers)
            .finish_non_exhaustive()
    }
}

impl SchemaStore {
    /// A store over the user's schema locations (in precedence order) and then the embedded
    /// catalog. Each location must be a readable folder holding at least one of `k8s/`,
    /// `crds/`, `charts/`: a typo in a path would otherwise go unnoticed, every schema coming
    /// from the catalog. Files are read on first use.
    pub fn open(locations: &[SchemaLocation]) -> Result<Self, SchemaError> {
        let mut layers = user_layers(locations)?;
        layers.push(Layer::Embedded(catalog::embedded()?));
        Ok(Self::from_layers(layers))
    }

    /// The embedded catalog alone: what a build with no schema location uses.
    pub fn embedded() -> Result<Self, SchemaError> {
        Self::open(&[])
    }

    /// The given folders alone, without the embedded catalog: what the catalog generator reads
    /// its source tree with, so the catalog holds exactly the files a build would choose.
    pub fn folders_only(locations: &[SchemaLocation]) -> Result<Self, SchemaError> {
        Ok(Self::from_layers(user_layers(locations)?))
    }

    fn from_layers(layers: Vec<Layer>) -> Self {
        Self {
            layers,
            registries: Mutex::new(HashMap::new()),
            resolved: Mutex::new(HashMap::new()),
            validators: Mutex::new(HashMap::new()),
            defaults: Mutex::new(HashMap::new()),
        }
    }

    /// Whether some layer has the built-in schemas of this release.
    pub fn covers(&self, release: KubernetesRelease) -> bool {
        self.layers.iter().any(|layer| layer.covers(release))
    }

    /// The releases each layer has built-in schemas for, in precedence order.
    pub fn coverage(&self) -> Vec<Coverage> {
        self.layers
            .iter()
            .map(|layer| Coverage {
                layer: layer.name(),
                releases: layer.releases(),
            })
            .collect()
    }

    /// Validates one whole Kubernetes object (with `apiVersion` and `kind`) against the schema
    /// of its kind for the Kubernetes `release`. `Ok(vec![])` means it is valid.
    pub fn validate(
        &self,
        release: KubernetesRelease,
        object: &Value,
    ) -> Result<Vec<Violation>, Lookup> {
        let api_version = object.get("apiVersion").and_then(Value::as_str);
        let kind = object.get("kind").and_then(Value::as_str);
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            return Err(Lookup::Untyped {
                api_version: describe_field(object.get("apiVersion")),
                kind: describe_field(object.get("kind")),
            });
        };
        let (file, flavour) = match self.resolve(release, api_version, kind)? {
            Resolution::Found(file, flavour) => (file, flavour),
            Resolution::Missing(looked_in) => {
                return Err(Lookup::NoSchema {
                    api_version: api_version.to_owned(),
                    kind: kind.to_owned(),
                    looked_in,
                });
            }
        };
        let validator = self.validator(&file, flavour)?;
        // A Secret's every value may be sensitive, not only those under data/stringData:
        // a type error on `/data` itself would otherwise echo the whole map.
        let secret = kind == "Secret";
        Ok(violations(&validator, object, secret))
    }

    /// Where the schema of an apiVersion and kind comes from for a release, as messages name
    /// it (a path, or `(embedded catalog)/...`), and its path in the layout; `None` when no
    /// layer has one.
    pub fn schema_file(
        &self,
        release: KubernetesRelease,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<(String, String)>, Lookup> {
        Ok(match self.resolve(release, api_version, kind)? {
            Resolution::Found(file, _) => Some((self.describe(&file), file.rel)),
            Resolution::Missing(_) => None,
        })
    }

    /// Validates a Helm release's values for `chart` at `version` as Helm would: the chart's
    /// defaults (`values.yaml`), then `values` merged on top ([`merge_helm_values`]), checked
    /// against the chart's `values.schema.json`.
    ///
    /// Looks in `charts/<chart>/<version>/` of every layer first, then `charts/<chart>/`: a
    /// schema made for the pinned version wins over a layer's general one. A chart with
    /// defaults but no schema yields no violations (nothing to check against). `values` may be
    /// `null` (no release values). Pointers are into the merged values (`/singleuser/storage`),
    /// not into the HelmRelease: prefix `/spec/values` to point into the object.
    pub fn validate_chart_values(
        &self,
        chart: &str,
        version: &str,
        values: &Value,
    ) -> Result<Vec<Violation>, Lookup> {
        let files = self.chart_files(chart, version)?;
        let Some(schema_file) = files.schema else {
            return Ok(Vec::new());
        };
        let release = match values {
            Value::Null => Value::Object(Map::new()),
            Value::Object(_) => values.clone(),
            other => {
                return Ok(vec![Violation {
                    pointer: String::new(),
                    message: format!(
                        "release values must be a map, not {}",
                        json_type_name(other)
                    ),
                }]);
            }
        };
        let merged = match &files.values {
            Some(file) => {
                let defaults = self.chart_defaults(file)?;
                merge_helm_values(&defaults, &release)
            }
            None => release,
        };
        let validator = self.validator(&schema_file, Flavour::Plain)?;
        Ok(violations(&validator, &merged, false))
    }

    /// A chart's parsed defaults for a version, from the layer whose schema would be used
    /// (`None` when that folder has no defaults); for the catalog generator and tests.
    pub fn chart_defaults_of(&self, chart: &str, version: &str) -> Result<Option<Value>, Lookup> {
        let files = self.chart_files(chart, version)?;
        match &files.values {
            Some(file) => Ok(Some(self.chart_defaults(file)?.as_ref().clone())),
            None => Ok(None),
        }
    }

    fn describe(&self, file: &FileRef) -> String {
        self.layers[file.layer].describe(&file.rel)
    }

    fn read(&self, file: &FileRef) -> Result<Vec<u8>, SchemaError> {
        self.layers[file.layer].read(&file.rel)
    }

    /// Chooses the schema file for an apiVersion and kind, remembering the answer.
    fn resolve(
        &self,
        release: KubernetesRelease,
        api_version: &str,
        kind: &str,
    ) -> Result<Resolution, Lookup> {
        let key = (release, api_version.to_owned(), kind.to_owned());
        if let Some(found) = lock(&self.resolved).get(&key) {
            return Ok(found.clone());
        }
        let candidates = candidates(release, api_version, kind)?;
        // Probing happens outside the lock: a race only costs a second stat of the same files.
        // Layers come first: a user's file of either flavour hides the catalog's.
        let found = self.layers.iter().enumerate().find_map(|(index, layer)| {
            candidates
                .iter()
                .find(|(rel, _)| layer.has_file(rel))
                .map(|(rel, flavour)| {
                    let file = FileRef {
                        layer: index,
                        rel: rel.clone(),
                    };
                    Resolution::Found(file, *flavour)
                })
        });
        let resolution = found.unwrap_or_else(|| {
            Resolution::Missing(
                self.layers
                    .iter()
                    .flat_map(|layer| candidates.iter().map(|(rel, _)| layer.describe(rel)))
                    .collect(),
            )
        });
        lock(&self.resolved).insert(key, resolution.clone());
        Ok(resolution)
    }

    /// The compiled validator of a schema file, compiling it on first use.
    fn validator(&self, file: &FileRef, flavour: Flavour) -> Result<Arc<Validator>, SchemaError> {
        once(&self.validators, file, || self.compile(file, flavour))
    }

    fn compile(&self, file: &FileRef, flavour: Flavour) -> Result<Arc<Validator>, SchemaError> {
        let schema = self.read_json(file)?;
        let mut options = jsonschema::options().offline();
        if let Some(draft) = declared_draft(&schema) {
            options = options.with_draft(draft);
        }
        let registry;
        if flavour == Flavour::Local {
            registry = self.registry(file)?;
            options = options.with_registry(&registry);
        }
        options
            .build(&schema)
            .map(Arc::new)
            .map_err(|error| SchemaError::Compile {
                file: self.describe(file),
                message: cut(&error.to_string(), 300),
            })
    }

    /// The registry of `_definitions.json` beside a `-local-strict` schema, prepared on first
    /// use.
    fn registry(&self, schema: &FileRef) -> Result<Arc<Registry<'static>>, SchemaError> {
        let folder = schema.rel.rsplit_once('/').map_or("", |(folder, _)| folder);
        let definitions = FileRef {
            layer: schema.layer,
            rel: format!("{folder}/_definitions.json"),
        };
        once(&self.registries, &definitions, || {
            let document = self.read_json(&definitions)?;
            Registry::new()
                .add(DEFINITIONS_URI, document)
                .and_then(|builder| builder.prepare())
                .map(Arc::new)
                .map_err(|error| SchemaError::Registry {
                    file: self.describe(&definitions),
                    message: cut(&error.to_string(), 300),
                })
        })
    }

    /// Finds a chart's defaults and schema: the version's own folder in any layer if one has
    /// either file, else the chart's folder in any layer.
    fn chart_files(&self, chart: &str, version: &str) -> Result<ChartFiles, Lookup> {
        let chart_dir = format!("charts/{chart}");
        let mut dirs = Vec::new();
        if is_plain_segment(version) {
            dirs.push(format!("{chart_dir}/{version}"));
        }
        dirs.push(chart_dir);
        if is_plain_segment(chart) {
            for dir in &dirs {
                for (index, layer) in self.layers.iter().enumerate() {
                    let file = |name: &str| {
                        let rel = format!("{dir}/{name}");
                        layer
                            .has_file(&rel)
                            .then_some(FileRef { layer: index, rel })
                    };
                    let values = file(layer.defaults_name());
                    let schema = file(VALUES_SCHEMA);
                    if values.is_some() || schema.is_some() {
                        return Ok(ChartFiles { values, schema });
                    }
                }
            }
        }
        Err(Lookup::NoChart {
            chart: chart.to_owned(),
            version: version.to_owned(),
            looked_in: self
                .layers
                .iter()
                .flat_map(|layer| dirs.iter().map(|dir| layer.describe(dir)))
                .collect(),
        })
    }

    /// A chart's parsed defaults, parsed on first use: YAML from a folder, JSON from the
    /// catalog (which converted them from the same YAML with the same parser).
    fn chart_defaults(&self, file: &FileRef) -> Result<Arc<Value>, SchemaError> {
        once(&self.defaults, file, || {
            let value = match self.layers[file.layer] {
                Layer::Embedded(_) => self.read_json(file)?,
                Layer::Dir(_) => {
                    parse_yaml(&self.read(file)?).map_err(|message| SchemaError::Yaml {
                        file: self.describe(file),
                        message,
                    })?
                }
            };
            // An empty values.yaml is YAML null: no defaults.
            Ok(Arc::new(match value {
                Value::Null => Value::Object(Map::new()),
                other => other,
            }))
        })
    }

    fn read_json(&self, file: &FileRef) -> Result<Value, SchemaError> {
        let bytes = self.read(file)?;
        serde_json::from_slice(&bytes).map_err(|error| SchemaError::Json {
            file: self.describe(file),
            message: error.to_string(),
        })
    }
}

/// Checks the user's folders and makes them layers, in the order given.
fn user_layers(locations: &[SchemaLocation]) -> Result<Vec<Layer>, SchemaError> {
    locations
        .iter()
        .map(|location| {
            let problem = |problem: String| SchemaError::Location {
                dir: location.dir.clone(),
                origin: location.origin,
                problem,
            };
            if !location.dir.exists() {
                return Err(problem("does not exist".to_owned()));
            }
            if !location.dir.is_dir() {
                return Err(problem("is not a folder".to_owned()));
            }
            fs::read_dir(&location.dir)
                .map_err(|error| problem(format!("cannot be read: {error}")))?;
            if !LAYOUT.iter().any(|name| location.dir.join(name).is_dir()) {
                return Err(problem(
                    "has none of k8s/, crds/, charts/: it is not laid out like kubeconform's schemas"
                        .to_owned(),
                ));
            }
            Ok(Layer::Dir(location.clone()))
        })
        .collect()
}

/// The files that may hold the schema of an apiVersion and kind, in the order to try, as
/// paths in the layout.
fn candidates(
    release: KubernetesRelease,
    api_version: &str,
    kind: &str,
) -> Result<Vec<(String, Flavour)>, Lookup> {
    let (group, version) = match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    };
    // The names become path segments: refuse anything that could climb out of the schema
    // folder or that no real apiVersion/kind contains.
    let group_ok = group
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !group.starts_with('.')
        && !group.contains("..");
    let version_ok = !version.is_empty() && version.bytes().all(|b| b.is_ascii_alphanumeric());
    let kind_ok = !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_alphanumeric());
    if !(group_ok && version_ok && kind_ok) {
        return Err(Lookup::Untyped {
            api_version: format!("{api_version:?}"),
            kind: format!("{kind:?}"),
        });
    }
    // Only the kind is lowercased, as kubeconform does: groups and versions are lowercase by
    // definition, so a mistyped `Apps/v1` finds no schema rather than a wrong one.
    let kind = kind.to_ascii_lowercase();

    let builtin_name = match group.split('.').next() {
        Some(label) if !label.is_empty() => format!("{kind}-{label}-{version}.json"),
        _ => format!("{kind}-{version}.json"),
    };
    let folder = release.folder();
    let builtin = [
        (
            format!("k8s/{folder}{STANDALONE_SUFFIX}/{builtin_name}"),
            Flavour::Standalone,
        ),
        (
            format!("k8s/{folder}{LOCAL_SUFFIX}/{builtin_name}"),
            Flavour::Local,
        ),
    ];
    let crd = (
        format!("crds/{group}/{kind}_{version}.json"),
        Flavour::Plain,
    );
    let kubernetes_group = group == "k8s.io" || group.ends_with(".k8s.io");
    Ok(if !group.contains('.') {
        // Core and the dot-less built-in groups (apps, batch, policy, ...): a CRD's group
        // always has a dot, so these are never custom resources.
        builtin.to_vec()
    } else if kubernetes_group {
        // Built-in first; some *.k8s.io groups are CRDs (Gateway API, volume snapshots).
        let mut all = builtin.to_vec();
        all.push(crd);
        all
    } else {
        // A custom group never falls back to built-ins: `apps.example.com` Deployment would
        // otherwise be checked as an `apps/v1` Deployment.
        vec![crd]
    })
}

/// Parses a chart's `values.yaml` as the check reads it; the catalog generator converts the
/// defaults with this too, so the embedded JSON is exactly what a folder's YAML gives.
pub fn parse_yaml(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|error| error.to_string())?;
    serde_saphyr::from_str(text).map_err(|error| cut(&error.to_string(), 300))
}

/// Merges a release's values over a chart's defaults the way Helm coalesces them: maps merge
/// key by key, recursively; any other value (scalar, list, or a map over a non-map) replaces
/// the default; a `null` deletes a key the defaults have. As in Helm, a `null` for a key the
/// defaults lack is kept (and then checked by the schema like any value).
pub fn merge_helm_values(defaults: &Value, release: &Value) -> Value {
    match (defaults, release) {
        (Value::Object(defaults), Value::Object(release)) => {
            let mut merged = defaults.clone();
            for (key, value) in release {
                match (merged.get_mut(key), value) {
                    (Some(_), Value::Null) => {
                        merged.remove(key);
                    }
                    (Some(default), value) => {
                        let combined = merge_helm_values(default, value);
                        *default = combined;
                    }
                    (None, value) => {
                        merged.insert(key.clone(), value.clone());
                    }
                }
            }
            Value::Object(merged)
        }
        (_, release) => release.clone(),
    }
}

/// Runs the validator and turns its errors into violations with safe, short messages.
fn violations(validator: &Validator, instance: &Value, redact_all: bool) -> Vec<Violation> {
    validator
        .iter_errors(instance)
        .map(|error| {
            let pointer = error.instance_path().as_str().to_owned();
            let message = message(&error, redact_all || is_sensitive(&pointer));
            Violation { pointer, message }
        })
        .collect()
}

/// Renders an error with its instance replaced by a placeholder: the redaction word for
/// sensitive fields, else the value's JSON cut to [`PREVIEW_CHARS`]. jsonschema's masked
/// rendering never prints the instance itself, only the placeholder (and schema facts such as
/// the expected type, the pattern or unexpected property names).
fn message(error: &ValidationError<'_>, redact: bool) -> String {
    let placeholder = if redact {
        REDACTED.to_owned()
    } else {
        preview(error.instance())
    };
    cut(&error.masked_with(placeholder).to_string(), 400)
}

/// Whether a value at this pointer may be a credential, so must not be echoed.
fn is_sensitive(pointer: &str) -> bool {
    pointer.split('/').skip(1).any(|segment| {
        let segment = segment.to_ascii_lowercase();
        matches!(segment.as_str(), "data" | "stringdata" | "encrypteddata")
            || [
                "password",
                "passwd",
                "secret",
                "token",
                "credential",
                "privatekey",
                "apikey",
            ]
            .iter()
            .any(|word| segment.contains(word))
            || segment.ends_with("pw")
    })
}

/// The value as compact JSON, cut to about [`PREVIEW_CHARS`] characters; serialisation stops
/// early so a huge object costs no more than its first bytes.
fn preview(value: &Value) -> String {
    struct Capped(Vec<u8>);
    impl io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            // Keep a few bytes over the limit so a cut inside a multi-byte character can be
            // moved back to a character boundary and still know the text was longer.
            let room = (PREVIEW_CHARS * 4 + 4).saturating_sub(self.0.len());
            if room == 0 {
                return Err(io::Error::other("preview full"));
            }
            let take = buf.len().min(room);
            self.0.extend_from_slice(&buf[..take]);
            Ok(take)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new());
    // An error here only means "preview full": the bytes written so far are what we want.
    let _ = serde_json::to_writer(&mut out, value);
    let text = match std::str::from_utf8(&out.0) {
        Ok(text) => text,
        Err(error) => std::str::from_utf8(&out.0[..error.valid_up_to()]).unwrap_or_default(),
    };
    cut(text, PREVIEW_CHARS)
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// The draft a schema declares, read leniently: `http` or `https`, with or without the
/// trailing `#`, and under the key `$schema"` too (dask-gateway's chart ships that typo, which
/// would otherwise silently make the schema 2020-12 instead of the draft-07 it was written
/// for). `None` leaves the choice to jsonschema (2020-12 when nothing is declared).
fn declared_draft(schema: &Value) -> Option<Draft> {
    let object = schema.as_object()?;
    let uri = object
        .get("$schema")
        .or_else(|| object.get("$schema\""))?
        .as_str()?;
    let uri = uri.trim_end_matches('#');
    let uri = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))?;
    match uri {
        "json-schema.org/draft-04/schema" => Some(Draft::Draft4),
        "json-schema.org/draft-06/schema" => Some(Draft::Draft6),
        "json-schema.org/draft-07/schema" => Some(Draft::Draft7),
        "json-schema.org/draft/2019-09/schema" => Some(Draft::Draft201909),
        "json-schema.org/draft/2020-12/schema" => Some(Draft::Draft202012),
        _ => None,
    }
}

/// Runs `init` at most once per key across all threads; work on different keys runs in
/// parallel because the map's lock is released before `init` runs.
fn once<K: Clone + Eq + Hash, T: Clone>(
    cache: &Cache<K, T>,
    key: &K,
    init: impl FnOnce() -> T,
) -> T {
    let slot = {
        let mut map = lock(cache);
        match map.get(key) {
            Some(slot) => Arc::clone(slot),
            None => {
                let slot = Slot::default();
                map.insert(key.clone(), Arc::clone(&slot));
                slot
            }
        }
    };
    slot.get_or_init(init).clone()
}

/// A mutex whose holder panicked still guards consistent data here (every insert is a single
/// call), so poisoning is ignored rather than turned into a panic.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether a name can be used as one path segment (a chart name or version).
fn is_plain_segment(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
}

/// How a missing or mistyped apiVersion/kind field is shown (never its value if not a string).
fn describe_field(value: Option<&Value>) -> String {
    match value {
        None => "missing".to_owned(),
        Some(Value::String(text)) => format!("{:?}", cut(text, PREVIEW_CHARS)),
        Some(other) => format!("of type {}", json_type_name(other)),
    }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn join(paths: &[String]) -> String {
    if paths.is_empty() {
        return "nothing".to_owned();
    }
    paths.join(", ")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use serde_json::json;

    const R33: KubernetesRelease = KubernetesRelease {
        major: 1,
        minor: 33,
    };
    const R27: KubernetesRelease = KubernetesRelease {
        major: 1,
        minor: 27,
    };

    /// The shared schema directory: `../shared/schemas` from the main crate.
    fn schemas() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas")
    }

    fn location(dir: PathBuf, origin: Origin) -> SchemaLocation {
        SchemaLocation { dir, origin }
    }

    /// The shared schemas alone, as a user location without the catalog beneath.
    fn store() -> SchemaStore {
        SchemaStore::folders_only(&[location(schemas(), Origin::Flag)]).expect("schema store opens")
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [{
                            "name": "web",
                            "image": "nginx:1.27",
                            "ports": [{"containerPort": 80}],
                            "resources": {"limits": {"memory": "128Mi", "cpu": "500m"}}
                        }]
                    }
                }
            }
        })
    }

    fn ceph_cluster(osds_per_device: Value) -> Value {
        json!({
            "apiVersion": "ceph.rook.io/v1",
            "kind": "CephCluster",
            "metadata": {"name": "rook-ceph", "namespace": "rook-ceph"},
            "spec": {
                "cephVersion": {"image": "quay.io/ceph/ceph:v19.2.3"},
                "dataDirHostPath": "/var/lib/rook",
                "mon": {"count": 3, "allowMultiplePerNode": false},
                "storage": {
                    "useAllNodes": false,
                    "useAllDevices": false,
                    "nodes": [{
                        "name": "node-1",
                        "devices": [{"name": "sdb"}],
                        "config": {"osdsPerDevice": osds_per_device}
                    }]
                }
            }
        })
    }

    fn schema_path(store: &SchemaStore, api_version: &str, kind: &str) -> String {
        match store.schema_file(R33, api_version, kind) {
            Ok(Some((shown, _))) => shown,
            other => panic!("{api_version} {kind}: {other:?}"),
        }
    }

    fn pointers(violations: &[Violation]) -> Vec<&str> {
        violations.iter().map(|v| v.pointer.as_str()).collect()
    }

    #[test]
    fn store_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SchemaStore>();
    }

    #[test]
    fn valid_deployment_passes_for_1_33_and_1_27() {
        for release in [R33, R27] {
            let violations = store()
                .validate(release, &deployment())
                .expect("schema found");
            assert!(violations.is_empty(), "{release}: {violations:?}");
        }
    }

    #[test]
    fn the_embedded_catalog_alone_checks_every_release_it_carries() {
        let store = SchemaStore::embedded().expect("the catalog opens");
        for minor in 33..=37 {
            let release = KubernetesRelease { major: 1, minor };
            assert!(store.covers(release), "{release}");
            assert_eq!(
                store
                    .validate(release, &deployment())
                    .expect("schema found"),
                []
            );
            let mut bad = deployment();
            bad["spec"]["replicas"] = json!("two");
            let violations = store.validate(release, &bad).expect("schema found");
            assert_eq!(pointers(&violations), ["/spec/replicas"], "{release}");
        }
        assert!(!store.covers(R27));
        let (shown, rel) = store
            .schema_file(R33, "apps/v1", "Deployment")
            .expect("looked up")
            .expect("found");
        assert_eq!(
            shown,
            "(embedded catalog)/k8s/v1.33.0-standalone-strict/deployment-apps-v1.json"
        );
        assert_eq!(rel, "k8s/v1.33.0-standalone-strict/deployment-apps-v1.json");
        // Only what the templates emit is carried: a Job is not.
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}});
        match store.validate(R33, &job) {
            Err(Lookup::NoSchema { looked_in, .. }) => assert_eq!(
                looked_in,
                [
                    "(embedded catalog)/k8s/v1.33.0-standalone-strict/job-batch-v1.json",
                    "(embedded catalog)/k8s/v1.33.0-local-strict/job-batch-v1.json",
                ]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_user_location_adds_kinds_and_overrides_the_catalog_file_by_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let builtin = dir.path().join("k8s/v1.33.0-standalone-strict");
        fs::create_dir_all(&builtin).expect("mkdir");
        // A Namespace schema that requires a label the real one does not.
        fs::write(
            builtin.join("namespace-v1.json"),
            r#"{"type": "object", "required": ["metadata"], "properties": {"metadata": {"required": ["labels"]}}}"#,
        )
        .expect("write");
        let crds = dir.path().join("crds/example.org");
        fs::create_dir_all(&crds).expect("mkdir");
        fs::write(crds.join("gizmo_v1.json"), r#"{"type": "object"}"#).expect("write");
        let store =
            SchemaStore::open(&[location(dir.path().to_owned(), Origin::Flag)]).expect("opens");
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}});
        assert_eq!(
            pointers(&store.validate(R33, &namespace).expect("found")),
            ["/metadata"],
            "the user's Namespace schema is used"
        );
        // The user folder has no 1.34: the catalog's Namespace applies there.
        let r34 = KubernetesRelease {
            major: 1,
            minor: 34,
        };
        assert_eq!(store.validate(r34, &namespace).expect("found"), []);
        // Kinds the user folder lacks come from the catalog; kinds the catalog lacks, from it.
        assert_eq!(store.validate(R33, &deployment()).expect("found"), []);
        let gizmo = json!({"apiVersion": "example.org/v1", "kind": "Gizmo"});
        assert_eq!(store.validate(R33, &gizmo).expect("found"), []);
        let coverage = store.coverage();
        assert_eq!(coverage.len(), 2);
        assert!(
            coverage[0].layer.ends_with("(from --schemas)"),
            "{coverage:?}"
        );
        assert_eq!(coverage[0].releases, [R33]);
        assert_eq!(coverage[1].layer, "the embedded catalog");
        assert_eq!(coverage[1].releases.len(), 5);
    }

    #[test]
    fn a_location_that_is_not_a_schema_folder_is_refused_at_open() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a-file");
        fs::write(&file, "x").expect("write");
        let empty = dir.path().join("empty");
        fs::create_dir(&empty).expect("mkdir");
        for (path, says) in [
            (dir.path().join("nowhere"), "does not exist"),
            (file, "is not a folder"),
            (empty, "has none of k8s/, crds/, charts/"),
        ] {
            let error = SchemaStore::open(&[location(path.clone(), Origin::Environment)])
                .expect_err("refused");
            assert!(matches!(error, SchemaError::Location { .. }), "{error:?}");
            let text = error.to_string();
            assert!(text.contains(says), "{text}");
            assert!(text.contains("(from CASA_SCHEMAS)"), "{text}");
            assert!(text.contains(&path.display().to_string()), "{text}");
        }
    }

    #[test]
    fn embedded_chart_defaults_are_the_yaml_defaults() {
        let embedded = SchemaStore::embedded().expect("opens");
        let shared = store();
        for (chart, version) in [
            ("jupyterhub", "4.4.0"),
            ("jupyterhub", "3.1.0"),
            ("dask-gateway", "2026.3.0"),
            ("traefik", "41.3.0"),
            ("metallb", "0.16.1"),
        ] {
            let from_catalog = embedded.chart_defaults_of(chart, version).expect(chart);
            let from_yaml = shared.chart_defaults_of(chart, version).expect(chart);
            assert!(from_catalog.is_some(), "{chart}");
            assert_eq!(from_catalog, from_yaml, "{chart} {version}");
        }
    }

    #[test]
    fn deployment_with_unknown_field_fails_at_its_parent() {
        let mut object = deployment();
        object["spec"]["template"]["spec"]["containers"][0]["imagePolicy"] = json!("Always");
        let violations = store().validate(R33, &object).expect("schema found");
        assert_eq!(pointers(&violations), ["/spec/template/spec/containers/0"]);
        assert!(
            violations[0].message.contains("imagePolicy"),
            "{violations:?}"
        );
    }

    #[test]
    fn wrong_type_is_reported_with_a_short_value() {
        let mut object = deployment();
        object["spec"]["replicas"] = json!("x".repeat(500));
        let violations = store().validate(R33, &object).expect("schema found");
        assert_eq!(pointers(&violations), ["/spec/replicas"]);
        assert!(violations[0].message.len() < 200, "{violations:?}");
        assert!(violations[0].message.contains("xxxx…"), "{violations:?}");
    }

    #[test]
    fn cephcluster_osds_per_device_must_be_a_string() {
        let store = store();
        let ok = store
            .validate(R33, &ceph_cluster(json!("5")))
            .expect("schema found");
        assert!(ok.is_empty(), "{ok:?}");
        let bad = store
            .validate(R33, &ceph_cluster(json!(5)))
            .expect("schema found");
        assert_eq!(
            pointers(&bad),
            ["/spec/storage/nodes/0/config/osdsPerDevice"]
        );
        assert!(bad[0].message.contains("string"), "{bad:?}");
    }

    #[test]
    fn flux_kustomization_passes() {
        let object = json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": {
                "interval": "10m",
                "path": "./apps",
                "prune": true,
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"}
            }
        });
        let violations = store().validate(R33, &object).expect("schema found");
        assert!(violations.is_empty(), "{violations:?}");
    }

    #[test]
    fn unknown_kinds_report_no_schema_and_where_they_looked() {
        let store = store();
        let custom = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}});
        match store.validate(R33, &custom) {
            Err(Lookup::NoSchema { looked_in, .. }) => {
                assert_eq!(looked_in.len(), 1);
                assert!(looked_in[0].ends_with("crds/example.com/widget_v1.json"));
            }
            other => panic!("expected no schema, got {other:?}"),
        }
        let builtin = json!({"apiVersion": "v1", "kind": "Gizmo"});
        let error = store.validate(R33, &builtin).expect_err("no schema");
        let text = error.to_string();
        assert!(
            text.starts_with("no schema for v1 Gizmo (looked in "),
            "{text}"
        );
        assert!(text.contains("gizmo-v1.json"), "{text}");
        // A custom group never borrows a built-in schema of the same first label.
        let lookalike = json!({"apiVersion": "apps.example.com/v1", "kind": "Deployment"});
        assert!(matches!(
            store.validate(R33, &lookalike),
            Err(Lookup::NoSchema { .. })
        ));
        // Groups are case-sensitive (only the kind is lowercased for the file name).
        let lookalike = json!({"apiVersion": "Apps/v1", "kind": "Deployment"});
        assert!(matches!(
            store.validate(R33, &lookalike),
            Err(Lookup::NoSchema { .. })
        ));
    }

    #[test]
    fn kinds_outside_the_standalone_set_use_the_local_flavour() {
        let store = store();
        let lease = json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "l", "namespace": "default"},
            "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}
        });
        let path = schema_path(&store, "coordination.k8s.io/v1", "Lease");
        assert!(path.contains("-local-strict"), "{path:?}");
        assert_eq!(store.validate(R33, &lease).expect("schema found"), []);
        let mut bad = lease.clone();
        bad["metadata"]["labels"] = json!({"a": 1});
        let violations = store.validate(R33, &bad).expect("schema found");
        assert_eq!(pointers(&violations), ["/metadata/labels/a"]);
    }

    #[test]
    fn untyped_or_odd_objects_are_lookup_errors_not_panics() {
        let store = store();
        for object in [
            json!(null),
            json!([1, 2]),
            json!({"kind": "Deployment"}),
            json!({"apiVersion": 1, "kind": "Deployment"}),
            json!({"apiVersion": "../../../etc/v1", "kind": "Passwd"}),
            json!({"apiVersion": "v1", "kind": "../secret"}),
            json!({"apiVersion": "", "kind": ""}),
        ] {
            assert!(
                matches!(store.validate(R33, &object), Err(Lookup::Untyped { .. })),
                "{object}"
            );
        }
    }

    #[test]
    fn a_release_no_layer_covers_has_no_built_in_schemas() {
        let store = store();
        let r30 = KubernetesRelease {
            major: 1,
            minor: 30,
        };
        assert!(!store.covers(r30));
        assert!(store.covers(R27) && store.covers(R33));
        let releases: Vec<String> = store.coverage()[0]
            .releases
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(releases, ["1.27", "1.33", "1.34", "1.35", "1.36", "1.37"]);
        let error = store.validate(r30, &deployment()).expect_err("no 1.30");
        assert!(
            error.to_string().contains("v1.30.0-standalone-strict"),
            "{error}"
        );
    }

    #[test]
    fn secret_values_never_reach_messages() {
        let store = store();
        let secret = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": "default"},
            "type": "Opaque",
            "data": {"password": ["hunter2-data"], "token": 42},
            "stringData": {"key": {"nested": "hunter2-string"}},
            "immutable": "hunter2-immutable",
            "extra": "hunter2-extra"
        });
        let violations = store.validate(R33, &secret).expect("schema found");
        let mut found = pointers(&violations);
        found.sort_unstable();
        assert_eq!(
            found,
            [
                "",
                "/data/password",
                "/data/token",
                "/immutable",
                "/stringData/key"
            ]
        );
        for violation in &violations {
            assert!(!violation.message.contains("hunter2"), "{violation}");
            assert!(!violation.message.contains("42"), "{violation}");
        }
        // A whole `data` of the wrong type says nothing of its content either.
        let whole = json!({"apiVersion": "v1", "kind": "Secret", "data": "hunter2-whole"});
        for violation in store.validate(R33, &whole).expect("schema found") {
            assert!(!violation.message.contains("hunter2"), "{violation}");
        }
    }

    #[test]
    fn credential_like_fields_are_redacted_in_any_object() {
        assert!(is_sensitive("/spec/values/hub/config/Auth/client_secret"));
        assert!(is_sensitive("/data/x"));
        assert!(is_sensitive("/proxy/secretToken"));
        assert!(is_sensitive("/config/connectors/0/config/bindPW"));
        assert!(!is_sensitive("/spec/replicas"));
        assert!(!is_sensitive("/metadata/name"));
    }

    #[test]
    fn jupyterhub_values_merge_over_defaults_for_both_versions() {
        let store = store();
        let values = json!({"singleuser": {"storage": {"capacity": "10Gi"}}});
        for version in ["4.4.0", "3.1.0"] {
            let violations = store
                .validate_chart_values("jupyterhub", version, &values)
                .expect("chart found");
            assert!(violations.is_empty(), "{version}: {violations:?}");
            let bogus = json!({"singleuser": {"bogus": 1}});
            let violations = store
                .validate_chart_values("jupyterhub", version, &bogus)
                .expect("chart found");
            assert_eq!(pointers(&violations), ["/singleuser"], "{version}");
            assert!(violations[0].message.contains("bogus"), "{violations:?}");
        }
        // Without the defaults the schema's required keys would be missing.
        let violations = store
            .validate_chart_values("jupyterhub", "3.1.0", &Value::Null)
            .expect("chart found");
        assert!(violations.is_empty(), "{violations:?}");
    }

    #[test]
    fn the_pinned_chart_version_has_its_own_schema() {
        // 3.1.0 and 4.4.0 differ; the version directory must win over the chart directory.
        let store = store();
        let files_310 = store.chart_files("jupyterhub", "3.1.0").expect("found");
        let files_440 = store.chart_files("jupyterhub", "4.4.0").expect("found");
        let schema_310 = files_310.schema.expect("schema").rel;
        let schema_440 = files_440.schema.expect("schema").rel;
        assert!(schema_310.ends_with("jupyterhub/3.1.0/values.schema.json"));
        assert!(schema_440.ends_with("jupyterhub/values.schema.json"));
    }

    #[test]
    fn traefik_values_with_a_bad_type_fail() {
        let store = store();
        let good = json!({"deployment": {"replicas": 2}});
        assert_eq!(
            store
                .validate_chart_values("traefik", "41.3.0", &good)
                .expect("chart found"),
            []
        );
        let bad = json!({"deployment": {"replicas": "two"}});
        let violations = store
            .validate_chart_values("traefik", "41.3.0", &bad)
            .expect("chart found");
        assert_eq!(pointers(&violations), ["/deployment/replicas"]);
    }

    #[test]
    fn every_chart_schema_accepts_its_own_defaults() {
        // Covers the draft quirks: jupyterhub and cert-manager (draft-07), metallb (https
        // draft-07 URI), dask-gateway (`$schema"` typo), traefik (2020-12).
        let store = store();
        for (chart, version) in [
            ("jupyterhub", "4.4.0"),
            ("jupyterhub", "3.1.0"),
            ("dask-gateway", "2026.3.0"),
            ("traefik", "41.3.0"),
            ("metallb", "0.16.1"),
            ("cert-manager", "v1.21.1"),
        ] {
            let violations = store
                .validate_chart_values(chart, version, &json!({}))
                .unwrap_or_else(|error| panic!("{chart}: {error}"));
            assert!(violations.is_empty(), "{chart}: {violations:?}");
        }
    }

    #[test]
    fn charts_without_a_schema_have_no_violations() {
        let store = store();
        for chart in ["dex", "cvmfs-csi", "rook-ceph", "sealed-secrets"] {
            let values = json!({"anything": {"goes": true}});
            let violations = store
                .validate_chart_values(chart, "1.0.0", &values)
                .unwrap_or_else(|error| panic!("{chart}: {error}"));
            assert!(violations.is_empty(), "{chart}: {violations:?}");
            // The defaults still parse: a broken values.yaml would be an error.
            let files = store.chart_files(chart, "1.0.0").expect("found");
            store
                .chart_defaults(&files.values.expect("values.yaml"))
                .unwrap_or_else(|error| panic!("{chart}: {error}"));
        }
        assert!(matches!(
            store.validate_chart_values("no-such-chart", "1.0.0", &json!({})),
            Err(Lookup::NoChart { .. })
        ));
        assert!(matches!(
            store.validate_chart_values("../k8s", "1.0.0", &json!({})),
            Err(Lookup::NoChart { .. })
        ));
    }

    #[test]
    fn helm_merge_semantics() {
        let defaults = json!({
            "a": {"b": 1, "c": {"d": 2}, "l": [1, 2]},
            "gone": {"x": 1},
            "scalar": "s",
            "keep": true
        });
        let release = json!({
            "a": {"c": {"e": 3}, "l": [9]},
            "gone": null,
            "scalar": {"now": "a map"},
            "new": null
        });
        assert_eq!(
            merge_helm_values(&defaults, &release),
            json!({
                "a": {"b": 1, "c": {"d": 2, "e": 3}, "l": [9]},
                "scalar": {"now": "a map"},
                "keep": true,
                "new": null
            })
        );
    }

    #[test]
    fn each_schema_compiles_once() {
        let store = store();
        for _ in 0..3 {
            store.validate(R33, &deployment()).expect("schema found");
            store
                .validate(R33, &ceph_cluster(json!("1")))
                .expect("schema found");
        }
        assert_eq!(lock(&store.validators).len(), 2);
        let Ok(Resolution::Found(file, flavour)) = store.resolve(R33, "apps/v1", "Deployment")
        else {
            panic!("no Deployment schema");
        };
        assert_eq!(flavour, Flavour::Standalone);
        let first = store.validator(&file, flavour).expect("compiles");
        let second = store.validator(&file, flavour).expect("compiles");
        assert!(Arc::ptr_eq(&first, &second));
    }

    #[test]
    fn threads_share_one_compiled_validator() {
        let store = store();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..25 {
                        let violations = store.validate(R33, &deployment()).expect("schema found");
                        assert!(violations.is_empty(), "{violations:?}");
                    }
                });
            }
        });
        assert_eq!(lock(&store.validators).len(), 1);
    }

    #[test]
    fn broken_schema_files_are_errors_naming_the_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let builtin = dir.path().join("k8s/v1.33.0-standalone-strict");
        fs::create_dir_all(&builtin).expect("temp dir");
        fs::write(builtin.join("configmap-v1.json"), "{not json").expect("write");
        fs::write(builtin.join("secret-v1.json"), r#"{"type": 12}"#).expect("write");
        let chart = dir.path().join("charts/broken");
        fs::create_dir_all(&chart).expect("mkdir");
        fs::write(chart.join("values.yaml"), "a: [unclosed\n").expect("write");
        fs::write(chart.join("values.schema.json"), r#"{"type": "object"}"#).expect("write");
        let store =
            SchemaStore::open(&[location(dir.path().to_owned(), Origin::SiteFile)]).expect("opens");
        let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap"});
        let error = store.validate(R33, &config_map).expect_err("broken");
        assert!(matches!(error, Lookup::Schema(SchemaError::Json { .. })));
        assert!(error.to_string().contains("configmap-v1.json"), "{error}");
        let secret = json!({"apiVersion": "v1", "kind": "Secret"});
        let error = store.validate(R33, &secret).expect_err("broken");
        assert!(matches!(error, Lookup::Schema(SchemaError::Compile { .. })));
        assert!(error.to_string().starts_with("schema "), "{error}");
        let error = store
            .validate_chart_values("broken", "1.0.0", &json!({}))
            .expect_err("broken defaults");
        assert!(matches!(error, Lookup::Schema(SchemaError::Yaml { .. })));
        assert!(
            error.to_string().contains("charts/broken/values.yaml"),
            "{error}"
        );
        // The local flavour is missing here and in the catalog, so a Lease finds nothing.
        let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease"});
        assert!(matches!(
            store.validate(R33, &lease),
            Err(Lookup::NoSchema { .. })
        ));
    }
}
