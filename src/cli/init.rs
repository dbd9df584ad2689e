//! `casa-build init DIR`: a new site from a few answers (flags, or questions on a terminal):
//! `site.toml` with the chosen components, the JSON Schemas its `#:schema` lines point at, an
//! example instance, a README for the site's repository and its CI workflow; then the site is
//! checked and built, so what `init` writes is a valid site from the start.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{InitComponent, Outcome, stderr, stdout};
use crate::check::SchemaLocation;
use crate::site::types::{Cidr, DnsLabel, DnsSubdomain, Hostname};

/// What the operator answered.
pub(crate) struct Answers {
    pub dir: PathBuf,
    pub name: Option<String>,
    pub domain: Option<String>,
    pub kubernetes_version: Option<String>,
    pub components: Vec<InitComponent>,
    pub tenant: Option<String>,
    pub lb_pool: Option<String>,
    pub storage_class: Option<String>,
    pub cert: Option<PathBuf>,
    pub repository: Option<String>,
    pub schemas: Vec<SchemaLocation>,
}

/// The chart versions a new site pins: those the reference site pins, whose values the
/// templates are written for and checked against.
const CHARTS: &[(&str, &str, &str)] = &[
    (
        "sealed-secrets",
        "https://bitnami-labs.github.io/sealed-secrets",
        "2.18.5",
    ),
    ("metallb", "https://metallb.github.io/metallb", "0.16.1"),
    ("traefik", "https://traefik.github.io/charts", "41.3.0"),
    ("dex", "https://charts.dexidp.io", "0.24.0"),
    (
        "cvmfs-csi",
        "oci://registry.cern.ch/kubernetes/charts",
        "2.5.2",
    ),
    ("jupyterhub", "https://hub.jupyter.org/helm-chart/", "4.4.0"),
];

/// The Kubernetes version a new site targets when none is given (the reference site's, inside
/// what Flux 2.9 and Rook 1.20 support).
const DEFAULT_KUBERNETES: &str = "1.36";

/// The checked answers.
struct Plan {
    name: DnsLabel,
    domain: Hostname,
    kubernetes: String,
    components: Vec<InitComponent>,
    tenant: Option<DnsLabel>,
    lb_pool: Option<Cidr>,
    storage_class: Option<DnsSubdomain>,
    cert: PathBuf,
    repository: String,
}

pub(crate) fn run(a: Answers) -> anyhow::Result<Outcome> {
    if a.dir.exists()
        && std::fs::read_dir(&a.dir)
            .with_context(|| format!("cannot read {}", a.dir.display()))?
            .next()
            .is_some()
    {
        anyhow::bail!(
            "{} exists and is not empty; init writes a new site into an empty folder",
            a.dir.display()
        );
    }
    let dir = a.dir.clone();
    let schemas = a.schemas.clone();
    let plan = match plan(a)? {
        Ok(p) => p,
        Err(problems) => {
            let mut err = stderr();
            for p in problems {
                writeln!(err, "error: {p}")?;
            }
            return Ok(Outcome::Invalid);
        }
    };
    write_site(&dir, &plan)?;
    writeln!(
        stdout(),
        "created the site {} in {}",
        plan.name,
        dir.display()
    )?;
    let checked = super::check::run(&dir, &schemas, super::Format::Text)?;
    if checked != Outcome::Ok {
        return Ok(checked);
    }
    super::build::run(&dir, None, &schemas, false, super::Format::Text)
}

/// Asks on a terminal for what no flag gave; off a terminal a missing answer is a problem.
fn ask(
    question: &str,
    given: Option<String>,
    default: Option<&str>,
) -> anyhow::Result<Option<String>> {
    if given.is_some() {
        return Ok(given);
    }
    if !std::io::stdin().is_terminal() {
        return Ok(default.map(str::to_owned));
    }
    let mut err = stderr();
    match default {
        Some(d) => write!(err, "{question} [{d}]: ")?,
        None => write!(err, "{question}: ")?,
    }
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim();
    Ok(if line.is_empty() {
        default.map(str::to_owned)
    } else {
        Some(line.to_owned())
    })
}

/// Parses an answer into its type, collecting what is wrong.
fn parsed<T: std::str::FromStr<Err = String>>(
    what: &str,
    flag: &str,
    value: Option<String>,
    problems: &mut Vec<String>,
) -> Option<T> {
    match value {
        None => {
            problems.push(format!("no {what}: pass {flag}"));
            None
        }
        Some(v) => match v.parse::<T>() {
            Ok(t) => Some(t),
            Err(e) => {
                problems.push(format!("{flag}: {e}"));
                None
            }
        },
    }
}

fn plan(a: Answers) -> anyhow::Result<Result<Plan, Vec<String>>> {
    let mut problems = Vec::new();
    let name = ask("Site name (a DNS label)", a.name, None)?;
    let name = parsed::<DnsLabel>("site name", "--name", name, &mut problems);
    let domain = ask("DNS domain of its services", a.domain, None)?;
    let domain = parsed::<Hostname>("domain", "--domain", domain, &mut problems);
    let kubernetes = ask(
        "Kubernetes version",
        a.kubernetes_version,
        Some(DEFAULT_KUBERNETES),
    )?
    .unwrap_or_else(|| DEFAULT_KUBERNETES.to_owned());
    let minor_ok = kubernetes
        .split_once('.')
        .is_some_and(|(ma, mi)| ma == "1" && mi.parse::<u32>().is_ok());
    if !minor_ok {
        problems.push(format!(
            "--kubernetes-version: `{kubernetes}` is not a version major.minor such as 1.33"
        ));
    }
    let tenant = a
        .tenant
        .and_then(|t| parsed::<DnsLabel>("tenant namespace", "--tenant", Some(t), &mut problems));
    let mut components = a.components;
    if components.is_empty() && std::io::stdin().is_terminal() {
        let listed = ask(
            "Components (comma-separated: sealed-secrets, metallb, traefik, ingress-nginx, dex, cvmfs)",
            None,
            Some(if tenant.is_some() { "ingress-nginx" } else { "sealed-secrets" }),
        )?
        .unwrap_or_default();
        for c in listed.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            match <InitComponent as clap::ValueEnum>::from_str(c, true) {
                Ok(c) => components.push(c),
                Err(_) => problems.push(format!("unknown component `{c}`")),
            }
        }
    }
    if tenant.is_none() && !components.contains(&InitComponent::SealedSecrets) {
        components.insert(0, InitComponent::SealedSecrets);
    }
    components.sort_by_key(|c| *c as u8);
    components.dedup();
    let needs_pool = components.contains(&InitComponent::Metallb)
        || components.contains(&InitComponent::Traefik);
    let lb_pool = if needs_pool {
        let pool = ask(
            "LoadBalancer address pool (CIDR on the node subnet)",
            a.lb_pool,
            None,
        )?;
        parsed::<Cidr>("LoadBalancer pool", "--lb-pool", pool, &mut problems)
    } else {
        a.lb_pool
            .and_then(|p| parsed::<Cidr>("LoadBalancer pool", "--lb-pool", Some(p), &mut problems))
    };
    let storage_class = ask(
        "StorageClass of the cluster for RWO volumes (empty: none yet)",
        a.storage_class,
        None,
    )?
    .and_then(|s| {
        parsed::<DnsSubdomain>("StorageClass", "--storage-class", Some(s), &mut problems)
    });
    let wants = |c: InitComponent| components.contains(&c);
    if tenant.is_some() {
        for c in [
            InitComponent::SealedSecrets,
            InitComponent::Metallb,
            InitComponent::Traefik,
            InitComponent::Cvmfs,
        ] {
            if wants(c) {
                problems.push(format!(
                    "--components {}: a tenant runs no cluster-wide component (the cluster's owner runs it)",
                    <InitComponent as clap::ValueEnum>::to_possible_value(&c)
                        .map(|v| v.get_name().to_owned())
                        .unwrap_or_default()
                ));
            }
        }
    }
    if wants(InitComponent::Traefik) && wants(InitComponent::IngressNginx) {
        problems.push(
            "--components: traefik and ingress-nginx are two ingresses; choose one".to_owned(),
        );
    }
    if wants(InitComponent::Dex)
        && !wants(InitComponent::Traefik)
        && !wants(InitComponent::IngressNginx)
    {
        problems.push(
            "--components dex: Dex's issuer needs an ingress (traefik or ingress-nginx)".to_owned(),
        );
    }
    let add_metallb = wants(InitComponent::Traefik) && !wants(InitComponent::Metallb);
    if add_metallb {
        components.push(InitComponent::Metallb);
    }
    let repository = ask(
        "The git repository Flux pulls this site from (ssh:// or https://)",
        a.repository,
        None,
    )?;
    // The site's own grammar, so that init never writes a repository `check` refuses.
    let repository = match repository {
        Some(r) => match r.parse::<crate::site::types::GitUrl>() {
            Ok(_) => Some(r),
            Err(e) => {
                problems.push(format!("--repository: {e}"));
                None
            }
        },
        None => {
            problems.push(
                "no repository: pass --repository URL (the git repository Flux pulls out/ from)"
                    .to_owned(),
            );
            None
        }
    };
    let cert = ask(
        "The Sealed Secrets controller's certificate (kubeseal --fetch-cert > cert.pem)",
        a.cert.map(|p| p.display().to_string()),
        None,
    )?;
    let cert = match cert {
        None => {
            problems.push("no sealing certificate: pass --cert PEM (`kubeseal --fetch-cert > cert.pem` on the cluster)".to_owned());
            None
        }
        Some(c) => Some(PathBuf::from(c)),
    };
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    components.sort_by_key(|c| *c as u8);
    // SAFETY: each is Some unless a problem was pushed, and there are none.
    Ok(Ok(Plan {
        name: name.expect("checked"),
        domain: domain.expect("checked"),
        kubernetes,
        components,
        tenant,
        lb_pool,
        storage_class,
        cert: cert.expect("checked"),
        repository: repository.expect("checked"),
    }))
}

fn write_site(dir: &Path, p: &Plan) -> anyhow::Result<()> {
    let cert = std::fs::read(&p.cert)
        .with_context(|| format!("cannot read the certificate {}", p.cert.display()))?;
    for sub in ["instances", "schemas", ".github/workflows"] {
        std::fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("cannot create {}", dir.join(sub).display()))?;
    }
    let write = |rel: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let path = dir.join(rel);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    write(CERT_FILE, &cert)?;
    write("site.toml", site_toml(p).as_bytes())?;
    write("instances/hub.toml.example", instance_example(p).as_bytes())?;
    write("README.md", readme(p).as_bytes())?;
    write(".github/workflows/casa-build.yml", WORKFLOW.as_bytes())?;
    for (name, schema) in [
        ("schemas/site.schema.json", crate::site::site_schema()),
        (
            "schemas/instance.schema.json",
            crate::site::instance_schema(),
        ),
    ] {
        write(
            name,
            (serde_json::to_string_pretty(&schema)? + "\n").as_bytes(),
        )?;
    }
    Ok(())
}

const CERT_FILE: &str = "kubeseal.pem";

fn site_toml(p: &Plan) -> String {
    let wants = |c: InitComponent| p.components.contains(&c);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "#:schema ./schemas/site.schema.json\n# The site {name}, started by `casa-build init`. README.md says what each table does\n# and how to add one; the casa-build README lists every table and what it needs.\n\n[site]\nname = \"{name}\"\ndomain = \"{domain}\"\nkubernetes_version = \"{k8s}\"",
        name = p.name,
        domain = p.domain,
        k8s = p.kubernetes
    );
    if p.tenant.is_some() {
        let _ = writeln!(
            s,
            "# The cluster's owner runs the Sealed Secrets controller for its tenants.\ncluster_provides = [\"sealed-secrets\"]"
        );
    }
    let _ = writeln!(
        s,
        "\n[gitops]\nrepository = \"{repo}\"\nbranch = \"main\"\npath = \"out\"\ninterval = \"10m\"\n\n[sealing]\ncert = \"{CERT_FILE}\"\nnamespace = \"kube-system\"\ncontroller = \"sealed-secrets-controller\"\n",
        repo = p.repository
    );
    let mut charts: Vec<&str> = vec!["jupyterhub"];
    if wants(InitComponent::SealedSecrets) {
        charts.push("sealed-secrets");
    }
    if wants(InitComponent::Metallb) {
        charts.push("metallb");
    }
    if wants(InitComponent::Traefik) {
        charts.push("traefik");
    }
    if wants(InitComponent::Dex) {
        charts.push("dex");
    }
    if wants(InitComponent::Cvmfs) {
        charts.push("cvmfs-csi");
    }
    for (name, repo, version) in CHARTS.iter().filter(|(n, _, _)| charts.contains(n)) {
        let _ = writeln!(
            s,
            "[charts.{name}]\nrepository = \"{repo}\"\nversion = \"{version}\""
        );
    }
    if let Some(t) = &p.tenant {
        let _ = writeln!(
            s,
            "\n[tenant]\nnamespace = \"{t}\"                   # Flux's objects and the hubs go here\nnamespaces = []"
        );
    }
    if let Some(c) = &p.storage_class {
        let _ = writeln!(s, "\n[storage]\nblock = \"{c}\"");
    }
    if let (true, Some(pool)) = (wants(InitComponent::Metallb), &p.lb_pool) {
        let _ = writeln!(
            s,
            "\n# Layer 2: the speaker answers ARP for these addresses on the node subnet.\n[[metallb.pool]]\nname = \"lan\"\naddresses = [\"{pool}\"]\nauto_assign = false\nadvertise = \"metallb-l2\""
        );
    }
    if let (true, Some(pool)) = (wants(InitComponent::Traefik), &p.lb_pool) {
        let first = pool.net().hosts().next().unwrap_or(pool.net().addr());
        let _ = writeln!(
            s,
            "\n[traefik]\nnamespace = \"traefik\"\nlb_ip = \"{first}\"\nreplicas = 1\ntls = {{}}                                  # acme_email = \"...\" for Let's Encrypt (needs a block StorageClass)"
        );
    }
    if wants(InitComponent::IngressNginx) {
        let _ = writeln!(
            s,
            "\n# The cluster's ingress-nginx; add `controller = {{ namespace, lb_ip, replicas }}` to install one.\n[ingress_nginx]\nclass = \"nginx\""
        );
    }
    if wants(InitComponent::Dex) {
        let _ = writeln!(
            s,
            "\n[dex]\nnamespace = \"dex\"\nissuer = \"https://dex.{domain}\"\n# Add [[dex.connector]] (upstream issuers) and [[dex.static_client]] (one per hub).",
            domain = p.domain
        );
    }
    if wants(InitComponent::Cvmfs) {
        let _ = writeln!(
            s,
            "\n[cvmfs]\nnamespace = \"cvmfs\"\nhttp_proxy = \"DIRECT\"                      # a site squid (http://host:3128) for more than a few nodes\ncache_mib = 10000\nrepositories = [\"sft.cern.ch\"]\nstorage_class = \"cvmfs\""
        );
    }
    s
}

fn instance_example(p: &Plan) -> String {
    let wants = |c: InitComponent| p.components.contains(&c);
    let ns = p
        .tenant
        .as_ref()
        .map_or_else(|| "hub".to_owned(), ToString::to_string);
    let login = if wants(InitComponent::Dex) {
        "dex = { connector = \"my-idp\", client = \"hub\" }   # a [[dex.connector]] and [[dex.static_client]] of site.toml\n".to_owned()
    } else {
        "\n[auth.oidc]                                 # the issuer's /.well-known/openid-configuration lists these\nclient_id = \"hub\"\nauthorize_url = \"https://login.example.org/authorize\"\ntoken_url = \"https://login.example.org/token\"\nuserdata_url = \"https://login.example.org/userinfo\"\nscopes = [\"openid\", \"email\", \"profile\"]\nusername_claim = \"email\"\n".to_owned()
    };
    format!(
        "#:schema ../schemas/instance.schema.json\n# An instance (one JupyterHub). Copy to <name>.toml, set its values, then seal its client\n# secret: printf %s \"$SECRET\" | casa-build seal '<file>#auth.client_secret'\n\n[instance]\nname = \"hub\"\nnamespace = \"{ns}\"\nhost = \"hub.{domain}\"\nstage = \"prod\"\n\n[auth]\nlogin_service = \"{domain}\"\nadmin_users = []\n{login}\n[singleuser]\nuid = 1000\ngid = 100\nhome = {{ mount = \"/home/jovyan\", size = \"10Gi\" }}\ncpu = {{ guarantee = 0.5, limit = 2.0 }}\nmemory = {{ guarantee = \"1Gi\", limit = \"4Gi\" }}\n\n[[profile]]\ndisplay_name = \"Coffea 2025\"\ndescription = \"Coffea 2025 with dask-awkward\"\nimage = \"docker.io/coffeateam/coffea-base-almalinux9:2025.1.0-py3.12\"\ndefault = true\n\n[culling]\nenabled = true\ntimeout = 3600\nmax_age = 0\n",
        domain = p.domain
    )
}

fn readme(p: &Plan) -> String {
    format!(
        "# {name}\n\nThe analysis facility {name} ({domain}), described for casa-build: `site.toml` holds the cluster's components,\n`instances/*.toml` one JupyterHub each, and `out/` is the tree of Kubernetes manifests Flux\napplies, generated from them and committed beside them.\n\n## Working on the site\n\n```sh\ncasa-build check                 # every problem, with file:line:column and a hint\ncasa-build build                 # writes out/ (schema-checked; the schemas are in casa-build)\ncasa-build secrets list          # every secret the site needs, and whether it is sealed\nprintf %s \"$VALUE\" | casa-build seal 'instances/hub.toml#auth.client_secret'\ncasa-build diff --base main      # which objects a change adds, removes or changes\n```\n\nCommit the sources and `out/` together; CI (`.github/workflows/casa-build.yml`) checks the\nsite, posts the diff of a pull request and fails when `out/` is not what the sources build.\n\n## Adding a hub\n\nCopy `instances/hub.toml.example` to `instances/<name>.toml`, set its host, namespace and\nlogin, seal its client secret, then `casa-build check` and `casa-build build`.\n\n## Files\n\n| file | what |\n|---|---|\n| `site.toml` | the site: components, nodes, network, pinned charts |\n| `instances/` | one file per JupyterHub |\n| `{cert}` | the Sealed Secrets controller's certificate (public; re-fetch it when the controller rotates its key) |\n| `schemas/` | JSON Schemas of the two files, for editors (`#:schema` lines); `casa-build schema --out schemas` refreshes them |\n| `out/` | the generated tree: never edit it by hand |\n",
        name = p.name,
        domain = p.domain,
        cert = CERT_FILE
    )
}

/// The site repository's CI: check, diff on pull requests, and `build --check`; the same file
/// as casa-build's own workflow, which is written to work in a repository holding only site
/// files (casa-build installed from the repository variable CASA_BUILD_GIT and cached; the
/// schemas in the binary, CASA_SCHEMAS adding a folder of the repository).
const WORKFLOW: &str = include_str!("../../.github/workflows/casa-build.yml");
