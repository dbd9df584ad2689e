//! Command-line arguments (clap derive only; behaviour lives in the command modules).

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "casa-build",
    version,
    about = "Compile an analysis facility's site description into sealed, schema-checked Kubernetes manifests for Flux",
    after_help = super::EXIT_CODES
)]
pub struct Args {
    /// Colour in diagnostics and diffs: auto (on a terminal, unless NO_COLOR is set),
    /// always, never
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

/// When to colour output, as `ls --color` and cargo take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct SiteArgs {
    /// The site: its folder (holding site.toml and instances/) or its site.toml; default: the
    /// nearest folder holding a site.toml, from the working folder up
    #[arg(long, value_name = "DIR|FILE")]
    pub site: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// A schema folder (kubeconform layout) that adds to and overrides CASA_SCHEMAS,
    /// [site] schemas and the embedded catalog
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile the site into out/: rendered, schema-checked, sealed, written atomically
    #[command(
        after_help = "Examples:\n  casa-build build\n  casa-build build --check        # in CI: exit 1 when out/ is stale\n  casa-build build -o json --site ../flatiron"
    )]
    Build {
        #[command(flatten)]
        site: SiteArgs,
        /// Output folder (default: out/ in the site folder)
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        schemas: SchemaArgs,
        /// Write nothing; exit 1 when out/ is not what the sources produce
        #[arg(long)]
        check: bool,
        /// Output format, as kubectl's -o: text, or json (one object, README "JSON output")
        #[arg(short = 'o', long = "output", visible_alias = "format", value_enum, default_value_t = Format::Text, value_name = "FORMAT")]
        format: Format,
    },
    /// Validate the site (the Kubernetes release against the schemas too) and print a summary
    #[command(
        after_help = "Examples:\n  casa-build check\n  casa-build check -o json | jq .summary\n  casa-build check --site ../flatiron --color never"
    )]
    Check {
        #[command(flatten)]
        site: SiteArgs,
        #[command(flatten)]
        schemas: SchemaArgs,
        /// Output format, as kubectl's -o: text, or json (one object, README "JSON output")
        #[arg(short = 'o', long = "output", visible_alias = "format", value_enum, default_value_t = Format::Text, value_name = "FORMAT")]
        format: Format,
    },
    /// List every secret the site needs, with its status
    #[command(
        after_help = "Examples:\n  casa-build secrets list\n  casa-build secrets list -o json | jq -r '.secrets[] | select(.status != \"sealed\") | .location'"
    )]
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Seal a value read from standard input into the site, in place
    #[command(
        after_help = "Examples:\n  casa-build secrets list\n  casa-build seal 'instances/cms-prod.toml#auth.client_secret' < secret.txt"
    )]
    Seal {
        #[command(flatten)]
        site: SiteArgs,
        /// The controller's certificate (PEM); defaults to [sealing] cert of the site
        #[arg(long)]
        cert: Option<PathBuf>,
        /// Sealing scope; defaults to the value's current scope, else strict
        #[arg(long, value_parser = ["strict", "namespace-wide", "cluster-wide"])]
        scope: Option<String>,
        /// Where the secret goes, as `secrets list` prints it (e.g. instances/cms-prod.toml#auth.client_secret)
        location: String,
    },
    /// Explain a diagnostic code (e.g. CB012); without one, list every code
    #[command(
        after_help = "Examples:\n  casa-build explain CB012\n  casa-build explain            # every code, one line each\n  casa-build explain -o json     # every code with what, why and fix"
    )]
    Explain {
        code: Option<String>,
        #[arg(short = 'o', long = "output", visible_alias = "format", value_enum, default_value_t = Format::Text, value_name = "FORMAT")]
        format: Format,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(
        after_help = "Examples:\n  casa-build completions bash > /etc/bash_completion.d/casa-build\n  casa-build completions zsh > \"${fpath[1]}/_casa-build\"\n  casa-build completions fish > ~/.config/fish/completions/casa-build.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of casa-build
    #[command(
        after_help = "Examples:\n  casa-build man > /usr/local/share/man/man1/casa-build.1\n  casa-build man | man -l -"
    )]
    Man,
    /// Write the JSON Schemas of site.toml and instance files
    #[command(after_help = "Examples:\n  casa-build schema --out schemas")]
    Schema {
        /// Folder to write site.schema.json and instance.schema.json into
        #[arg(long, default_value = "schemas")]
        out: PathBuf,
    },
    /// Show which Kubernetes objects a change adds, removes, changes or renames
    #[command(
        after_help = "Examples:\n  casa-build diff --base main\n  casa-build diff --base origin/main -o markdown --out-file diff.md > comment.md\n  casa-build diff --live --timeout 2m -o json"
    )]
    Diff {
        #[command(flatten)]
        site: SiteArgs,
        /// The git revision to compare with (a branch, tag, commit, `HEAD~1`)
        #[arg(long, value_name = "REV", required_unless_present = "live")]
        base: Option<String>,
        /// The revision of the new side; default: the working tree
        #[arg(long, value_name = "REV")]
        head: Option<String>,
        #[command(flatten)]
        schemas: SchemaArgs,
        /// Output format, as kubectl's -o: text, markdown (a pull-request comment) or json
        #[arg(short = 'o', long = "output", visible_alias = "format", value_enum, default_value_t = DiffFormat::Text, value_name = "FORMAT")]
        format: DiffFormat,
        /// Also write the full report to this file (markdown on standard output is capped)
        #[arg(long = "out-file", value_name = "FILE")]
        out_file: Option<PathBuf>,
        /// Exit 2 instead of 1 when the danger review finds something the change destroys
        /// (a removed Namespace, claim or instance, an immutable field, moved OSDs, ...)
        #[arg(long, value_enum, value_name = "WHAT")]
        fail_on: Option<FailOn>,
        /// Compare with the live cluster instead of a git revision (exit 1 on drift,
        /// missing objects or orphans, 3 when the cluster cannot answer)
        #[arg(long, conflicts_with_all = ["base", "head", "out_file"])]
        live: bool,
        /// With --live: the kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)
        #[arg(long, value_name = "FILE", conflicts_with = "base")]
        kubeconfig: Option<PathBuf>,
        /// With --live: the kubeconfig context to use (default: its current context)
        #[arg(long, conflicts_with = "base")]
        context: Option<String>,
        /// With --live: compare with a server-side apply dry run, as `kubectl diff` does
        #[arg(long, conflicts_with = "base")]
        server_side: bool,
        /// With --live: the whole run (credentials, --wait, the comparison) ends within this:
        /// 30s, 2m, 1h30m, or a number of seconds
        #[arg(
            long,
            value_name = "DURATION",
            default_value = "30s",
            conflicts_with = "base"
        )]
        timeout: crate::diff::live::Timeout,
        /// With --live: first wait until every Flux unit is Ready at the built commit (exit 1
        /// listing those that are not when --timeout ends)
        #[arg(long, requires = "live")]
        wait: bool,
    },
    /// Start a new site in DIR from a few answers (flags, or questions on a terminal): its
    /// site.toml, schemas, README and CI workflow; then check and build it
    #[command(
        after_help = "Examples:\n  casa-build init my-site\n  casa-build init my-site --name lab --domain lab.example.org --kubernetes-version 1.33 --components traefik,dex --cert kubeseal.pem"
    )]
    Init {
        /// The folder of the new site (created; must be empty if it exists)
        dir: PathBuf,
        /// The site's name (a DNS label: the `part-of` label, the folder under clusters/)
        #[arg(long)]
        name: Option<String>,
        /// The DNS domain its services are published under
        #[arg(long)]
        domain: Option<String>,
        /// The cluster's Kubernetes version, major.minor
        #[arg(long, value_name = "VERSION")]
        kubernetes_version: Option<String>,
        /// Components the site runs, comma-separated
        #[arg(long, value_enum, value_delimiter = ',')]
        components: Vec<InitComponent>,
        /// Tenant mode: the namespace the tenant owns on someone else's cluster
        #[arg(long, value_name = "NAMESPACE")]
        tenant: Option<String>,
        /// The LoadBalancer address pool (CIDR) for MetalLB in layer 2 mode
        #[arg(long, value_name = "CIDR")]
        lb_pool: Option<String>,
        /// The cluster's StorageClass for RWO volumes (hub databases, homes)
        #[arg(long, value_name = "NAME")]
        storage_class: Option<String>,
        /// The Sealed Secrets controller's certificate (`kubeseal --fetch-cert`), copied
        /// into the site
        #[arg(long, value_name = "PEM")]
        cert: Option<PathBuf>,
        /// The git repository Flux pulls the site from (ssh:// or https://)
        #[arg(long, value_name = "URL")]
        repository: Option<String>,
        /// A schema folder for the first check and build (kubeconform layout, over
        /// CASA_SCHEMAS and the embedded catalog); not written to the site
        #[arg(long, value_name = "DIR")]
        schemas: Option<PathBuf>,
    },
    /// Commit the staged (or given) source changes together with the out/ they build, with
    /// `git commit` (the repository's hooks, signing and identity apply)
    #[command(
        after_help = "Examples:\n  casa-build commit -m 'More storage for cms-prod'   # the staged changes and out/\n  casa-build commit -a\n  casa-build commit instances/cms-prod.toml"
    )]
    Commit {
        #[command(flatten)]
        site: SiteArgs,
        /// Commit message; default: a summary of the changed objects
        #[arg(short, long)]
        message: Option<String>,
        /// Also commit every change to a tracked file (as `git commit -a`)
        #[arg(short, long, conflicts_with = "paths")]
        all: bool,
        /// Commit these files as the work tree has them, and out/ (as `git commit PATH...`;
        /// other staged changes stay staged)
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The repository to commit to; default: the one holding the site folder
        #[arg(long, value_name = "PATH")]
        repo: Option<PathBuf>,
        #[command(flatten)]
        schemas: SchemaArgs,
    },
}

/// What `init` can set up from a few answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitComponent {
    /// The Sealed Secrets controller (default, except for a tenant)
    SealedSecrets,
    /// MetalLB with the --lb-pool addresses, announced in layer 2
    Metallb,
    /// Traefik as the ingress, on the first address of --lb-pool
    Traefik,
    /// The cluster's ingress-nginx (IngressClass `nginx`)
    IngressNginx,
    /// Dex as the hubs' OIDC issuer, at dex.<domain>
    Dex,
    /// CVMFS (sft.cern.ch, direct connections)
    Cvmfs,
}

impl Command {
    /// The `--site` of a command that reads a site (`Some(None)`: not given, look for it);
    /// `None` for the commands that read none.
    pub fn site(&self) -> Option<Option<&Path>> {
        let site = match self {
            Command::Build { site, .. }
            | Command::Check { site, .. }
            | Command::Seal { site, .. }
            | Command::Diff { site, .. }
            | Command::Commit { site, .. }
            | Command::Secrets {
                command: SecretsCommand::List { site, .. },
            } => site,
            Command::Explain { .. }
            | Command::Schema { .. }
            | Command::Init { .. }
            | Command::Completions { .. }
            | Command::Man => return None,
        };
        Some(site.site.as_deref())
    }

    /// How the command prints diagnostics: JSON on standard output where the command was
    /// asked for JSON, else text on standard error.
    pub fn diagnostics_format(&self) -> Format {
        match self {
            Command::Build { format, .. }
            | Command::Check { format, .. }
            | Command::Explain { format, .. }
            | Command::Secrets {
                command: SecretsCommand::List { format, .. },
            } => *format,
            Command::Diff {
                format: DiffFormat::Json,
                ..
            } => Format::Json,
            _ => Format::Text,
        }
    }
}

/// What makes `diff` fail (exit 2) rather than report a difference (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// A finding of the danger review (CB120-CB139)
    Danger,
}

/// How `diff` reports: for a terminal, a pull-request comment, or a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Every secret slot: location, target Secret, scope, status
    List {
        #[command(flatten)]
        site: SiteArgs,
        /// Output format, as kubectl's -o: text, or json (one object, README "JSON output")
        #[arg(short = 'o', long = "output", visible_alias = "format", value_enum, default_value_t = Format::Text, value_name = "FORMAT")]
        format: Format,
    },
}
