//! `scalebook run` tests: the real binary on copies of `tests/fixtures/run-site/`, whose
//! playbooks only touch marker files, print words, `exit 3` or `sleep 30`. Input is fed on
//! stdin line by line, as the runner reads it.

use crate::util;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A fresh copy of the run fixture site; commands run in it.
fn site() -> tempfile::TempDir {
    util::copy_fixture("run-site")
}

fn cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = util::bin();
    c.current_dir(dir)
        .arg("run")
        .args(args)
        .env("USER", "tester");
    c
}

/// Runs with `input` on stdin and returns the output.
fn sb(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = cmd(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scalebook");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Whatever the terminal writes, the shared reader must accept.
    scalebook::runfile::parse(&text).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn step<'a>(run: &'a Value, id: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step `{id}` in {run:#}"))
}

const BOTH: [&str; 4] = ["--param", "MARKER=marker", "--param", "GREETING=ok"];
const MAKE: &str = "prepare--create-the-marker-for-greeting";
const SAY: &str = "check--say-the-greeting";

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["drills/safe"];
    v.extend(BOTH);
    v.extend(extra);
    v
}

#[test]
fn answering_no_to_the_confirmation_runs_nothing() {
    let d = site();
    // Step 2, run, answer "n" (and then something that is not exactly yes), quit.
    let o = sb(
        d.path(),
        &args(&["--out", "r.json"]),
        "2\nr\nn\nr\nyep\nq\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!d.path().join("marker").exists());
    let out = stdout(&o);
    assert!(out.contains("$ touch \"marker\""), "{out}");
    assert_eq!(out.matches("Not run.").count(), 2, "{out}");
    assert!(!out.contains('\x1b'), "NO_COLOR output has escapes: {out}");
    assert_eq!(
        json(&d.path().join("r.json"))["steps"],
        Value::Array(vec![])
    );
}

#[test]
fn yes_runs_the_command_with_params_substituted_and_in_the_environment() {
    let d = site();
    let o = sb(
        d.path(),
        &[
            "drills/safe",
            "--param",
            "MARKER=marker",
            "--param",
            "GREETING=hello",
            "--name",
            "INC-4211",
        ],
        "2\nr\nyes\nd\nq\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.path().join("marker").exists());
    // The default path: runs/<name>.json under the current folder.
    let run = json(&d.path().join("runs/INC-4211.json"));
    assert_eq!(run["name"], "INC-4211");
    assert_eq!(run["operator"], "tester");
    assert_eq!(run["params"]["GREETING"], "hello");
    let s = step(&run, MAKE);
    assert_eq!(s["state"], "done");
    let r = &s["results"][0];
    // `${GREETING}`-free text `$GREETING` comes from the environment; `${MARKER}` from the text.
    assert_eq!(
        r["command"],
        "touch \"marker\" && echo \"made marker as $GREETING\""
    );
    assert_eq!(r["output"], "made marker as hello\n");
    assert_eq!(r["exit_code"], 0);
    assert_eq!(r["passed"], true);
    assert_eq!(r["kind"], "run");
    assert!(r["duration_ms"].is_u64());
    assert!(stdout(&o).contains("made marker as hello"));
}

#[test]
fn verify_passes_when_the_output_matches_and_fails_otherwise() {
    let d = site();
    let o = sb(d.path(), &args(&["--out", "ok.json", "--yes"]), "3\nr\nq\n");
    assert!(o.status.success(), "{}", stderr(&o));
    let s = step(&json(&d.path().join("ok.json")), SAY).clone();
    assert_eq!(s["state"], "done");
    assert_eq!(s["results"][0]["kind"], "verify");
    assert_eq!(s["results"][0]["passed"], true);

    let o = sb(
        d.path(),
        &[
            "drills/safe",
            "--param",
            "MARKER=m",
            "--param",
            "GREETING=nope",
            "--out",
            "bad.json",
        ],
        "3\nr\ny\nq\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("does not match /^ok$/"),
        "{}",
        stdout(&o)
    );
    let run = json(&d.path().join("bad.json"));
    let s = step(&run, SAY);
    assert_eq!(s["state"], "failed");
    assert_eq!(s["results"][0]["exit_code"], 0);
    assert_eq!(s["results"][0]["passed"], false);
    // The postmortem timeline shows it as failed, as the browser would.
    let md = scalebook::runfile::to_markdown(
        &scalebook::runfile::load(&d.path().join("bad.json")).unwrap(),
    );
    assert!(
        md.contains("| Say the greeting | tester | failed |"),
        "{md}"
    );
}

#[test]
fn a_run_exported_by_the_browser_is_continued_and_its_records_kept() {
    let d = site();
    let file = d.path().join("gameday.json");
    std::fs::copy(util::fixture("runs/terminal-resume.json"), &file).unwrap();
    let before = json(&file);
    // The first step is done in the browser: the runner starts at step 2.
    let o = sb(
        d.path(),
        &[
            "drills/safe",
            "--resume",
            "gameday.json",
            "--log",
            "gameday.md",
        ],
        "n checked twice\nd\nq\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("[2/4] Create the marker for ok"), "{out}");
    assert!(
        out.contains("1 recorded step(s) are no longer in the playbook"),
        "{out}"
    );
    let after = json(&file);
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["params"], before["params"]);
    assert_eq!(after["steps"][0], before["steps"][0]);
    assert_eq!(after["steps"][1], before["steps"][1]);
    let s = step(&after, MAKE);
    assert_eq!(
        (&s["state"], &s["by"], &s["note"]),
        (&"done".into(), &"tester".into(), &"checked twice".into())
    );
    let md = std::fs::read_to_string(d.path().join("gameday.md")).unwrap();
    assert!(md.starts_with("# Run GAMEDAY-7: Safe drill\n"), "{md}");
    assert!(
        md.contains("| Create the marker for ok | tester | checked twice |  |"),
        "{md}"
    );

    // A run of another playbook is refused.
    let o = sb(
        d.path(),
        &["drills/failing", "--resume", "gameday.json"],
        "q\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is a run of `drills/safe/`"),
        "{}",
        stderr(&o)
    );
}

/// Collects a child's stdout in the background.
fn capture(child: &mut Child) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let mut out = child.stdout.take().unwrap();
    let b = Arc::clone(&buf);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = out.read(&mut chunk) {
            if n == 0 {
                break;
            }
            b.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    buf
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_runner_loses_no_completed_step() {
    let d = site();
    let file: PathBuf = d.path().join("k.json");
    let mut child = cmd(d.path(), &args(&["--out", "k.json"]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _out = capture(&mut child);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"d\ns no channel today\n").unwrap();
    stdin.flush().unwrap();
    let states = |f: &Path| -> Vec<String> {
        std::fs::read_to_string(f)
            .ok()
            .and_then(|t| scalebook::runfile::parse(&t).ok())
            .map(|r| r.steps.iter().map(|s| format!("{:?}", s.state)).collect())
            .unwrap_or_default()
    };
    wait_for("two recorded steps", || states(&file).len() == 2);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(states(&file), vec!["Done", "Skipped"]);

    let o = sb(d.path(), &["drills/safe", "--resume", "k.json"], "q\n");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("[3/4] Say the greeting"),
        "{}",
        stdout(&o)
    );
    let run = json(&file);
    assert_eq!(step(&run, MAKE)["skip_reason"], "no channel today");
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn ctrl_c_during_a_command_kills_it_and_returns_to_the_prompt() {
    let d = site();
    let mut child = cmd(d.path(), &["drills/hang", "--yes", "--out", "h.json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = capture(&mut child);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"r\n").unwrap();
    stdin.flush().unwrap();
    wait_for("the command to start", || {
        out.lock().unwrap().contains("started")
    });
    let t = Instant::now();
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    wait_for("the interruption", || {
        out.lock().unwrap().contains("interrupted after")
    });
    assert!(t.elapsed() < Duration::from_secs(5));
    // Still in the run: the prompt takes keys.
    stdin.write_all(b"n gave up waiting\nq\n").unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{}", out.lock().unwrap());
    assert!(!d.path().join("slept").exists());
    let run = json(&d.path().join("h.json"));
    let s = &run["steps"][0];
    assert_eq!(s["note"], "gave up waiting");
    let r = &s["results"][0];
    assert!(r.get("exit_code").is_none(), "{r:#}");
    assert_eq!(r["passed"], false);
    assert!(
        r["output"].as_str().unwrap().contains("[interrupted after"),
        "{r:#}"
    );
}

#[test]
fn dry_run_shows_the_commands_and_executes_and_writes_nothing() {
    let d = site();
    let o = sb(d.path(), &args(&["--dry-run"]), "");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("$ touch \"marker\" && echo \"made marker as $GREETING\""),
        "{out}"
    );
    assert!(out.contains("plain block, never run"), "{out}");
    assert!(
        out.contains("[4/4] Read the plain block, never run"),
        "{out}"
    );
    assert!(!d.path().join("marker").exists());
    assert!(!d.path().join("runs").exists());
    // Without a value, the placeholder stays and is named.
    let o = sb(d.path(), &["drills/safe", "--dry-run"], "");
    assert!(
        stdout(&o).contains("Parameters without a value: `MARKER`"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_passing_drill_exits_zero_and_records_last_drill() {
    let d = site();
    let o = sb(
        d.path(),
        &args(&["--drill", "--yes", "--record", "--out", "d.json"]),
        "",
    );
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Drill passed: 2 command(s) in 2 step(s), all passed"),
        "{out}"
    );
    assert!(d.path().join("marker").exists());
    assert!(!d.path().join("marker.plain").exists(), "a plain block ran");
    let run = json(&d.path().join("d.json"));
    assert!(run["finished_at"].is_string());
    assert_eq!(step(&run, MAKE)["state"], "done");
    assert_eq!(step(&run, SAY)["state"], "done");
    let md = std::fs::read_to_string(d.path().join("playbooks/drills/safe.md")).unwrap();
    assert!(
        md.contains("\nlast_drill = 2026-11-29\n[[params]]\n"),
        "{md}"
    );
    // The site still builds with the recorded date.
    let (report, _) = util::build(d.path());
    assert_eq!(report.errors(), 0, "{:?}", report.diagnostics);

    // YAML front matter, asked once and confirmed.
    let o = sb(
        d.path(),
        &["drills/yaml", "--drill", "--record", "--out", "y.json"],
        "y\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(d.path().join("playbooks/drills/yaml.md")).unwrap();
    assert!(
        md.contains("- drill\nlast_drill: 2026-11-29\n---\n"),
        "{md}"
    );
}

#[test]
fn a_failing_drill_stops_at_the_first_failure_and_exits_one() {
    let d = site();
    let o = sb(
        d.path(),
        &[
            "drills/failing",
            "--drill",
            "--yes",
            "--record",
            "--out",
            "f.json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Drill failed at step 2/3 \"Exit with 3\""),
        "{out}"
    );
    assert!(
        out.contains("2 of 3 command(s) ran, 1 passed, 1 failed"),
        "{out}"
    );
    assert!(!d.path().join("never-reached").exists());
    let run = json(&d.path().join("f.json"));
    assert!(run.get("finished_at").is_none());
    assert_eq!(run["steps"][1]["state"], "failed");
    assert_eq!(run["steps"][1]["results"][0]["exit_code"], 3);
    let md = std::fs::read_to_string(d.path().join("playbooks/drills/failing.md")).unwrap();
    assert!(!md.contains("last_drill"), "a failed drill was recorded");
}

#[test]
fn a_drill_times_out_a_hanging_command() {
    let d = site();
    let t = Instant::now();
    let o = sb(
        d.path(),
        &[
            "drills/hang",
            "--drill",
            "--yes",
            "--timeout",
            "1s",
            "--out",
            "h.json",
        ],
        "",
    );
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("timed out after 1s"), "{}", stdout(&o));
    assert!(!d.path().join("slept").exists());
    let r = &json(&d.path().join("h.json"))["steps"][0]["results"][0];
    assert!(r.get("exit_code").is_none(), "{r:#}");
    assert!(
        r["output"].as_str().unwrap().starts_with("started\n"),
        "{r:#}"
    );
}

#[test]
fn a_drill_not_confirmed_runs_nothing() {
    let d = site();
    let o = sb(d.path(), &args(&["--drill"]), "no\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("Drill cancelled"), "{}", stdout(&o));
    assert!(!d.path().join("marker").exists());
    assert!(std::fs::read_dir(d.path().join("runs")).map_or(true, |mut r| r.next().is_none()));
}

#[test]
fn parameters_are_asked_for_with_their_default_or_required_with_yes() {
    let d = site();
    // MARKER has no default: an empty answer asks again; GREETING's default is taken by Enter.
    let o = sb(d.path(), &["drills/safe", "--out", "p.json"], "\nm1\n\nq\n");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("GREETING (What the verify step prints) [ok]: "),
        "{}",
        stdout(&o)
    );
    let run = json(&d.path().join("p.json"));
    assert_eq!(run["params"]["MARKER"], "m1");
    assert_eq!(run["params"]["GREETING"], "ok");

    let o = sb(d.path(), &["drills/safe", "--drill", "--yes"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no value for parameter `MARKER` (pass --param MARKER=VALUE)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_playbook_is_found_by_file_path_and_a_wrong_name_gets_a_hint() {
    let d = site();
    let o = sb(d.path(), &["playbooks/drills/failing.md", "--dry-run"], "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Failing drill"));
    let o = sb(d.path(), &["drills/failng", "--dry-run"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `drills/failing`?"),
        "{}",
        stderr(&o)
    );
}
