//! The state of one run in the terminal: which step is shown, and what each key does to the
//! run record. Pure: no terminal, no clock (callers pass `now`), no files.
//!
//! Why this module exists: the record must change exactly as the browser changes it
//! (`updateStep` in theme/checklist.js), so that a run can move between the two. Keeping the
//! rules here, apart from input and output, lets them be tested line by line.
//!
//! Rules, as in the browser: a record is created the first time a step is touched, with the
//! step's current text and group; `at` and `by` change only when the state changes (editing a
//! note keeps the time of the tick); an `open` record with no note goes away. One addition of
//! the terminal: an `open` record that holds command results stays, so no output is lost.

use crate::markdown::{BlockKind, Step};
use crate::runfile::{CommandKind, CommandResult, Run, StepRecord, StepState};

pub struct Session<'a> {
    pub steps: &'a [Step],
    pub run: Run,
    /// The step shown; `steps.len()` when past the last one.
    pub cursor: usize,
    /// Who records changes (`by`); `None` leaves `by` out.
    pub operator: Option<String>,
}

/// How a batch of commands run for one step went, for [`Session::settle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    pub ran_verify: bool,
    pub failed: bool,
}

impl<'a> Session<'a> {
    /// A session on `run`, showing the first step that is neither done nor skipped.
    pub fn new(steps: &'a [Step], run: Run, operator: Option<String>) -> Session<'a> {
        let mut s = Session {
            steps,
            run,
            cursor: 0,
            operator,
        };
        s.cursor = s.first_unresolved_from(0).unwrap_or(0);
        s
    }

    pub fn step(&self) -> Option<&'a Step> {
        self.steps.get(self.cursor)
    }

    pub fn record(&self, i: usize) -> Option<&StepRecord> {
        let id = &self.steps.get(i)?.id;
        self.run.steps.iter().find(|r| &r.id == id)
    }

    /// Done or skipped: nothing left to do for this step.
    pub fn is_resolved(&self, i: usize) -> bool {
        matches!(
            self.record(i).map(|r| r.state),
            Some(StepState::Done | StepState::Skipped)
        )
    }

    /// Steps done or skipped, and the number of steps.
    pub fn progress(&self) -> (usize, usize) {
        let n = (0..self.steps.len())
            .filter(|&i| self.is_resolved(i))
            .count();
        (n, self.steps.len())
    }

    pub fn all_resolved(&self) -> bool {
        (0..self.steps.len()).all(|i| self.is_resolved(i))
    }

    /// Records of steps that are no longer in the playbook.
    pub fn removed_records(&self) -> Vec<&StepRecord> {
        self.run
            .steps
            .iter()
            .filter(|r| !self.steps.iter().any(|s| s.id == r.id))
            .collect()
    }

    fn first_unresolved_from(&self, start: usize) -> Option<usize> {
        (start..self.steps.len()).find(|&i| !self.is_resolved(i))
    }

    /// Moves to the next step that is neither done nor skipped (after the current one, then
    /// from the top); past the end when every step is.
    pub fn advance(&mut self) {
        self.cursor = self
            .first_unresolved_from(self.cursor + 1)
            .or_else(|| self.first_unresolved_from(0))
            .unwrap_or(self.steps.len());
    }

    /// The next step in order, whatever its state.
    pub fn next(&mut self) {
        self.cursor = (self.cursor + 1).min(self.steps.len());
    }

    pub fn back(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// Shows step `n` (1-based); false when there is no such step.
    pub fn goto(&mut self, n: usize) -> bool {
        if n == 0 || n > self.steps.len() {
            return false;
        }
        self.cursor = n - 1;
        true
    }

    /// The record of step `i`, created as `open` if the step was never touched; its text and
    /// group are refreshed from the playbook, as the browser does.
    fn touch(&mut self, i: usize) -> &mut StepRecord {
        let step = &self.steps[i];
        let pos = match self.run.steps.iter().position(|r| r.id == step.id) {
            Some(p) => p,
            None => {
                self.run.steps.push(StepRecord {
                    id: step.id.clone(),
                    text: step.text.clone(),
                    group: Some(step.group.clone()).filter(|g| !g.is_empty()),
                    state: StepState::Open,
                    at: String::new(),
                    by: None,
                    note: None,
                    skip_reason: None,
                    results: Vec::new(),
                });
                self.run.steps.len() - 1
            }
        };
        let rec = &mut self.run.steps[pos];
        rec.text = step.text.clone();
        rec
    }

    /// Puts step `i` in `state`; `at`/`by` change only with the state.
    fn set_state(&mut self, i: usize, state: StepState, now: &str) {
        let operator = self.operator.clone();
        let rec = self.touch(i);
        if rec.at.is_empty() || rec.state != state {
            rec.state = state;
            rec.at = now.to_string();
            rec.by = operator;
        }
        if state != StepState::Skipped {
            rec.skip_reason = None;
        }
        self.drop_if_empty(i);
    }

    /// The browser removes an `open` record without a note; results keep it here.
    fn drop_if_empty(&mut self, i: usize) {
        let id = &self.steps[i].id;
        self.run.steps.retain(|r| {
            &r.id != id || r.state != StepState::Open || r.note.is_some() || !r.results.is_empty()
        });
    }

    pub fn done(&mut self, now: &str) {
        if self.cursor < self.steps.len() {
            self.set_state(self.cursor, StepState::Done, now);
        }
    }

    pub fn skip(&mut self, reason: &str, now: &str) {
        let i = self.cursor;
        if i >= self.steps.len() {
            return;
        }
        self.set_state(i, StepState::Skipped, now);
        let reason = reason.trim();
        self.touch(i).skip_reason = (!reason.is_empty()).then(|| reason.to_string());
    }

    /// Back to not done, keeping the note (and results); the record goes if nothing is left.
    pub fn reopen(&mut self, now: &str) {
        if self.cursor < self.steps.len() && self.record(self.cursor).is_some() {
            self.set_state(self.cursor, StepState::Open, now);
        }
    }

    /// Sets or (with empty text) removes the note; the state and its time stay.
    pub fn note(&mut self, text: &str, now: &str) {
        let i = self.cursor;
        if i >= self.steps.len() {
            return;
        }
        let text = text.trim();
        if self.record(i).is_none() && text.is_empty() {
            return;
        }
        let operator = self.operator.clone();
        let rec = self.touch(i);
        if rec.at.is_empty() {
            rec.at = now.to_string();
            rec.by = operator;
        }
        rec.note = (!text.is_empty()).then(|| text.to_string());
        self.drop_if_empty(i);
    }

    /// Appends a command result to step `i`.
    pub fn add_result(&mut self, i: usize, result: CommandResult, now: &str) {
        let operator = self.operator.clone();
        let rec = self.touch(i);
        if rec.at.is_empty() {
            rec.at = now.to_string();
            rec.by = operator;
        }
        rec.results.push(result);
    }

    /// The step's state after running commands: `failed` when one failed; `done` when a
    /// verify passed and nothing failed (or, in a drill, when everything passed); a step that
    /// had failed goes back to `open` when its commands now pass.
    pub fn settle(&mut self, i: usize, batch: Batch, drill: bool, now: &str) {
        if batch.failed {
            self.set_state(i, StepState::Failed, now);
        } else if batch.ran_verify || drill {
            self.set_state(i, StepState::Done, now);
        } else if self.record(i).map(|r| r.state) == Some(StepState::Failed) {
            self.set_state(i, StepState::Open, now);
        }
    }

    pub fn finish(&mut self, now: &str) {
        self.run.finished_at = Some(now.to_string());
        self.run.finished_by = self.operator.clone();
    }
}

/// The blocks of a step that can be executed (run and verify), with their kind.
pub fn runnable(step: &Step) -> Vec<(usize, CommandKind)> {
    step.blocks
        .iter()
        .enumerate()
        .filter_map(|(i, b)| match b.kind {
            BlockKind::Run => Some((i, CommandKind::Run)),
            BlockKind::Verify => Some((i, CommandKind::Verify)),
            BlockKind::Plain => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::CodeBlock;

    const T1: &str = "2024-03-15T10:00:00Z";
    const T2: &str = "2024-03-15T10:05:00Z";

    fn step(id: &str, kinds: &[BlockKind]) -> Step {
        Step {
            id: id.into(),
            group: "g".into(),
            group_title: "G".into(),
            text: format!("Text of {id}"),
            pos: Default::default(),
            parent: None,
            blocks: kinds
                .iter()
                .map(|&kind| CodeBlock {
                    lang: "sh".into(),
                    kind,
                    code: "true\n".into(),
                    expect: None,
                    confirm: None,
                    pos: Default::default(),
                })
                .collect(),
        }
    }

    fn steps() -> Vec<Step> {
        vec![step("g--a", &[]), step("g--b", &[]), step("g--c", &[])]
    }

    fn run() -> Run {
        Run::new("p/", "P", None, None)
    }

    fn result(passed: bool) -> CommandResult {
        CommandResult {
            kind: CommandKind::Run,
            command: "true".into(),
            exit_code: Some(if passed { 0 } else { 1 }),
            duration_ms: 1,
            output: String::new(),
            output_truncated: false,
            passed,
            at: None,
        }
    }

    #[test]
    fn done_records_text_group_time_and_operator_then_advances() {
        let st = steps();
        let mut s = Session::new(&st, run(), Some("ann".into()));
        s.done(T1);
        s.advance();
        let r = s.record(0).unwrap();
        assert_eq!(
            (r.state, r.at.as_str(), r.by.as_deref()),
            (StepState::Done, T1, Some("ann"))
        );
        assert_eq!(
            (r.text.as_str(), r.group.as_deref()),
            ("Text of g--a", Some("g"))
        );
        assert_eq!(s.cursor, 1);
        assert_eq!(s.progress(), (1, 3));
    }

    #[test]
    fn editing_a_note_keeps_the_time_of_the_tick() {
        let st = steps();
        let mut s = Session::new(&st, run(), None);
        s.done(T1);
        s.note("went to 12", T2);
        let r = s.record(0).unwrap();
        assert_eq!((r.at.as_str(), r.note.as_deref()), (T1, Some("went to 12")));
    }

    #[test]
    fn reopening_without_a_note_removes_the_record_with_a_note_keeps_it_open() {
        let st = steps();
        let mut s = Session::new(&st, run(), None);
        s.done(T1);
        s.reopen(T2);
        assert!(s.run.steps.is_empty());
        s.note("later", T1);
        assert_eq!(s.record(0).unwrap().state, StepState::Open);
        s.done(T2);
        s.reopen(T2);
        assert_eq!(s.record(0).unwrap().note.as_deref(), Some("later"));
        s.note("", T2);
        assert!(s.run.steps.is_empty());
    }

    #[test]
    fn skip_keeps_a_reason_and_done_clears_it() {
        let st = steps();
        let mut s = Session::new(&st, run(), None);
        s.skip("  not needed ", T1);
        assert_eq!(
            s.record(0).unwrap().skip_reason.as_deref(),
            Some("not needed")
        );
        s.done(T2);
        let r = s.record(0).unwrap();
        assert_eq!((r.state, r.skip_reason.as_deref()), (StepState::Done, None));
    }

    #[test]
    fn advance_wraps_to_the_first_open_step_then_goes_past_the_end() {
        let st = steps();
        let mut s = Session::new(&st, run(), None);
        s.goto(2);
        s.done(T1);
        s.advance();
        assert_eq!(s.cursor, 2);
        s.done(T1);
        s.advance();
        assert_eq!(s.cursor, 0);
        s.done(T1);
        s.advance();
        assert_eq!(s.cursor, 3);
        assert!(s.all_resolved() && s.step().is_none());
        assert!(!s.goto(4) && s.goto(1));
    }

    #[test]
    fn a_resumed_run_starts_at_the_first_step_not_done() {
        let st = steps();
        let mut s = Session::new(&st, run(), None);
        s.done(T1);
        let again = Session::new(&st, s.run.clone(), None);
        assert_eq!(again.cursor, 1);
    }

    #[test]
    fn results_keep_an_open_record_and_settle_decides_the_state() {
        let st = vec![step("g--v", &[BlockKind::Run, BlockKind::Verify])];
        let mut s = Session::new(&st, run(), None);
        s.add_result(0, result(true), T1);
        s.settle(
            0,
            Batch {
                ran_verify: false,
                failed: false,
            },
            false,
            T1,
        );
        let r = s.record(0).unwrap();
        assert_eq!((r.state, r.results.len()), (StepState::Open, 1));
        s.add_result(0, result(false), T2);
        s.settle(
            0,
            Batch {
                ran_verify: true,
                failed: true,
            },
            false,
            T2,
        );
        assert_eq!(s.record(0).unwrap().state, StepState::Failed);
        s.settle(
            0,
            Batch {
                ran_verify: false,
                failed: false,
            },
            false,
            T2,
        );
        assert_eq!(s.record(0).unwrap().state, StepState::Open);
        s.settle(
            0,
            Batch {
                ran_verify: true,
                failed: false,
            },
            false,
            T2,
        );
        assert_eq!(s.record(0).unwrap().state, StepState::Done);
        assert_eq!(s.record(0).unwrap().results.len(), 2);
        assert_eq!(runnable(&st[0]).len(), 2);
    }

    #[test]
    fn records_of_removed_steps_are_kept_and_listed() {
        let st = steps();
        let mut r = run();
        r.steps.push(StepRecord {
            id: "gone--x".into(),
            text: "Old step".into(),
            group: None,
            state: StepState::Done,
            at: T1.into(),
            by: None,
            note: None,
            skip_reason: None,
            results: vec![],
        });
        let mut s = Session::new(&st, r, None);
        s.done(T2);
        assert_eq!(s.removed_records().len(), 1);
        assert_eq!(s.run.steps.len(), 2);
    }
}
