//! Front matter: split it off a page, parse TOML (`+++`) or YAML (`---`), validate it into
//! [`FrontMatter`], and report every problem at its line in the markdown file.
//!
//! Both formats are first read into a JSON value tree so that one validator serves both and
//! the error messages are the same whichever format a team migrated from.

use crate::dates::{parse_interval, Date};
use crate::diagnostics::{Diagnostic, LineIndex, Pos};
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    #[default]
    Playbook,
    CaseStudy,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Playbook => "playbook",
            Kind::CaseStudy => "case-study",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    pub name: String,
    pub description: String,
    pub default: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub metric: String,
    pub before: f64,
    pub after: f64,
    pub unit: String,
    pub lower_is_better: bool,
}

#[derive(Debug, Clone, Default)]
pub struct FrontMatter {
    pub title: Option<String>,
    pub description: Option<String>,
    pub kind: Kind,
    pub slug: Option<String>,
    pub tags: Vec<String>,
    pub owner: Option<String>,
    pub severity: Option<String>,
    pub date: Option<Date>,
    pub updated: Option<Date>,
    pub last_reviewed: Option<Date>,
    /// The interval as written and in days.
    pub review_every: Option<(String, i64)>,
    /// Date of the last successful drill (`scalebook run --drill --record`).
    pub last_drill: Option<Date>,
    pub draft: bool,
    pub weight: i64,
    pub aliases: Vec<String>,
    pub params: Vec<Param>,
    pub outcomes: Vec<Outcome>,
    pub extra: Map<String, Value>,
}

pub const KEYS: &[&str] = &[
    "title",
    "description",
    "kind",
    "slug",
    "tags",
    "owner",
    "severity",
    "date",
    "updated",
    "last_reviewed",
    "review_every",
    "last_drill",
    "draft",
    "weight",
    "aliases",
    "params",
    "outcomes",
    "extra",
];

pub const SEVERITIES: &[&str] = &["sev1", "sev2", "sev3", "sev4"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
}

/// Where the front matter and the body are in a file.
#[derive(Debug, Clone)]
pub struct Split<'a> {
    pub format: Option<Format>,
    /// The front matter text between the fences.
    pub matter: &'a str,
    /// Byte offset of `matter` in the file.
    pub matter_offset: usize,
    /// The markdown after the closing fence.
    pub body: &'a str,
    pub body_offset: usize,
}

/// Splits front matter off `text`. An opening fence without a closing one is an error.
pub fn split(text: &str) -> Result<Split<'_>, (&'static str, usize)> {
    let (fence, format) = if text.starts_with("+++") {
        ("+++", Format::Toml)
    } else if text.starts_with("---") {
        ("---", Format::Yaml)
    } else {
        return Ok(Split {
            format: None,
            matter: "",
            matter_offset: 0,
            body: text,
            body_offset: 0,
        });
    };
    let first_nl = match text.find('\n') {
        Some(i) if text[..i].trim_end() == fence => i + 1,
        // `---` followed by text is a thematic break or a table, not front matter.
        _ if format == Format::Yaml => {
            return Ok(Split {
                format: None,
                matter: "",
                matter_offset: 0,
                body: text,
                body_offset: 0,
            })
        }
        _ => return Err(("the opening `+++` must be alone on the first line", 0)),
    };
    let mut pos = first_nl;
    while pos <= text.len() {
        let end = text[pos..]
            .find('\n')
            .map(|i| pos + i)
            .unwrap_or(text.len());
        let line = text[pos..end].trim_end();
        if line == fence || (format == Format::Yaml && line == "...") {
            let body_offset = (end + 1).min(text.len());
            return Ok(Split {
                format: Some(format),
                matter: &text[first_nl..pos],
                matter_offset: first_nl,
                body: &text[body_offset..],
                body_offset,
            });
        }
        if end == text.len() {
            break;
        }
        pos = end + 1;
    }
    Err(match format {
        Format::Toml => ("front matter opened with `+++` is never closed", 0),
        Format::Yaml => ("front matter opened with `---` is never closed", 0),
    })
}

/// Parses and validates. `file_text` is the whole file (for positions), `rel` its
/// path for messages. Returns the front matter (best effort) and every problem found.
pub fn parse(rel: &Path, file_text: &str, split: &Split<'_>) -> (FrontMatter, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let index = LineIndex::new(file_text);
    let at = |offset: usize| index.pos(file_text, offset);
    let table = match split.format {
        None => return (FrontMatter::default(), diags),
        Some(Format::Toml) => match split.matter.parse::<toml::Table>() {
            Ok(t) => toml_to_json(toml::Value::Table(t)),
            Err(e) => {
                let off = e.span().map(|s| s.start).unwrap_or(0);
                diags.push(
                    Diagnostic::error(
                        "front-matter-syntax",
                        rel,
                        format!("invalid TOML front matter: {}", first_line(e.message())),
                    )
                    .at(at(split.matter_offset + off)),
                );
                return (FrontMatter::default(), diags);
            }
        },
        Some(Format::Yaml) => match serde_norway::from_str::<Value>(split.matter) {
            Ok(Value::Null) => Value::Object(Map::new()),
            Ok(v) => v,
            Err(e) => {
                let pos = e
                    .location()
                    .map(|l| Pos {
                        line: at(split.matter_offset).line + l.line() - 1,
                        col: l.column(),
                    })
                    .unwrap_or_else(|| at(split.matter_offset));
                diags.push(
                    Diagnostic::error(
                        "front-matter-syntax",
                        rel,
                        format!("invalid YAML front matter: {}", first_line(&e.to_string())),
                    )
                    .at(pos),
                );
                return (FrontMatter::default(), diags);
            }
        },
    };
    let Value::Object(map) = table else {
        diags.push(
            Diagnostic::error(
                "front-matter-syntax",
                rel,
                "front matter must be a table of `key = value` pairs",
            )
            .at(at(split.matter_offset)),
        );
        return (FrontMatter::default(), diags);
    };
    let key_pos =
        |key: &str| -> Pos { at(split.matter_offset + find_key(split.matter, key).unwrap_or(0)) };
    let mut v = Validator {
        rel,
        diags: &mut diags,
        key_pos: &key_pos,
    };
    let fm = v.front_matter(map);
    (fm, diags)
}

struct Validator<'a, F: Fn(&str) -> Pos> {
    rel: &'a Path,
    diags: &'a mut Vec<Diagnostic>,
    key_pos: &'a F,
}

impl<F: Fn(&str) -> Pos> Validator<'_, F> {
    fn err(&mut self, key: &str, msg: String) {
        let pos = (self.key_pos)(key);
        self.diags
            .push(Diagnostic::error("front-matter", self.rel, msg).at(pos));
    }

    fn string(&mut self, map: &Map<String, Value>, key: &str) -> Option<String> {
        match map.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.err(
                    key,
                    format!("`{key}` must be a string, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn strings(&mut self, map: &Map<String, Value>, key: &str) -> Vec<String> {
        match map.get(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for it in items {
                    match it {
                        Value::String(s) => out.push(s.clone()),
                        other => self.err(
                            key,
                            format!(
                                "`{key}` must be a list of strings, found a {}",
                                type_name(other)
                            ),
                        ),
                    }
                }
                out
            }
            Some(other) => {
                self.err(
                    key,
                    format!(
                        "`{key}` must be a list of strings, found {}",
                        type_name(other)
                    ),
                );
                Vec::new()
            }
        }
    }

    fn date(&mut self, map: &Map<String, Value>, key: &str) -> Option<Date> {
        let s = self.string(map, key)?;
        let d = Date::parse(&s);
        if d.is_none() {
            self.err(
                key,
                format!("`{key}` = `{s}` is not a valid date (expected YYYY-MM-DD)"),
            );
        }
        d
    }

    fn front_matter(&mut self, map: Map<String, Value>) -> FrontMatter {
        for key in map.keys() {
            if !KEYS.contains(&key.as_str()) {
                let pos = (self.key_pos)(key);
                let mut d = Diagnostic::error(
                    "front-matter-unknown-key",
                    self.rel,
                    format!("unknown front matter key `{key}`"),
                )
                .at(pos);
                d = match did_you_mean(key, KEYS) {
                    Some(s) => d.with_hint(format!(
                        "did you mean `{s}`? Free-form fields go under `[extra]`"
                    )),
                    None => d.with_hint("free-form fields go under `[extra]`"),
                };
                self.diags.push(d);
            }
        }
        let mut fm = FrontMatter {
            title: self.string(&map, "title"),
            description: self.string(&map, "description"),
            slug: self.string(&map, "slug"),
            tags: self.strings(&map, "tags"),
            owner: self.string(&map, "owner"),
            date: self.date(&map, "date"),
            updated: self.date(&map, "updated"),
            last_reviewed: self.date(&map, "last_reviewed"),
            last_drill: self.date(&map, "last_drill"),
            aliases: self.strings(&map, "aliases"),
            ..FrontMatter::default()
        };
        if let Some(k) = self.string(&map, "kind") {
            fm.kind = match k.as_str() {
                "playbook" => Kind::Playbook,
                "case-study" | "case_study" | "casestudy" => Kind::CaseStudy,
                _ => {
                    self.err(
                        "kind",
                        format!("`kind` = `{k}` is not one of `playbook`, `case-study`"),
                    );
                    Kind::Playbook
                }
            };
        }
        if let Some(s) = self.string(&map, "severity") {
            let norm = s.to_ascii_lowercase();
            if SEVERITIES.contains(&norm.as_str()) {
                fm.severity = Some(norm);
            } else {
                self.err(
                    "severity",
                    format!("`severity` = `{s}` is not one of sev1, sev2, sev3, sev4"),
                );
            }
        }
        if let Some(s) = self.string(&map, "review_every") {
            match parse_interval(&s) {
                Some(days) => fm.review_every = Some((s, days)),
                None => self.err(
                    "review_every",
                    format!(
                        "`review_every` = `{s}` is not an interval like `90d`, `12w`, `6m` or `1y`"
                    ),
                ),
            }
        }
        match map.get("draft") {
            None => {}
            Some(Value::Bool(b)) => fm.draft = *b,
            Some(other) => self.err(
                "draft",
                format!("`draft` must be true or false, found {}", type_name(other)),
            ),
        }
        match map.get("weight") {
            None => {}
            Some(Value::Number(n)) if n.is_i64() => fm.weight = n.as_i64().unwrap_or(0),
            Some(other) => self.err(
                "weight",
                format!(
                    "`weight` must be a whole number, found {}",
                    type_name(other)
                ),
            ),
        }
        match map.get("extra") {
            None => {}
            Some(Value::Object(m)) => fm.extra = m.clone(),
            Some(other) => self.err(
                "extra",
                format!("`extra` must be a table, found {}", type_name(other)),
            ),
        }
        fm.params = self.params(&map);
        fm.outcomes = self.outcomes(&map);
        fm
    }

    fn table_list<'m>(
        &mut self,
        map: &'m Map<String, Value>,
        key: &str,
    ) -> Vec<&'m Map<String, Value>> {
        match map.get(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|it| match it {
                    Value::Object(m) => Some(m),
                    other => {
                        self.err(
                            key,
                            format!(
                                "each `[[{key}]]` entry must be a table, found {}",
                                type_name(other)
                            ),
                        );
                        None
                    }
                })
                .collect(),
            Some(other) => {
                self.err(
                    key,
                    format!(
                        "`{key}` must be a list of tables (`[[{key}]]`), found {}",
                        type_name(other)
                    ),
                );
                Vec::new()
            }
        }
    }

    fn params(&mut self, map: &Map<String, Value>) -> Vec<Param> {
        let mut out: Vec<Param> = Vec::new();
        for t in self.table_list(map, "params") {
            for k in t.keys() {
                if !["name", "description", "default"].contains(&k.as_str()) {
                    self.err(k, format!("unknown key `{k}` in `[[params]]` (expected name, description, default)"));
                }
            }
            let name = self.string(t, "name").unwrap_or_default();
            if !is_param_name(&name) {
                self.err("name", format!("parameter name `{name}` must be letters, digits and `_`, not starting with a digit"));
                continue;
            }
            if out.iter().any(|p| p.name == name) {
                self.err("name", format!("parameter `{name}` is declared twice"));
                continue;
            }
            let default = match t.get("default") {
                None => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(other) => {
                    self.err(
                        "default",
                        format!(
                            "`default` of `{name}` must be a string, found {}",
                            type_name(other)
                        ),
                    );
                    String::new()
                }
            };
            out.push(Param {
                description: self.string(t, "description").unwrap_or_default(),
                name,
                default,
            });
        }
        out
    }

    fn outcomes(&mut self, map: &Map<String, Value>) -> Vec<Outcome> {
        let mut out = Vec::new();
        for t in self.table_list(map, "outcomes") {
            for k in t.keys() {
                if !["metric", "before", "after", "unit", "lower_is_better"].contains(&k.as_str()) {
                    self.err(k, format!("unknown key `{k}` in `[[outcomes]]` (expected metric, before, after, unit, lower_is_better)"));
                }
            }
            let num = |v: &mut Self, k: &str| -> Option<f64> {
                match t.get(k) {
                    Some(Value::Number(n)) => n.as_f64(),
                    Some(other) => {
                        v.err(
                            k,
                            format!(
                                "`{k}` in `[[outcomes]]` must be a number, found {}",
                                type_name(other)
                            ),
                        );
                        None
                    }
                    None => {
                        v.err("outcomes", format!("`[[outcomes]]` entry is missing `{k}`"));
                        None
                    }
                }
            };
            let (before, after) = (num(self, "before"), num(self, "after"));
            let metric = self.string(t, "metric");
            if metric.is_none() {
                self.err(
                    "outcomes",
                    "`[[outcomes]]` entry is missing `metric`".into(),
                );
            }
            let lower_is_better = match t.get("lower_is_better") {
                None => true,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    self.err(
                        "lower_is_better",
                        format!(
                            "`lower_is_better` must be true or false, found {}",
                            type_name(other)
                        ),
                    );
                    true
                }
            };
            if let (Some(metric), Some(before), Some(after)) = (metric, before, after) {
                out.push(Outcome {
                    metric,
                    before,
                    after,
                    unit: self.string(t, "unit").unwrap_or_default(),
                    lower_is_better,
                });
            }
        }
        out
    }
}

pub fn is_param_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

fn first_line(s: &str) -> &str {
    s.trim().lines().next().unwrap_or("")
}

/// Byte offset of the line that sets `key` (TOML `key =` or YAML `key:`), if any.
fn find_key(matter: &str, key: &str) -> Option<usize> {
    let mut off = 0;
    for line in matter.split_inclusive('\n') {
        let t = line.trim_start();
        let t2 = t.trim_start_matches('-').trim_start();
        for cand in [t, t2] {
            let cand = cand.trim_start_matches('"');
            if let Some(rest) = cand.strip_prefix(key) {
                let rest = rest.trim_start_matches('"').trim_start();
                if rest.starts_with('=') || rest.starts_with(':') {
                    return Some(off + (line.len() - t.len()));
                }
            }
        }
        let header = t.trim_start_matches('[').trim_end().trim_end_matches(']');
        if t.starts_with('[') && header == key {
            return Some(off + (line.len() - t.len()));
        }
        off += line.len();
    }
    None
}

/// The closest known word within two edits, for "did you mean" hints.
pub fn did_you_mean<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// TOML dates become strings: the validator parses dates itself for both formats.
fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> (FrontMatter, Vec<Diagnostic>) {
        let s = split(text).unwrap();
        parse(Path::new("a.md"), text, &s)
    }

    #[test]
    fn toml_and_yaml_give_the_same_front_matter() {
        let (t, d1) = parse_str(
            "+++\ntitle = \"A\"\ntags = [\"x\"]\ndate = 2025-01-02\nweight = 3\n+++\nbody",
        );
        let (y, d2) = parse_str("---\ntitle: A\ntags: [x]\ndate: 2025-01-02\nweight: 3\n---\nbody");
        assert!(d1.is_empty() && d2.is_empty(), "{d1:?} {d2:?}");
        assert_eq!(t.title, y.title);
        assert_eq!(t.tags, y.tags);
        assert_eq!(t.date, y.date);
        assert_eq!(t.weight, 3);
        assert_eq!(y.weight, 3);
    }

    #[test]
    fn unknown_key_points_at_its_line_with_a_hint() {
        let (_, d) = parse_str("+++\ntitle = \"A\"\nownr = \"sre\"\n+++\n");
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].line, d[0].col), (3, 1));
        assert_eq!(d[0].rule, "front-matter-unknown-key");
        assert_eq!(
            d[0].hint.as_deref(),
            Some("did you mean `owner`? Free-form fields go under `[extra]`")
        );
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let (_, d) =
            parse_str("+++\nseverity = \"high\"\ndate = \"last week\"\nweight = \"x\"\n+++\n");
        let mut lines: Vec<usize> = d.iter().map(|d| d.line).collect();
        lines.sort();
        assert_eq!(lines, vec![2, 3, 4]);
    }

    #[test]
    fn toml_syntax_error_points_into_the_file_not_the_snippet() {
        let (_, d) = parse_str("+++\ntitle = \"A\"\ntags = [\n+++\n");
        assert_eq!(d.len(), 1);
        assert!(d[0].line >= 3, "{:?}", d[0]);
        assert_eq!(d[0].rule, "front-matter-syntax");
    }

    #[test]
    fn unclosed_front_matter_is_an_error_but_a_leading_rule_is_not() {
        assert!(split("+++\ntitle = 1\n").is_err());
        assert_eq!(
            split("---\ntitle: a\n").unwrap_err().0,
            "front matter opened with `---` is never closed"
        );
        assert!(split("--- not front matter\n").unwrap().format.is_none());
    }

    #[test]
    fn params_and_outcomes_are_typed() {
        let (fm, d) = parse_str(
            "+++\n[[params]]\nname = \"SERVICE\"\ndefault = \"checkout\"\n[[outcomes]]\nmetric = \"p95\"\nbefore = 3.0\nafter = 1\nunit = \"s\"\n+++\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(fm.params[0].name, "SERVICE");
        assert_eq!(fm.outcomes[0].after, 1.0);
        assert!(fm.outcomes[0].lower_is_better);
    }
}
