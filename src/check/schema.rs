//! Schema check: validates generated Kubernetes objects and Helm chart values offline against
//! JSON Schemas, the way kubeconform does.
//!
//! - Stage: after rendering, before writing manifests. The caller walks every generated object
//!   (and every HelmRelease's `spec.values`) and asks a shared [`SchemaStore`] for violations.
//! - Input: a schema directory given by the user (laid out as `shared/schemas/SOURCES.md`
//!   describes: `k8s/v<M>.<m>.0-{standalone,local}-strict/`, `crds/<group>/<kind>_<version>.json`,
//!   `charts/<chart>[/<version>]/{values.yaml,values.schema.json}`), a Kubernetes version, and
//!   objects as `serde_json::Value`.
//! - Output: a list of [`Violation`]s (JSON pointer into the object and a short message) per
//!   object, or a [`Lookup`] outcome when no schema applies ([`Lookup::NoSchema`], which the
//!   caller may tolerate for kinds it allows to be unknown) or a schema file is broken.
//!
//! Every schema file is read, parsed and compiled at most once per store, on first use, and
//! the store is `Send + Sync`, so one store serves a whole build of thousands of objects from
//! any number of threads.
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

// The API is `pub` so this file also builds alone as a library (where it is reachable); in the
// binary crate the whole module is crate-private, which `unreachable_pub` would flag.
#![allow(unreachable_pub)]

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::{Map, Value};

/// Where a schema directory's built-in kinds live: `k8s/v<major>.<minor>.0-<flavour>`.
const STANDALONE_SUFFIX: &str = "-standalone-strict";
const LOCAL_SUFFIX: &str = "-local-strict";
/// The `$id` under which every `-local-strict` file expects `_definitions.json`
/// (their `$ref`s are `/api/_definitions.json#/$defs/...`, relative to their own `$id`).
const DEFINITIONS_URI: &str = "https://kubernetes.io/api/_definitions.json";
/// How many characters of an offending value a message may echo.
const PREVIEW_CHARS: usize = 80;
/// Placeholder for a value that must not be echoed.
const REDACTED: &str = "value";

/// A schema file that could not be used, or a schema directory that does not fit the version
/// asked for. Each names the path involved.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SchemaError {
    /// The Kubernetes version is not `<major>.<minor>` or `<major>.<minor>.<patch>`.
    #[error("kubernetes version {version:?} is not of the form <major>.<minor>[.<patch>]")]
    BadVersion { version: String },
    /// Neither flavour of the version's built-in schemas is in the schema directory.
    #[error(
        "no kubernetes {version} schemas: {} does not exist, nor its -local-strict twin \
         (versions present: {present})",
        .dir.display()
    )]
    MissingVersion {
        version: String,
        dir: PathBuf,
        present: String,
    },
    /// A schema or values file exists but cannot be read.
    #[error("cannot read {}: {message}", .path.display())]
    Read { path: PathBuf, message: String },
    /// A schema file is not JSON.
    #[error("invalid json in {}: {message}", .path.display())]
    Json { path: PathBuf, message: String },
    /// A chart's `values.yaml` is not YAML (or not representable as JSON).
    #[error("invalid yaml in {}: {message}", .path.display())]
    Yaml { path: PathBuf, message: String },
    /// `_definitions.json` could not be registered for the `-local-strict` schemas.
    #[error("cannot register {} as schema definitions: {message}", .path.display())]
    Registry { path: PathBuf, message: String },
    /// A schema file is JSON but not a schema the validator can compile.
    #[error("schema {} does not compile: {message}", .path.display())]
    Compile { path: PathBuf, message: String },
}

/// Why an object or a chart's values could not be checked at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Lookup {
    /// No schema file exists for this apiVersion and kind. Distinct from the others so the
    /// caller can treat unknown kinds as errors or, where allowed, as warnings.
    #[error(
        "no schema for {api_version} {kind} (looked in {})",
        join_paths(.looked_in)
    )]
    NoSchema {
        api_version: String,
        kind: String,
        looked_in: Vec<PathBuf>,
    },
    /// The schema directory knows nothing of this chart (neither `values.yaml` nor
    /// `values.schema.json`).
    #[error(
        "no values or schema for chart {chart} {version} (looked in {})",
        join_paths(.looked_in)
    )]
    NoChart {
        chart: String,
        version: String,
        looked_in: Vec<PathBuf>,
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

/// Which directory a built-in or custom schema came from; it decides how it compiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// Self-contained (`#/$defs/...` only): compiles with no registry.
    Standalone,
    /// Refers to `_definitions.json`: compiles with the store's registry.
    Local,
    /// Extracted from a CRD, self-contained; also chart `values.schema.json` files.
    Plain,
}

#[derive(Debug, Clone)]
enum Resolution {
    Found(PathBuf, Flavour),
    Missing(Vec<PathBuf>),
}

/// A value computed once per key, shared by every caller that asks for the same key.
type Slot<T> = Arc<OnceLock<T>>;
type Cache<K, T> = Mutex<HashMap<K, Slot<T>>>;

/// A chart directory's two files, as found on disk.
#[derive(Debug, Clone)]
struct ChartFiles {
    values: Option<PathBuf>,
    schema: Option<PathBuf>,
}

/// Loads schemas from a schema directory on demand and validates objects against them.
///
/// Share one per build (behind `&` or `Arc`): compiled validators are cached per file.
pub struct SchemaStore {
    root: PathBuf,
    version: String,
    standalone_dir: PathBuf,
    local_dir: PathBuf,
    /// `_definitions.json` of the `-local-strict` flavour, prepared once, first time a kind
    /// outside the standalone set is validated.
    registry: OnceLock<Result<Arc<Registry<'static>>, SchemaError>>,
    /// (apiVersion, kind) -> schema file or the paths tried.
    resolved: Mutex<HashMap<(String, String), Resolution>>,
    /// schema file -> compiled validator.
    validators: Cache<PathBuf, Result<Arc<Validator>, SchemaError>>,
    /// chart `values.yaml` -> parsed defaults.
    defaults: Cache<PathBuf, Result<Arc<Value>, SchemaError>>,
}

impl fmt::Debug for SchemaStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaStore")
            .field("root", &self.root)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl SchemaStore {
    /// Opens the schema directory `root` for Kubernetes `kubernetes_version` (`"1.33"`,
    /// `"1.33.4"`, a leading `v` allowed; the patch level is ignored since the schemas are
    /// per minor release).
    ///
    /// Only checks that the version's built-in schemas are there; files are read on first use.
    pub fn open(root: &Path, kubernetes_version: &str) -> Result<Self, SchemaError> {
        let (major, minor) =
            parse_version(kubernetes_version).ok_or_else(|| SchemaError::BadVersion {
                version: kubernetes_version.to_owned(),
            })?;
        let version = format!("{major}.{minor}");
        let k8s = root.join("k8s");
        let base = format!("v{major}.{minor}.0");
        let standalone_dir = k8s.join(format!("{base}{STANDALONE_SUFFIX}"));
        let local_dir = k8s.join(format!("{base}{LOCAL_SUFFIX}"));
        if !standalone_dir.is_dir() && !local_dir.is_dir() {
            return Err(SchemaError::MissingVersion {
                version,
                dir: standalone_dir,
                present: versions_present(&k8s),
            });
        }
        Ok(Self {
            root: root.to_owned(),
            version,
            standalone_dir,
            local_dir,
            registry: OnceLock::new(),
            resolved: Mutex::new(HashMap::new()),
            validators: Mutex::new(HashMap::new()),
            defaults: Mutex::new(HashMap::new()),
        })
    }

    /// Validates one whole Kubernetes object (with `apiVersion` and `kind`) against the schema
    /// of its kind. `Ok(vec![])` means it is valid.
    pub fn validate(&self, object: &Value) -> Result<Vec<Violation>, Lookup> {
        let api_version = object.get("apiVersion").and_then(Value::as_str);
        let kind = object.get("kind").and_then(Value::as_str);
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            return Err(Lookup::Untyped {
                api_version: describe_field(object.get("apiVersion")),
                kind: describe_field(object.get("kind")),
            });
        };
        let (path, flavour) = match self.resolve(api_version, kind)? {
            Resolution::Found(path, flavour) => (path, flavour),
            Resolution::Missing(looked_in) => {
                return Err(Lookup::NoSchema {
                    api_version: api_version.to_owned(),
                    kind: kind.to_owned(),
                    looked_in,
                });
            }
        };
        let validator = self.validator(&path, flavour)?;
        // A Secret's every value may be sensitive, not only those under data/stringData:
        // a type error on `/data` itself would otherwise echo the whole map.
        let secret = kind == "Secret";
        Ok(violations(&validator, object, secret))
    }

    /// Validates a Helm release's values for `chart` at `version` as Helm would: the chart's
    /// `values.yaml` defaults, then `values` merged on top ([`merge_helm_values`]), checked
    /// against the chart's `values.schema.json`.
    ///
    /// Looks in `charts/<chart>/<version>/` first, then `charts/<chart>/`. A chart with
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
        let Some(schema_path) = files.schema else {
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
            Some(path) => {
                let defaults = self.chart_defaults(path)?;
                merge_helm_values(&defaults, &release)
            }
            None => release,
        };
        let validator = self.validator(&schema_path, Flavour::Plain)?;
        Ok(violations(&validator, &merged, false))
    }

    /// Chooses the schema file for an apiVersion and kind, remembering the answer.
    fn resolve(&self, api_version: &str, kind: &str) -> Result<Resolution, Lookup> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(found) = lock(&self.resolved).get(&key) {
            return Ok(found.clone());
        }
        let candidates = self.candidates(api_version, kind)?;
        // Probing happens outside the lock: a race only costs a second stat of the same files.
        let resolution = candidates
            .iter()
            .find(|(path, _)| path.is_file())
            .map(|(path, flavour)| Resolution::Found(path.clone(), *flavour))
            .unwrap_or_else(|| {
                Resolution::Missing(candidates.into_iter().map(|(path, _)| path).collect())
            });
        lock(&self.resolved).insert(key, resolution.clone());
        Ok(resolution)
    }

    /// The files that may hold the schema of an apiVersion and kind, in the order to try.
    fn candidates(&self, api_version: &str, kind: &str) -> Result<Vec<(PathBuf, Flavour)>, Lookup> {
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version),
        };
        // The names become path segments: refuse anything that could climb out of the
        // schema directory or that no real apiVersion/kind contains.
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
        // Only the kind is lowercased, as kubeconform does: groups and versions are lowercase
        // by definition, so a mistyped `Apps/v1` finds no schema rather than a wrong one.
        let kind = kind.to_ascii_lowercase();

        let builtin_name = match group.split('.').next() {
            Some(label) if !label.is_empty() => format!("{kind}-{label}-{version}.json"),
            _ => format!("{kind}-{version}.json"),
        };
        let builtin = [
            (self.standalone_dir.join(&builtin_name), Flavour::Standalone),
            (self.local_dir.join(&builtin_name), Flavour::Local),
        ];
        let crd = (
            self.root
                .join("crds")
                .join(group)
                .join(format!("{kind}_{version}.json")),
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
            // A custom group never falls back to built-ins: `apps.example.com` Deployment
            // would otherwise be checked as an `apps/v1` Deployment.
            vec![crd]
        })
    }

    /// The compiled validator of a schema file, compiling it on first use.
    fn validator(&self, path: &Path, flavour: Flavour) -> Result<Arc<Validator>, SchemaError> {
        once(&self.validators, path, || self.compile(path, flavour))
    }

    fn compile(&self, path: &Path, flavour: Flavour) -> Result<Arc<Validator>, SchemaError> {
        let schema = read_json(path)?;
        let mut options = jsonschema::options().offline();
        if let Some(draft) = declared_draft(&schema) {
            options = options.with_draft(draft);
        }
        let registry;
        if flavour == Flavour::Local {
            registry = self.registry()?;
            options = options.with_registry(&registry);
        }
        options
            .build(&schema)
            .map(Arc::new)
            .map_err(|error| SchemaError::Compile {
                path: path.to_owned(),
                message: cut(&error.to_string(), 300),
            })
    }

    /// The `-local-strict` registry, prepared on first use.
    fn registry(&self) -> Result<Arc<Registry<'static>>, SchemaError> {
        self.registry
            .get_or_init(|| {
                let path = self.local_dir.join("_definitions.json");
                let definitions = read_json(&path)?;
                Registry::new()
                    .add(DEFINITIONS_URI, definitions)
                    .and_then(|builder| builder.prepare())
                    .map(Arc::new)
                    .map_err(|error| SchemaError::Registry {
                        path,
                        message: cut(&error.to_string(), 300),
                    })
            })
            .clone()
    }

    /// Finds a chart's defaults and schema: the version's own directory if it has either
    /// file, else the chart's directory.
    fn chart_files(&self, chart: &str, version: &str) -> Result<ChartFiles, Lookup> {
        let chart_dir = self.root.join("charts").join(chart);
        let mut dirs = Vec::new();
        if is_plain_segment(version) {
            dirs.push(chart_dir.join(version));
        }
        dirs.push(chart_dir);
        if is_plain_segment(chart) {
            for dir in &dirs {
                let values = Some(dir.join("values.yaml")).filter(|p| p.is_file());
                let schema = Some(dir.join("values.schema.json")).filter(|p| p.is_file());
                if values.is_some() || schema.is_some() {
                    return Ok(ChartFiles { values, schema });
                }
            }
        }
        Err(Lookup::NoChart {
            chart: chart.to_owned(),
            version: version.to_owned(),
            looked_in: dirs,
        })
    }

    /// A chart's parsed `values.yaml`, parsed on first use.
    fn chart_defaults(&self, path: &Path) -> Result<Arc<Value>, SchemaError> {
        once(&self.defaults, path, || {
            let text = fs::read_to_string(path).map_err(|error| read_error(path, &error))?;
            let value: Value =
                serde_saphyr::from_str(&text).map_err(|error| SchemaError::Yaml {
                    path: path.to_owned(),
                    message: cut(&error.to_string(), 300),
                })?;
            // An empty values.yaml is YAML null: no defaults.
            Ok(Arc::new(match value {
                Value::Null => Value::Object(Map::new()),
                other => other,
            }))
        })
    }
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
fn once<T: Clone>(cache: &Cache<PathBuf, T>, key: &Path, init: impl FnOnce() -> T) -> T {
    let slot = {
        let mut map = lock(cache);
        match map.get(key) {
            Some(slot) => Arc::clone(slot),
            None => {
                let slot = Slot::default();
                map.insert(key.to_owned(), Arc::clone(&slot));
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

fn read_json(path: &Path) -> Result<Value, SchemaError> {
    let bytes = fs::read(path).map_err(|error| read_error(path, &error))?;
    serde_json::from_slice(&bytes).map_err(|error| SchemaError::Json {
        path: path.to_owned(),
        message: error.to_string(),
    })
}

fn read_error(path: &Path, error: &io::Error) -> SchemaError {
    SchemaError::Read {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

/// `"1.33"`, `"1.33.4"`, `"v1.33.4"` -> (1, 33).
fn parse_version(version: &str) -> Option<(u32, u32)> {
    let version = version.strip_prefix('v').unwrap_or(version);
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    match (parts.next(), parts.next()) {
        (None, _) => Some((major, minor)),
        (Some(patch), None) if patch.parse::<u32>().is_ok() => Some((major, minor)),
        _ => None,
    }
}

/// The Kubernetes versions a `k8s/` directory has schemas for, for an error message.
fn versions_present(k8s: &Path) -> String {
    let Ok(entries) = fs::read_dir(k8s) else {
        return format!("none, {} is not readable", k8s.display());
    };
    let mut versions: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter_map(|name| {
            let version = name
                .strip_suffix(STANDALONE_SUFFIX)
                .or_else(|| name.strip_suffix(LOCAL_SUFFIX))?;
            Some(version.strip_prefix('v').unwrap_or(version).to_owned())
        })
        .collect();
    versions.sort();
    versions.dedup();
    if versions.is_empty() {
        "none".to_owned()
    } else {
        versions.join(", ")
    }
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

fn join_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "nothing".to_owned();
    }
    paths
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shared schema directory: `../shared/schemas` from the main crate,
    /// `../../shared/schemas` from a scratch crate one level deeper.
    fn schemas() -> PathBuf {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        ["../shared/schemas", "../../shared/schemas"]
            .iter()
            .map(|relative| manifest.join(relative))
            .find(|path| path.join("k8s").is_dir())
            .expect("shared/schemas beside the project")
    }

    fn store(version: &str) -> SchemaStore {
        SchemaStore::open(&schemas(), version).expect("schema store opens")
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

    fn schema_path(store: &SchemaStore, api_version: &str, kind: &str) -> PathBuf {
        match store.resolve(api_version, kind) {
            Ok(Resolution::Found(path, _)) => path,
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
        for version in ["1.33", "1.27", "1.33.4", "v1.27.16"] {
            let violations = store(version)
                .validate(&deployment())
                .expect("schema found");
            assert!(violations.is_empty(), "{version}: {violations:?}");
        }
    }

    #[test]
    fn deployment_with_unknown_field_fails_at_its_parent() {
        let mut object = deployment();
        object["spec"]["template"]["spec"]["containers"][0]["imagePolicy"] = json!("Always");
        let violations = store("1.33").validate(&object).expect("schema found");
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
        let violations = store("1.33").validate(&object).expect("schema found");
        assert_eq!(pointers(&violations), ["/spec/replicas"]);
        assert!(violations[0].message.len() < 200, "{violations:?}");
        assert!(violations[0].message.contains("xxxx…"), "{violations:?}");
    }

    #[test]
    fn cephcluster_osds_per_device_must_be_a_string() {
        let store = store("1.33");
        let ok = store
            .validate(&ceph_cluster(json!("5")))
            .expect("schema found");
        assert!(ok.is_empty(), "{ok:?}");
        let bad = store
            .validate(&ceph_cluster(json!(5)))
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
        let violations = store("1.33").validate(&object).expect("schema found");
        assert!(violations.is_empty(), "{violations:?}");
    }

    #[test]
    fn unknown_kinds_report_no_schema_and_where_they_looked() {
        let store = store("1.33");
        let custom = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}});
        match store.validate(&custom) {
            Err(Lookup::NoSchema { looked_in, .. }) => {
                assert_eq!(looked_in.len(), 1);
                assert!(looked_in[0].ends_with("crds/example.com/widget_v1.json"));
            }
            other => panic!("expected no schema, got {other:?}"),
        }
        let builtin = json!({"apiVersion": "v1", "kind": "Gizmo"});
        let error = store.validate(&builtin).expect_err("no schema");
        let text = error.to_string();
        assert!(
            text.starts_with("no schema for v1 Gizmo (looked in "),
            "{text}"
        );
        assert!(text.contains("gizmo-v1.json"), "{text}");
        // A custom group never borrows a built-in schema of the same first label.
        let lookalike = json!({"apiVersion": "apps.example.com/v1", "kind": "Deployment"});
        assert!(matches!(
            store.validate(&lookalike),
            Err(Lookup::NoSchema { .. })
        ));
        // Groups are case-sensitive (only the kind is lowercased for the file name).
        let lookalike = json!({"apiVersion": "Apps/v1", "kind": "Deployment"});
        assert!(matches!(
            store.validate(&lookalike),
            Err(Lookup::NoSchema { .. })
        ));
    }

    #[test]
    fn kinds_outside_the_standalone_set_use_the_local_flavour() {
        let store = store("1.33");
        let lease = json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "l", "namespace": "default"},
            "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}
        });
        let path = schema_path(&store, "coordination.k8s.io/v1", "Lease");
        assert!(path.to_string_lossy().contains("-local-strict"), "{path:?}");
        assert_eq!(store.validate(&lease).expect("schema found"), []);
        let mut bad = lease.clone();
        bad["metadata"]["labels"] = json!({"a": 1});
        let violations = store.validate(&bad).expect("schema found");
        assert_eq!(pointers(&violations), ["/metadata/labels/a"]);
    }

    #[test]
    fn untyped_or_odd_objects_are_lookup_errors_not_panics() {
        let store = store("1.33");
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
                matches!(store.validate(&object), Err(Lookup::Untyped { .. })),
                "{object}"
            );
        }
    }

    #[test]
    fn missing_version_names_the_directory_and_the_versions_present() {
        let error = SchemaStore::open(&schemas(), "1.30").expect_err("no 1.30");
        let text = error.to_string();
        assert!(text.contains("v1.30.0-standalone-strict"), "{text}");
        assert!(text.contains("1.27.0, 1.33.0"), "{text}");
        assert!(matches!(
            SchemaStore::open(&schemas(), "one.two"),
            Err(SchemaError::BadVersion { .. })
        ));
    }

    #[test]
    fn secret_values_never_reach_messages() {
        let store = store("1.33");
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
        let violations = store.validate(&secret).expect("schema found");
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
        for violation in store.validate(&whole).expect("schema found") {
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
        let store = store("1.33");
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
        let store = store("1.33");
        let files_310 = store.chart_files("jupyterhub", "3.1.0").expect("found");
        let files_440 = store.chart_files("jupyterhub", "4.4.0").expect("found");
        let schema_310 = files_310.schema.expect("schema");
        let schema_440 = files_440.schema.expect("schema");
        assert!(schema_310.ends_with("jupyterhub/3.1.0/values.schema.json"));
        assert!(schema_440.ends_with("jupyterhub/values.schema.json"));
    }

    #[test]
    fn traefik_values_with_a_bad_type_fail() {
        let store = store("1.33");
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
        let store = store("1.33");
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
        let store = store("1.33");
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
        let store = store("1.33");
        for _ in 0..3 {
            store.validate(&deployment()).expect("schema found");
            store
                .validate(&ceph_cluster(json!("1")))
                .expect("schema found");
        }
        assert_eq!(lock(&store.validators).len(), 2);
        let first = store
            .validator(
                &schema_path(&store, "apps/v1", "Deployment"),
                Flavour::Standalone,
            )
            .expect("compiles");
        let second = store
            .validator(
                &schema_path(&store, "apps/v1", "Deployment"),
                Flavour::Standalone,
            )
            .expect("compiles");
        assert!(Arc::ptr_eq(&first, &second));
    }

    #[test]
    fn threads_share_one_compiled_validator() {
        let store = store("1.33");
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..25 {
                        let violations = store.validate(&deployment()).expect("schema found");
                        assert!(violations.is_empty(), "{violations:?}");
                    }
                });
            }
        });
        assert_eq!(lock(&store.validators).len(), 1);
    }

    #[test]
    fn broken_schema_files_are_errors_naming_the_path() {
        let dir = std::env::temp_dir().join(format!("casa-schema-test-{}", std::process::id()));
        let builtin = dir.join("k8s/v1.33.0-standalone-strict");
        fs::create_dir_all(&builtin).expect("temp dir");
        fs::write(builtin.join("configmap-v1.json"), "{not json").expect("write");
        fs::write(builtin.join("secret-v1.json"), r#"{"type": 12}"#).expect("write");
        let store = SchemaStore::open(&dir, "1.33").expect("opens");
        let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap"});
        let error = store.validate(&config_map).expect_err("broken");
        assert!(matches!(error, Lookup::Schema(SchemaError::Json { .. })));
        assert!(error.to_string().contains("configmap-v1.json"), "{error}");
        let secret = json!({"apiVersion": "v1", "kind": "Secret"});
        let error = store.validate(&secret).expect_err("broken");
        assert!(matches!(error, Lookup::Schema(SchemaError::Compile { .. })));
        assert!(error.to_string().starts_with("schema "), "{error}");
        // The local flavour is missing here, so a Lease finds nothing.
        let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease"});
        assert!(matches!(
            store.validate(&lease),
            Err(Lookup::NoSchema { .. })
        ));
        let _ = fs::remove_dir_all(&dir);
    }
}
