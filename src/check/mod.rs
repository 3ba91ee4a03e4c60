//! `scalebook check`: the rules only a full check runs, and the report formats.
//!
//! The build already finds nearly every problem (see [`RULES`]); this module adds the checks
//! that are too slow or too noisy for every build (`missing-title`, external links under
//! `--external`) and turns a list of [`Diagnostic`]s into one of four report formats. Nothing
//! here prints or picks an exit code: that is `commands/check.rs`.

pub mod external;

use crate::config::BuildOptions;
use crate::content::{self, Doc};
use crate::diagnostics::{display_path, Diagnostic, LineIndex, Pos, Severity};
use pulldown_cmark::{Event, HeadingLevel, LinkType, Parser, Tag};
use serde::Serialize;
use std::collections::BTreeSet;

/// Every rule a check can report, with the one-line description SARIF and `--help` readers
/// see. A rule missing here still reports; it just has a generic description.
pub const RULES: &[(&str, &str)] = &[
    (
        "broken-anchor",
        "A link points at a heading or step that does not exist.",
    ),
    (
        "broken-link",
        "A link or image points at a file that does not exist.",
    ),
    ("build", "The build could not run (e.g. no content folder)."),
    ("config", "scalebook.toml cannot be read or is invalid."),
    (
        "duplicate-id",
        "Two headings or elements on a page share an id.",
    ),
    (
        "duplicate-step-id",
        "Two checklist steps on a page share an id.",
    ),
    (
        "duplicate-url",
        "Two pages or aliases produce the same URL, or a URL is reserved.",
    ),
    ("empty-checklist", "A playbook has no checklist steps."),
    ("empty-file", "A markdown file is empty."),
    ("encoding", "A file is not valid UTF-8."),
    (
        "external-link",
        "A link to another site does not answer with success.",
    ),
    (
        "front-matter",
        "A front matter value has the wrong type or an invalid date.",
    ),
    (
        "front-matter-syntax",
        "The front matter is not valid TOML or YAML.",
    ),
    (
        "front-matter-unknown-key",
        "The front matter has a key scalebook does not know.",
    ),
    ("image-alt", "An image has no alt text."),
    ("io", "A file or folder cannot be read."),
    (
        "missing-owner",
        "A playbook names no owner ([review] require_owner).",
    ),
    (
        "missing-title",
        "A page has neither a `title` nor a `# heading`.",
    ),
    (
        "never-drilled",
        "A playbook with runnable or verify blocks has no `last_drill` (scalebook run --drill --record).",
    ),
    (
        "review-overdue",
        "A playbook's review is overdue or it was never reviewed.",
    ),
    (
        "run-without-confirm",
        "A runnable block has no confirm text ([checks] require_confirm_text).",
    ),
    ("template", "A template cannot be read or does not compile."),
    ("theme", "A theme file cannot be read."),
    (
        "undeclared-param",
        "A `${PARAM}` is used but not declared in `params`.",
    ),
    (
        "unsafe-html",
        "Raw HTML or a link that could run script; shown as text (or pointing nowhere) instead.",
    ),
    ("unsafe-path", "A slug or alias would leave the site."),
];

pub fn rule_description(rule: &str) -> &'static str {
    RULES
        .iter()
        .find(|(id, _)| *id == rule)
        .map(|(_, d)| *d)
        .unwrap_or("A scalebook content check.")
}

/// `never-drilled` (notice): a playbook whose commands have never been exercised by
/// `scalebook run --drill --record`. A notice, not a warning: most teams drill a few playbooks
/// at a time, and `check --strict` must not fail until all are.
pub fn never_drilled(pages: &[crate::site::PageFacts]) -> Vec<Diagnostic> {
    pages
        .iter()
        .filter(|p| p.kind == crate::content::front_matter::Kind::Playbook)
        .filter(|p| p.runnable + p.verify > 0 && p.last_drill.is_none())
        .map(|p| {
            let mut d = Diagnostic::warning(
                "never-drilled",
                &p.src,
                format!(
                    "playbook has {} runnable or verify block(s) and has never been drilled",
                    p.runnable + p.verify
                ),
            )
            .with_hint("run `scalebook run <playbook> --drill --record` on a game day");
            d.severity = Severity::Notice;
            d
        })
        .collect()
}

/// A link to another site, where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalLink {
    pub url: String,
    pub src: std::path::PathBuf,
    pub pos: Pos,
}

/// What a scan of the markdown found beyond the build's own diagnostics.
#[derive(Debug, Default)]
pub struct Scan {
    pub diagnostics: Vec<Diagnostic>,
    pub external_links: Vec<ExternalLink>,
}

/// Loads the content again and runs the check-only rules over it:
///
/// - `missing-title` (warning): a page with no `title` in its front matter and no `# heading`
///   gets a title made from its file name, which is rarely what the author wants in listings
///   and search. Sections (`_index.md`) are exempt: their folder name is a fine title.
/// - with `external`, collects every `http(s)://` link and image with its position.
pub fn scan(opts: &BuildOptions, external: bool) -> Scan {
    let content_dir = opts.content_dir();
    let (lib, load_diags) = content::load(&content::LoadOptions {
        root: &opts.root,
        content_dir: &content_dir,
        drafts: opts.drafts,
        site_title: &opts.config.title,
        output_dir: &opts.config.output_dir,
    });
    // A page whose front matter does not parse has lost its title already; one error is
    // enough.
    let unparsed: BTreeSet<&std::path::Path> = load_diags
        .iter()
        .filter(|d| d.rule == "front-matter-syntax")
        .map(|d| d.path.as_path())
        .collect();
    let mut out = Scan::default();
    for p in &lib.pages {
        let is_page = !unparsed.contains(p.doc.src.as_path());
        scan_doc(&p.doc, is_page, external, &mut out);
    }
    for s in lib.sections.iter().filter(|s| s.has_index) {
        scan_doc(&s.doc, false, external, &mut out);
    }
    out
}

/// `wants_title`: whether `missing-title` applies (pages whose front matter parsed).
fn scan_doc(doc: &Doc, wants_title: bool, external: bool, out: &mut Scan) {
    let index = LineIndex::new(&doc.text);
    let mut has_h1 = false;
    for (event, range) in
        Parser::new_ext(doc.body(), crate::markdown::parser_options()).into_offset_iter()
    {
        match event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H1,
                ..
            }) => has_h1 = true,
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            })
            | Event::Start(Tag::Image {
                link_type,
                dest_url,
                ..
            }) if external && link_type != LinkType::Email && is_external(&dest_url) => {
                out.external_links.push(ExternalLink {
                    url: dest_url.to_string(),
                    src: doc.src.clone(),
                    pos: index.pos(&doc.text, doc.body_offset + range.start),
                });
            }
            _ => {}
        }
    }
    if wants_title && doc.fm.title.is_none() && !has_h1 {
        out.diagnostics.push(
            Diagnostic::warning(
                "missing-title",
                &doc.src,
                format!(
                    "page has no title, so it is listed as `{}` (from its file name)",
                    doc.title
                ),
            )
            .at(Pos { line: 1, col: 1 })
            .with_hint("set `title` in the front matter or start the page with `# Title`"),
        );
    }
}

fn is_external(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Totals for the summary line and the JSON report.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub pages: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Notices never fail a check (e.g. a review falling due).
    pub notes: usize,
}

impl Summary {
    pub fn of(pages: usize, diags: &[Diagnostic]) -> Summary {
        let errors = diags.iter().filter(|d| d.is_error()).count();
        Summary {
            pages,
            errors,
            warnings: diags.iter().filter(|d| d.is_warning()).count(),
            notes: diags
                .iter()
                .filter(|d| d.severity == Severity::Notice)
                .count(),
        }
    }

    /// Whether the check fails: any error, or with `strict` any warning.
    pub fn failed(&self, strict: bool) -> bool {
        self.errors > 0 || (strict && self.warnings > 0)
    }
}

/// The human report: each diagnostic as the build prints it, then one summary line.
pub fn human(diags: &[Diagnostic], summary: Summary) -> String {
    let mut s = String::new();
    for d in diags {
        s.push_str(&d.to_string());
        s.push('\n');
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if diags.is_empty() {
        s.push_str(&format!(
            "checked {} page{}: no problems\n",
            summary.pages,
            plural(summary.pages)
        ));
    } else {
        s.push_str(&format!(
            "checked {} page{}: {} error{}, {} warning{}{}\n",
            summary.pages,
            plural(summary.pages),
            summary.errors,
            plural(summary.errors),
            summary.warnings,
            plural(summary.warnings),
            match summary.notes {
                0 => String::new(),
                n => format!(", {n} note{}", plural(n)),
            }
        ));
    }
    s
}

/// The JSON report, version 1. Stable: fields are only ever added, and a change to an
/// existing field bumps `version`.
///
/// ```json
/// {
///   "version": 1,
///   "diagnostics": [
///     { "severity": "error", "rule": "broken-link", "path": "playbooks/a.md",
///       "line": 7, "col": 3, "message": "link to ...", "hint": null }
///   ],
///   "summary": { "pages": 12, "errors": 1, "warnings": 0, "notes": 2 }
/// }
/// ```
///
/// `severity` is `error` or `warning`; `path` is relative to the site root with `/`;
/// `line` and `col` are 1-based, and 0 when the problem concerns the whole file; `hint` is a
/// string or null. Diagnostics are sorted by path, line, column and rule.
pub fn json(diags: &[Diagnostic], summary: Summary) -> String {
    #[derive(Serialize)]
    struct Report<'a> {
        version: u32,
        diagnostics: Vec<Item<'a>>,
        summary: Summary,
    }
    #[derive(Serialize)]
    struct Item<'a> {
        severity: Severity,
        rule: &'a str,
        path: String,
        line: usize,
        col: usize,
        message: &'a str,
        hint: Option<&'a str>,
    }
    let report = Report {
        version: 1,
        diagnostics: diags
            .iter()
            .map(|d| Item {
                severity: d.severity,
                rule: d.rule,
                path: display_path(&d.path),
                line: d.line,
                col: d.col,
                message: &d.message,
                hint: d.hint.as_deref(),
            })
            .collect(),
        summary,
    };
    let mut s = serde_json::to_string_pretty(&report).expect("a report serialises");
    s.push('\n');
    s
}

/// GitHub Actions workflow commands: one `::error` or `::warning` annotation per problem,
/// shown inline on the pull request's diff.
pub fn github(diags: &[Diagnostic]) -> String {
    let mut s = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
        };
        let mut props = format!("file={}", gh_property(&display_path(&d.path)));
        if d.line > 0 {
            props.push_str(&format!(",line={}", d.line));
            if d.col > 0 {
                props.push_str(&format!(",col={}", d.col));
            }
        }
        props.push_str(&format!(",title={}", gh_property(d.rule)));
        let mut msg = d.message.clone();
        if let Some(h) = &d.hint {
            msg.push_str("\nhint: ");
            msg.push_str(h);
        }
        s.push_str(&format!("::{level} {props}::{}\n", gh_data(&msg)));
    }
    s
}

/// Escaping of a workflow command's message.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a workflow command's property value.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub const INFORMATION_URI: &str = "https://github.com/scalebook/scalebook";

/// SARIF 2.1.0 with one run: the tool's rules (those that occur, described from [`RULES`])
/// and one result per problem. A problem about a whole file has no region.
pub fn sarif(diags: &[Diagnostic]) -> String {
    let rules: BTreeSet<&str> = diags.iter().map(|d| d.rule).collect();
    let rules: Vec<serde_json::Value> = rules
        .iter()
        .map(|id| {
            serde_json::json!({
                "id": id,
                "shortDescription": { "text": rule_description(id) },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let mut physical = serde_json::json!({
                "artifactLocation": { "uri": display_path(&d.path) },
            });
            if d.line > 0 {
                physical["region"] = serde_json::json!({
                    "startLine": d.line,
                    "startColumn": d.col.max(1),
                });
            }
            let mut text = d.message.clone();
            if let Some(h) = &d.hint {
                text.push_str(&format!(" (hint: {h})"));
            }
            serde_json::json!({
                "ruleId": d.rule,
                "level": match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Notice => "note",
                },
                "message": { "text": text },
                "locations": [ { "physicalLocation": physical } ],
            })
        })
        .collect();
    let doc = serde_json::json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "scalebook",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("a report serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag() -> Diagnostic {
        Diagnostic::error(
            "broken-link",
            "playbooks/a, b.md",
            "link to `x.md`: 50% gone\nreally",
        )
        .at(Pos { line: 3, col: 7 })
        .with_hint("did you mean `y.md`?")
    }

    #[test]
    fn github_annotations_escape_properties_and_data() {
        assert_eq!(
            github(&[diag()]),
            "::error file=playbooks/a%2C b.md,line=3,col=7,title=broken-link::link to `x.md`: 50%25 gone%0Areally%0Ahint: did you mean `y.md`?\n"
        );
    }

    #[test]
    fn whole_file_problems_have_no_line_or_region() {
        let d = Diagnostic::warning("empty-file", "playbooks/e.md", "file is empty");
        assert_eq!(
            github(std::slice::from_ref(&d)),
            "::warning file=playbooks/e.md,title=empty-file::file is empty\n"
        );
        let v: serde_json::Value = serde_json::from_str(&sarif(&[d])).unwrap();
        let loc = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert!(loc.get("region").is_none());
    }

    #[test]
    fn every_rule_the_build_knows_is_described() {
        for (id, d) in RULES {
            assert!(!id.is_empty() && d.ends_with('.'), "{id}");
        }
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.0).collect();
        ids.sort();
        assert_eq!(ids, RULES.iter().map(|r| r.0).collect::<Vec<_>>(), "sorted");
    }

    #[test]
    fn strict_fails_on_warnings_only_when_asked() {
        let s = Summary {
            pages: 1,
            errors: 0,
            warnings: 1,
            notes: 0,
        };
        assert!(!s.failed(false));
        assert!(s.failed(true));
        let notes_only = Summary {
            pages: 1,
            errors: 0,
            warnings: 0,
            notes: 3,
        };
        assert!(!notes_only.failed(true), "notices never fail a check");
    }
}
