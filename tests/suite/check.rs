//! `scalebook check` tests: every rule with its file, line and column, in every format, with
//! the exit codes; `--external` against a local server; the review page.

use crate::util::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every problem of `tests/fixtures/check-problems`: (severity, rule, path, line, col).
#[rustfmt::skip]
const EXPECTED: &[(&str, &str, &str, usize, usize)] = &[
    ("error", "front-matter", "playbooks/ops/bad-date.md", 4, 1),
    ("error", "duplicate-url", "playbooks/ops/dup-b.md", 0, 0),
    ("error", "front-matter-unknown-key", "playbooks/ops/front-matter.md", 4, 1),
    ("warning", "image-alt", "playbooks/ops/image.md", 8, 1),
    ("error", "broken-link", "playbooks/ops/links.md", 6, 12),
    ("error", "broken-anchor", "playbooks/ops/links.md", 7, 12),
    ("error", "missing-owner", "playbooks/ops/no-owner.md", 0, 0),
    ("warning", "empty-checklist", "playbooks/ops/no-steps.md", 0, 0),
    ("warning", "review-overdue", "playbooks/ops/overdue.md", 0, 0),
    ("error", "undeclared-param", "playbooks/ops/params.md", 6, 13),
    ("note", "never-drilled", "playbooks/ops/run.md", 0, 0),
    ("warning", "run-without-confirm", "playbooks/ops/run.md", 8, 3),
    // The core also reports the owner that the broken front matter lost.
    ("error", "missing-owner", "playbooks/ops/syntax.md", 0, 0),
    ("error", "front-matter-syntax", "playbooks/ops/syntax.md", 2, 16),
    ("warning", "missing-title", "playbooks/ops/untitled-page.md", 1, 1),
];

fn check(root: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = bin()
        .arg("check")
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .expect("run scalebook");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn counts() -> (usize, usize) {
    let errors = EXPECTED.iter().filter(|e| e.0 == "error").count();
    let warnings = EXPECTED.iter().filter(|e| e.0 == "warning").count();
    (errors, warnings)
}

fn notes() -> usize {
    EXPECTED.iter().filter(|e| e.0 == "note").count()
}

#[test]
fn json_report_lists_every_problem_with_rule_file_line_and_column() {
    let (code, out, err) = check(&fixture("check-problems"), &["--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["version"], 1);
    let got: Vec<(String, String, String, u64, u64)> = v["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .map(|d| {
            assert!(d["message"].as_str().is_some_and(|m| !m.is_empty()), "{d}");
            assert!(d["hint"].is_null() || d["hint"].is_string(), "{d}");
            (
                d["severity"].as_str().unwrap().to_string(),
                d["rule"].as_str().unwrap().to_string(),
                d["path"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["col"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, String, String, u64, u64)> = EXPECTED
        .iter()
        .map(|e| (e.0.into(), e.1.into(), e.2.into(), e.3 as u64, e.4 as u64))
        .collect();
    assert_eq!(got, want);
    let (errors, warnings) = counts();
    assert_eq!(v["summary"]["errors"], errors);
    assert_eq!(v["summary"]["warnings"], warnings);
    assert_eq!(v["summary"]["notes"], notes());
    assert_eq!(v["summary"]["pages"], 14);
    let unknown = &v["diagnostics"][2];
    assert_eq!(
        unknown["hint"].as_str().unwrap().split('?').next(),
        Some("did you mean `title`")
    );
}

#[test]
fn human_report_prints_each_problem_and_a_summary() {
    let (code, out, _) = check(&fixture("check-problems"), &[]);
    assert_eq!(code, 1);
    for (sev, rule, path, line, col) in EXPECTED {
        let loc = match (line, col) {
            (0, _) => path.to_string(),
            _ => format!("{path}:{line}:{col}"),
        };
        let head = format!("{loc}: {sev}[{rule}]: ");
        assert!(
            out.lines().any(|l| l.starts_with(&head)),
            "no `{head}` in\n{out}"
        );
    }
    let (errors, warnings) = counts();
    assert_eq!(
        out.lines().last(),
        Some(
            format!(
                "checked 14 pages: {errors} errors, {warnings} warnings, {} note",
                notes()
            )
            .as_str()
        )
    );
}

#[test]
fn github_report_is_one_annotation_per_problem() {
    let (code, out, _) = check(&fixture("check-problems"), &["--format", "github"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), EXPECTED.len(), "{out}");
    for ((sev, rule, path, line, col), got) in EXPECTED.iter().zip(&lines) {
        let props = if *line == 0 {
            format!("file={path},title={rule}::")
        } else {
            format!("file={path},line={line},col={col},title={rule}::")
        };
        let level = if *sev == "note" { "notice" } else { sev };
        assert!(got.starts_with(&format!("::{level} {props}")), "{got}");
    }
    assert!(
        out.contains("::error file=playbooks/ops/front-matter.md,line=4,col=1,title=front-matter-unknown-key::unknown front matter key `titel`%0Ahint: did you mean `title`?"),
        "hint on an escaped new line:\n{out}"
    );
}

#[test]
fn sarif_report_has_the_shape_code_scanning_requires() {
    let (code, out, _) = check(&fixture("check-problems"), &["--format", "sarif"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif"));
    let runs = v["runs"].as_array().expect("runs array");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "scalebook");
    assert!(driver["informationUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let rules = driver["rules"].as_array().expect("rules array");
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for r in rules {
        assert!(
            r["shortDescription"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty()),
            "{r}"
        );
    }
    let results = runs[0]["results"].as_array().expect("results array");
    assert_eq!(results.len(), EXPECTED.len());
    for ((sev, rule, path, line, col), r) in EXPECTED.iter().zip(results) {
        assert_eq!(r["ruleId"], *rule);
        assert!(rule_ids.contains(rule), "{rule} is declared in rules[]");
        assert_eq!(r["level"], *sev);
        assert!(r["message"]["text"].is_string());
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], *path);
        if *line == 0 {
            assert!(loc.get("region").is_none(), "{r}");
        } else {
            assert_eq!(loc["region"]["startLine"].as_u64(), Some(*line as u64));
            assert_eq!(loc["region"]["startColumn"].as_u64(), Some(*col as u64));
        }
    }
}

#[test]
fn a_clean_site_exits_zero_in_every_format() {
    for format in ["human", "json", "github", "sarif"] {
        let (code, out, err) = check(&fixture("check-clean"), &["--format", format, "--strict"]);
        assert_eq!(code, 0, "{format}: {out}{err}");
        match format {
            "human" => assert_eq!(out, "checked 1 page: no problems\n"),
            "github" => assert_eq!(out, ""),
            "json" => {
                let v: Value = serde_json::from_str(&out).unwrap();
                assert_eq!(v["diagnostics"].as_array().unwrap().len(), 0);
                assert_eq!(v["summary"]["errors"], 0);
            }
            _ => {
                let v: Value = serde_json::from_str(&out).unwrap();
                assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 0);
            }
        }
    }
}

#[test]
fn warnings_fail_only_with_strict() {
    let dir = site(&[(
        "playbooks/ops/a.md",
        "+++\ntitle = \"A\"\n+++\n\nNo steps.\n",
    )]);
    let (code, out, _) = check(dir.path(), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning[empty-checklist]"), "{out}");
    let (code, _, _) = check(dir.path(), &["--strict"]);
    assert_eq!(code, 1);
}

#[test]
fn usage_errors_exit_two() {
    let (code, _, err) = check(&fixture("check-clean"), &["--format", "xml"]);
    assert_eq!(code, 2, "{err}");
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = check(empty.path(), &[]);
    assert_eq!(code, 2, "no content folder: {err}");
    assert!(err.contains("no content folder"), "{err}");
}

#[test]
fn an_invalid_config_is_reported_as_a_problem() {
    let dir = site(&[
        ("scalebook.toml", "titel = \"x\"\n"),
        ("playbooks/a.md", "# A\n"),
    ]);
    let (code, out, _) = check(dir.path(), &["--format", "github"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("::error file=scalebook.toml,title=config::") && out.contains("titel"),
        "{out}"
    );
}

#[test]
fn check_writes_nothing() {
    let dir = copy_fixture("check-problems");
    let before: Vec<_> = walkdir::WalkDir::new(dir.path())
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect();
    let (code, _, _) = check(dir.path(), &[]);
    assert_eq!(code, 1);
    let after: Vec<_> = walkdir::WalkDir::new(dir.path())
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect();
    assert_eq!(before, after, "no output folder, no cache");
}

#[test]
fn the_review_page_lists_overdue_playbooks_first() {
    let (_, files) = build(&fixture("check-problems"));
    let html = text(&files, "reviews/index.html");
    let main = main_of(&html);
    assert!(main.contains("1 playbook is overdue for review."), "{main}");
    let overdue = main.find("Overdue</a>").expect("overdue row");
    let good = main.find("Restart the API</a>").expect("ok row");
    assert!(overdue < good, "overdue first");
    assert!(main.contains("<tr class=\"status-overdue\">"), "{main}");
    assert!(main.contains("<tr class=\"status-ok\">"), "{main}");
}

/// A local site to link to: answers by path and records what it saw.
struct LinkServer {
    port: u16,
    hits: Arc<Mutex<BTreeMap<String, usize>>>,
    max_active: Arc<AtomicUsize>,
}

fn link_server() -> LinkServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let active = Arc::new(AtomicUsize::new(0));
    let max_active = Arc::new(AtomicUsize::new(0));
    let (h, a, m) = (hits.clone(), active.clone(), max_active.clone());
    std::thread::spawn(move || {
        // Bounded: the check makes well under 100 requests.
        for stream in listener.incoming().take(100) {
            let Ok(mut stream) = stream else { continue };
            let (h, a, m) = (h.clone(), a.clone(), m.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap_or(0);
                loop {
                    let mut hl = String::new();
                    if reader.read_line(&mut hl).unwrap_or(0) == 0 || hl.trim().is_empty() {
                        break;
                    }
                }
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                let n = {
                    let mut hits = h.lock().unwrap();
                    let n = hits.entry(format!("{method} {path}")).or_insert(0);
                    *n += 1;
                    *n
                };
                let (status, extra) = match path.as_str() {
                    "/ok" => ("200 OK", ""),
                    "/gone" => ("404 Not Found", ""),
                    "/limited" if n == 1 => ("429 Too Many Requests", "Retry-After: 1\r\n"),
                    "/limited" => ("200 OK", ""),
                    "/always-limited" => ("429 Too Many Requests", "Retry-After: 600\r\n"),
                    "/no-head" if method == "HEAD" => ("405 Method Not Allowed", ""),
                    "/no-head" => ("200 OK", ""),
                    "/broken" => ("503 Service Unavailable", ""),
                    "/slow" => {
                        std::thread::sleep(Duration::from_millis(2500));
                        ("200 OK", "")
                    }
                    // The politeness probe: how many of these overlap.
                    p if p.starts_with("/p") => {
                        let now = a.fetch_add(1, Ordering::SeqCst) + 1;
                        m.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(400));
                        a.fetch_sub(1, Ordering::SeqCst);
                        ("200 OK", "")
                    }
                    _ => ("404 Not Found", ""),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
            });
        }
    });
    LinkServer {
        port,
        hits,
        max_active,
    }
}

#[test]
fn external_links_are_checked_politely_and_failures_reported_where_written() {
    let srv = link_server();
    let u = |p: &str| format!("http://127.0.0.1:{}{p}", srv.port);
    let mut body = format!(
        "+++\ntitle = \"External\"\nowner = \"sre\"\n+++\n\n- [ ] Read [ok]({}) and [again]({})\n",
        u("/ok"),
        u("/ok#part")
    );
    for p in [
        "/gone",
        "/limited",
        "/always-limited",
        "/no-head",
        "/broken",
        "/slow",
    ] {
        body.push_str(&format!("- [ ] [{p}]({})\n", u(p)));
    }
    for i in 1..=6 {
        body.push_str(&format!("- [ ] <{}>\n", u(&format!("/p{i}"))));
    }
    let dir = site(&[("playbooks/ops/ext.md", &body)]);

    let (code, _, _) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 0, "without --external no request is made");
    assert!(srv.hits.lock().unwrap().is_empty());

    let started = std::time::Instant::now();
    let (code, out, err) = check(
        dir.path(),
        &["--format", "json", "--external", "--timeout", "1"],
    );
    assert!(started.elapsed() < Duration::from_secs(12), "bounded");
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let got: Vec<(String, u64, u64, String)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "external-link")
        .map(|d| {
            assert_eq!(d["path"], "playbooks/ops/ext.md");
            (
                d["severity"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["col"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let sev_line: Vec<(&str, u64, u64)> = got
        .iter()
        .map(|(s, l, c, _)| (s.as_str(), *l, *c))
        .collect();
    assert_eq!(
        sev_line,
        vec![
            ("error", 7, 7),    // gone
            ("warning", 9, 7),  // always-limited
            ("warning", 11, 7), // broken
            ("warning", 12, 7), // slow
        ],
        "{got:#?}"
    );
    assert!(got[0].3.contains("/gone` answered 404"), "{}", got[0].3);
    assert!(got[1].3.contains("Retry-After 600s"), "{}", got[1].3);
    assert!(got[2].3.contains("answered 503"), "{}", got[2].3);
    assert!(
        got[3].3.contains("did not answer within 1s"),
        "{}",
        got[3].3
    );

    let hits = srv.hits.lock().unwrap().clone();
    assert_eq!(
        hits.get("HEAD /ok"),
        Some(&1),
        "one request per URL: {hits:?}"
    );
    assert_eq!(
        hits.get("HEAD /limited"),
        Some(&2),
        "retried after 429: {hits:?}"
    );
    assert_eq!(
        hits.get("GET /no-head"),
        Some(&1),
        "GET after 405: {hits:?}"
    );
    let overlap = srv.max_active.load(Ordering::SeqCst);
    assert!(
        (1..=2).contains(&overlap),
        "at most two requests at a time to one host, saw {overlap}"
    );
}

#[test]
fn playbooks_never_drilled_are_noted_until_a_drill_is_recorded() {
    let page = |drill: &str| {
        format!("+++\ntitle = \"P\"\n{drill}+++\n\n- [ ] Check\n\n  ```sh verify\n  true\n  ```\n")
    };
    let never = site(&[("playbooks/ops/p.md", &page(""))]);
    let (code, out, _) = check(never.path(), &["--strict"]);
    assert_eq!(code, 0, "a notice never fails --strict: {out}");
    assert!(out.contains("playbooks/ops/p.md: note[never-drilled]: playbook has 1 runnable or verify block(s) and has never been drilled"), "{out}");
    let drilled = site(&[("playbooks/ops/p.md", &page("last_drill = 2026-11-01\n"))]);
    let (_, out, _) = check(drilled.path(), &[]);
    assert!(!out.contains("never-drilled"), "{out}");
}

/// `check` skips highlighting and the search index (its output is thrown away); that must never
/// hide a problem. The fixtures with code blocks, parameters in code and broken content report
/// the same both ways, and the skipped work really is skipped.
#[test]
fn diagnostics_only_builds_report_the_same_problems() {
    for name in ["check-problems", "basic", "run-site"] {
        let root = fixture(name);
        let (full, full_files) = build(&root);
        let mut opts = options(&root);
        opts.diagnostics_only = true;
        let (plain, plain_files) = build_with(opts);
        assert!(!full.diagnostics.is_empty() || name != "check-problems");
        assert_eq!(full.diagnostics, plain.diagnostics, "{name}");
        assert_eq!(full.pages, plain.pages, "{name}");
        let spans = |files: &BTreeMap<String, Vec<u8>>| {
            files
                .values()
                .filter(|b| String::from_utf8_lossy(b).contains("<span class=\"hl-"))
                .count()
        };
        assert!(spans(&full_files) > 0, "{name} has highlighted code");
        assert_eq!(spans(&plain_files), 0, "{name}");
        let index = |files: &BTreeMap<String, Vec<u8>>| {
            files
                .keys()
                .filter(|k| k.starts_with("search/idx-"))
                .count()
        };
        assert!(index(&full_files) > 0, "{name} has a search index");
        assert_eq!(index(&plain_files), 0, "{name}");
        // Every page is still rendered (a template error is a problem to report).
        assert!(plain_files.keys().any(|k| k.ends_with("/index.html")));
    }
}
