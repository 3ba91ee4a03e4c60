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
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    /// One line per problem (`path:line:col: severity[rule]: message`) and a summary.
    Human,
    /// A stable JSON document (`version`, `diagnostics`, `summary`).
    Json,
    /// GitHub Actions workflow annotations (`::error file=...`).
    Github,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    /// How to print the problems (on stdout).
    #[arg(long, value_enum, default_value = "human")]
    pub format: CheckFormat,
    /// Fail on warnings too (exit code 1).
    #[arg(long)]
    pub strict: bool,
    /// Also check http(s) links to other sites (needs the network).
    #[arg(long)]
    pub external: bool,
    /// Seconds to wait for each external link before calling it broken.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub timeout: u64,
    /// Check pages marked `draft = true` too.
    #[arg(long)]
    pub drafts: bool,
}

// ---- serve (issue 5) ----
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    /// Address to listen on. Anything but a loopback address exposes the site to your network.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Port to listen on; 0 picks a free one (the address is printed).
    #[arg(long, default_value_t = 1111)]
    pub port: u16,
    /// Open the site in a browser once it is served.
    #[arg(long)]
    pub open: bool,
    /// Include pages marked `draft = true`.
    #[arg(long)]
    pub drafts: bool,
}

// ---- run (issue 8) ----
#[derive(Debug, Args)]
#[command(
    after_help = "Keys at the step prompt, then Enter: d done, s [reason] skip, n [text] note, r [N] run the step's commands, u undo, Enter next, b back, g N go to step N, l list, f finish, q quit, ? help. See docs/run.md."
)]
pub struct RunArgs {
    /// The playbook: a markdown file, or its path in the content folder (`topic/slug`).
    pub playbook: String,
    #[command(flatten)]
    pub site: SiteArgs,
    /// A parameter value, e.g. `--param SERVICE=checkout` (repeatable); other parameters are
    /// asked for, showing their default.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// A name for the run, such as an incident id; also names the run file.
    #[arg(long)]
    pub name: Option<String>,
    /// Who runs it, recorded with each step [default: $USER].
    #[arg(long)]
    pub operator: Option<String>,
    /// Continue the run in this file (written here or exported from the browser).
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Where to save the run [default: the --resume file, else runs/<name or run id>.json].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also keep the Markdown timeline of the run in this file.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Folder the commands run in [default: the current folder].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Run commands without asking for each one.
    #[arg(long, short)]
    pub yes: bool,
    /// Show the steps and the exact commands; execute nothing, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run every run and verify block in order, stop at the first failure, print a summary;
    /// exit 1 when a command failed (asks once unless --yes).
    #[arg(long)]
    pub drill: bool,
    /// After a drill where everything passed, write `last_drill = <today>` into the
    /// playbook's front matter.
    #[arg(long, requires = "drill")]
    pub record: bool,
    /// Time limit per step, e.g. `90s`, `5m` [default: 60s in a drill, none otherwise].
    #[arg(long, value_name = "DURATION", value_parser = crate::runner::parse_duration)]
    pub timeout: Option<std::time::Duration>,
}
