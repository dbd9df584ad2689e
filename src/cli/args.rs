//! Command-line arguments (clap derive only; behaviour lives in the command modules).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "casa-build",
    version,
    about = "Compile an analysis facility's site description into sealed, schema-checked Kubernetes manifests for Flux"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct SiteArgs {
    /// The site folder (holding site.toml and instances/)
    #[arg(long, default_value = ".")]
    pub site: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile the site into out/: rendered, schema-checked, sealed, written atomically
    Build {
        #[command(flatten)]
        site: SiteArgs,
        /// Output folder (default: out/ in the site folder)
        #[arg(long)]
        out: Option<PathBuf>,
        /// Schema location (kubeconform layout); overrides [site] schemas
        #[arg(long)]
        schemas: Option<PathBuf>,
        /// Write nothing; exit 1 when out/ is not what the sources produce
        #[arg(long)]
        check: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Validate the site and print a summary
    Check {
        #[command(flatten)]
        site: SiteArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List every secret the site needs, with its status
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Seal a value read from standard input into the site, in place
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
    /// Explain a diagnostic code (e.g. CB012)
    Explain { code: String },
    /// Write the JSON Schemas of site.toml and instance files
    Schema {
        /// Folder to write site.schema.json and instance.schema.json into
        #[arg(long, default_value = "schemas")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Every secret slot: location, target Secret, scope, status
    List {
        #[command(flatten)]
        site: SiteArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}
