//! The library: every page and section of a site, discovered from the content folder, with
//! front matter parsed and URLs assigned. Nothing here renders or writes.
//!
//! Invariant: every URL produced here is a relative path of safe components ending in `/`
//! (or empty for the home page), so the writer can never be steered outside the output.

pub mod front_matter;

use crate::diagnostics::{Diagnostic, LineIndex};
use front_matter::{FrontMatter, Kind};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// A markdown file: a page, or a section's `_index.md`.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Path relative to the site root, for messages (`playbooks/traffic-surges/a.md`).
    pub src: PathBuf,
    /// Path relative to the content folder with `/` (`traffic-surges/a.md`).
    pub content_path: String,
    /// The whole file.
    pub text: String,
    pub body_offset: usize,
    pub fm: FrontMatter,
    pub title: String,
    /// Site-relative URL: `traffic-surges/a/`, or `` for the home page.
    pub url: String,
    /// The body starts with a `# Title` equal to the page title: the template shows the
    /// title already, so the renderer drops that heading.
    pub strip_h1: bool,
}

impl Doc {
    pub fn body(&self) -> &str {
        &self.text[self.body_offset..]
    }

    pub fn has_front_matter(&self) -> bool {
        self.body_offset > 0
    }

    /// A stand-alone document with no front matter (snippets, tests).
    pub fn snippet(content_path: &str, url: &str, markdown: &str) -> Doc {
        Doc {
            src: content_path.into(),
            content_path: content_path.into(),
            text: markdown.to_string(),
            body_offset: 0,
            fm: FrontMatter::default(),
            title: String::new(),
            url: url.to_string(),
            strip_h1: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub doc: Doc,
    pub section: usize,
}

#[derive(Debug, Clone)]
pub struct Section {
    /// The `_index.md`, or a synthesised one (empty text) when the folder has none.
    pub doc: Doc,
    pub has_index: bool,
    pub parent: Option<usize>,
    /// Sorted by weight, then title.
    pub pages: Vec<usize>,
    pub subsections: Vec<usize>,
    pub depth: usize,
}

/// Where a content path (`x/y.md`) leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Page(usize),
    Section(usize),
}

#[derive(Debug, Default)]
pub struct Library {
    pub pages: Vec<Page>,
    /// `sections[0]` is the home page (the content folder itself).
    pub sections: Vec<Section>,
    pub by_path: HashMap<String, Target>,
    /// Non-markdown files in the content folder (images, attachments), content-relative.
    pub assets: Vec<String>,
    /// Tag slug (its URL segment) -> the tag. Spellings that share a slug (`Restarts`,
    /// `restarts`) are one tag with one page: two would race for the same file.
    pub tags: BTreeMap<String, Tag>,
}

#[derive(Debug, Clone, Default)]
pub struct Tag {
    /// The spelling of the first page (in listing order) that uses it.
    pub name: String,
    pub pages: Vec<usize>,
}

impl Library {
    pub fn doc(&self, t: Target) -> &Doc {
        match t {
            Target::Page(i) => &self.pages[i].doc,
            Target::Section(i) => &self.sections[i].doc,
        }
    }
}

/// URLs the generator itself uses; content may not take them.
pub const RESERVED: &[&str] = &[
    "tags",
    "search",
    "reviews",
    "theme",
    "404.html",
    "sitemap.xml",
    "atom.xml",
    "robots.txt",
];

pub struct LoadOptions<'a> {
    pub root: &'a Path,
    pub content_dir: &'a Path,
    pub drafts: bool,
    pub site_title: &'a str,
    /// The output folder's name under the root (`public`), never read as content.
    pub output_dir: &'a str,
}

/// Folders at the top of a site that are never content, when the content folder is the site
/// root itself (a repository of runbooks without a `playbooks/` folder).
const NOT_CONTENT: &[&str] = &[
    "public",
    "templates",
    "theme",
    "static",
    "target",
    "node_modules",
];

/// Discovers and parses every file under the content folder.
pub fn load(opts: &LoadOptions<'_>) -> (Library, Vec<Diagnostic>) {
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let flat = canon(opts.root) == canon(opts.content_dir);
    let mut diags = Vec::new();
    let mut lib = Library::default();
    let rel_to_root = |p: &Path| p.strip_prefix(opts.root).unwrap_or(p).to_path_buf();

    // Folders first, so every page finds its section.
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut dirs: Vec<String> = vec![String::new()];
    let walker = walkdir::WalkDir::new(opts.content_dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0
                || !(name.starts_with('.')
                    || (flat
                        && e.depth() == 1
                        && e.file_type().is_dir()
                        && (NOT_CONTENT.contains(&name.as_ref()) || name == opts.output_dir)))
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map(rel_to_root).unwrap_or_default();
                let msg = if e.loop_ancestor().is_some() {
                    "symbolic link loop: this folder links back to one of its parents".to_string()
                } else {
                    format!(
                        "cannot read: {}",
                        e.io_error()
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| e.to_string())
                    )
                };
                diags.push(Diagnostic::error("io", path, msg));
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(opts.content_dir)
            .unwrap_or(entry.path());
        let rel_str = rel.to_string_lossy().replace('\\', "/");
        if entry.file_type().is_dir() {
            dirs.push(format!("{rel_str}/"));
        } else {
            files.push((rel_str, entry.path().to_path_buf()));
        }
    }

    // Sections.
    let mut dir_index: HashMap<String, usize> = HashMap::new();
    for dir in &dirs {
        let parent = parent_dir(dir).and_then(|p| dir_index.get(&p).copied());
        let url = dir
            .split('/')
            .filter(|s| !s.is_empty())
            .map(slugify)
            .map(|s| s + "/")
            .collect::<String>();
        let idx = lib.sections.len();
        dir_index.insert(dir.clone(), idx);
        let name = dir.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let title = if dir.is_empty() {
            opts.site_title.to_string()
        } else {
            humanize(name)
        };
        lib.sections.push(Section {
            doc: Doc {
                src: rel_to_root(&opts.content_dir.join(dir).join("_index.md")),
                content_path: format!("{dir}_index.md"),
                text: String::new(),
                body_offset: 0,
                fm: FrontMatter::default(),
                title,
                url,
                strip_h1: false,
            },
            has_index: false,
            parent,
            pages: Vec::new(),
            subsections: Vec::new(),
            depth: dir.matches('/').count(),
        });
        if let Some(p) = parent {
            lib.sections[p].subsections.push(idx);
        }
        lib.by_path
            .insert(format!("{dir}_index.md"), Target::Section(idx));
    }

    // Reading and parsing each file is independent: done in parallel, consumed in order.
    let loaded: Vec<Option<Loaded>> = files
        .par_iter()
        .map(|(rel, abs)| {
            (rel.ends_with(".md") || rel.ends_with(".markdown"))
                .then(|| read_doc(rel, rel_to_root(abs), abs))
        })
        .collect();
    for ((rel, _), loaded) in files.into_iter().zip(loaded) {
        let Some(loaded) = loaded else {
            lib.assets.push(rel);
            continue;
        };
        let (doc, mut d) = match loaded {
            Ok(x) => x,
            Err(e) => {
                diags.push(e);
                continue;
            }
        };
        diags.append(&mut d);
        let dir = match rel.rfind('/') {
            Some(i) => rel[..=i].to_string(),
            None => String::new(),
        };
        let section = dir_index[&dir];
        let file_name = rel[dir.len()..].to_string();
        if file_name == "_index.md" {
            let s = &mut lib.sections[section];
            let title = doc.fm.title.clone().unwrap_or_else(|| s.doc.title.clone());
            s.doc = Doc {
                title,
                url: s.doc.url.clone(),
                ..doc
            };
            s.has_index = true;
            continue;
        }
        if doc.fm.draft && !opts.drafts {
            continue;
        }
        let stem = file_name
            .trim_end_matches(".markdown")
            .trim_end_matches(".md");
        let slug = match &doc.fm.slug {
            Some(s) if is_safe_segment(s) => s.clone(),
            Some(s) => {
                diags.push(
                    Diagnostic::error("unsafe-path", doc.src.clone(), format!("slug `{s}` must be a single path segment of letters, digits, `-`, `_` or `.`"))
                        .with_hint("a slug cannot contain `/` or `..`"),
                );
                continue;
            }
            None => slugify(stem),
        };
        let url = format!("{}{}/", lib.sections[section].doc.url, slug);
        let idx = lib.pages.len();
        lib.by_path.insert(rel, Target::Page(idx));
        lib.pages.push(Page {
            doc: Doc { url, ..doc },
            section,
        });
        lib.sections[section].pages.push(idx);
    }

    check_urls(&lib, &mut diags);
    sort_listings(&mut lib);
    for (i, p) in lib.pages.iter().enumerate() {
        for t in &p.doc.fm.tags {
            let tag = lib.tags.entry(slugify(t)).or_insert_with(|| Tag {
                name: t.clone(),
                pages: Vec::new(),
            });
            if tag.pages.last() != Some(&i) {
                tag.pages.push(i);
            }
        }
    }
    (lib, diags)
}

/// A markdown file read and parsed, with its diagnostics; or the one error that stopped it.
type Loaded = Result<(Doc, Vec<Diagnostic>), Diagnostic>;

fn read_doc(rel: &str, src: PathBuf, abs: &Path) -> Loaded {
    let bytes = std::fs::read(abs)
        .map_err(|e| Diagnostic::error("io", src.clone(), format!("cannot read: {e}")))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let off = e.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&e.as_bytes()[..off]).unwrap_or("");
            let pos = LineIndex::new(valid).pos(valid, off);
            return Err(
                Diagnostic::error("encoding", src, "file is not valid UTF-8")
                    .at(pos)
                    .with_hint("save the file as UTF-8"),
            );
        }
    };
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text);
    let empty = text
        .trim()
        .is_empty()
        .then(|| Diagnostic::warning("empty-file", src.clone(), "file is empty"));
    let (doc, d) = parse_doc(src, rel.to_string(), text);
    Ok((doc, empty.into_iter().chain(d).collect()))
}

fn parse_doc(src: PathBuf, content_path: String, text: String) -> (Doc, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let (fm, body_offset) = match front_matter::split(&text) {
        Ok(split) => {
            let (fm, mut d) = front_matter::parse(&src, &text, &split);
            diags.append(&mut d);
            (fm, split.body_offset)
        }
        Err((msg, _)) => {
            diags.push(
                Diagnostic::error("front-matter-syntax", src.clone(), msg)
                    .at(crate::diagnostics::Pos { line: 1, col: 1 }),
            );
            (FrontMatter::default(), 0)
        }
    };
    let body = &text[body_offset..];
    let h1 = first_h1(body);
    let stem = content_path
        .rsplit('/')
        .next()
        .unwrap_or("")
        .trim_end_matches(".md");
    let title = fm
        .title
        .clone()
        .or_else(|| h1.clone())
        .unwrap_or_else(|| humanize(stem));
    let strip_h1 = h1.as_deref() == Some(title.as_str()) && starts_with_h1(body);
    (
        Doc {
            src,
            content_path,
            text,
            body_offset,
            fm,
            title,
            url: String::new(),
            strip_h1,
        },
        diags,
    )
}

fn check_urls(lib: &Library, diags: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut claim = |url: String, src: &Path, what: &str, diags: &mut Vec<Diagnostic>| {
        let first = url.split('/').next().unwrap_or("");
        if RESERVED.contains(&first) {
            diags.push(
                Diagnostic::error(
                    "duplicate-url",
                    src,
                    format!("{what} `/{url}` is reserved for the generated {first} pages"),
                )
                .with_hint("rename the file or set another `slug`"),
            );
            return;
        }
        if let Some(other) = seen.get(&url) {
            diags.push(Diagnostic::error(
                "duplicate-url",
                src,
                format!(
                    "{what} `/{url}` is also produced by {}",
                    crate::diagnostics::display_path(other)
                ),
            ));
        } else {
            seen.insert(url, src.to_path_buf());
        }
    };
    for s in &lib.sections {
        if !s.doc.url.is_empty() {
            claim(s.doc.url.clone(), &s.doc.src, "URL", diags);
        }
    }
    for p in &lib.pages {
        claim(p.doc.url.clone(), &p.doc.src, "URL", diags);
    }
    for d in lib
        .pages
        .iter()
        .map(|p| &p.doc)
        .chain(lib.sections.iter().map(|s| &s.doc))
    {
        for a in &d.fm.aliases {
            match normalize_alias(a) {
                Some(url) => claim(url, &d.src, "alias", diags),
                None => diags.push(
                    Diagnostic::error(
                        "unsafe-path",
                        d.src.clone(),
                        format!("alias `{a}` must be a relative path inside the site"),
                    )
                    .with_hint("write it like `old/topic/page/`, without `..`"),
                ),
            }
        }
    }
}

/// `old/page` or `/old/page/` -> `old/page/`; `None` when it would leave the site.
pub fn normalize_alias(a: &str) -> Option<String> {
    if a.contains("://") || a.contains('\\') {
        return None;
    }
    let segs: Vec<&str> = a.split('/').filter(|s| !s.is_empty()).collect();
    if segs.is_empty() || !segs.iter().all(|s| is_safe_segment(s)) {
        return None;
    }
    Some(segs.iter().map(|s| format!("{s}/")).collect())
}

/// A single URL/path segment that cannot escape its folder.
pub fn is_safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn sort_listings(lib: &mut Library) {
    let pages = &lib.pages;
    for s in &mut lib.sections {
        s.pages.sort_by(|&a, &b| {
            let (a, b) = (&pages[a].doc, &pages[b].doc);
            (a.fm.weight, &a.title, &a.url).cmp(&(b.fm.weight, &b.title, &b.url))
        });
    }
    let weights: Vec<(i64, String)> = lib
        .sections
        .iter()
        .map(|s| (s.doc.fm.weight, s.doc.title.clone()))
        .collect();
    for s in &mut lib.sections {
        s.subsections.sort_by(|&a, &b| weights[a].cmp(&weights[b]));
    }
}

fn parent_dir(dir: &str) -> Option<String> {
    if dir.is_empty() {
        return None;
    }
    let trimmed = dir.trim_end_matches('/');
    Some(match trimmed.rfind('/') {
        Some(i) => trimmed[..=i].to_string(),
        None => String::new(),
    })
}

/// `Black Friday: prep!` -> `black-friday-prep`. Lower-case ASCII letters and digits, other
/// letters kept, everything else folded into single dashes.
pub fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for c in s.chars() {
        if c.is_alphanumeric() || c == '_' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        } else {
            dash = true;
        }
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// `black-friday_prep` -> `Black friday prep`.
pub fn humanize(stem: &str) -> String {
    let words = stem.replace(['-', '_'], " ");
    let mut c = words.trim().chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => "Untitled".into(),
    }
}

/// The text of the first `# ` heading outside code fences, as MkDocs takes titles.
fn first_h1(body: &str) -> Option<String> {
    let mut fence: Option<&str> = None;
    for line in body.lines() {
        let t = line.trim_start();
        if let Some(f) = fence {
            if t.starts_with(f) {
                fence = None;
            }
            continue;
        }
        if t.starts_with("```") {
            fence = Some("```");
            continue;
        }
        if t.starts_with("~~~") {
            fence = Some("~~~");
            continue;
        }
        if line.len() - t.len() < 4 {
            if let Some(rest) = t.strip_prefix("# ") {
                let text = rest.trim().trim_end_matches('#').trim();
                let text = text.split(" {#").next().unwrap_or(text);
                return Some(text.replace(['*', '`'], ""));
            }
        }
    }
    None
}

fn starts_with_h1(body: &str) -> bool {
    body.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.starts_with("# "))
}

/// A page's kind, for listings.
pub fn is_case_study(p: &Page) -> bool {
    p.doc.fm.kind == Kind::CaseStudy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_dashed_and_safe() {
        assert_eq!(slugify("Black Friday: prep!"), "black-friday-prep");
        assert_eq!(slugify("  p95 > 1s "), "p95-1s");
        assert_eq!(slugify("../../x"), "x");
        assert!(!is_safe_segment(".."));
        assert!(!is_safe_segment("a/b"));
    }

    #[test]
    fn aliases_cannot_escape_the_site() {
        assert_eq!(normalize_alias("/old/page"), Some("old/page/".into()));
        assert_eq!(normalize_alias("../../etc"), None);
        assert_eq!(normalize_alias("https://x/"), None);
    }

    #[test]
    fn title_falls_back_to_first_heading_outside_code() {
        assert_eq!(
            first_h1("```\n# not this\n```\n\n# Real one\n"),
            Some("Real one".into())
        );
        assert_eq!(first_h1("no heading"), None);
    }
}
