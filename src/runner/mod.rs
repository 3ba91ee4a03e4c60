//! The terminal runner behind `scalebook run`: walk a playbook's checklist step by step, run
//! its ` ```sh run ` and ` ```sh verify ` blocks on confirmation, and keep the run in the same
//! JSON file the browser exports (see docs/run.md and docs/run-format.md).
//!
//! Why this module exists: during an incident the checklist is needed where the shell is, and
//! what was done must end up in the same record as a run ticked in the browser.
//!
//! The flow: [`playbook::load`] finds and renders the page → [`prepare`] opens or creates the
//! run, fills in parameters and saves it → [`interactive::run`], [`drill::run`] or
//! [`dry_run`] drive a [`session::Session`] (the pure state machine) and execute blocks with
//! [`exec`]. Invariants: nothing from a playbook is executed without a confirmation or `--yes`,
//! `--dry-run` executes and writes nothing, plain blocks are never executed, and the run file
//! is written (atomically) after every change.

pub mod drill;
pub mod exec;
pub mod interactive;
pub mod playbook;
pub mod record;
pub mod session;
pub mod ui;

use crate::content::front_matter::{did_you_mean, is_param_name};
use crate::markdown::params;
use crate::markdown::BlockKind;
use crate::runfile::{self, Run};
use anyhow::{bail, Result};
use exec::{Interrupts, NoInterrupts, Signals};
use playbook::Playbook;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use ui::{Term, Tone};

/// Everything `scalebook run` was asked to do, resolved from the command line.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The site folder.
    pub root: PathBuf,
    /// A file path, or `topic/slug` relative to the content folder.
    pub playbook: String,
    /// `--param NAME=VALUE`, in order.
    pub params: Vec<(String, String)>,
    pub name: Option<String>,
    pub operator: Option<String>,
    pub resume: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub log: Option<PathBuf>,
    /// Where commands run.
    pub dir: PathBuf,
    /// Run commands without asking.
    pub yes: bool,
    pub mode: Mode,
    /// Per step; `None` waits for ever (Ctrl-C still interrupts).
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Interactive,
    DryRun,
    Drill { record: bool },
}

/// How a run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Left with `q` or at the end of input; the run is saved and can be resumed.
    Quit,
    Finished,
    DryRun,
    DrillPassed,
    DrillFailed,
    /// A drill that was not confirmed: nothing ran.
    Cancelled,
}

/// What the modes share: the options, the playbook, the terminal, the run file.
pub struct Cx<'a, 't> {
    pub opts: &'a RunOptions,
    pub book: &'a Playbook,
    pub term: &'a mut Term<'t>,
    pub signals: Option<&'a Signals>,
    /// Where the run is saved; `None` in a dry run.
    pub path: Option<PathBuf>,
}

/// The signal handling to tell about running commands, or none.
pub fn interrupts_of(signals: Option<&Signals>) -> &dyn Interrupts {
    match signals {
        Some(s) => s,
        None => &NoInterrupts,
    }
}

impl Cx<'_, '_> {
    /// Asks for a line; Ctrl-C meanwhile ends the runner (the run is already saved).
    pub fn ask(&mut self, prompt: &str) -> Option<String> {
        if let Some(s) = self.signals {
            s.at_prompt(true);
        }
        let a = self.term.ask(prompt);
        if let Some(s) = self.signals {
            s.at_prompt(false);
        }
        a
    }

    pub fn confirm(&mut self, question: &str) -> bool {
        self.ask(&format!("{question} [y/N] "))
            .is_some_and(|a| ui::is_yes(&a))
    }

    /// Writes the run file (and the Markdown log) atomically; a signal waits for it.
    pub fn save(&self, run: &Run) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let _guard = self.signals.map(|s| s.saving());
        runfile::save_atomic(run, path)?;
        if let Some(log) = &self.opts.log {
            runfile::write_atomic(log, &runfile::to_markdown(run))?;
        }
        Ok(())
    }

    /// The run file's path as the user should see it.
    pub fn path_label(&self) -> String {
        self.path
            .as_deref()
            .map(crate::diagnostics::display_path)
            .unwrap_or_default()
    }
}

/// Runs `scalebook run` with input and output on `term`.
pub fn run(opts: &RunOptions, term: &mut Term<'_>, signals: Option<&Signals>) -> Result<Ending> {
    let book = playbook::load(&opts.root, &opts.playbook)?;
    let mut cx = Cx {
        opts,
        book: &book,
        term,
        signals,
        path: None,
    };
    if opts.mode == Mode::DryRun {
        let mut run = match &opts.resume {
            Some(p) => open_resumed(p, &book)?,
            None => Run::new(&book.page, &book.title, opts.name.clone(), None),
        };
        apply_params(&mut cx, &mut run, false)?;
        dry_run(&mut cx, &run);
        return Ok(Ending::DryRun);
    }
    let run = prepare(&mut cx)?;
    match opts.mode {
        Mode::Drill { record } => drill::run(&mut cx, run, record),
        _ => interactive::run(&mut cx, run),
    }
}

/// Opens the run to continue (`--resume`) or starts a new one, fills in its parameters and
/// saves it, so the file exists before the first step.
fn prepare(cx: &mut Cx<'_, '_>) -> Result<Run> {
    let opts = cx.opts;
    let book = cx.book;
    let mut run = match &opts.resume {
        Some(p) => {
            let mut run = open_resumed(p, book)?;
            if let Some(n) = opts.name.as_deref().filter(|n| !n.is_empty()) {
                match run.name.as_deref() {
                    None => run.name = Some(n.to_string()),
                    Some(old) if old == n => {}
                    Some(old) => bail!(
                        "{}: the run is named `{old}`, not `{n}` (leave out `--name` to continue it)",
                        p.display()
                    ),
                }
            }
            run
        }
        None => Run::new(
            &book.page,
            &book.title,
            opts.name.clone(),
            opts.operator.clone(),
        ),
    };
    let path = match (&opts.out, &opts.resume) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => {
            let stem = run.name.as_deref().unwrap_or(&run.id);
            PathBuf::from("runs").join(format!("{}.json", file_stem(stem)))
        }
    };
    if opts.resume.as_deref() != Some(path.as_path()) && path.exists() {
        bail!(
            "{} already exists: continue that run with `--resume {}`, or choose another `--name` or `--out`",
            path.display(),
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("{}: cannot create folder: {e}", dir.display()))?;
    }
    let title = cx.term.paint(Tone::Bold, &book.title);
    cx.term.line(&title);
    let prompt = !opts.yes;
    apply_params(cx, &mut run, prompt)?;
    cx.path = Some(path);
    cx.save(&run)?;
    if let Some(s) = cx.signals {
        s.set_farewell(format!(
            "stopped; run saved in {} (continue with --resume {})",
            cx.path_label(),
            cx.path_label()
        ));
    }
    Ok(run)
}

fn open_resumed(path: &Path, book: &Playbook) -> Result<Run> {
    let run = runfile::load(path)?;
    if run.page != book.page {
        bail!(
            "{}: is a run of `{}`, not of `{}`",
            path.display(),
            run.page,
            book.page
        );
    }
    if let Some(t) = &run.finished_at {
        bail!(
            "{}: this run finished at {t}; start a new run instead",
            path.display()
        );
    }
    Ok(run)
}

/// A run name as a file name: letters, digits, `-`, `_` and `.`; anything else becomes `-`.
pub fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('.').to_string();
    if s.is_empty() {
        "run".into()
    } else {
        s
    }
}

/// Puts `--param` values into the run, then asks for every other parameter of the playbook
/// (showing its default; Enter accepts it) when `prompt`, else takes the defaults. A run
/// being continued keeps its values; `--param` may not change them.
fn apply_params(cx: &mut Cx<'_, '_>, run: &mut Run, prompt: bool) -> Result<()> {
    let book = cx.book;
    let known: Vec<&str> = book
        .params
        .iter()
        .map(|p| p.name.as_str())
        .chain(book.undeclared.iter().map(String::as_str))
        .collect();
    for (k, v) in &cx.opts.params {
        if !is_param_name(k) {
            bail!("`--param {k}=…`: `{k}` is not a parameter name (letters, digits and `_`)");
        }
        if let Some(old) = run.params.get(k).filter(|o| !o.is_empty() && *o != v) {
            bail!("the run was started with {k}={old}; `--param {k}={v}` would change it (start a new run instead)");
        }
        if !known.contains(&k.as_str()) {
            let hint = did_you_mean(k, &known)
                .map(|m| format!(" (did you mean `{m}`?)"))
                .unwrap_or_default();
            let msg = format!(
                "warning: `{k}` is not a parameter of this playbook{hint}; it is still set in the commands' environment"
            );
            let msg = cx.term.paint(Tone::Warn, &msg);
            cx.term.line(&msg);
        }
        run.params.insert(k.clone(), v.clone());
    }
    let wanted: Vec<(String, String, String)> = book
        .params
        .iter()
        .map(|p| (p.name.clone(), p.description.clone(), p.default.clone()))
        .chain(
            book.undeclared
                .iter()
                .map(|n| (n.clone(), String::new(), String::new())),
        )
        .collect();
    let mut missing = Vec::new();
    for (name, description, default) in wanted {
        if run.params.get(&name).is_some_and(|v| !v.is_empty()) {
            continue;
        }
        if !prompt {
            if default.is_empty() {
                missing.push(name);
            } else {
                run.params.insert(name, default);
            }
            continue;
        }
        let label = if description.is_empty() {
            name.clone()
        } else {
            format!("{name} ({description})")
        };
        let question = if default.is_empty() {
            format!("{label}: ")
        } else {
            format!("{label} [{default}]: ")
        };
        loop {
            let Some(answer) = cx.ask(&question) else {
                bail!("no value for parameter `{name}` (pass `--param {name}=VALUE`)");
            };
            let answer = answer.trim();
            let value = if answer.is_empty() { &default } else { answer };
            if !value.is_empty() {
                run.params.insert(name.clone(), value.to_string());
                break;
            }
            cx.term.line("  a value is needed");
        }
    }
    if !missing.is_empty() && cx.opts.mode != Mode::DryRun {
        let flags: Vec<String> = missing
            .iter()
            .map(|n| format!("--param {n}=VALUE"))
            .collect();
        bail!(
            "no value for parameter{} {} (pass {})",
            if missing.len() == 1 { "" } else { "s" },
            missing
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            flags.join(" ")
        );
    }
    Ok(())
}

/// The run's parameters that have a value: substituted into commands and exported.
pub fn env_of(run: &Run) -> BTreeMap<String, String> {
    run.params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `code` with the run's parameter values in place of `${NAME}` (and `$${NAME}` as `${NAME}`).
/// The final line break of the block is dropped: the command as it is stored and shown.
pub fn substitute(code: &str, run: &Run) -> String {
    let code = code.strip_suffix('\n').unwrap_or(code);
    params::substitute(code, |n| {
        run.params.get(n).filter(|v| !v.is_empty()).cloned()
    })
}

/// Names of `${NAME}` references in `code` that have no value in the run.
pub fn unresolved(code: &str, run: &Run) -> Vec<String> {
    params::split(code)
        .into_iter()
        .filter_map(|p| match p {
            params::Piece::Param(n, _) if run.params.get(n).is_none_or(|v| v.is_empty()) => {
                Some(n.to_string())
            }
            _ => None,
        })
        .collect()
}

/// Prints every step and the exact commands, substituted; executes and writes nothing.
fn dry_run(cx: &mut Cx<'_, '_>, run: &Run) {
    let book = cx.book;
    let t = &mut *cx.term;
    let title = t.paint(Tone::Bold, &format!("{} (dry run)", book.title));
    t.line(&title);
    t.say(
        "",
        0,
        &format!(
            "Nothing is executed. Commands would run in {}.",
            cx.opts.dir.display()
        ),
        None,
    );
    if !run.params.is_empty() {
        let list: Vec<String> = run.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        t.say("Params: ", 8, &list.join(", "), None);
    }
    let mut group = None;
    let n = book.steps.len();
    let mut missing = std::collections::BTreeSet::new();
    for (i, step) in book.steps.iter().enumerate() {
        if group != Some(&step.group) {
            group = Some(&step.group);
            t.line("");
            let h = t.paint(Tone::Bold, &format!("== {}", book.group_title(step)));
            t.line(&h);
        }
        let pad = "  ".repeat(book.depth(i));
        let lead = format!("{pad}[{}/{n}] ", i + 1);
        let indent = lead.chars().count();
        t.say(
            &lead,
            indent,
            &runfile::substitute(&step.text, &run.params),
            None,
        );
        for b in &step.blocks {
            let label = match (b.kind, exec::shell_for(&b.lang)) {
                (BlockKind::Plain, _) => "plain block, never run".to_string(),
                (_, None) => format!("`{}` block, cannot run", b.lang),
                (BlockKind::Run, Some(sh)) => format!("would run with {sh}"),
                (BlockKind::Verify, Some(sh)) => match &b.expect {
                    Some(e) => format!("would verify with {sh}, output must match /{e}/"),
                    None => format!("would verify with {sh}, must exit 0"),
                },
            };
            let label = t.paint(Tone::Dim, &label);
            t.line(&format!("{}{label}", " ".repeat(indent)));
            missing.extend(unresolved(&b.code, run));
            show_code(t, indent, &substitute(&b.code, run));
        }
    }
    if !missing.is_empty() {
        t.line("");
        let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
        t.say(
            "",
            0,
            &format!(
                "Parameters without a value: {} (pass `--param NAME=VALUE`).",
                list.join(", ")
            ),
            Some(Tone::Warn),
        );
    }
}

/// Prints a command, `$ ` before its first line and indented continuation lines.
pub fn show_code(t: &mut Term<'_>, indent: usize, code: &str) {
    for (k, line) in code.trim_end_matches('\n').lines().enumerate() {
        let lead = format!("{}{}", " ".repeat(indent), if k == 0 { "$ " } else { "  " });
        let n = lead.len();
        t.say(&lead, n, line, None);
    }
}

/// `500ms`, `30s`, `5m`, `1h`, or a number of seconds (for `--timeout`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like `60s`, `5m` or `500ms`"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use ms, s, m or h)")),
    };
    if !(secs > 0.0 && secs < 1e9) {
        return Err(format!("`{s}` must be more than zero"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit_or_seconds() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 days").is_err());
    }

    #[test]
    fn run_names_become_safe_file_names() {
        assert_eq!(file_stem("INC-4211"), "INC-4211");
        assert_eq!(file_stem("../etc/passwd"), "-etc-passwd");
        assert_eq!(file_stem("a b/c"), "a-b-c");
        assert_eq!(file_stem(".."), "run");
    }
}
