//! The build pipeline: load → render documents in parallel → check cross-page links →
//! listings, feeds, search → write. Pure with respect to its inputs: the same files and
//! options give the same bytes.
//!
//! Pages are rendered and written in one parallel pass and only their light metadata is
//! kept, so memory does not grow with the size of the rendered site.

use crate::config::BuildOptions;
use crate::content::{self, front_matter::Kind, Library, Target};
use crate::diagnostics::{self, Diagnostic};
use crate::highlight::Highlighter;
use crate::markdown::{self, FragmentLink, SearchSection, Step};
use crate::output::Sink;
use crate::render::{
    self, Common, HomeView, Link, ListItem, PageView, ReviewView, SectionView, SiteView,
    SubsectionView, TagView,
};
use crate::search;
use crate::templates::{self, Theme};
use anyhow::Result;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};

/// What a build produced, for the summary line and for `check`.
#[derive(Debug, Default)]
pub struct Report {
    pub pages: usize,
    pub sections: usize,
    pub files: usize,
    pub diagnostics: Vec<Diagnostic>,
    /// Light per-page facts other commands use (`check`, tests).
    pub page_facts: Vec<PageFacts>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_warning()).count()
    }
    pub fn notices(&self) -> usize {
        self.diagnostics.len() - self.errors() - self.warnings()
    }
}

#[derive(Debug, Clone)]
pub struct PageFacts {
    pub src: std::path::PathBuf,
    pub url: String,
    pub kind: Kind,
    pub steps: Vec<Step>,
    pub code_blocks: usize,
    pub runnable: usize,
    pub verify: usize,
    pub outcomes: usize,
    pub review: Option<ReviewView>,
    /// `last_drill` from the front matter (written by `scalebook run --drill --record`).
    pub last_drill: Option<crate::dates::Date>,
}

/// What survives of a rendered document after it is written.
struct Meta {
    anchors: HashSet<String>,
    fragment_links: Vec<FragmentLink>,
    diagnostics: Vec<Diagnostic>,
    summary: String,
    steps: Vec<Step>,
    sections: Vec<SearchSection>,
    code_blocks: usize,
    runnable: usize,
    verify: usize,
}

/// Builds the site into `sink`. Content problems are returned in the report; the caller
/// decides whether to publish (a report with errors must not be committed).
pub fn build(opts: &BuildOptions, sink: &dyn Sink) -> Result<Report> {
    let cfg = &opts.config;
    let content_dir = opts.content_dir();
    if !content_dir.is_dir() {
        anyhow::bail!("no content folder at {} (set `content_dir` in scalebook.toml, or run `scalebook init`)", content_dir.display());
    }
    let mut clock = Phases::start();
    let (lib, mut diags) = content::load(&content::LoadOptions {
        root: &opts.root,
        content_dir: &content_dir,
        drafts: opts.drafts,
        site_title: &cfg.title,
        output_dir: &cfg.output_dir,
    });
    clock.phase("load");
    let (theme, mut tdiags) = templates::load(&opts.root);
    diags.append(&mut tdiags);
    if diags.iter().any(|d| d.is_error() && d.rule == "template") {
        return Ok(Report {
            diagnostics: finish(diags),
            ..Default::default()
        });
    }

    // Theme files under content-hashed names.
    let mut assets: BTreeMap<String, String> = BTreeMap::new();
    for (name, bytes) in &theme.files {
        let path = templates::hashed_name(name, bytes);
        sink.write(&path, bytes)?;
        assets.insert(name.clone(), path);
    }
    for a in &lib.assets {
        let bytes = std::fs::read(content_dir.join(a))?;
        sink.write(&markdown::asset_url(a), &bytes)?;
    }
    copy_static(opts, sink)?;

    let hl = if opts.diagnostics_only {
        Highlighter::plain()
    } else {
        Highlighter::new((!opts.no_cache).then(|| opts.cache_dir()).as_deref())
    };
    let nav: Vec<Link> = lib.sections[0]
        .subsections
        .iter()
        .map(|&s| Link {
            title: lib.sections[s].doc.title.clone(),
            url: lib.sections[s].doc.url.clone(),
        })
        .collect();
    let site = SiteView {
        title: &cfg.title,
        description: &cfg.description,
        base_url: &cfg.base_url,
        language: &cfg.language,
        extra: &cfg.extra,
        nav,
        assets: &assets,
        search_manifest: search::MANIFEST_PATH,
    };
    let default_every = cfg
        .review
        .max_age
        .as_deref()
        .and_then(|s| crate::dates::parse_interval(s).map(|d| (s, d)));
    let reviews: Vec<Option<ReviewView>> = lib
        .pages
        .iter()
        .map(|p| render::review(&p.doc, default_every, opts.today))
        .collect();
    let cx = Cx {
        lib: &lib,
        theme: &theme,
        site: &site,
        hl: &hl,
        opts,
        sink,
        reviews: &reviews,
    };

    // Pages, in parallel; then sections, which list the pages' summaries.
    clock.phase("theme");
    let page_metas: Vec<Result<Meta>> = (0..lib.pages.len())
        .into_par_iter()
        .map(|i| cx.page(i))
        .collect();
    let mut page_metas: Vec<Meta> = page_metas.into_iter().collect::<Result<_>>()?;
    clock.phase("pages");
    let section_metas: Vec<Result<Meta>> = (0..lib.sections.len())
        .into_par_iter()
        .map(|i| cx.section(i, &page_metas))
        .collect();
    let section_metas: Vec<Meta> = section_metas.into_iter().collect::<Result<_>>()?;
    hl.save();
    clock.phase("sections");

    // Links to other documents' headings and steps.
    let anchors_of = |t: Target| match t {
        Target::Page(i) => &page_metas[i].anchors,
        Target::Section(i) => &section_metas[i].anchors,
    };
    let docs = lib
        .pages
        .iter()
        .map(|p| &p.doc)
        .chain(lib.sections.iter().map(|s| &s.doc));
    for (doc, meta) in docs.zip(page_metas.iter().chain(section_metas.iter())) {
        diags.extend(meta.diagnostics.iter().cloned());
        for l in &meta.fragment_links {
            if !anchors_of(l.target).contains(&l.fragment) {
                let target = lib.doc(l.target);
                let mut d = Diagnostic::error(
                    "broken-anchor",
                    &doc.src,
                    format!(
                        "link to `#{}` in {}, which has no such heading or step",
                        l.fragment,
                        diagnostics::display_path(&target.src)
                    ),
                )
                .at(l.pos);
                let known: Vec<&str> = anchors_of(l.target).iter().map(String::as_str).collect();
                if let Some(s) = content::front_matter::did_you_mean(&l.fragment, &known) {
                    d = d.with_hint(format!("did you mean `#{s}`?"));
                }
                diags.push(d);
            }
        }
    }
    for (i, p) in lib.pages.iter().enumerate() {
        if cfg.review.require_owner && p.doc.fm.kind == Kind::Playbook && p.doc.fm.owner.is_none() {
            diags.push(
                Diagnostic::error("missing-owner", &p.doc.src, "playbook has no `owner`")
                    .with_hint("add `owner = \"team-name\"` to the front matter"),
            );
        }
        if p.doc.fm.kind == Kind::Playbook
            && page_metas[i].steps.is_empty()
            && p.doc.has_front_matter()
        {
            diags.push(
                Diagnostic::warning(
                    "empty-checklist",
                    &p.doc.src,
                    "playbook has no checklist steps",
                )
                .with_hint("write steps as task items: `- [ ] Scale the deployment`"),
            );
        }
        if let Some(r) = &reviews[i] {
            if r.overdue {
                let msg = match &r.last_reviewed {
                    Some(l) => format!(
                        "review overdue: last reviewed {l}, due {}",
                        r.due.clone().unwrap_or_default()
                    ),
                    None => "never reviewed: set `last_reviewed` after reviewing it".into(),
                };
                let mut d = Diagnostic::warning("review-overdue", &p.doc.src, msg);
                d.severity = cfg.review.overdue;
                diags.push(d);
            }
        }
        if cfg.checks.require_confirm_text {
            for s in &page_metas[i].steps {
                for b in &s.blocks {
                    if b.kind == markdown::BlockKind::Run && b.confirm.is_none() {
                        diags.push(
                            Diagnostic::warning(
                                "run-without-confirm",
                                &p.doc.src,
                                format!("runnable block in step `{}` has no confirm text", s.text),
                            )
                            .at(b.pos)
                            .with_hint(
                                "write ```sh run confirm=\"Scale checkout to 10 replicas?\"",
                            ),
                        );
                    }
                }
            }
        }
    }

    clock.phase("checks");
    let listing = Listing {
        lib: &lib,
        metas: &page_metas,
        reviews: &reviews,
    };
    cx.tags(&listing)?;
    cx.reviews_page(&listing)?;
    cx.simple("search.html", "search/index.html", "search/")?;
    cx.not_found()?;
    cx.aliases()?;
    cx.feeds(&listing)?;
    sink.write(
        "robots.txt",
        format!(
            "User-agent: *\nAllow: /\nSitemap: {}sitemap.xml\n",
            cfg.base_url
        )
        .as_bytes(),
    )?;

    clock.phase("listings");
    if !opts.diagnostics_only {
        // Search.
        // The section text moves into the index builder, which frees it page by page.
        let (spages, sdocs) = search_input(&lib, &mut page_metas);
        let index = search::build_index_owned(&spages, sdocs);
        drop(spages);
        for f in &index.files {
            sink.write(&f.path, &f.bytes)?;
        }
        if let Some(m) = index.files.iter().find(|f| f.path == index.manifest_path) {
            if m.path != search::MANIFEST_PATH {
                sink.write(search::MANIFEST_PATH, &m.bytes)?;
            }
        }
        drop(index);
    }
    clock.phase("search");

    let page_facts = lib
        .pages
        .iter()
        .zip(&page_metas)
        .zip(&reviews)
        .map(|((p, m), r)| PageFacts {
            src: p.doc.src.clone(),
            url: p.doc.url.clone(),
            kind: p.doc.fm.kind,
            steps: m.steps.clone(),
            code_blocks: m.code_blocks,
            runnable: m.runnable,
            verify: m.verify,
            outcomes: p.doc.fm.outcomes.len(),
            review: r.clone(),
            last_drill: p.doc.fm.last_drill,
        })
        .collect();
    Ok(Report {
        pages: lib.pages.len(),
        sections: lib.sections.len(),
        files: 0,
        diagnostics: finish(diags),
        page_facts,
    })
}

fn finish(mut d: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diagnostics::sort(&mut d);
    d.dedup();
    d
}

/// `static/` at the site root is copied as is (favicons, images shared by many pages).
fn copy_static(opts: &BuildOptions, sink: &dyn Sink) -> Result<()> {
    let dir = opts.root.join("static");
    if !dir.is_dir() {
        return Ok(());
    }
    for e in walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(&dir)?
                .to_string_lossy()
                .replace('\\', "/");
            sink.write(&rel, &std::fs::read(e.path())?)?;
        }
    }
    Ok(())
}

/// `../../` for `a/b/`, `./` for the home page.
pub fn root_of(url: &str) -> String {
    let depth = url.matches('/').count();
    if depth == 0 {
        "./".into()
    } else {
        "../".repeat(depth)
    }
}

fn out_path(url: &str) -> String {
    format!("{url}index.html")
}

struct Cx<'a> {
    lib: &'a Library,
    theme: &'a Theme,
    site: &'a SiteView<'a>,
    hl: &'a Highlighter,
    opts: &'a BuildOptions,
    sink: &'a dyn Sink,
    reviews: &'a [Option<ReviewView>],
}

struct Listing<'a> {
    lib: &'a Library,
    metas: &'a [Meta],
    reviews: &'a [Option<ReviewView>],
}

impl Listing<'_> {
    fn item(&self, i: usize) -> ListItem {
        render::list_item(
            self.lib,
            i,
            &self.metas[i].summary,
            self.metas[i].steps.len(),
            self.reviews[i].clone(),
        )
    }
}

impl Cx<'_> {
    fn common(&self, url: &str) -> Common<'_> {
        Common {
            site: self.site,
            root: root_of(url),
            url: url.to_string(),
            permalink: format!("{}{url}", self.opts.config.base_url),
        }
    }

    fn render_to(&self, template: &str, out: &str, ctx: tera::Context) -> Result<()> {
        let html =
            self.theme.tera.render(template, &ctx).map_err(|e| {
                anyhow::anyhow!("template {template}: {}", templates::error_chain(&e))
            })?;
        self.sink.write(out, html.as_bytes())
    }

    fn breadcrumbs(&self, mut section: Option<usize>) -> Vec<Link> {
        let mut out = Vec::new();
        while let Some(s) = section {
            let sec = &self.lib.sections[s];
            out.push(Link {
                title: if s == 0 {
                    "Home".into()
                } else {
                    sec.doc.title.clone()
                },
                url: sec.doc.url.clone(),
            });
            section = sec.parent;
        }
        out.reverse();
        out
    }

    fn page(&self, i: usize) -> Result<Meta> {
        let p = &self.lib.pages[i];
        let doc = &p.doc;
        let root = root_of(&doc.url);
        let r = markdown::render(
            doc,
            &markdown::Context {
                lib: Some(self.lib),
                hl: self.hl,
                root: &root,
                steps: doc.fm.kind == Kind::Playbook,
            },
        );
        let sec = &self.lib.sections[p.section];
        let toc: Vec<&markdown::TocEntry> = r
            .toc
            .iter()
            .filter(|t| (2..=3).contains(&t.level))
            .collect();
        let view = PageView {
            title: &doc.title,
            description: doc.fm.description.as_deref().unwrap_or(""),
            kind: doc.fm.kind.as_str(),
            kind_label: render::kind_label(doc.fm.kind),
            section: Link {
                title: sec.doc.title.clone(),
                url: sec.doc.url.clone(),
            },
            breadcrumbs: self.breadcrumbs(Some(p.section)),
            tags: doc
                .fm
                .tags
                .iter()
                .map(|t| Link {
                    title: t.clone(),
                    url: tag_url(t),
                })
                .collect(),
            owner: doc.fm.owner.as_deref(),
            severity: doc.fm.severity.as_deref(),
            date: doc.fm.date.map(|d| d.to_string()),
            updated: doc.fm.updated.map(|d| d.to_string()),
            last_drill: doc.fm.last_drill.map(|d| d.to_string()),
            review: self.reviews[i].clone(),
            body: &r.html,
            toc,
            steps: r.steps.len(),
            groups: &r.groups,
            params: &doc.fm.params,
            page_data: if r.steps.is_empty() && doc.fm.params.is_empty() {
                String::new()
            } else {
                render::page_data(&doc.url, &doc.title, &r.groups, &r.steps, &doc.fm.params)
            },
            outcomes: render::outcome_views(&doc.fm.outcomes),
            chart: render::outcome_chart(&doc.title, &doc.fm.outcomes),
            edit_url: self
                .opts
                .config
                .edit_url
                .as_deref()
                .map(|t| render::edit_url(t, &doc.src)),
            extra: &doc.fm.extra,
        };
        let mut ctx = tera::Context::new();
        ctx.insert("common", &self.common(&doc.url));
        ctx.insert("page", &view);
        self.render_to("page.html", &out_path(&doc.url), ctx)?;
        Ok(meta_of(r))
    }

    fn section(&self, i: usize, pages: &[Meta]) -> Result<Meta> {
        let s = &self.lib.sections[i];
        let root = root_of(&s.doc.url);
        let r = markdown::render(
            &s.doc,
            &markdown::Context {
                lib: Some(self.lib),
                hl: self.hl,
                root: &root,
                steps: false,
            },
        );
        let listing = Listing {
            lib: self.lib,
            metas: pages,
            reviews: self.reviews,
        };
        let (case_studies, playbooks): (Vec<usize>, Vec<usize>) = s
            .pages
            .iter()
            .partition(|&&p| self.lib.pages[p].doc.fm.kind == Kind::CaseStudy);
        let subsections = |of: &[usize]| -> Vec<SubsectionView> {
            of.iter()
                .map(|&c| {
                    let c = &self.lib.sections[c];
                    SubsectionView {
                        title: c.doc.title.clone(),
                        url: c.doc.url.clone(),
                        description: c.doc.fm.description.clone().unwrap_or_default(),
                        count: c.pages.len(),
                    }
                })
                .collect()
        };
        let view = SectionView {
            title: &s.doc.title,
            description: s.doc.fm.description.as_deref().unwrap_or(""),
            body: &r.html,
            breadcrumbs: self.breadcrumbs(s.parent),
            playbooks: playbooks.iter().map(|&p| listing.item(p)).collect(),
            case_studies: case_studies.iter().map(|&p| listing.item(p)).collect(),
            subsections: subsections(&s.subsections),
            extra: &s.doc.fm.extra,
        };
        let mut ctx = tera::Context::new();
        ctx.insert("common", &self.common(&s.doc.url));
        if i == 0 {
            let all: Vec<usize> = (0..self.lib.pages.len()).collect();
            let mut recent: Vec<usize> = all
                .iter()
                .copied()
                .filter(|&p| {
                    self.lib.pages[p]
                        .doc
                        .fm
                        .updated
                        .or(self.lib.pages[p].doc.fm.date)
                        .is_some()
                })
                .collect();
            recent.sort_by_key(|&p| {
                let d = &self.lib.pages[p].doc;
                (
                    std::cmp::Reverse(d.fm.updated.or(d.fm.date)),
                    d.title.clone(),
                )
            });
            recent.truncate(8);
            let mut overdue: Vec<usize> = all
                .iter()
                .copied()
                .filter(|&p| self.reviews[p].as_ref().is_some_and(|r| r.overdue))
                .collect();
            overdue.sort_by_key(|&p| {
                (
                    self.reviews[p].as_ref().and_then(|r| r.due.clone()),
                    self.lib.pages[p].doc.title.clone(),
                )
            });
            let mut cases: Vec<usize> = all
                .iter()
                .copied()
                .filter(|&p| self.lib.pages[p].doc.fm.kind == Kind::CaseStudy)
                .collect();
            cases.sort_by_key(|&p| {
                let d = &self.lib.pages[p].doc;
                (std::cmp::Reverse(d.fm.date), d.title.clone())
            });
            cases.truncate(8);
            let home = HomeView {
                topics: subsections(&s.subsections),
                recent: recent.iter().map(|&p| listing.item(p)).collect(),
                case_studies: cases.iter().map(|&p| listing.item(p)).collect(),
                overdue: overdue.iter().map(|&p| listing.item(p)).collect(),
                section: view,
            };
            ctx.insert("home", &home);
            self.render_to("index.html", "index.html", ctx)?;
        } else {
            ctx.insert("section", &view);
            self.render_to("section.html", &out_path(&s.doc.url), ctx)?;
        }
        Ok(meta_of(r))
    }

    fn tags(&self, listing: &Listing<'_>) -> Result<()> {
        let tags: Vec<TagView> = self
            .lib
            .tags
            .values()
            .map(|tag| TagView {
                name: tag.name.clone(),
                url: tag_url(&tag.name),
                count: tag.pages.len(),
                pages: tag.pages.iter().map(|&p| listing.item(p)).collect(),
            })
            .collect();
        tags.par_iter().try_for_each(|t| {
            let mut ctx = tera::Context::new();
            ctx.insert("common", &self.common(&t.url));
            ctx.insert("tag", t);
            self.render_to("tag.html", &out_path(&t.url), ctx)
        })?;
        let mut ctx = tera::Context::new();
        ctx.insert("common", &self.common("tags/"));
        ctx.insert("tags", &tags);
        self.render_to("tags.html", "tags/index.html", ctx)
    }

    fn reviews_page(&self, listing: &Listing<'_>) -> Result<()> {
        let mut items: Vec<ListItem> = (0..self.lib.pages.len())
            .filter(|&p| self.lib.pages[p].doc.fm.kind == Kind::Playbook)
            .map(|p| listing.item(p))
            .collect();
        let rank = |i: &ListItem| match i.review.as_ref().map(|r| r.status) {
            Some("never") => 0,
            Some("overdue") => 1,
            Some("due-soon") => 2,
            Some(_) => 3,
            None => 4,
        };
        items.sort_by(|a, b| {
            (
                rank(a),
                a.review.as_ref().and_then(|r| r.due.clone()),
                &a.title,
            )
                .cmp(&(
                    rank(b),
                    b.review.as_ref().and_then(|r| r.due.clone()),
                    &b.title,
                ))
        });
        let mut ctx = tera::Context::new();
        ctx.insert("common", &self.common("reviews/"));
        ctx.insert("items", &items);
        ctx.insert(
            "overdue",
            &items
                .iter()
                .filter(|i| i.review.as_ref().is_some_and(|r| r.overdue))
                .count(),
        );
        self.render_to("reviews.html", "reviews/index.html", ctx)
    }

    fn simple(&self, template: &str, out: &str, url: &str) -> Result<()> {
        let mut ctx = tera::Context::new();
        ctx.insert("common", &self.common(url));
        self.render_to(template, out, ctx)
    }

    /// Hosts serve 404.html at any depth, so its links use the absolute base path.
    fn not_found(&self) -> Result<()> {
        let mut common = self.common("404.html");
        common.root = self.opts.config.base_path();
        let mut ctx = tera::Context::new();
        ctx.insert("common", &common);
        self.render_to("404.html", "404.html", ctx)
    }

    fn aliases(&self) -> Result<()> {
        let docs = self
            .lib
            .pages
            .iter()
            .map(|p| &p.doc)
            .chain(self.lib.sections.iter().map(|s| &s.doc));
        for d in docs {
            for a in &d.fm.aliases {
                let Some(url) = content::normalize_alias(a) else {
                    continue;
                };
                let mut ctx = tera::Context::new();
                ctx.insert("common", &self.common(&url));
                ctx.insert("target", &format!("{}{}", root_of(&url), d.url));
                ctx.insert("title", &d.title);
                self.render_to("alias.html", &out_path(&url), ctx)?;
            }
        }
        Ok(())
    }

    fn feeds(&self, listing: &Listing<'_>) -> Result<()> {
        #[derive(serde::Serialize)]
        struct Entry {
            item: ListItem,
            permalink: String,
            updated: String,
        }
        let base = &self.opts.config.base_url;
        let mut dated: Vec<(crate::dates::Date, usize)> = (0..self.lib.pages.len())
            .filter_map(|p| {
                self.lib.pages[p]
                    .doc
                    .fm
                    .updated
                    .or(self.lib.pages[p].doc.fm.date)
                    .map(|d| (d, p))
            })
            .collect();
        dated.sort_by(|a, b| {
            b.0.cmp(&a.0).then_with(|| {
                self.lib.pages[a.1]
                    .doc
                    .url
                    .cmp(&self.lib.pages[b.1].doc.url)
            })
        });
        let updated = dated
            .first()
            .map(|d| d.0.rfc3339())
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
        let entries: Vec<Entry> = dated
            .iter()
            .take(30)
            .map(|(d, p)| Entry {
                item: listing.item(*p),
                permalink: format!("{base}{}", self.lib.pages[*p].doc.url),
                updated: d.rfc3339(),
            })
            .collect();
        let mut ctx = tera::Context::new();
        ctx.insert("common", &self.common(""));
        ctx.insert("entries", &entries);
        ctx.insert("updated", &updated);
        self.render_to("atom.xml", "atom.xml", ctx)?;

        #[derive(serde::Serialize)]
        struct Url {
            loc: String,
            lastmod: Option<String>,
        }
        let mut urls: Vec<Url> = Vec::new();
        for s in &self.lib.sections {
            urls.push(Url {
                loc: format!("{base}{}", s.doc.url),
                lastmod: None,
            });
        }
        for p in &self.lib.pages {
            urls.push(Url {
                loc: format!("{base}{}", p.doc.url),
                lastmod: p.doc.fm.updated.or(p.doc.fm.date).map(|d| d.to_string()),
            });
        }
        for tag in self.lib.tags.values() {
            urls.push(Url {
                loc: format!("{base}{}", tag_url(&tag.name)),
                lastmod: None,
            });
        }
        urls.sort_by(|a, b| a.loc.cmp(&b.loc));
        let mut ctx = tera::Context::new();
        ctx.insert("common", &self.common(""));
        ctx.insert("urls", &urls);
        self.render_to("sitemap.xml", "sitemap.xml", ctx)
    }
}

fn meta_of(r: markdown::Rendered) -> Meta {
    Meta {
        runnable: r
            .code_blocks
            .iter()
            .filter(|b| b.kind == markdown::BlockKind::Run)
            .count(),
        verify: r
            .code_blocks
            .iter()
            .filter(|b| b.kind == markdown::BlockKind::Verify)
            .count(),
        code_blocks: r.code_blocks.len(),
        anchors: r.anchors,
        fragment_links: r.fragment_links,
        diagnostics: r.diagnostics,
        summary: r.summary,
        steps: r.steps,
        sections: r.sections,
    }
}

pub fn tag_url(tag: &str) -> String {
    format!("tags/{}/", content::slugify(tag))
}

/// The search index's input. Takes each page's search sections out of `metas`
/// (nothing after the index reads them) rather than copying the site's text.
fn search_input(
    lib: &Library,
    metas: &mut [Meta],
) -> (Vec<search::SearchPage>, Vec<search::SearchDoc>) {
    let mut pages = Vec::with_capacity(lib.pages.len());
    let mut docs = Vec::new();
    for (i, (p, m)) in lib.pages.iter().zip(metas.iter_mut()).enumerate() {
        let d = &p.doc;
        pages.push(search::SearchPage {
            url: d.url.clone(),
            title: d.title.clone(),
            topic: lib.sections[p.section].doc.title.clone(),
            kind: d.fm.kind.as_str().to_string(),
            tags: d.fm.tags.clone(),
            severity: d.fm.severity.clone(),
            owner: d.fm.owner.clone(),
            description: d
                .fm
                .description
                .clone()
                .unwrap_or_else(|| m.summary.clone()),
        });
        for s in std::mem::take(&mut m.sections) {
            // Text before the first heading belongs to the page top (its anchor is "").
            docs.push(search::SearchDoc {
                page: i,
                anchor: s.anchor,
                heading: s.heading,
                text: s.text,
                is_step: s.is_step,
            });
        }
    }
    (pages, docs)
}

/// Wall time of each build phase on stderr when `SCALEBOOK_TIMINGS` is set (as the search
/// index's own phases are): the way to see which part of a build is serial.
struct Phases(Option<std::time::Instant>);

impl Phases {
    fn start() -> Phases {
        Phases(std::env::var_os("SCALEBOOK_TIMINGS").map(|_| std::time::Instant::now()))
    }

    fn phase(&mut self, name: &str) {
        if let Some(last) = &mut self.0 {
            eprintln!("build: {name:<12} {:>6} ms", last.elapsed().as_millis());
            *last = std::time::Instant::now();
        }
    }
}
