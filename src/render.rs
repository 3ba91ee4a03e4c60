//! Typed views for templates, and the small renderers that are not markdown: the case-study
//! outcome chart and the checklist's page data.
//!
//! Templates receive these structs, never ad-hoc maps, so a template typo fails loudly in a
//! test instead of rendering blank.

use crate::content::front_matter::{Kind, Outcome, Param};
use crate::content::{Doc, Library};
use crate::highlight::escape_html;
use crate::markdown::{Group, Step, TocEntry};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
pub struct SiteView<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub base_url: &'a str,
    pub language: &'a str,
    pub extra: &'a toml::Table,
    /// Top-level topics, for the navigation.
    pub nav: Vec<Link>,
    /// Theme file name -> published path (`style.css` -> `theme/style.3f9a.css`).
    pub assets: &'a BTreeMap<String, String>,
    pub search_manifest: &'a str,
}

#[derive(Serialize, Clone)]
pub struct Link {
    pub title: String,
    pub url: String,
}

/// What every template gets.
#[derive(Serialize)]
pub struct Common<'a> {
    pub site: &'a SiteView<'a>,
    /// Relative prefix to the site root (`../../`, `./`), or the absolute base path on
    /// pages served at unknown depths (404).
    pub root: String,
    /// This page's site-relative URL.
    pub url: String,
    pub permalink: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct ReviewView {
    pub last_reviewed: Option<String>,
    pub every: Option<String>,
    pub due: Option<String>,
    pub overdue: bool,
    /// `overdue`, `due-soon`, `ok`, `never`.
    pub status: &'static str,
}

#[derive(Serialize, Clone)]
pub struct ListItem {
    pub title: String,
    pub url: String,
    pub description: String,
    pub kind: &'static str,
    pub severity: Option<String>,
    pub owner: Option<String>,
    pub updated: Option<String>,
    pub review: Option<ReviewView>,
    pub section: String,
    pub steps: usize,
}

#[derive(Serialize)]
pub struct OutcomeView {
    pub metric: String,
    pub before: String,
    pub after: String,
    pub unit: String,
    pub change: String,
    pub improved: bool,
}

#[derive(Serialize)]
pub struct PageView<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub section: Link,
    pub breadcrumbs: Vec<Link>,
    pub tags: Vec<Link>,
    pub owner: Option<&'a str>,
    pub severity: Option<&'a str>,
    pub date: Option<String>,
    pub updated: Option<String>,
    pub last_drill: Option<String>,
    pub review: Option<ReviewView>,
    pub body: &'a str,
    pub toc: Vec<&'a TocEntry>,
    pub steps: usize,
    pub groups: &'a [Group],
    pub params: &'a [Param],
    /// JSON for the checklist script, safe to embed in a `<script>` element.
    pub page_data: String,
    pub outcomes: Vec<OutcomeView>,
    pub chart: String,
    /// "Edit this page" target (`edit_url` of the config with the source path filled in).
    pub edit_url: Option<String>,
    pub extra: &'a serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
pub struct SectionView<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub body: &'a str,
    pub breadcrumbs: Vec<Link>,
    pub playbooks: Vec<ListItem>,
    pub case_studies: Vec<ListItem>,
    pub subsections: Vec<SubsectionView>,
    pub extra: &'a serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
pub struct SubsectionView {
    pub title: String,
    pub url: String,
    pub description: String,
    pub count: usize,
}

#[derive(Serialize)]
pub struct HomeView<'a> {
    pub section: SectionView<'a>,
    pub topics: Vec<SubsectionView>,
    pub recent: Vec<ListItem>,
    pub case_studies: Vec<ListItem>,
    pub overdue: Vec<ListItem>,
}

#[derive(Serialize)]
pub struct TagView {
    pub name: String,
    pub url: String,
    pub count: usize,
    pub pages: Vec<ListItem>,
}

pub fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::Playbook => "Playbook",
        Kind::CaseStudy => "Case study",
    }
}

/// Review status of a playbook: due `last_reviewed + review_every` (or the site default).
pub fn review(doc: &Doc, default_every: Option<(&str, i64)>, today: i64) -> Option<ReviewView> {
    if doc.fm.kind != Kind::Playbook {
        return None;
    }
    let every = doc
        .fm
        .review_every
        .as_ref()
        .map(|(s, d)| (s.as_str(), *d))
        .or(default_every);
    let last = doc.fm.last_reviewed;
    if every.is_none() && last.is_none() {
        return None;
    }
    let due = match (last, every) {
        (Some(l), Some((_, d))) => Some(l.add_days(d)),
        _ => None,
    };
    let status = match (last, due) {
        (None, _) => "never",
        (_, Some(d)) if d.0 < today => "overdue",
        (_, Some(d)) if d.0 < today + 14 => "due-soon",
        _ => "ok",
    };
    Some(ReviewView {
        last_reviewed: last.map(|d| d.to_string()),
        every: every.map(|e| e.0.to_string()),
        due: due.map(|d| d.to_string()),
        overdue: matches!(status, "overdue" | "never") && every.is_some(),
        status,
    })
}

/// The JSON the checklist script reads. `<`, `>` and `&` are escaped so no content can
/// close the `<script>` element it lives in.
pub fn page_data(
    url: &str,
    title: &str,
    groups: &[Group],
    steps: &[Step],
    params: &[Param],
) -> String {
    #[derive(Serialize)]
    struct Data<'a> {
        page: &'a str,
        title: &'a str,
        groups: &'a [Group],
        steps: &'a [Step],
        params: &'a [Param],
    }
    let json = serde_json::to_string(&Data {
        page: url,
        title,
        groups,
        steps,
        params,
    })
    .unwrap_or_else(|_| "{}".into());
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

pub fn outcome_views(outcomes: &[Outcome]) -> Vec<OutcomeView> {
    outcomes
        .iter()
        .map(|o| {
            let improved = if o.lower_is_better {
                o.after < o.before
            } else {
                o.after > o.before
            };
            let change = if o.before != 0.0 {
                let pct = (o.after - o.before) / o.before.abs() * 100.0;
                format!("{}{:.0}%", if pct > 0.0 { "+" } else { "" }, pct)
            } else {
                "n/a".into()
            };
            OutcomeView {
                metric: o.metric.clone(),
                before: num(o.before),
                after: num(o.after),
                unit: o.unit.clone(),
                change,
                improved,
            }
        })
        .collect()
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        // Thousands separators: "200,000 USD" is read at a glance, "200000" is counted.
        let digits = (x.abs() as i64).to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) && digits.len() > 4 {
                out.push(',');
            }
            out.push(c);
        }
        if x < 0.0 {
            out.insert(0, '-');
        }
        out
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A before/after bar chart as inline SVG: one pair of bars per metric, each metric on its
/// own scale (units differ). Colours come from CSS classes so dark mode and print work; the
/// same numbers are in the table beside it for screen readers and copy-paste.
pub fn outcome_chart(title: &str, outcomes: &[Outcome]) -> String {
    if outcomes.is_empty() {
        return String::new();
    }
    let views = outcome_views(outcomes);
    // Each metric: its name on a line of its own (never truncated), then the two bars.
    let (bar_w, row_h, label_h, gap) = (380.0, 16.0, 18.0, 14.0);
    let width = bar_w + 170.0;
    let block = label_h + row_h * 2.0 + 4.0 + gap;
    let height = 26.0 + block * outcomes.len() as f64;
    let mut s = String::new();
    let desc: Vec<String> = views
        .iter()
        .map(|v| {
            format!(
                "{}: {} {u} before, {} {u} after ({})",
                v.metric,
                v.before,
                v.after,
                v.change,
                u = v.unit
            )
        })
        .collect();
    s.push_str(&format!(
        "<svg class=\"sb-chart\" role=\"img\" aria-labelledby=\"sb-chart-title sb-chart-desc\" viewBox=\"0 0 {width} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" xmlns=\"http://www.w3.org/2000/svg\">\
<title id=\"sb-chart-title\">Outcomes of {}: before and after</title><desc id=\"sb-chart-desc\">{}</desc>",
        escape_html(title),
        escape_html(&desc.join("; "))
    ));
    s.push_str(
        "<g class=\"legend\"><rect class=\"bar-before\" x=\"0\" y=\"4\" width=\"12\" height=\"12\"/><text x=\"16\" y=\"14\">Before</text><rect class=\"bar-after\" x=\"80\" y=\"4\" width=\"12\" height=\"12\"/><text x=\"96\" y=\"14\">After</text></g>",
    );
    for (i, (o, v)) in outcomes.iter().zip(&views).enumerate() {
        let y = 26.0 + block * i as f64;
        let max = o.before.abs().max(o.after.abs()).max(f64::MIN_POSITIVE);
        let wb = (o.before.abs() / max * bar_w).max(1.0);
        let wa = (o.after.abs() / max * bar_w).max(1.0);
        let better = if v.improved { "better" } else { "worse" };
        let (yb, ya) = (y + label_h, y + label_h + row_h + 4.0);
        s.push_str(&format!(
            "<g class=\"row\"><text class=\"metric\" x=\"0\" y=\"{:.1}\">{}</text>\
<rect class=\"bar-before\" x=\"0\" y=\"{yb:.1}\" width=\"{wb:.1}\" height=\"{row_h}\"/><text x=\"{:.1}\" y=\"{:.1}\">{} {}</text>\
<rect class=\"bar-after {better}\" x=\"0\" y=\"{ya:.1}\" width=\"{wa:.1}\" height=\"{row_h}\"/><text x=\"{:.1}\" y=\"{:.1}\">{} {} ({})</text></g>",
            y + 13.0,
            escape_html(&v.metric),
            wb + 6.0,
            yb + row_h - 3.0,
            escape_html(&v.before),
            escape_html(&v.unit),
            wa + 6.0,
            ya + row_h - 3.0,
            escape_html(&v.after),
            escape_html(&v.unit),
            escape_html(&v.change),
        ));
    }
    s.push_str("</svg>");
    s
}

pub fn list_item(
    lib: &Library,
    idx: usize,
    summary: &str,
    steps: usize,
    review: Option<ReviewView>,
) -> ListItem {
    let p = &lib.pages[idx];
    let d = &p.doc;
    ListItem {
        title: d.title.clone(),
        url: d.url.clone(),
        description: d
            .fm
            .description
            .clone()
            .unwrap_or_else(|| summary.to_string()),
        kind: d.fm.kind.as_str(),
        severity: d.fm.severity.clone(),
        owner: d.fm.owner.clone(),
        updated: d.fm.updated.or(d.fm.date).map(|x| x.to_string()),
        review,
        section: lib.sections[p.section].doc.title.clone(),
        steps,
    }
}

/// `template` (the config's `edit_url`) with `{path}` replaced by `src` (a path relative to the
/// site root): `/` between components, each component percent-encoded where a URL needs it.
pub fn edit_url(template: &str, src: &std::path::Path) -> String {
    let mut path = String::new();
    for (i, part) in src.components().enumerate() {
        if i > 0 {
            path.push('/');
        }
        for b in part.as_os_str().to_string_lossy().bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                path.push(b as char);
            } else {
                path.push_str(&format!("%{b:02X}"));
            }
        }
    }
    template.replace("{path}", &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_url_fills_in_the_source_path_encoded() {
        let t = "https://git.example/acme/runbooks/edit/main/docs/{path}";
        assert_eq!(
            edit_url(t, std::path::Path::new("playbooks/ops/restart.md")),
            "https://git.example/acme/runbooks/edit/main/docs/playbooks/ops/restart.md"
        );
        assert_eq!(
            edit_url(t, std::path::Path::new("playbooks/on call/a&b #1.md")),
            "https://git.example/acme/runbooks/edit/main/docs/playbooks/on%20call/a%26b%20%231.md"
        );
    }

    #[test]
    fn chart_is_accessible_and_escaped() {
        let svg = outcome_chart(
            "A <b>",
            &[Outcome {
                metric: "p95 <load>".into(),
                before: 3.0,
                after: 0.9,
                unit: "s".into(),
                lower_is_better: true,
            }],
        );
        assert!(svg.starts_with("<svg class=\"sb-chart\" role=\"img\""));
        assert!(svg.contains(
            "<title id=\"sb-chart-title\">Outcomes of A &lt;b&gt;: before and after</title>"
        ));
        assert!(svg.contains("p95 &lt;load&gt;: 3 s before, 0.9 s after (-70%)"));
        assert!(svg.contains("bar-after better"));
        assert!(!svg.contains("<b>"));
    }

    #[test]
    fn improvement_respects_direction() {
        let v = outcome_views(&[
            Outcome {
                metric: "uptime".into(),
                before: 99.0,
                after: 99.9,
                unit: "%".into(),
                lower_is_better: false,
            },
            Outcome {
                metric: "cost".into(),
                before: 100.0,
                after: 120.0,
                unit: "k$".into(),
                lower_is_better: true,
            },
        ]);
        assert!(v[0].improved);
        assert!(!v[1].improved);
        assert_eq!(v[1].change, "+20%");
        assert_eq!(num(200000.0), "200,000");
        assert_eq!(num(1000.0), "1000");
        assert_eq!(num(-12345.0), "-12,345");
        assert_eq!(num(0.95), "0.95");
    }

    #[test]
    fn page_data_cannot_close_its_script_element() {
        let json = page_data("a/", "</script><script>alert(1)</script>", &[], &[], &[]);
        assert!(!json.contains("</script>"));
        assert!(json.contains("\\u003c/script\\u003e"));
    }
}
