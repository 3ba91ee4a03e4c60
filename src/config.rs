//! `scalebook.toml` and the resolved options every command works from.
//!
//! The command line ends here: commands turn flags + config file + defaults into one
//! [`BuildOptions`], and nothing below looks at flags again.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "scalebook.toml";

/// The site configuration file. Every field has a default so that a folder of markdown with
/// no config at all still builds.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub title: String,
    pub description: String,
    /// Absolute URL the site is published at; its path (`/runbooks/`) is the sub-path.
    pub base_url: String,
    pub language: String,
    /// Folder holding the markdown, relative to the site root.
    pub content_dir: String,
    /// Folder the site is written to, relative to the site root.
    pub output_dir: String,
    /// Link target of "Edit this page" on every playbook and case study, with `{path}` standing
    /// for the page's source file relative to the site root, e.g.
    /// `https://github.com/acme/runbooks/edit/main/{path}` (a site in a subfolder of its
    /// repository puts the folder before `{path}`). None: no link.
    pub edit_url: Option<String>,
    pub review: ReviewConfig,
    pub checks: ChecksConfig,
    /// Free table passed to templates as `config.extra`.
    pub extra: toml::Table,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewConfig {
    /// Default `review_every` for pages that do not set one, e.g. "180d".
    pub max_age: Option<String>,
    /// Playbooks must name an owner.
    pub require_owner: bool,
    /// How an overdue review is reported: `notice` (never fails a build), `warning` (fails
    /// `check --strict`) or `error`.
    pub overdue: crate::diagnostics::Severity,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            max_age: None,
            require_owner: false,
            overdue: crate::diagnostics::Severity::Warning,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ChecksConfig {
    /// A runnable block inside a step must have step text that says what it does.
    pub require_confirm_text: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            title: "Playbooks".into(),
            description: String::new(),
            base_url: "http://localhost/".into(),
            language: "en".into(),
            content_dir: "playbooks".into(),
            output_dir: "public".into(),
            edit_url: None,
            review: ReviewConfig::default(),
            checks: ChecksConfig::default(),
            extra: toml::Table::new(),
        }
    }
}

impl Config {
    pub fn parse(text: &str) -> Result<Config> {
        let mut cfg: Config =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.message().trim()))?;
        cfg.base_url = normalize_base_url(&cfg.base_url)?;
        if let Some(e) = &cfg.edit_url {
            if !(e.starts_with("https://") || e.starts_with("http://")) || !e.contains("{path}") {
                bail!(
                    "edit_url `{e}` must be an http(s) URL containing `{{path}}`, e.g. \
                     `https://github.com/acme/runbooks/edit/main/{{path}}`"
                );
            }
        }
        Ok(cfg)
    }

    /// Reads `scalebook.toml` under `root`, or the defaults when there is none.
    pub fn load(root: &Path) -> Result<Config> {
        let path = root.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                Config::parse(&text).with_context(|| format!("{}: invalid config", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// The path part of `base_url`, always starting and ending with `/`.
    pub fn base_path(&self) -> String {
        base_path_of(&self.base_url)
    }
}

pub fn normalize_base_url(url: &str) -> Result<String> {
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://") || url.starts_with("file://")) {
        bail!("base_url `{url}` must be an absolute http(s) URL, e.g. `https://example.org/runbooks/`");
    }
    let mut s = url.to_string();
    if !s.ends_with('/') {
        s.push('/');
    }
    Ok(s)
}

fn base_path_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => "/".into(),
    }
}

/// Everything a build needs, resolved once.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub root: PathBuf,
    pub out: PathBuf,
    pub config: Config,
    pub drafts: bool,
    /// Bypass the highlight cache (neither read nor written).
    pub no_cache: bool,
    /// Only the diagnostics are wanted (`check`): skip the work that can never report a
    /// problem and whose output would be thrown away, namely highlighting code (most of a cold
    /// build) and the search index. Pages and templates are still rendered: a template error is
    /// a problem to report.
    pub diagnostics_only: bool,
    /// "Today" for review due dates, as days since 1970-01-01. Fixed in tests so output is
    /// reproducible; the real clock otherwise.
    pub today: i64,
}

impl BuildOptions {
    pub fn content_dir(&self) -> PathBuf {
        self.root.join(&self.config.content_dir)
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.root.join(".scalebook-cache")
    }

    /// Loads the config under `root` with defaults for everything else.
    pub fn for_root(root: &Path) -> Result<BuildOptions> {
        let mut config = Config::load(root)?;
        // A folder of markdown without `playbooks/` (an existing runbook repository) is its
        // own content folder.
        if config.content_dir == Config::default().content_dir
            && !root.join(&config.content_dir).is_dir()
            && has_markdown(root)
        {
            config.content_dir = ".".into();
        }
        let out = root.join(&config.output_dir);
        Ok(BuildOptions {
            root: root.to_path_buf(),
            out,
            config,
            drafts: false,
            no_cache: false,
            diagnostics_only: false,
            today: crate::dates::today(),
        })
    }
}

fn has_markdown(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.filter_map(Result::ok).any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                !name.starts_with('.') && (name.ends_with(".md") || name.ends_with(".markdown"))
            })
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_url_needs_a_path_placeholder_and_an_http_url() {
        let ok = Config::parse("edit_url = \"https://git.example/a/edit/main/{path}\"\n").unwrap();
        assert_eq!(
            ok.edit_url.as_deref(),
            Some("https://git.example/a/edit/main/{path}")
        );
        for bad in [
            "https://git.example/a/edit/main/",
            "javascript:alert(1)//{path}",
        ] {
            let e = Config::parse(&format!("edit_url = \"{bad}\"\n")).unwrap_err();
            assert!(
                format!("{e:#}").contains("must be an http(s) URL containing `{path}`"),
                "{e:#}"
            );
        }
        assert_eq!(Config::parse("").unwrap().edit_url, None);
    }

    #[test]
    fn unknown_config_key_is_an_error_naming_it() {
        let err = Config::parse("titel = \"x\"").unwrap_err().to_string();
        assert!(err.contains("unknown field `titel`"), "{err}");
    }

    #[test]
    fn base_url_gets_a_trailing_slash_and_a_path() {
        let c = Config::parse("base_url = \"https://example.org/runbooks\"").unwrap();
        assert_eq!(c.base_url, "https://example.org/runbooks/");
        assert_eq!(c.base_path(), "/runbooks/");
        assert_eq!(Config::default().base_path(), "/");
    }

    #[test]
    fn relative_base_url_is_rejected() {
        assert!(Config::parse("base_url = \"/runbooks/\"").is_err());
    }
}
