//! The interactive loop: show a step, read a key (a letter and Enter), change the run, save.
//!
//! Why this module exists: it is the only place that turns typed keys into session changes
//! and command runs, so the key list in docs/run.md and [`HELP`] describe all of it.

use super::exec::{self, End, Job};
use super::session::{runnable, Batch, Session};
use super::ui::{elapsed, Tone};
use super::{env_of, interrupts_of, show_code, substitute, unresolved, Cx, Ending};
use crate::runfile::{self, CommandKind, Run, StepState};
use anyhow::Result;

pub const HELP: &str = "\
Keys (then Enter):
  d          mark the step done and go to the next open step
  s [why]    skip the step, with a reason (asked for when not given)
  n [text]   set the step's note (empty removes it)
  r [N]      run the step's commands (only block N); each asks first
  u          undo: the step is not done, skipped or failed any more
  Enter      next step          b  previous step
  g N        go to step N       l  list the steps with their state
  f          finish the run     q  quit (the run is saved; --resume continues)
  ?          this help";

/// The prompt at a step: the keys, as a reminder (`?` explains them).
const PROMPT: &str = "d s n r u b l f q ? > ";

pub fn run(cx: &mut Cx<'_, '_>, run: Run) -> Result<Ending> {
    let book = cx.book;
    let mut s = Session::new(&book.steps, run, cx.opts.operator.clone());
    let path = cx.path_label();
    cx.term.say(
        "",
        0,
        &format!("Run saved to {path} after every change. ? for the keys."),
        None,
    );
    let removed = s.removed_records().len();
    if removed > 0 {
        cx.term.say(
            "",
            0,
            &format!(
                "{removed} recorded step(s) are no longer in the playbook; they stay in the run."
            ),
            Some(Tone::Dim),
        );
    }
    let mut shown: Option<usize> = None;
    let mut last_group: Option<String> = None;
    let mut offered_finish = false;
    loop {
        if s.step().is_none() {
            if s.all_resolved() && !offered_finish {
                offered_finish = true;
                if cx.confirm("Every step is done or skipped. Finish the run?") {
                    return finish(cx, &mut s);
                }
            } else if shown != Some(s.cursor) {
                let (d, n) = s.progress();
                cx.term.line(&format!(
                    "End of the checklist ({d} of {n} done or skipped)."
                ));
            }
            shown = Some(s.cursor);
        } else if shown != Some(s.cursor) {
            show_step(cx, &s, &mut last_group);
            shown = Some(s.cursor);
        }
        let prompt = if s.step().is_some() {
            PROMPT
        } else {
            "b l f q ? > "
        };
        let Some(line) = cx.ask(prompt) else {
            return quit(cx);
        };
        let line = line.trim();
        let (key, arg) = match line.split_once(char::is_whitespace) {
            Some((k, a)) => (k, a.trim()),
            None => (line, ""),
        };
        let now = runfile::now_utc();
        let on_step = s.step().is_some();
        match key {
            "" => {
                s.next();
            }
            "d" | "done" if on_step => {
                s.done(&now);
                cx.save(&s.run)?;
                s.advance();
            }
            "s" | "skip" if on_step => {
                let reason = if arg.is_empty() {
                    cx.ask("Reason (Enter for none): ").unwrap_or_default()
                } else {
                    arg.to_string()
                };
                s.skip(&reason, &now);
                cx.save(&s.run)?;
                s.advance();
            }
            "n" | "note" if on_step => {
                let text = if arg.is_empty() {
                    cx.ask("Note (Enter removes it): ").unwrap_or_default()
                } else {
                    arg.to_string()
                };
                s.note(&text, &now);
                cx.save(&s.run)?;
                shown = None;
            }
            "u" | "undo" if on_step => {
                s.reopen(&now);
                cx.save(&s.run)?;
                shown = None;
            }
            "r" | "run" if on_step => {
                let only = arg.parse::<usize>().ok();
                run_step(cx, &mut s, only)?;
                shown = None;
            }
            "b" | "back" => s.back(),
            "g" | "go" => match arg.parse::<usize>() {
                Ok(n) if s.goto(n) => shown = None,
                _ => cx
                    .term
                    .line(&format!("no step `{arg}`: give 1 to {}", book.steps.len())),
            },
            "l" | "list" => {
                list(cx, &s);
                shown = None;
            }
            "f" | "finish" => {
                let (d, n) = s.progress();
                if d == n
                    || cx.confirm(&format!(
                        "{} of {n} steps are not done. Finish anyway?",
                        n - d
                    ))
                {
                    return finish(cx, &mut s);
                }
            }
            "q" | "quit" => return quit(cx),
            "?" | "h" | "help" => cx.term.line(HELP),
            k if k.parse::<usize>().is_ok() => {
                if s.goto(k.parse().unwrap_or(0)) {
                    shown = None;
                } else {
                    cx.term
                        .line(&format!("no step {k}: give 1 to {}", book.steps.len()));
                }
            }
            "d" | "done" | "s" | "skip" | "n" | "note" | "u" | "undo" | "r" | "run" => {
                cx.term
                    .line("past the last step: b goes back, l lists, f finishes");
            }
            other => cx
                .term
                .line(&format!("unknown key `{other}`; ? lists the keys")),
        }
    }
}

fn quit(cx: &mut Cx<'_, '_>) -> Result<Ending> {
    let p = cx.path_label();
    cx.term.say(
        "",
        0,
        &format!("Run saved in {p}; continue with `--resume {p}`."),
        None,
    );
    Ok(Ending::Quit)
}

fn finish(cx: &mut Cx<'_, '_>, s: &mut Session<'_>) -> Result<Ending> {
    s.finish(&runfile::now_utc());
    cx.save(&s.run)?;
    let (d, n) = s.progress();
    let p = cx.path_label();
    cx.term.say(
        "",
        0,
        &format!("Run finished: {d} of {n} steps done or skipped. Saved in {p}."),
        Some(Tone::Good),
    );
    Ok(Ending::Finished)
}

fn mark(state: Option<StepState>) -> &'static str {
    match state {
        Some(StepState::Done) => "[x]",
        Some(StepState::Skipped) => "[-]",
        Some(StepState::Failed) => "[!]",
        _ => "[ ]",
    }
}

fn show_step(cx: &mut Cx<'_, '_>, s: &Session<'_>, last_group: &mut Option<String>) {
    let book = cx.book;
    let i = s.cursor;
    let step = &book.steps[i];
    let t = &mut *cx.term;
    if last_group.as_deref() != Some(step.group.as_str()) {
        *last_group = Some(step.group.clone());
        t.line("");
        let h = t.paint(Tone::Bold, &format!("== {}", book.group_title(step)));
        t.line(&h);
    }
    let n = book.steps.len();
    let pad = "  ".repeat(book.depth(i));
    let lead = format!("{pad}[{}/{n}] ", i + 1);
    let indent = lead.chars().count();
    t.line("");
    t.say(
        &lead,
        indent,
        &runfile::substitute(&step.text, &s.run.params),
        Some(Tone::Bold),
    );
    let body = " ".repeat(indent);
    if let Some(r) = s.record(i) {
        let hm = r.at.get(11..16).unwrap_or("");
        let who =
            r.by.as_deref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default();
        let status = match r.state {
            StepState::Done => Some((format!("done{who} at {hm} UTC"), Tone::Good)),
            StepState::Skipped => Some((
                match &r.skip_reason {
                    Some(why) => format!("skipped{who}: {why}"),
                    None => format!("skipped{who}"),
                },
                Tone::Warn,
            )),
            StepState::Failed => Some((format!("failed at {hm} UTC"), Tone::Bad)),
            StepState::Open => None,
        };
        if let Some((text, tone)) = status {
            t.say(&body, indent, &text, Some(tone));
        }
        if let Some(note) = &r.note {
            t.say(&format!("{body}note: "), indent + 6, note, None);
        }
        if let Some(last) = r.results.last() {
            let text = format!(
                "{} command(s) run, last: {}",
                r.results.len(),
                result_summary(last)
            );
            t.say(&body, indent, &text, Some(Tone::Dim));
        }
    }
    let run_blocks = runnable(step);
    for (k, b) in step.blocks.iter().enumerate() {
        let label = match b.kind {
            crate::markdown::BlockKind::Plain => "plain, not runnable".to_string(),
            crate::markdown::BlockKind::Run => "run".to_string(),
            crate::markdown::BlockKind::Verify => match &b.expect {
                Some(e) => format!("verify, output must match /{e}/"),
                None => "verify".to_string(),
            },
        };
        let num = match run_blocks.iter().position(|(bi, _)| *bi == k) {
            Some(p) if run_blocks.len() > 1 => format!("{}. ", p + 1),
            _ => String::new(),
        };
        let label = t.paint(Tone::Dim, &format!("{num}{label}"));
        t.line(&format!("{body}{label}"));
        show_code(t, indent, &substitute(&b.code, &s.run));
    }
    let (d, total) = s.progress();
    let since = runfile::parse_unix(&s.run.started_at)
        .and_then(|start| {
            runfile::parse_unix(&runfile::now_utc()).map(|now| now.saturating_sub(start))
        })
        .unwrap_or(0);
    let line = format!("{d}/{total} done · {} since the start", elapsed(since));
    let line = t.paint(Tone::Dim, &line);
    t.say("", 0, &line, None);
}

fn result_summary(r: &runfile::CommandResult) -> String {
    let what = match r.kind {
        CommandKind::Run => "run",
        CommandKind::Verify => "verify",
    };
    match (r.exit_code, r.passed) {
        (_, true) => format!("{what} passed"),
        (Some(c), false) => format!("{what} failed (exit {c})"),
        (None, false) => format!("{what} did not finish"),
    }
}

fn list(cx: &mut Cx<'_, '_>, s: &Session<'_>) {
    let book = cx.book;
    let n = book.steps.len();
    let mut group = None;
    for (i, step) in book.steps.iter().enumerate() {
        if group != Some(&step.group) {
            group = Some(&step.group);
            let h = cx
                .term
                .paint(Tone::Bold, &format!("== {}", book.group_title(step)));
            cx.term.line(&h);
        }
        let here = if i == s.cursor { ">" } else { " " };
        let lead = format!(
            "{here}{}{} {:>w$}. ",
            "  ".repeat(book.depth(i)),
            mark(s.record(i).map(|r| r.state)),
            i + 1,
            w = n.to_string().len()
        );
        let indent = lead.chars().count();
        let text = runfile::substitute(&step.text, &s.run.params);
        cx.term.say(&lead, indent, &text, None);
    }
    for r in s.removed_records() {
        cx.term.say(
            "  (removed from the playbook) ",
            4,
            &format!("{} {}", mark(Some(r.state)), r.text),
            Some(Tone::Dim),
        );
    }
}

/// Runs the step's run and verify blocks in order (or only the `only`-th), each after a
/// confirmation unless `--yes`; stops at the first one declined or failed.
fn run_step(cx: &mut Cx<'_, '_>, s: &mut Session<'_>, only: Option<usize>) -> Result<()> {
    let i = s.cursor;
    let step = &cx.book.steps[i];
    let blocks = runnable(step);
    if blocks.is_empty() {
        cx.term
            .line("This step has no runnable command (plain blocks are never run).");
        return Ok(());
    }
    let chosen: Vec<_> = match only {
        Some(k) if k >= 1 && k <= blocks.len() => vec![blocks[k - 1]],
        Some(k) => {
            cx.term
                .line(&format!("no command {k}: give 1 to {}", blocks.len()));
            return Ok(());
        }
        None => blocks,
    };
    let mut batch = Batch {
        ran_verify: false,
        failed: false,
    };
    let mut ran = false;
    for (bi, kind) in chosen {
        let block = &step.blocks[bi];
        let Some(shell) = exec::shell_for(&block.lang) else {
            cx.term.line(&format!(
                "cannot run a `{}` block: only sh, bash and zsh blocks run",
                block.lang
            ));
            break;
        };
        let missing = unresolved(&block.code, &s.run);
        if !missing.is_empty() {
            cx.term.line(&format!(
                "not run: parameter `{}` has no value",
                missing.join("`, `")
            ));
            break;
        }
        let expect = match block.expect.as_deref().map(exec::compile_expect) {
            None => None,
            Some(Ok(re)) => Some(re),
            Some(Err(e)) => {
                cx.term
                    .line(&format!("not run: `expect` is not a valid regex: {e}"));
                break;
            }
        };
        let script = substitute(&block.code, &s.run);
        let dir = cx.opts.dir.display().to_string();
        let what = match kind {
            CommandKind::Run => format!("Command ({shell}, in {dir}):"),
            CommandKind::Verify => format!("Check ({shell}, in {dir}):"),
        };
        cx.term.line("");
        cx.term.say("", 2, &what, Some(Tone::Bold));
        show_code(cx.term, 2, &script);
        let question = block.confirm.as_deref().unwrap_or("Run it?");
        if !cx.opts.yes && !cx.confirm(question) {
            cx.term.line("Not run.");
            break;
        }
        let env = env_of(&s.run);
        let opts = cx.opts;
        let job = Job {
            kind,
            shell,
            script: &script,
            env: &env,
            dir: &opts.dir,
            timeout: opts.timeout,
            expect: expect.as_ref(),
        };
        let intr = interrupts_of(cx.signals);
        intr.clear();
        let outcome = exec::execute(&job, &mut *cx.term.out, intr);
        ran = true;
        let passed = outcome.result.passed;
        let msg = outcome_line(&outcome, block.expect.as_deref());
        cx.term.say(
            "",
            2,
            &msg,
            Some(if passed { Tone::Good } else { Tone::Bad }),
        );
        s.add_result(i, outcome.result, &runfile::now_utc());
        cx.save(&s.run)?;
        batch.ran_verify |= kind == CommandKind::Verify;
        if !passed {
            batch.failed = true;
            break;
        }
    }
    if ran {
        s.settle(i, batch, false, &runfile::now_utc());
        cx.save(&s.run)?;
        let state = s.record(i).map(|r| r.state);
        let tail = match state {
            Some(StepState::Done) => "Step done.",
            Some(StepState::Failed) => "Step marked failed.",
            _ => "d marks the step done.",
        };
        cx.term.line(tail);
        if state == Some(StepState::Done) {
            s.advance();
        }
    }
    Ok(())
}

/// `exit 0 in 1.2s`, `interrupted after 3.0s`, ...
pub fn outcome_line(o: &exec::Outcome, expect: Option<&str>) -> String {
    let secs = o.duration.as_secs_f64();
    let verify = o.result.kind == CommandKind::Verify;
    match &o.end {
        End::Exited(0) if o.mismatch => format!(
            "verify failed: exit 0 in {secs:.1}s, but the output does not match /{}/",
            expect.unwrap_or("")
        ),
        End::Exited(0) if verify => format!("verify passed: exit 0 in {secs:.1}s"),
        End::Exited(c) if verify => format!("verify failed: exit {c} in {secs:.1}s"),
        End::Exited(c) => format!("exit {c} in {secs:.1}s"),
        End::Signalled(sig) => format!("killed by signal {sig} after {secs:.1}s"),
        End::Interrupted => format!("interrupted after {secs:.1}s"),
        End::TimedOut => format!("timed out after {secs:.1}s"),
        End::NotStarted(why) => format!("not started: {why}"),
    }
}
