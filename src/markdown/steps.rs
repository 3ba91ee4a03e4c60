//! Checklist steps: every task item in a playbook, with an id that survives edits.
//!
//! A step id is `<heading id>--<slug of the step text>`: adding, removing or reordering other
//! steps never changes it, so a run recorded against yesterday's playbook still matches
//! today's. Heading slugs never contain `--`, so step ids cannot collide with headings.

use super::Rendered;
use crate::diagnostics::{Diagnostic, Pos};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockKind {
    Plain,
    /// ```` ```sh run ````: executable from its step after confirmation.
    Run,
    /// ```` ```sh verify ````: passes when it exits 0 (and matches `expect`).
    Verify,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CodeBlock {
    pub lang: String,
    pub kind: BlockKind,
    /// As written, `${PARAM}`s included.
    pub code: String,
    pub expect: Option<String>,
    pub confirm: Option<String>,
    #[serde(skip)]
    pub pos: Pos,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    pub id: String,
    pub group: String,
    #[serde(skip)]
    pub group_title: String,
    pub text: String,
    #[serde(skip)]
    pub pos: Pos,
    /// The enclosing step, for nested checklists.
    #[serde(skip)]
    pub parent: Option<usize>,
    #[serde(skip)]
    pub blocks: Vec<CodeBlock>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Group {
    pub id: String,
    pub title: String,
}

/// A fenced block's info string: `sh run`, `sh verify expect="^ok$"`, `bash run confirm="…"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    pub lang: String,
    pub kind: BlockKind,
    pub expect: Option<String>,
    pub confirm: Option<String>,
}

pub fn parse_info(info: &str) -> Info {
    let mut words = Vec::new();
    let mut chars = info.trim().chars().peekable();
    let mut cur = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    cur.push(c);
                }
            }
            c if c.is_whitespace() || c == ',' => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let mut it = words.into_iter();
    let lang = it.next().unwrap_or_default();
    let lang = lang
        .trim_start_matches('{')
        .trim_start_matches('.')
        .trim_end_matches('}')
        .to_string();
    let mut out = Info {
        lang,
        kind: BlockKind::Plain,
        expect: None,
        confirm: None,
    };
    for w in it {
        match w.split_once('=') {
            None if w == "run" => out.kind = BlockKind::Run,
            None if w == "verify" => out.kind = BlockKind::Verify,
            Some(("expect", v)) => out.expect = Some(v.to_string()),
            Some(("confirm", v)) => out.confirm = Some(v.to_string()),
            _ => {}
        }
    }
    out
}

const OPEN: &str = "\u{E000}SBSTEP-OPEN:";
const MARK: &str = "\u{E000}SBSTEP-MARK:";
const END: char = '\u{E001}';

pub fn item_open_placeholder(idx: usize) -> String {
    format!("{OPEN}{idx}{END}")
}

pub fn marker_placeholder(idx: usize) -> String {
    format!("{MARK}{idx}{END}")
}

/// Longest slug kept from the step text: ids stay readable in URLs.
const MAX_SLUG: usize = 48;

fn text_slug(text: &str) -> String {
    let s = crate::content::slugify(text);
    if s.len() <= MAX_SLUG {
        return s;
    }
    let mut end = MAX_SLUG;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    // Cut at a word boundary when there is one reasonably far in.
    let end = s[..end].rfind('-').filter(|&i| i > 8).unwrap_or(end);
    s[..end].to_string()
}

/// Gives every step its id, fills in the placeholders, and reports ids that still collide.
pub fn assign_ids(out: &mut Rendered, src: &Path) {
    if out.steps.is_empty() {
        return;
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut taken: HashMap<String, usize> = HashMap::new();
    let heading_ids = out.anchors.clone();
    for i in 0..out.steps.len() {
        let group = if out.steps[i].group.is_empty() {
            "steps".to_string()
        } else {
            out.steps[i].group.clone()
        };
        let base = format!("{group}--{}", text_slug(&out.steps[i].text));
        let n = counts.entry(base.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}-{n}") };
        if let Some(&first) = taken.get(&id) {
            out.diagnostics.push(
                Diagnostic::error(
                    "duplicate-step-id",
                    src,
                    format!(
                        "step id `{id}` is also the id of the step at line {}",
                        out.steps[first].pos.line
                    ),
                )
                .at(out.steps[i].pos)
                .with_hint("reword one of the steps"),
            );
        }
        if heading_ids.contains(&id) {
            out.diagnostics.push(
                Diagnostic::error(
                    "duplicate-step-id",
                    src,
                    format!("step id `{id}` is already a heading id"),
                )
                .at(out.steps[i].pos),
            );
        }
        taken.insert(id.clone(), i);
        out.anchors.insert(id.clone());
        out.steps[i].group = group;
        out.steps[i].id = id;
    }
    let mut seen = std::collections::HashSet::new();
    for s in &out.steps {
        if seen.insert(s.group.clone()) {
            let title = if s.group_title.is_empty() {
                "Checklist".to_string()
            } else {
                s.group_title.clone()
            };
            out.groups.push(Group {
                id: s.group.clone(),
                title,
            });
        }
    }
    for s in &out.steps {
        out.sections.push(super::SearchSection {
            anchor: s.id.clone(),
            heading: s.text.clone(),
            text: s
                .blocks
                .iter()
                .map(|b| super::params::to_plain(&b.code))
                .collect::<Vec<_>>()
                .join(" "),
            is_step: true,
        });
    }
    out.html = fill_placeholders(&out.html, &out.steps);
}

fn fill_placeholders(html: &str, steps: &[super::Step]) -> String {
    let mut res = String::with_capacity(html.len() + steps.len() * 200);
    let mut rest = html;
    while let Some(p) = rest.find('\u{E000}') {
        res.push_str(&rest[..p]);
        let tail = &rest[p..];
        let parsed = [(OPEN, true), (MARK, false)]
            .iter()
            .find_map(|(prefix, open)| {
                let after = tail.strip_prefix(prefix)?;
                let end = after.find(END)?;
                let idx: usize = after[..end].parse().ok()?;
                Some((*open, steps.get(idx)?, prefix.len() + end + END.len_utf8()))
            });
        match parsed {
            Some((true, s, len)) => {
                res.push_str(&format!(
                    "<li class=\"sb-step\" id=\"{0}\" data-step=\"{0}\" data-group=\"{1}\">",
                    s.id, s.group
                ));
                rest = &tail[len..];
            }
            Some((false, s, len)) => {
                res.push_str(&format!(
                    "<input type=\"checkbox\" class=\"sb-step-box\" id=\"cb-{0}\" aria-labelledby=\"t-{0}\"><span class=\"sb-step-text\" id=\"t-{0}\">",
                    s.id
                ));
                rest = &tail[len..];
            }
            None => {
                res.push('\u{E000}');
                rest = &tail['\u{E000}'.len_utf8()..];
            }
        }
    }
    res.push_str(rest);
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::highlight::Highlighter;
    use crate::markdown::{render, Context};

    fn steps_of(md: &str) -> Rendered {
        let hl = Highlighter::new(None);
        let doc = crate::content::Doc::snippet("p.md", "p/", md);
        render(
            &doc,
            &Context {
                lib: None,
                hl: &hl,
                root: "../",
                steps: true,
            },
        )
    }

    fn ids(md: &str) -> Vec<String> {
        steps_of(md).steps.into_iter().map(|s| s.id).collect()
    }

    #[test]
    fn ids_come_from_heading_and_text() {
        assert_eq!(
            ids("## Before\n\n- [ ] Scale the pool\n- [ ] Warm the cache\n"),
            vec!["before--scale-the-pool", "before--warm-the-cache"]
        );
    }

    #[test]
    fn ids_survive_insertions_removals_and_reordering() {
        let before = ids(
            "## During\n\n- [ ] Drain node\n- [ ] Page the DBA\n\n## Verify\n\n- [ ] Check p95\n",
        );
        let edited = ids("## During\n\n- [ ] Announce in #incident\n- [ ] Page the DBA\n\n## Verify\n\n- [ ] Check errors\n- [ ] Check p95\n");
        for kept in ["during--page-the-dba", "verify--check-p95"] {
            assert!(
                before.contains(&kept.to_string()) && edited.contains(&kept.to_string()),
                "{before:?} {edited:?}"
            );
        }
        let reordered = ids(
            "## During\n\n- [ ] Page the DBA\n- [ ] Drain node\n\n## Verify\n\n- [ ] Check p95\n",
        );
        let mut a = before.clone();
        let mut b = reordered;
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn duplicates_are_numbered_and_real_collisions_fail() {
        assert_eq!(
            ids("## A\n\n- [ ] Check\n- [ ] Check\n"),
            vec!["a--check", "a--check-2"]
        );
        let r = steps_of("## A\n\n- [ ] Check\n- [ ] Check\n- [ ] Check 2\n");
        assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
        assert_eq!(r.diagnostics[0].rule, "duplicate-step-id");
        assert_eq!(r.diagnostics[0].line, 5);
    }

    #[test]
    fn step_markup_is_a_labelled_checkbox_with_an_anchor() {
        let r = steps_of(
            "## Before\n\n- [ ] Scale **now**\n\n  ```sh run\n  kubectl get pods\n  ```\n",
        );
        let id = "before--scale-now";
        assert!(
            r.html.contains(&format!(
                "<li class=\"sb-step\" id=\"{id}\" data-step=\"{id}\" data-group=\"before\">"
            )),
            "{}",
            r.html
        );
        assert!(r.html.contains(&format!("<input type=\"checkbox\" class=\"sb-step-box\" id=\"cb-{id}\" aria-labelledby=\"t-{id}\"><span class=\"sb-step-text\" id=\"t-{id}\">Scale <strong>now</strong></span>")), "{}", r.html);
        assert_eq!(r.steps[0].blocks.len(), 1);
        assert_eq!(r.steps[0].blocks[0].kind, BlockKind::Run);
        assert!(r.html.contains("data-run=\"run\""));
    }

    #[test]
    fn steps_in_loose_lists_have_the_same_markup_as_in_tight_ones() {
        let tight = steps_of("## A\n\n- [ ] One\n- [ ] Two\n").html;
        let loose = steps_of("## A\n\n- [ ] One\n\n- [ ] Two\n").html;
        let open = "<input type=\"checkbox\" class=\"sb-step-box\" id=\"cb-a--one\" aria-labelledby=\"t-a--one\"><span class=\"sb-step-text\" id=\"t-a--one\">One</span>";
        assert!(
            tight.contains(&format!("data-group=\"a\">{open}")),
            "{tight}"
        );
        assert!(
            loose.contains(&format!("data-group=\"a\">{open}")),
            "{loose}"
        );
        assert!(!loose.contains("<p>"), "{loose}");
    }

    #[test]
    fn nested_steps_know_their_parent() {
        let r = steps_of("## Do\n\n- [ ] Outer\n  - [ ] Inner\n");
        assert_eq!(r.steps[1].parent, Some(0));
        assert_eq!(r.steps[1].text, "Inner");
        assert_eq!(r.steps[0].text, "Outer");
    }

    #[test]
    fn long_step_texts_are_cut_at_a_word_or_character_boundary() {
        let long = ids("## A\n\n- [ ] Check that the replication lag on every replica stays under five seconds\n");
        assert_eq!(
            long,
            vec!["a--check-that-the-replication-lag-on-every-replica"]
        );
        let wide = ids(&format!("## A\n\n- [ ] {}\n", "é".repeat(40)));
        assert!(
            wide[0].len() <= 3 + MAX_SLUG && wide[0].starts_with("a--é"),
            "{wide:?}"
        );
    }

    #[test]
    fn info_strings_parse_kind_and_attributes() {
        let i = parse_info("sh verify expect=\"^ok $\" confirm=\"Really?\"");
        assert_eq!(i.lang, "sh");
        assert_eq!(i.kind, BlockKind::Verify);
        assert_eq!(i.expect.as_deref(), Some("^ok $"));
        assert_eq!(i.confirm.as_deref(), Some("Really?"));
        assert_eq!(parse_info("python").kind, BlockKind::Plain);
    }
}
