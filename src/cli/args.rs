//! Command-line arguments (clap derive only; behaviour lives in the command modules).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "casa-build", version, about = "Compile an analysis facility's site description into sealed, schema-checked Kubernetes manifests for Flux")]
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
    /// Validate the site and print a summary
    Check {
        #[command(flatten)]
        site: SiteArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
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
