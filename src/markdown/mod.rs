//! Markdown to HTML for one document, in one parse.
//!
//! pulldown-cmark's events are collected once, then small named passes rewrite them:
//! [`assign_heading_ids`], then one walk ([`Walker`]) that turns task items into checklist
//! steps, fenced code into highlighted blocks, `${PARAM}` into spans, and relative links into
//! page URLs. The same walk gathers what other stages need (table of contents, steps, search
//! sections, links to verify), so no stage parses markdown again.

pub mod params;
pub mod steps;

use crate::content::front_matter::Param;
use crate::content::{Doc, Library, Target};
use crate::diagnostics::{Diagnostic, LineIndex, Pos};
use crate::highlight::{escape_html, Highlighter};
use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use std::collections::{BTreeSet, HashSet};
use std::ops::Range;

pub use steps::{BlockKind, CodeBlock, Group, Step};

/// Ids the page templates use; headings never take them.
pub const RESERVED_IDS: &[&str] = &[
    "main",
    "toc",
    "top",
    "sb-run",
    "sb-q",
    "sb-results",
    "sb-page-data",
    "sb-search-page",
    "footnotes",
];

pub fn parser_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TocEntry {
    pub level: u8,
    pub id: String,
    pub title: String,
}

/// A link to another document's fragment, checked once every document is rendered.
#[derive(Debug, Clone)]
pub struct FragmentLink {
    pub target: Target,
    pub fragment: String,
    pub pos: Pos,
}

/// One search document: a heading section or a step.
#[derive(Debug, Clone, Default)]
pub struct SearchSection {
    pub anchor: String,
    pub heading: String,
    pub text: String,
    pub is_step: bool,
}

#[derive(Debug, Default)]
pub struct Rendered {
    pub html: String,
    pub toc: Vec<TocEntry>,
    /// Every id a link may point at: headings, steps, footnotes.
    pub anchors: HashSet<String>,
    pub steps: Vec<Step>,
    pub groups: Vec<Group>,
    pub fragment_links: Vec<FragmentLink>,
    pub sections: Vec<SearchSection>,
    /// First paragraph as plain text, for listings without a description.
    pub summary: String,
    pub params_used: BTreeSet<String>,
    pub code_blocks: Vec<CodeBlock>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What a document render needs from the rest of the site.
pub struct Context<'a> {
    pub lib: Option<&'a Library>,
    pub hl: &'a Highlighter,
    /// Relative prefix from this document to the site root (`../../`, or `./`).
    pub root: &'a str,
    /// Task items become steps (playbooks); elsewhere they are static marks.
    pub steps: bool,
}

/// Renders the body of `doc`.
pub fn render(doc: &Doc, cx: &Context<'_>) -> Rendered {
    let body = doc.body();
    let mut events: Vec<(Event<'_>, Range<usize>)> = Parser::new_ext(body, parser_options())
        .into_offset_iter()
        .collect();
    if doc.strip_h1 {
        strip_title_heading(&mut events);
    }
    let mut out = Rendered::default();
    let index = LineIndex::new(&doc.text);
    let pos_of = |body_off: usize| index.pos(&doc.text, doc.body_offset + body_off);
    assign_heading_ids(&mut events, &mut out, &doc.src, &pos_of);
    let mut w = Walker {
        doc,
        cx,
        params: &doc.fm.params,
        pos_of: &pos_of,
        out,
        html_events: Vec::with_capacity(events.len()),
        section: SearchSection::default(),
        group: None,
        item_stack: Vec::new(),
        span_open: false,
        in_heading: false,
        para_depth: 0,
        summary_done: false,
        list_depth: 0,
        unwrap_para: false,
    };
    w.walk(events);
    let mut out = w.finish();
    steps::assign_ids(&mut out, &doc.src);
    out
}

/// Renders a markdown snippet with every transform on and nothing to link to (tests,
/// conformance runs).
pub fn render_fragment(markdown: &str, steps: bool) -> String {
    render_snippet(markdown, steps).html
}

/// [`render_fragment`] with everything rendering produces (sections, diagnostics).
pub fn render_snippet(markdown: &str, steps: bool) -> Rendered {
    let hl = Highlighter::new(None);
    let doc = Doc::snippet("fragment.md", "", markdown);
    render(
        &doc,
        &Context {
            lib: None,
            hl: &hl,
            root: "./",
            steps,
        },
    )
}

fn strip_title_heading(events: &mut Vec<(Event<'_>, Range<usize>)>) {
    if let Some((
        Event::Start(Tag::Heading {
            level: HeadingLevel::H1,
            ..
        }),
        _,
    )) = events.first()
    {
        if let Some(end) = events
            .iter()
            .position(|(e, _)| matches!(e, Event::End(TagEnd::Heading(_))))
        {
            events.drain(..=end);
        }
    }
}

fn plain_text(events: &[(Event<'_>, Range<usize>)]) -> String {
    let mut s = String::new();
    for (e, _) in events {
        match e {
            Event::Text(t) | Event::Code(t) => s.push_str(&params::to_plain(t)),
            Event::SoftBreak | Event::HardBreak => s.push(' '),
            _ => {}
        }
    }
    s.trim().to_string()
}

/// Gives every heading a unique, stable id: an explicit `{#id}` wins, else the slug of its
/// text, de-duplicated with `-1`, `-2` in document order.
fn assign_heading_ids(
    events: &mut [(Event<'_>, Range<usize>)],
    out: &mut Rendered,
    src: &std::path::Path,
    pos_of: &dyn Fn(usize) -> Pos,
) {
    let mut used: HashSet<String> = RESERVED_IDS.iter().map(|s| s.to_string()).collect();
    // Explicit ids first, so an automatic id never steals one.
    for (e, r) in events.iter() {
        if let Event::Start(Tag::Heading { id: Some(id), .. }) = e {
            if !used.insert(id.to_string()) {
                out.diagnostics.push(
                    Diagnostic::error(
                        "duplicate-id",
                        src,
                        format!("heading id `{id}` is used twice on this page"),
                    )
                    .at(pos_of(r.start)),
                );
            }
        }
    }
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { level, id, .. }) = &events[i].0 {
            let level = *level as u8;
            let end = events[i..]
                .iter()
                .position(|(e, _)| matches!(e, Event::End(TagEnd::Heading(_))))
                .map(|p| i + p)
                .unwrap_or(events.len());
            let title = plain_text(&events[i + 1..end]);
            let id = match id {
                Some(id) => id.to_string(),
                None => {
                    let base = crate::content::slugify(&title);
                    let mut cand = base.clone();
                    let mut n = 1;
                    while used.contains(&cand) {
                        cand = format!("{base}-{n}");
                        n += 1;
                    }
                    used.insert(cand.clone());
                    cand
                }
            };
            if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[i].0 {
                *slot = Some(CowStr::from(id.clone()));
            }
            out.anchors.insert(id.clone());
            out.toc.push(TocEntry { level, id, title });
            i = end;
        }
        i += 1;
    }
}

struct Walker<'a, 'd> {
    doc: &'d Doc,
    cx: &'d Context<'a>,
    params: &'d [Param],
    pos_of: &'d dyn Fn(usize) -> Pos,
    out: Rendered,
    html_events: Vec<Event<'d>>,
    section: SearchSection,
    /// The heading the current steps stand under.
    group: Option<(String, String)>,
    /// One entry per open list item: the step index when it is a step.
    item_stack: Vec<Option<usize>>,
    span_open: bool,
    in_heading: bool,
    para_depth: usize,
    summary_done: bool,
    list_depth: usize,
    /// The step's first paragraph is being unwrapped; its end is dropped.
    unwrap_para: bool,
}

impl<'a, 'd> Walker<'a, 'd> {
    fn walk(&mut self, events: Vec<(Event<'d>, Range<usize>)>) {
        let mut i = 0;
        while i < events.len() {
            let (ev, range) = &events[i];
            if self.span_open && closes_step_text(ev) {
                self.html_events.push(Event::Html("</span>".into()));
                self.span_open = false;
            }
            match ev {
                Event::Start(Tag::Heading { id, .. }) => {
                    let id = id.as_ref().map(|s| s.to_string()).unwrap_or_default();
                    let title = self
                        .out
                        .toc
                        .iter()
                        .find(|t| t.id == id)
                        .map(|t| t.title.clone())
                        .unwrap_or_default();
                    self.flush_section();
                    self.section = SearchSection {
                        anchor: id.clone(),
                        heading: title.clone(),
                        ..Default::default()
                    };
                    self.group = Some((id, title));
                    self.in_heading = true;
                    self.html_events.push(ev.clone());
                }
                Event::End(TagEnd::Heading(_)) => {
                    self.in_heading = false;
                    self.html_events.push(ev.clone());
                }
                Event::Start(Tag::List(first)) => {
                    self.list_depth += 1;
                    let task = is_task_item(&events, i + 1);
                    let class = if task {
                        " class=\"contains-task-list\""
                    } else {
                        ""
                    };
                    let html = match first {
                        None => format!("<ul{class}>\n"),
                        Some(1) => format!("<ol{class}>\n"),
                        Some(n) => format!("<ol{class} start=\"{n}\">\n"),
                    };
                    self.html_events.push(Event::Html(html.into()));
                }
                Event::End(TagEnd::List(_)) => {
                    self.list_depth -= 1;
                    self.html_events.push(ev.clone());
                }
                Event::Start(Tag::Item) => {
                    if is_task_item(&events, i) {
                        let text = step_text(&events, i);
                        if self.cx.steps {
                            let idx = self.out.steps.len();
                            let group = self.group.clone().unwrap_or_default();
                            self.out.steps.push(Step {
                                id: String::new(),
                                group: group.0,
                                group_title: group.1,
                                text,
                                pos: (self.pos_of)(range.start),
                                parent: self.item_stack.iter().rev().find_map(|s| *s),
                                blocks: Vec::new(),
                            });
                            // The id is not known until every step is seen; a placeholder
                            // keeps this single pass (see steps::assign_ids).
                            self.html_events
                                .push(Event::Html(steps::item_open_placeholder(idx).into()));
                            self.item_stack.push(Some(idx));
                            // In a loose list the marker sits inside a paragraph; unwrap it so
                            // the checkbox and its text are always direct children of the step
                            // (the checklist script and the print styles rely on that).
                            if matches!(events.get(i + 1), Some((Event::Start(Tag::Paragraph), _)))
                            {
                                self.unwrap_para = true;
                                i += 1;
                            }
                        } else {
                            self.html_events
                                .push(Event::Html("<li class=\"task-item\">".into()));
                            self.item_stack.push(None);
                        }
                    } else {
                        self.html_events.push(ev.clone());
                        self.item_stack.push(None);
                    }
                }
                Event::End(TagEnd::Item) => {
                    self.item_stack.pop();
                    self.section.text.push(' ');
                    self.html_events.push(ev.clone());
                }
                // Cells and rows end words too: search must see "stage lag", not "stagelag".
                Event::End(TagEnd::TableCell | TagEnd::TableRow | TagEnd::TableHead) => {
                    self.section.text.push(' ');
                    self.html_events.push(ev.clone());
                }
                Event::TaskListMarker(checked) => match self.item_stack.last().copied().flatten() {
                    Some(idx) => {
                        self.html_events
                            .push(Event::Html(steps::marker_placeholder(idx).into()));
                        self.span_open = true;
                    }
                    None => {
                        let (mark, label) = if *checked {
                            ("☑", "done")
                        } else {
                            ("☐", "to do")
                        };
                        self.html_events.push(Event::Html(format!("<span class=\"task-mark\" role=\"img\" aria-label=\"{label}\">{mark}</span> ").into()));
                    }
                },
                Event::Start(Tag::CodeBlock(kind)) => {
                    let end = events[i..]
                        .iter()
                        .position(|(e, _)| matches!(e, Event::End(TagEnd::CodeBlock)))
                        .map(|p| i + p)
                        .unwrap_or(events.len());
                    let info = match kind {
                        CodeBlockKind::Fenced(info) => info.to_string(),
                        CodeBlockKind::Indented => String::new(),
                    };
                    let mut code = String::new();
                    for (e, r) in &events[i + 1..end] {
                        if let Event::Text(t) = e {
                            self.check_params(t, r.start, true);
                            code.push_str(t);
                        }
                    }
                    self.code_block(&info, code, range.start);
                    i = end;
                }
                Event::Text(t) => {
                    self.check_params(t, range.start, false);
                    self.add_text(t);
                    if t.contains("${") {
                        self.html_events
                            .push(Event::Html(params::to_html(t).into()));
                    } else {
                        self.html_events.push(ev.clone());
                    }
                }
                Event::Code(t) => {
                    // The event's range starts at the backticks; find the code inside them.
                    let inner = self
                        .doc
                        .body()
                        .get(range.clone())
                        .and_then(|src| src.find(&**t))
                        .unwrap_or(0);
                    self.check_params(t, range.start + inner, false);
                    self.add_text(t);
                    self.html_events.push(Event::Html(
                        format!("<code>{}</code>", params::to_html(t)).into(),
                    ));
                }
                Event::Start(Tag::Paragraph) => {
                    self.para_depth += 1;
                    self.html_events.push(ev.clone());
                }
                Event::End(TagEnd::Paragraph) if self.unwrap_para => {
                    self.unwrap_para = false;
                    self.section.text.push(' ');
                }
                Event::End(TagEnd::Paragraph) => {
                    self.para_depth -= 1;
                    if self.para_depth == 0 && !self.out.summary.is_empty() {
                        self.summary_done = true;
                    }
                    self.section.text.push(' ');
                    self.html_events.push(ev.clone());
                }
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => {
                    let href = self.rewrite_link(dest_url, *link_type, range.start, false);
                    self.html_events.push(Event::Start(Tag::Link {
                        link_type: *link_type,
                        dest_url: href.into(),
                        title: title.clone(),
                        id: id.clone(),
                    }));
                }
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => {
                    let end = events[i..]
                        .iter()
                        .position(|(e, _)| matches!(e, Event::End(TagEnd::Image)))
                        .map(|p| i + p)
                        .unwrap_or(i);
                    if plain_text(&events[i + 1..end]).is_empty() {
                        self.out.diagnostics.push(
                            Diagnostic::warning("image-alt", &self.doc.src, format!("image `{dest_url}` has no alt text"))
                                .at((self.pos_of)(range.start))
                                .with_hint("describe the image between the brackets: ![Grafana panel of p95 latency](…)"),
                        );
                    }
                    let href = self.rewrite_link(dest_url, *link_type, range.start, true);
                    self.html_events.push(Event::Start(Tag::Image {
                        link_type: *link_type,
                        dest_url: href.into(),
                        title: title.clone(),
                        id: id.clone(),
                    }));
                }
                Event::SoftBreak | Event::HardBreak => {
                    self.add_text(" ");
                    self.html_events.push(ev.clone());
                }
                Event::FootnoteReference(name) => {
                    self.out.anchors.insert(name.to_string());
                    self.html_events.push(ev.clone());
                }
                Event::Html(t) | Event::InlineHtml(t) if is_active_html(t) => {
                    // Content is trusted but careless: raw HTML is the author's markup, but
                    // anything that would run script is shown as text instead.
                    self.out.diagnostics.push(
                        Diagnostic::warning(
                            "unsafe-html",
                            &self.doc.src,
                            "raw HTML that can run script is shown as text",
                        )
                        .at((self.pos_of)(range.start))
                        .with_hint("put markup like this in a fenced code block, or in a template"),
                    );
                    self.html_events.push(Event::Text(t.clone()));
                }
                _ => self.html_events.push(ev.clone()),
            }
            i += 1;
        }
        if self.span_open {
            self.html_events.push(Event::Html("</span>".into()));
        }
    }

    fn add_text(&mut self, t: &str) {
        if self.in_heading {
            return;
        }
        let plain = params::to_plain(t);
        self.section.text.push_str(&plain);
        if !self.summary_done
            && self.para_depth > 0
            && self.list_depth == 0
            && self.out.summary.len() < 300
        {
            self.out.summary.push_str(&plain);
        }
    }

    fn flush_section(&mut self) {
        let s = std::mem::take(&mut self.section);
        if !s.text.trim().is_empty() || !s.heading.is_empty() {
            self.out.sections.push(SearchSection {
                text: collapse_ws(&s.text),
                ..s
            });
        }
    }

    fn finish(mut self) -> Rendered {
        self.flush_section();
        let mut html = String::with_capacity(self.doc.body().len() * 2);
        pulldown_cmark::html::push_html(&mut html, self.html_events.into_iter());
        self.out.html = html;
        self.out.summary = collapse_ws(&self.out.summary);
        self.out
    }

    /// Records parameters used and reports undeclared ones.
    fn check_params(&mut self, text: &str, offset: usize, in_code: bool) {
        for piece in params::split(text) {
            if let params::Piece::Param(name, at) = piece {
                self.out.params_used.insert(name.to_string());
                if !self.params.iter().any(|p| p.name == name) {
                    // Offsets inside code blocks are relative to the block's text, which may
                    // be indented in the file; the line is what matters there.
                    let pos = (self.pos_of)(offset + if in_code { 0 } else { at });
                    let line_in_block = text[..at].matches('\n').count();
                    let pos = if in_code {
                        Pos {
                            line: pos.line + 1 + line_in_block,
                            col: text[..at]
                                .rsplit('\n')
                                .next()
                                .map(|l| l.chars().count() + 1)
                                .unwrap_or(1),
                        }
                    } else {
                        pos
                    };
                    self.out.diagnostics.push(
                        Diagnostic::error("undeclared-param", &self.doc.src, format!("parameter `${{{name}}}` is not declared"))
                            .at(pos)
                            .with_hint(format!("add it to the front matter: [[params]] name = \"{name}\"; or write `$${{{name}}}` for a literal")),
                    );
                }
            }
        }
    }

    fn code_block(&mut self, info: &str, code: String, offset: usize) {
        let info = steps::parse_info(info);
        let lang = info.lang.clone();
        let body_html = highlight_with_params(self.cx.hl, &lang, &code);
        let mut attrs = String::new();
        if !lang.is_empty() {
            attrs.push_str(&format!(" data-lang=\"{}\"", escape_html(&lang)));
        }
        match info.kind {
            BlockKind::Run => attrs.push_str(" data-run=\"run\""),
            BlockKind::Verify => attrs.push_str(" data-run=\"verify\""),
            BlockKind::Plain => {}
        }
        if let Some(e) = &info.expect {
            attrs.push_str(&format!(" data-expect=\"{}\"", escape_html(e)));
        }
        if let Some(c) = &info.confirm {
            attrs.push_str(&format!(" data-confirm=\"{}\"", escape_html(c)));
        }
        let class = if lang.is_empty() {
            String::new()
        } else {
            format!(" class=\"language-{}\"", escape_html(&lang))
        };
        let label = match (info.kind, &info.expect) {
            (BlockKind::Run, _) => "<span class=\"sb-code-kind\">run</span>".to_string(),
            (BlockKind::Verify, None) => "<span class=\"sb-code-kind\">verify</span>".to_string(),
            (BlockKind::Verify, Some(e)) => format!(
                "<span class=\"sb-code-kind\">verify · expect /{}/</span>",
                escape_html(e)
            ),
            (BlockKind::Plain, _) => String::new(),
        };
        let html = format!("<div class=\"sb-code\"{attrs}>{label}<pre class=\"code\" tabindex=\"0\"><code{class}>{body_html}</code></pre></div>\n");
        self.html_events.push(Event::Html(html.into()));
        if !self.in_heading {
            self.section.text.push(' ');
            self.section.text.push_str(&params::to_plain(&code));
            self.section.text.push(' ');
        }
        let block = CodeBlock {
            lang,
            kind: info.kind,
            code,
            expect: info.expect,
            confirm: info.confirm,
            pos: (self.pos_of)(offset),
        };
        if let Some(step) = self.item_stack.iter().rev().find_map(|s| *s) {
            self.out.steps[step].blocks.push(block.clone());
        }
        self.out.code_blocks.push(block);
    }

    fn rewrite_link(
        &mut self,
        dest: &str,
        link_type: LinkType,
        offset: usize,
        image: bool,
    ) -> String {
        if is_script_url(dest) {
            self.out.diagnostics.push(
                Diagnostic::warning(
                    "unsafe-html",
                    &self.doc.src,
                    format!("link to `{dest}` would run script; it points nowhere instead"),
                )
                .at((self.pos_of)(offset)),
            );
            return "#".into();
        }
        if matches!(link_type, LinkType::Email | LinkType::Autolink) {
            return dest.to_string();
        }
        let pos = (self.pos_of)(offset);
        match resolve_link(dest, self.doc, self.cx.lib, self.cx.root) {
            Resolved::Keep => dest.to_string(),
            Resolved::SelfFragment(frag) => {
                if let Some(lib) = self.cx.lib {
                    // Checked after the render, when all anchors (steps too) are known.
                    if let Some(t) = lib.by_path.get(&self.doc.content_path) {
                        self.out.fragment_links.push(FragmentLink {
                            target: *t,
                            fragment: frag,
                            pos,
                        });
                    }
                }
                dest.to_string()
            }
            Resolved::Doc {
                href,
                target,
                fragment,
            } => {
                if let Some(f) = fragment {
                    self.out.fragment_links.push(FragmentLink {
                        target,
                        fragment: f,
                        pos,
                    });
                }
                href
            }
            Resolved::Asset(href) => href,
            Resolved::Missing { message, hint } => {
                let what = if image { "image" } else { "link" };
                let mut d =
                    Diagnostic::error("broken-link", &self.doc.src, format!("{what} to {message}"))
                        .at(pos);
                if let Some(h) = hint {
                    d = d.with_hint(h);
                }
                self.out.diagnostics.push(d);
                dest.to_string()
            }
        }
    }
}

/// Raw HTML that would run script when the page loads or on interaction: script-capable
/// elements, event-handler attributes, script URLs. A blocklist aimed at careless pastes
/// (an alert body, a snippet of a dashboard), not at an author who writes HTML on purpose.
fn is_active_html(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    const ELEMENTS: &[&str] = &[
        "script", "iframe", "object", "embed", "base", "meta", "frame", "svg",
    ];
    // Every raw HTML event passes here: look at each tag opening once, allocate nothing.
    let tag = |e: &&str| {
        lower.match_indices('<').any(|(i, _)| {
            lower[i + 1..]
                .strip_prefix('/')
                .unwrap_or(&lower[i + 1..])
                .starts_with(e)
        })
    };
    if ELEMENTS.iter().any(tag) || lower.contains("javascript:") || lower.contains("vbscript:") {
        return true;
    }
    // An `on…=` attribute inside a tag.
    let b = lower.as_bytes();
    (0..b.len()).any(|i| {
        i > 0
            && b[i - 1].is_ascii_whitespace()
            && lower[i..].starts_with("on")
            && {
                let rest = &lower[i + 2..];
                let name_len = rest.bytes().take_while(|c| c.is_ascii_alphabetic()).count();
                name_len > 0 && rest[name_len..].trim_start().starts_with('=')
            }
            && lower[..i].rfind('<') > lower[..i].rfind('>')
    })
}

fn is_script_url(url: &str) -> bool {
    let u: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    u.starts_with("javascript:")
        || u.starts_with("vbscript:")
        || (u.starts_with("data:")
            && (!u.starts_with("data:image/") || u.starts_with("data:image/svg")))
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn closes_step_text(ev: &Event<'_>) -> bool {
    match ev {
        Event::Start(t) => !matches!(
            t,
            Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Link { .. }
                | Tag::Image { .. }
                | Tag::Superscript
                | Tag::Subscript
        ),
        Event::End(t) => matches!(t, TagEnd::Paragraph | TagEnd::Item),
        Event::Rule => true,
        _ => false,
    }
}

/// Whether the list item starting at `i` is a task item.
fn is_task_item(events: &[(Event<'_>, Range<usize>)], i: usize) -> bool {
    if !matches!(events.get(i), Some((Event::Start(Tag::Item), _))) {
        return false;
    }
    match events.get(i + 1) {
        Some((Event::TaskListMarker(_), _)) => true,
        Some((Event::Start(Tag::Paragraph), _)) => {
            matches!(events.get(i + 2), Some((Event::TaskListMarker(_), _)))
        }
        _ => false,
    }
}

/// The inline text of a task item, up to its first nested block.
fn step_text(events: &[(Event<'_>, Range<usize>)], item: usize) -> String {
    let start = events[item..]
        .iter()
        .position(|(e, _)| matches!(e, Event::TaskListMarker(_)))
        .map(|p| item + p + 1)
        .unwrap_or(item);
    let end = events[start..]
        .iter()
        .position(|(e, _)| closes_step_text(e))
        .map(|p| start + p)
        .unwrap_or(events.len());
    collapse_ws(&plain_text(&events[start..end]))
}

/// Highlights code that may contain `${PARAM}`s: each parameter is swapped for an
/// identifier-like marker the grammar keeps in one token, and swapped back for its span
/// after highlighting. If a grammar splits a marker, the block falls back to plain text so
/// a parameter is never shown mangled.
fn highlight_with_params(hl: &Highlighter, lang: &str, code: &str) -> String {
    let pieces = params::split(code);
    if !pieces.iter().any(|p| matches!(p, params::Piece::Param(..))) {
        if code.contains("$${") {
            return hl.highlight(lang, &params::to_plain(code)).to_string();
        }
        return hl.highlight(lang, code).to_string();
    }
    let mut marked = String::with_capacity(code.len());
    let mut names = Vec::new();
    for p in &pieces {
        match p {
            params::Piece::Text(t) => marked.push_str(t),
            params::Piece::Param(n, _) => {
                marked.push_str(&format!("SBPARAM{}X{}Z", names.len(), n.len()));
                names.push(*n);
            }
        }
    }
    let mut html = hl.highlight(lang, &marked).to_string();
    for (i, n) in names.iter().enumerate() {
        let marker = format!("SBPARAM{i}X{}Z", n.len());
        if !html.contains(&marker) {
            return params::to_html(code);
        }
        html = html.replacen(&marker, &params::span(n), 1);
    }
    html
}

enum Resolved {
    Keep,
    SelfFragment(String),
    Doc {
        href: String,
        target: Target,
        fragment: Option<String>,
    },
    Asset(String),
    Missing {
        message: String,
        hint: Option<String>,
    },
}

/// Relative links between markdown files become page URLs; everything else is left alone.
fn resolve_link(dest: &str, doc: &Doc, lib: Option<&Library>, root: &str) -> Resolved {
    if dest.is_empty() {
        return Resolved::Keep;
    }
    if let Some(frag) = dest.strip_prefix('#') {
        return Resolved::SelfFragment(frag.to_string());
    }
    let has_scheme = dest.find(':').is_some_and(|c| {
        dest[..c]
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "+.-".contains(ch))
            && c > 0
    });
    if has_scheme || dest.starts_with("//") || dest.starts_with('/') {
        return Resolved::Keep;
    }
    let Some(lib) = lib else {
        return Resolved::Keep;
    };
    let (path_q, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f.to_string())),
        None => (dest, None),
    };
    let path = path_q.split('?').next().unwrap_or(path_q);
    let path = percent_decode(path);
    let dir = match doc.content_path.rfind('/') {
        Some(i) => &doc.content_path[..=i],
        None => "",
    };
    let Some(joined) = normalize_path(&format!("{dir}{path}")) else {
        return Resolved::Missing {
            message: format!("`{dest}`, which leaves the content folder"),
            hint: None,
        };
    };
    let target = if joined.ends_with(".md") || joined.ends_with(".markdown") {
        lib.by_path.get(&joined).copied()
    } else if path.is_empty()
        || path.ends_with('/')
        || !joined.rsplit('/').next().unwrap_or("").contains('.')
    {
        let as_dir = if joined.is_empty() || joined.ends_with('/') {
            joined.clone()
        } else {
            format!("{joined}/")
        };
        match lib.by_path.get(&format!("{as_dir}_index.md")) {
            Some(t) => Some(*t),
            None => {
                if lib.assets.contains(&joined) {
                    return Resolved::Asset(format!("{root}{}", asset_url(&joined)));
                }
                return Resolved::Missing {
                    message: format!("missing section `{dest}`"),
                    hint: None,
                };
            }
        }
    } else {
        if lib.assets.contains(&joined) {
            return Resolved::Asset(format!("{root}{}", asset_url(&joined)));
        }
        return Resolved::Missing {
            message: format!("missing file `{dest}`"),
            hint: Some(format!("no file `{joined}` in the content folder")),
        };
    };
    match target {
        Some(t) => {
            let url = &lib.doc(t).url;
            let same = lib.by_path.get(&doc.content_path) == Some(&t);
            let href = match (&fragment, same) {
                (Some(f), true) => format!("#{f}"),
                (Some(f), false) => format!("{root}{url}#{f}"),
                (None, _) => format!("{root}{url}"),
            };
            Resolved::Doc {
                href,
                target: t,
                fragment: fragment.filter(|f| !f.is_empty()),
            }
        }
        None => {
            let known: Vec<&str> = lib.by_path.keys().map(String::as_str).collect();
            let hint = closest_path(&joined, &known).map(|p| format!("did you mean `{p}`?"));
            Resolved::Missing {
                message: format!("missing page `{dest}`"),
                hint,
            }
        }
    }
}

fn closest_path<'k>(want: &str, known: &[&'k str]) -> Option<&'k str> {
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = crate::content::front_matter::edit_distance(want, k);
        if d <= want.len() / 3 + 2 && best.is_none_or(|(bd, bk)| (d, *k) < (bd, bk)) {
            best = Some((d, k));
        }
    }
    best.map(|b| b.1)
}

/// Where a content asset is published: the folders slugified like section URLs, the file name
/// kept.
pub fn asset_url(content_path: &str) -> String {
    let mut parts: Vec<&str> = content_path.split('/').collect();
    let file = parts.pop().unwrap_or("");
    let mut s: String = parts
        .iter()
        .map(|p| crate::content::slugify(p) + "/")
        .collect();
    s.push_str(file);
    s
}

/// Resolves `.` and `..`; `None` if the path climbs above the content folder.
fn normalize_path(p: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    let mut s = out.join("/");
    if p.ends_with('/') && !s.is_empty() {
        s.push('/');
    }
    Some(s)
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_unique_stable_ids() {
        let html = render_fragment(
            "# Main\n\n## Rollback\n\n## Rollback\n\n## Custom {#mine}\n",
            false,
        );
        assert!(html.contains("<h1 id=\"main-1\">Main</h1>"), "{html}");
        assert!(html.contains("<h2 id=\"rollback\">"), "{html}");
        assert!(html.contains("<h2 id=\"rollback-1\">"), "{html}");
        assert!(html.contains("<h2 id=\"mine\">"), "{html}");
    }

    #[test]
    fn params_in_highlighted_code_become_spans() {
        let html = highlight_with_params(
            &Highlighter::new(None),
            "sh",
            "kubectl scale deployment/${SERVICE} --replicas=3\n",
        );
        assert!(
            html.contains("<span class=\"sb-param\" data-param=\"SERVICE\">${SERVICE}</span>"),
            "{html}"
        );
        assert!(!html.contains("SBPARAM"));
    }

    #[test]
    fn search_text_keeps_words_of_cells_and_items_apart() {
        let r = render_snippet(
            "## A\n\n| stage | lag |\n|---|---|\n| base | 30 |\n\n- alpha\n- bravo\n",
            false,
        );
        let text = &r.sections.iter().find(|s| s.anchor == "a").unwrap().text;
        assert_eq!(text, "stage lag base 30 alpha bravo");
    }

    #[test]
    fn html_that_runs_script_is_shown_as_text_and_reported() {
        let md = "Alert said <script>alert(1)</script> and <img src=x onerror=alert(1)>.\n\n<details><summary>ok</summary>fine</details>\n\n[click](javascript:alert(1)) ![pic](data:image/png;base64,AAAA)\n";
        let r = render_snippet(md, false);
        assert!(
            !r.html.contains("<script>") && r.html.contains("&lt;script&gt;alert(1)"),
            "{}",
            r.html
        );
        assert!(
            !r.html.contains("<img src=x onerror") && r.html.contains("&lt;img src=x onerror"),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("<details><summary>ok</summary>"),
            "harmless HTML stays: {}",
            r.html
        );
        assert!(r.html.contains("<a href=\"#\">click</a>"), "{}", r.html);
        assert!(
            r.html.contains("src=\"data:image/png;base64,AAAA\""),
            "{}",
            r.html
        );
        let rules: Vec<(&str, usize)> = r.diagnostics.iter().map(|d| (d.rule, d.line)).collect();
        assert_eq!(
            rules,
            vec![
                ("unsafe-html", 1),
                ("unsafe-html", 1),
                ("unsafe-html", 1),
                ("unsafe-html", 5)
            ]
        );
        assert!(!r.html.contains("</script>"), "{}", r.html);
        assert!(
            !is_active_html("<span class=\"monitor\">"),
            "`on` inside a word is not a handler"
        );
        assert!(
            !is_active_html("<p>turn on = yes</p>"),
            "text outside a tag is not an attribute"
        );
    }

    #[test]
    fn paths_normalise_and_never_climb_out() {
        assert_eq!(normalize_path("a/../b/c.md").as_deref(), Some("b/c.md"));
        assert_eq!(normalize_path("../x.md"), None);
        assert_eq!(
            asset_url("Traffic Surges/diagram.png"),
            "traffic-surges/diagram.png"
        );
    }
}
