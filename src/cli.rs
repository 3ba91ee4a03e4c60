//! The command line, as clap derive structs. Doc comments are the help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Build a searchable documentation site with runnable checklists from markdown playbooks.
#[derive(Debug, Parser)]
#[command(name = "scalebook", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the site into the output folder (public/ by default).
    Build(BuildArgs),
    /// Create a new site: scalebook.toml and playbooks/ with one example of each kind.
    Init(InitArgs),
    /// Create a new playbook or case study from a template.
    New(NewArgs),
    /// Check the whole site without writing anything; report every problem.
    Check(CheckArgs),
    /// Serve the site on 127.0.0.1 with live reload while you edit.
    Serve(ServeArgs),
    /// Walk a playbook's checklist in the terminal, running its commands on confirmation.
    Run(RunArgs),
}

#[derive(Debug, Args, Clone)]
pub struct SiteArgs {
    /// The site folder: holds scalebook.toml (optional) and playbooks/.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    /// Output folder [default: <root>/public, or `output_dir` from scalebook.toml].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Absolute URL the site will be served from, e.g. https://example.org/runbooks/
    /// (overrides `base_url` in scalebook.toml).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Include pages marked `draft = true`.
    #[arg(long)]
    pub drafts: bool,
    /// Do not read or write the highlight cache (.scalebook-cache/).
    #[arg(long)]
    pub no_cache: bool,
    /// Print only errors and warnings, no summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder for the new site (created if missing; must not already hold a site).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum NewKind {
    Playbook,
    CaseStudy,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Where the page goes, relative to the content folder: topic/slug (".md" optional).
    pub path: String,
    /// What to create.
    #[arg(long, value_enum, default_value = "playbook")]
    pub kind: NewKind,
    /// Title [default: from the slug].
    #[arg(long)]
    pub title: Option<String>,
    #[command(flatten)]
    pub site: SiteArgs,
}

// ---- check (issue 5) ----
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub site: SiteArgs,
}

// ---- serve (issue 5) ----
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub site: SiteArgs,
}

// ---- run (issue 8) ----
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub site: SiteArgs,
}
