//! The run file: one run of a playbook checklist, as JSON (`scalebook-run/1`).
//!
//! Why this module exists: a run is started in the browser (theme/checklist.js) or in the
//! terminal runner, and handed between them and between people as a JSON file. Both sides must
//! read and write the same format and produce the same Markdown timeline for a postmortem. The
//! format is defined in docs/run-format.md; `tests/fixtures/runs/` holds sample runs with their
//! expected Markdown, checked here and by the node tests of the browser side.
//!
//! Invariants: timestamps are ISO 8601 UTC strings (`2024-03-15T10:15:00Z`), compared as
//! strings; the Markdown is a pure function of the run; saving never leaves a half-written file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// The value of the `schema` field this module reads and writes.
pub const SCHEMA: &str = "scalebook-run/1";

/// Command output kept in a [`CommandResult`], in bytes. Longer output keeps its first and last
/// [`OUTPUT_KEEP`] bytes around a line naming what was left out: the end is where a failing
/// command says why, the start is what it was doing.
pub const OUTPUT_LIMIT: usize = 16 * 1024;

/// Bytes kept from each end of longer output; output up to twice this is kept whole. The rest of
/// [`OUTPUT_LIMIT`] is room for the omission line and a status note (`[timed out after 3.0s]`).
pub const OUTPUT_KEEP: usize = 8 * 1024 - 128;

/// One run of one playbook. Field order is the serialised order (the browser writes the same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub schema: String,
    pub id: String,
    /// The playbook's page path, e.g. `traffic-surges/absorb-a-spike/`.
    pub page: String,
    #[serde(default)]
    pub title: String,
    /// Optional run name such as an incident id (`INC-4211`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_by: Option<String>,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Recorded steps, in the order they were first recorded.
    #[serde(default)]
    pub steps: Vec<StepRecord>,
}

/// What happened to one step in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub id: String,
    /// The step's text when it was recorded, with `${PARAM}` placeholders as written.
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub state: StepState,
    /// When the step entered its state.
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<CommandResult>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    Done,
    Skipped,
    Failed,
    /// Not done yet but carries a note.
    Open,
}

/// A command the terminal runner ran for a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResult {
    pub kind: CommandKind,
    pub command: String,
    /// `None` when the command was killed by a signal or could not start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    /// Combined output, at most [`OUTPUT_LIMIT`] bytes (see [`OutputCapture`]).
    #[serde(default)]
    pub output: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub output_truncated: bool,
    pub passed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandKind {
    Run,
    Verify,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Run {
    /// A new, empty run that starts now.
    pub fn new(page: &str, title: &str, name: Option<String>, operator: Option<String>) -> Run {
        let started_at = now_utc();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let suffix = (nanos ^ std::process::id().rotate_left(16)) & 0xff_ffff;
        Run {
            schema: SCHEMA.to_string(),
            id: format!("run-{}-{suffix:06x}", started_at.replace(['-', ':'], "")),
            page: page.to_string(),
            title: title.to_string(),
            name: name.filter(|s| !s.is_empty()),
            operator: operator.filter(|s| !s.is_empty()),
            started_at,
            finished_at: None,
            finished_by: None,
            params: BTreeMap::new(),
            steps: Vec::new(),
        }
    }

    /// Check what serde cannot: the schema, time formats, parameter names, unique step ids.
    pub fn validate(&self) -> Result<()> {
        if self.schema != SCHEMA {
            bail!(
                "unsupported run schema `{}` (expected `{SCHEMA}`)",
                self.schema
            );
        }
        if self.id.is_empty() {
            bail!("`id` is empty");
        }
        if self.page.is_empty() {
            bail!("`page` is empty");
        }
        check_time("started_at", &self.started_at)?;
        if let Some(t) = &self.finished_at {
            check_time("finished_at", t)?;
        }
        for name in self.params.keys() {
            if !is_param_name(name) {
                bail!("param name `{name}` is not a valid name");
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, step) in self.steps.iter().enumerate() {
            if step.id.is_empty() {
                bail!("step {}: `id` is empty", i + 1);
            }
            if !seen.insert(step.id.as_str()) {
                bail!("step {}: id `{}` appears twice", i + 1, step.id);
            }
            check_time(&format!("step {}: at", i + 1), &step.at)
                .with_context(|| format!("in step `{}`", step.id))?;
        }
        Ok(())
    }

    /// The recorded step with this id.
    pub fn step_mut(&mut self, id: &str) -> Option<&mut StepRecord> {
        self.steps.iter_mut().find(|s| s.id == id)
    }
}

/// Parse and validate run JSON.
pub fn parse(text: &str) -> Result<Run> {
    let run: Run = serde_json::from_str(text)?;
    run.validate()?;
    Ok(run)
}

/// The run as JSON text: two-space indent and a trailing newline, as the browser writes it.
pub fn to_json(run: &Run) -> String {
    let mut s = serde_json::to_string_pretty(run).expect("a run always serialises");
    s.push('\n');
    s
}

/// Read and validate a run file.
pub fn load(path: &Path) -> Result<Run> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read run file", path.display()))?;
    parse(&text).with_context(|| format!("{}: not a valid run file", path.display()))
}

/// Write the run next to `path` in a temporary file, flush it to disk, then rename it over
/// `path`, so a reader sees either the old run or the new one, never half of one.
pub fn save_atomic(run: &Run, path: &Path) -> Result<()> {
    write_atomic(path, &to_json(run))
}

/// Writes `text` to `path` through a temporary file beside it, flushed, then renamed: for the
/// run file, the Markdown timeline and other files the terminal runner keeps current.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .with_context(|| format!("{}: not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        anyhow::Error::new(e).context(format!("{}: cannot write", path.display()))
    })
}

/// Seconds since 1970 of an ISO 8601 UTC time (`2024-03-15T10:15:00Z`, fraction ignored);
/// `None` when `s` is not in that form. The inverse of [`format_unix`].
pub fn parse_unix(s: &str) -> Option<u64> {
    check_time("time", s).ok()?;
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// The postmortem timeline of a run. Byte-identical to `toMarkdown` in theme/checklist.js.
pub fn to_markdown(run: &Run) -> String {
    let mut out = String::new();
    match opt(&run.name) {
        "" => writeln!(out, "# Run: {}", inline(&run.title)),
        name => writeln!(out, "# Run {}: {}", inline(name), inline(&run.title)),
    }
    .unwrap();
    out.push('\n');
    let mut meta = vec![
        format!("Page {}", inline(&run.page)),
        format!("Started {} UTC", fmt_time(&run.started_at)),
    ];
    meta.push(match &run.finished_at {
        Some(t) if !t.is_empty() => format!("Finished {} UTC", fmt_time(t)),
        _ => "In progress".to_string(),
    });
    if !opt(&run.operator).is_empty() {
        meta.push(format!("Operator {}", inline(opt(&run.operator))));
    }
    if !run.params.is_empty() {
        let list: Vec<String> = run
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", inline(v)))
            .collect();
        meta.push(format!("Params {}", list.join(", ")));
    }
    out.push_str(&meta.join(" · "));
    out.push_str(
        "\n\n| Time (UTC) | Step | Who | Note | Skipped |\n| --- | --- | --- | --- | --- |\n",
    );

    struct Row {
        at: String,
        step: String,
        who: String,
        note: String,
        skipped: String,
    }
    let mut rows = vec![Row {
        at: run.started_at.clone(),
        step: "Run started".into(),
        who: opt(&run.operator).into(),
        note: String::new(),
        skipped: String::new(),
    }];
    for s in &run.steps {
        let note = opt(&s.note);
        if s.state == StepState::Open && note.is_empty() {
            continue;
        }
        let prefix = match s.state {
            StepState::Failed => "failed",
            StepState::Open => "open",
            _ => "",
        };
        let skipped = match (s.state, opt(&s.skip_reason)) {
            (StepState::Skipped, "") => "yes".to_string(),
            (StepState::Skipped, reason) => format!("yes: {reason}"),
            _ => String::new(),
        };
        rows.push(Row {
            at: s.at.clone(),
            step: substitute(&s.text, &run.params),
            who: opt(&s.by).into(),
            note: match (prefix, note) {
                ("", n) => n.to_string(),
                (p, "") => p.to_string(),
                (p, n) => format!("{p}: {n}"),
            },
            skipped,
        });
    }
    if let Some(t) = run.finished_at.as_ref().filter(|t| !t.is_empty()) {
        let who = if opt(&run.finished_by).is_empty() {
            opt(&run.operator)
        } else {
            opt(&run.finished_by)
        };
        rows.push(Row {
            at: t.clone(),
            step: "Run finished".into(),
            who: who.into(),
            note: String::new(),
            skipped: String::new(),
        });
    }
    rows.sort_by(|a, b| a.at.cmp(&b.at)); // stable, like Array.prototype.sort
    for r in rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            fmt_time(&r.at),
            cell(&r.step),
            cell(&r.who),
            cell(&r.note),
            cell(&r.skipped)
        )
        .unwrap();
    }
    out
}

/// Replace `${NAME}` by `params[NAME]` when that value is set and non-empty.
pub fn substitute(text: &str, params: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if is_param_name(&after[..end]) => {
                match params.get(&after[..end]).filter(|v| !v.is_empty()) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 2 + end + 1]),
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Command output as it streams in: everything up to twice [`OUTPUT_KEEP`] bytes, then the first
/// and the latest [`OUTPUT_KEEP`] bytes. Memory stays bounded however much a command prints.
#[derive(Debug, Default)]
pub struct OutputCapture {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    /// Bytes dropped from the middle.
    omitted: u64,
}

impl OutputCapture {
    pub fn push(&mut self, mut chunk: &[u8]) {
        if self.omitted == 0 && self.tail.is_empty() {
            let room = (2 * OUTPUT_KEEP).saturating_sub(self.head.len());
            let n = chunk.len().min(room);
            self.head.extend_from_slice(&chunk[..n]);
            chunk = &chunk[n..];
            if chunk.is_empty() {
                return;
            }
            // Over the limit: what the head held past OUTPUT_KEEP starts the tail.
            self.tail.extend(self.head.drain(OUTPUT_KEEP..));
        }
        self.tail.extend(chunk);
        let excess = self.tail.len().saturating_sub(OUTPUT_KEEP);
        self.tail.drain(..excess);
        self.omitted += excess as u64;
    }

    /// True once output has been dropped.
    pub fn truncated(&self) -> bool {
        self.omitted > 0
    }

    /// The kept text (invalid UTF-8 replaced), with a line saying how much was left out between
    /// the ends; true when something was.
    pub fn finish(self) -> (String, bool) {
        if self.omitted == 0 {
            let mut all = self.head;
            all.extend(self.tail);
            return (String::from_utf8_lossy(&all).into_owned(), false);
        }
        let tail: Vec<u8> = self.tail.into_iter().collect();
        // Cut both ends at character boundaries so no half character turns into U+FFFD.
        let head = &self.head[..utf8_prefix(&self.head)];
        let skip = tail.len() - utf8_suffix(&tail);
        let omitted = self.omitted + (self.head.len() - head.len()) as u64 + skip as u64;
        let mut text = String::from_utf8_lossy(head).into_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("[... {omitted} bytes of output omitted ...]\n"));
        text.push_str(&String::from_utf8_lossy(&tail[skip..]));
        (text, true)
    }
}

/// Length of `b` without a trailing incomplete UTF-8 sequence.
fn utf8_prefix(b: &[u8]) -> usize {
    let start = b.len().saturating_sub(3);
    for i in (start..b.len()).rev() {
        let c = b[i];
        if c & 0xC0 != 0x80 {
            let need = match c {
                0x00..=0x7F => 1,
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            return if b.len() - i >= need { b.len() } else { i };
        }
    }
    b.len()
}

/// Length of `b` without a leading run of UTF-8 continuation bytes.
fn utf8_suffix(b: &[u8]) -> usize {
    let skip = b.iter().take(3).take_while(|&&c| c & 0xC0 == 0x80).count();
    b.len() - skip
}

/// The current time as ISO 8601 UTC with whole seconds.
pub fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_unix(secs)
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar).
pub fn format_unix(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

fn is_param_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `YYYY-MM-DDTHH:MM:SS` then optional `.fraction`, then `Z`.
fn check_time(field: &str, s: &str) -> Result<()> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    let ok = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[b.len() - 1] == b'Z'
        && (b.len() == 20
            || (b[19] == b'.' && b.len() > 21 && b.len() <= 30 && digits(20..b.len() - 1)));
    if !ok {
        bail!("`{field}` is `{s}`, not an ISO 8601 UTC time like `2024-03-15T10:15:00Z`");
    }
    Ok(())
}

/// `2024-03-15T10:15:00Z` -> `2024-03-15 10:15:00`; anything else unchanged.
fn fmt_time(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 20 && b[..19].is_ascii() && b[10] == b'T' {
        format!("{} {}", &s[..10], &s[11..19])
    } else {
        s.to_string()
    }
}

fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// Text for the heading or the meta line: line breaks become spaces.
fn inline(s: &str) -> String {
    normalize_newlines(s).replace('\n', " ")
}

/// Text for a table cell: `|` escaped, line breaks become `<br>`.
fn cell(s: &str) -> String {
    normalize_newlines(s)
        .replace('|', "\\|")
        .replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> Vec<(PathBuf, PathBuf)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runs");
        let mut pairs: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                let md = p.with_extension("md");
                (p, md)
            })
            .collect();
        pairs.sort();
        assert!(
            pairs.len() >= 2,
            "expected run fixtures in {}",
            dir.display()
        );
        pairs
    }

    #[test]
    fn markdown_of_each_fixture_matches_the_expected_file() {
        for (json, md) in fixtures() {
            let run = load(&json).unwrap();
            let expected =
                fs::read_to_string(&md).unwrap_or_else(|e| panic!("{}: {e}", md.display()));
            assert_eq!(to_markdown(&run), expected, "{}", json.display());
        }
    }

    #[test]
    fn fixtures_round_trip_to_the_same_json_bytes() {
        for (json, _) in fixtures() {
            let text = fs::read_to_string(&json).unwrap();
            assert_eq!(to_json(&parse(&text).unwrap()), text, "{}", json.display());
        }
    }

    #[test]
    fn save_atomic_then_load_gives_the_same_run_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("runfile-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.json");
        let mut run = Run::new("a/b/", "A title", Some("INC-1".into()), Some("ann".into()));
        run.params.insert("SERVICE".into(), "payments".into());
        save_atomic(&run, &path).unwrap();
        run.steps.push(StepRecord {
            id: "before--x".into(),
            text: "Do ${SERVICE}".into(),
            group: None,
            state: StepState::Done,
            at: now_utc(),
            by: None,
            note: None,
            skip_reason: None,
            results: vec![],
        });
        save_atomic(&run, &path).unwrap();
        assert_eq!(load(&path).unwrap(), run);
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("run.json")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn load_names_the_file_and_the_problem() {
        let dir = std::env::temp_dir().join(format!("runfile-bad-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.json");
        fs::write(&path, r#"{"schema":"scalebook-run/9","id":"x","page":"p/","started_at":"2024-01-01T00:00:00Z"}"#).unwrap();
        let err = format!("{:#}", load(&path).unwrap_err());
        assert!(err.contains("bad.json: not a valid run file"), "{err}");
        assert!(
            err.contains("unsupported run schema `scalebook-run/9`"),
            "{err}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_times_and_duplicate_steps_are_rejected() {
        let base = r#"{"schema":"scalebook-run/1","id":"r","page":"p/","started_at":"#;
        assert!(parse(&format!(r#"{base}"2024-01-01 00:00"}}"#)).is_err());
        assert!(parse(&format!(r#"{base}"2024-01-01T00:00:00.123Z"}}"#)).is_ok());
        let dup = format!(
            r#"{base}"2024-01-01T00:00:00Z","steps":[{{"id":"a","state":"done","at":"2024-01-01T00:00:01Z"}},{{"id":"a","state":"done","at":"2024-01-01T00:00:02Z"}}]}}"#
        );
        assert!(format!("{:#}", parse(&dup).unwrap_err()).contains("appears twice"));
    }

    #[test]
    fn substitute_replaces_only_known_non_empty_params() {
        let mut p = BTreeMap::new();
        p.insert("A".to_string(), "x".to_string());
        p.insert("E".to_string(), String::new());
        assert_eq!(
            substitute("${A}-${B}-${E}-${-}-${A", &p),
            "x-${B}-${E}-${-}-${A"
        );
        assert_eq!(substitute("$${A}}", &p), "$x}");
    }

    #[test]
    fn cells_escape_pipes_and_line_breaks() {
        assert_eq!(cell("a|b\r\nc\rd\ne"), "a\\|b<br>c<br>d<br>e");
        assert_eq!(inline("a\nb"), "a b");
    }

    #[test]
    fn format_unix_gives_iso_utc() {
        assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix(1_710_497_700), "2024-03-15T10:15:00Z");
        assert_eq!(format_unix(951_782_400), "2000-02-29T00:00:00Z");
        check_time("now", &now_utc()).unwrap();
    }

    #[test]
    fn parse_unix_inverts_format_unix() {
        for secs in [0, 951_782_400, 1_710_497_700, 4_102_444_799] {
            assert_eq!(parse_unix(&format_unix(secs)), Some(secs));
        }
        assert_eq!(parse_unix("2024-03-15T10:15:00.250Z"), Some(1_710_497_700));
        assert_eq!(parse_unix("yesterday"), None);
    }

    #[test]
    fn short_output_is_kept_whole() {
        let mut c = OutputCapture::default();
        c.push(b"one\n");
        c.push(&[b'x'; 2 * OUTPUT_KEEP - 4]);
        assert!(!c.truncated());
        let (text, cut) = c.finish();
        assert!(!cut);
        assert_eq!(text.len(), 2 * OUTPUT_KEEP);
        assert!(text.starts_with("one\nxx"));
    }

    #[test]
    fn long_output_keeps_both_ends_and_says_what_was_left_out() {
        let lines: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        let mut c = OutputCapture::default();
        // Chunks of awkward sizes, as a pipe delivers them.
        for chunk in lines.as_bytes().chunks(777) {
            c.push(chunk);
        }
        assert!(c.truncated());
        let (text, cut) = c.finish();
        assert!(cut);
        assert!(text.len() <= OUTPUT_LIMIT, "{}", text.len());
        assert!(text.starts_with("line 0\nline 1\n"));
        assert!(text.ends_with("line 4998\nline 4999\n"));
        let marker = text
            .lines()
            .find(|l| l.starts_with("[... "))
            .expect("an omission line");
        let omitted: usize = marker[5..].split(' ').next().unwrap().parse().unwrap();
        let kept = text.len() - marker.len() - 1;
        // Only the inserted newline before the marker is not from the output.
        assert!(kept + omitted == lines.len() || kept + omitted == lines.len() + 1);
    }

    #[test]
    fn cut_ends_fall_on_character_boundaries() {
        let mut c = OutputCapture::default();
        c.push("é".repeat(OUTPUT_LIMIT).as_bytes());
        c.push(b"a");
        c.push("€".repeat(OUTPUT_LIMIT).as_bytes());
        let (text, cut) = c.finish();
        assert!(cut && text.len() <= OUTPUT_LIMIT);
        assert!(!text.contains('\u{FFFD}'), "no replacement characters");
        assert!(text.starts_with('é') && text.ends_with('€'));
    }
}
