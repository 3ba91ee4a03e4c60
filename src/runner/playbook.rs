//! One playbook, loaded for a run: its page path, title, parameters and checklist steps.
//!
//! Why this module exists: the runner must see a playbook exactly as the site shows it, so the
//! step ids it records match the ids the browser records. It therefore loads the library with
//! [`content::load`] and renders the one page with [`markdown::render`], like a build does,
//! and never parses markdown itself.

use crate::config::Config;
use crate::content::front_matter::{did_you_mean, Kind, Param};
use crate::content::{self, Library};
use crate::highlight::Highlighter;
use crate::markdown::{self, Context, Group, Step};
use anyhow::{bail, Context as _, Result};
use std::path::{Path, PathBuf};

/// What a run needs to know about its playbook.
#[derive(Debug, Clone)]
pub struct Playbook {
    /// The markdown file (for `--record`), as found on disk.
    pub file: PathBuf,
    /// The page path, e.g. `traffic-surges/absorb-a-spike/`: the run's `page`.
    pub page: String,
    pub title: String,
    /// Parameters declared in the front matter.
    pub params: Vec<Param>,
    /// Parameters used in the text as `${NAME}` but not declared.
    pub undeclared: Vec<String>,
    pub steps: Vec<Step>,
    pub groups: Vec<Group>,
}

impl Playbook {
    /// The title of the heading a step stands under.
    pub fn group_title(&self, step: &Step) -> &str {
        self.groups
            .iter()
            .find(|g| g.id == step.group)
            .map(|g| g.title.as_str())
            .unwrap_or("Checklist")
    }

    /// How deep a step is nested (0 for a top-level item).
    pub fn depth(&self, i: usize) -> usize {
        let mut d = 0;
        let mut cur = self.steps[i].parent;
        while let Some(p) = cur {
            d += 1;
            cur = self.steps[p].parent;
        }
        d
    }
}

/// Finds the playbook `arg` (a file path, or `topic/slug` relative to the content folder) in
/// the site at `root`, and renders it.
pub fn load(root: &Path, arg: &str) -> Result<Playbook> {
    let config = Config::load(root)?;
    let content_dir = root.join(&config.content_dir);
    if !content_dir.is_dir() {
        bail!(
            "no content folder at {} (use `--root` for the site folder)",
            content_dir.display()
        );
    }
    let (lib, diags) = content::load(&content::LoadOptions {
        root,
        content_dir: &content_dir,
        drafts: true,
        site_title: &config.title,
        output_dir: &config.output_dir,
    });
    let idx = find_page(&lib, &content_dir, arg)?;
    let doc = &lib.pages[idx].doc;
    if doc.fm.kind != Kind::Playbook {
        bail!(
            "{}: is a {}, not a playbook; only playbooks have runnable checklists",
            doc.src.display(),
            doc.fm.kind.as_str()
        );
    }
    let hl = Highlighter::new(None);
    let root_prefix = crate::site::root_of(&doc.url);
    let rendered = markdown::render(
        doc,
        &Context {
            lib: Some(&lib),
            hl: &hl,
            root: &root_prefix,
            steps: true,
        },
    );
    // Problems that change which steps exist or what they are called make a run unreliable;
    // the rest (a broken link, a missing owner) is for `scalebook check`.
    let fatal: Vec<String> = diags
        .iter()
        .chain(&rendered.diagnostics)
        .filter(|d| {
            d.is_error()
                && d.path == doc.src
                && matches!(d.rule, "duplicate-step-id" | "front-matter-syntax")
        })
        .map(|d| d.to_string())
        .collect();
    if !fatal.is_empty() {
        bail!("{}", fatal.join("\n"));
    }
    if rendered.steps.is_empty() {
        bail!(
            "{}: has no checklist steps (task items like `- [ ] Scale the pool`)",
            doc.src.display()
        );
    }
    let declared: Vec<&str> = doc.fm.params.iter().map(|p| p.name.as_str()).collect();
    let undeclared = rendered
        .params_used
        .iter()
        .filter(|n| !declared.contains(&n.as_str()))
        .cloned()
        .collect();
    Ok(Playbook {
        file: content_dir.join(&doc.content_path),
        page: doc.url.clone(),
        title: doc.title.clone(),
        params: doc.fm.params.clone(),
        undeclared,
        steps: rendered.steps,
        groups: rendered.groups,
    })
}

/// The page `arg` names: an existing markdown file inside the content folder, or a content
/// path such as `traffic-surges/absorb-a-spike` (with or without `.md` or a trailing `/`).
fn find_page(lib: &Library, content_dir: &Path, arg: &str) -> Result<usize> {
    let as_file = Path::new(arg);
    if as_file.is_file() {
        let want = as_file
            .canonicalize()
            .with_context(|| format!("{arg}: cannot read"))?;
        let content = content_dir.canonicalize().unwrap_or(content_dir.into());
        for (i, p) in lib.pages.iter().enumerate() {
            if content.join(&p.doc.content_path).canonicalize().ok() == Some(want.clone()) {
                return Ok(i);
            }
        }
        bail!(
            "{arg}: not a page of the site in {} (use `--root` for the site folder)",
            content_dir.display()
        );
    }
    let key = arg.trim().trim_matches('/');
    let key = key
        .strip_suffix(".md")
        .or_else(|| key.strip_suffix(".markdown"))
        .unwrap_or(key);
    if let Some(i) = lib.pages.iter().position(|p| {
        p.doc.url.trim_end_matches('/') == key
            || p.doc.content_path == format!("{key}.md")
            || p.doc.content_path == format!("{key}.markdown")
    }) {
        return Ok(i);
    }
    let known: Vec<&str> = lib
        .pages
        .iter()
        .filter(|p| p.doc.fm.kind == Kind::Playbook)
        .map(|p| p.doc.url.trim_end_matches('/'))
        .collect();
    let hint = match did_you_mean(key, &known) {
        Some(k) => format!(" (did you mean `{k}`?)"),
        None => String::new(),
    };
    bail!(
        "no playbook `{key}` in {}{hint}; give a file path or `topic/slug`",
        content_dir.display()
    )
}
