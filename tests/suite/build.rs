//! `scalebook build`: output shape, links, base URL, overrides, errors, atomicity,
//! determinism, and the repository's own library.

use crate::util::*;
use std::collections::BTreeSet;

#[test]
fn builds_every_kind_of_page_and_file() {
    let (report, files) = build(&fixture("basic"));
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    for f in [
        "index.html",
        "ops/index.html",
        "ops/restart/index.html",
        "ops/notes/index.html",
        "ops/plain/index.html",
        "cases/sale/index.html",
        "tags/index.html",
        "tags/restarts/index.html",
        "tags/kubernetes/index.html",
        "reviews/index.html",
        "search/index.html",
        "old/restart/index.html",
        "ops/diagram.svg",
        "sitemap.xml",
        "atom.xml",
        "robots.txt",
        "404.html",
    ] {
        assert!(files.contains_key(f), "missing {f}");
    }
    let css: Vec<&String> = files
        .keys()
        .filter(|k| k.starts_with("theme/style.") && k.ends_with(".css"))
        .collect();
    assert_eq!(css.len(), 1, "one content-hashed stylesheet: {css:?}");
    assert!(text(&files, "ops/restart/index.html").contains(&format!("href=\"../../{}\"", css[0])));
    assert_eq!(report.pages, 4);
}

#[test]
fn relative_markdown_links_become_page_urls() {
    let (_, files) = build(&fixture("basic"));
    let restart = text(&files, "ops/restart/index.html");
    let main = main_of(&restart);
    assert!(
        main.contains("href=\"../../ops/notes/#background\""),
        "{main}"
    );
    assert!(main.contains("href=\"../../ops/plain/\""), "{main}");
    assert!(main.contains("src=\"../../ops/diagram.svg\""), "{main}");
    let home = text(&files, "index.html");
    assert!(main_of(&home).contains("href=\"./ops/restart/#before\""));
    let notes = text(&files, "ops/notes/index.html");
    assert!(
        main_of(&notes).contains("href=\"../../ops/restart/#before--tell-the-channel\""),
        "a link to a step anchor resolves"
    );
}

#[test]
fn absolute_urls_honour_the_sub_path_of_base_url() {
    let (_, files) = build(&fixture("basic"));
    let page = text(&files, "ops/restart/index.html");
    assert!(page
        .contains("<link rel=\"canonical\" href=\"https://example.org/runbooks/ops/restart/\">"));
    let sitemap = text(&files, "sitemap.xml");
    assert!(
        sitemap.contains(
            "<loc>https://example.org/runbooks/ops/restart/</loc><lastmod>2026-10-01</lastmod>"
        ),
        "{sitemap}"
    );
    assert!(text(&files, "atom.xml")
        .contains("<link href=\"https://example.org/runbooks/ops/restart/\"/>"));
    assert!(
        text(&files, "robots.txt").contains("Sitemap: https://example.org/runbooks/sitemap.xml")
    );
    // 404.html is served at any depth, so it links through the absolute base path.
    let nf = text(&files, "404.html");
    assert!(nf.contains("href=\"/runbooks/theme/style."), "{nf}");
    assert!(main_of(&nf).contains("href=\"/runbooks/\""));
    // Overriding the base URL (as `--base-url` does) moves every absolute link.
    let mut o = options(&fixture("basic"));
    o.config.base_url = "https://docs.example.com/".into();
    let (_, files) = build_with(o);
    assert!(
        text(&files, "sitemap.xml").contains("<loc>https://docs.example.com/ops/restart/</loc>")
    );
    assert!(text(&files, "404.html").contains("href=\"/theme/style."));
}

#[test]
fn titles_come_from_front_matter_then_heading_then_file_name() {
    let (_, files) = build(&fixture("basic"));
    assert!(text(&files, "ops/plain/index.html").contains("<h1>A page without front matter</h1>"));
    let restart = text(&files, "ops/restart/index.html");
    assert_eq!(
        main_of(&restart).matches("<h1").count(),
        1,
        "a body `# Title` equal to the title is not repeated"
    );
    let dir = site(&[("playbooks/x/black-friday_prep.md", "Just text.\n")]);
    let (_, files) = build(dir.path());
    assert!(text(&files, "x/black-friday_prep/index.html").contains("<h1>Black friday prep</h1>"));
}

#[test]
fn yaml_front_matter_is_read_like_toml() {
    let (_, files) = build(&fixture("basic"));
    let notes = text(&files, "ops/notes/index.html");
    assert!(notes.contains("<h1>Notes on restarts</h1>"));
    assert!(notes.contains("<dd>sre</dd>"));
    assert!(notes.contains("<time datetime=\"2025-05-01\">"));
    // last_reviewed 2025-01-01 + 90d (site default) is long past.
    assert!(notes.contains("review review-overdue"));
}

#[test]
fn code_is_highlighted_with_classes_and_unknown_languages_stay_plain() {
    let (_, files) = build(&fixture("basic"));
    let main = text(&files, "ops/restart/index.html");
    // One short class per token, never syntect's scope stacks.
    assert!(
        main.contains("<code class=\"language-python\"><span class=\"hl-k\">"),
        "{main}"
    );
    assert!(!main.contains("hl-source") && !main.contains("hl-meta"));
    assert!(main.contains("<code class=\"language-no-such-language\">a &lt; b\n</code>"));
    let css_name = files
        .keys()
        .find(|k| k.starts_with("theme/highlight."))
        .unwrap();
    assert!(text(&files, css_name).contains(".hl-k {"));
}

#[test]
fn checklist_steps_params_and_page_data_are_in_the_page() {
    let (_, files) = build(&fixture("basic"));
    let page = text(&files, "ops/restart/index.html");
    assert!(page.contains("<li class=\"sb-step\" id=\"before--tell-the-channel\" data-step=\"before--tell-the-channel\" data-group=\"before\">"));
    assert!(page.contains("<span class=\"sb-param\" data-param=\"SERVICE\">${SERVICE}</span>"));
    assert!(page.contains("<div class=\"sb-code\" data-lang=\"sh\" data-run=\"verify\" data-expect=\"successfully rolled out\">"));
    let open = "<script type=\"application/json\" id=\"sb-page-data\">";
    let data_start = page.find(open).expect("page data") + open.len();
    let data_end = page[data_start..].find("</script>").unwrap() + data_start;
    let data: serde_json::Value = serde_json::from_str(&page[data_start..data_end]).unwrap();
    assert_eq!(data["page"], "ops/restart/");
    assert_eq!(data["steps"].as_array().unwrap().len(), 3);
    assert_eq!(data["steps"][1]["text"], "Check ${SERVICE} is healthy");
    assert_eq!(data["params"][0]["default"], "checkout");
    assert_eq!(data["groups"][1]["id"], "verify");
    // Case studies: outcomes as an accessible chart and a table, no checklist.
    let case = text(&files, "cases/sale/index.html");
    assert!(case.contains("<svg class=\"sb-chart\" role=\"img\""));
    assert!(
        case.contains("<td>3 s</td><td>0.9 s</td><td class=\"better\">-70% (better)</td>"),
        "{case}"
    );
    assert!(case.contains("<td class=\"better\">+15% (better)</td>"));
    assert!(!case.contains("sb-page-data"));
}

#[test]
fn home_lists_topics_recent_pages_case_studies_and_overdue_reviews() {
    let (_, files) = build(&fixture("basic"));
    let home = text(&files, "index.html");
    let main = main_of(&home);
    for s in [
        "Topics",
        "Recently updated",
        "Case studies",
        "Overdue reviews",
        "Traffic spiking right now?",
    ] {
        assert!(main.contains(s), "home lacks {s}");
    }
    let overdue =
        &main[main.find("Overdue reviews").unwrap()..main.find("Recently updated").unwrap()];
    assert!(
        overdue.contains("Notes on restarts") && !overdue.contains("Restart the service"),
        "{overdue}"
    );
    let reviews = text(&files, "reviews/index.html");
    let notes_at = reviews.find("Notes on restarts").unwrap();
    let restart_at = reviews.find("Restart the service").unwrap();
    assert!(notes_at < restart_at, "overdue playbooks are listed first");
}

#[test]
fn site_templates_and_theme_files_override_the_defaults_by_name() {
    let dir = site(&[
        ("playbooks/a.md", "# A\n\ntext\n"),
        ("templates/page.html", "{% extends \"base.html\" %}{% block content %}<p class=\"custom\">{{ page.title }}</p>{% endblock content %}"),
        ("theme/style.css", "body { color: red }"),
        ("theme/extra.css", "p { margin: 0 }"),
    ]);
    let (report, files) = build(dir.path());
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let page = text(&files, "a/index.html");
    assert!(
        main_of(&page).contains("<p class=\"custom\">A</p>"),
        "site template wins"
    );
    assert!(
        page.contains("class=\"skip-link\""),
        "the default base.html is still used"
    );
    let style = files
        .keys()
        .find(|k| k.starts_with("theme/style."))
        .unwrap();
    assert_eq!(text(&files, style), "body { color: red }");
    assert!(
        files
            .keys()
            .any(|k| k.starts_with("theme/extra.") && k.ends_with(".css")),
        "new theme files are published"
    );
    assert!(
        files.keys().any(|k| k.starts_with("theme/checklist.")),
        "defaults not overridden stay"
    );
}

#[test]
fn the_embedded_table_lists_exactly_the_template_and_theme_folders() {
    let mut on_disk = BTreeSet::new();
    for dir in ["templates", "theme"] {
        for e in walkdir::WalkDir::new(repo_root().join(dir))
            .into_iter()
            .filter_map(Result::ok)
        {
            if e.file_type().is_file() {
                on_disk.insert(
                    e.path()
                        .strip_prefix(repo_root())
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    let embedded: BTreeSet<String> = scalebook::assets::EMBEDDED
        .iter()
        .map(|e| e.path.to_string())
        .collect();
    assert_eq!(embedded, on_disk);
    for e in scalebook::assets::EMBEDDED {
        assert_eq!(
            e.bytes,
            std::fs::read(repo_root().join(e.path)).unwrap().as_slice(),
            "{}",
            e.path
        );
    }
}

#[test]
fn a_folder_of_plain_markdown_builds_with_the_embedded_defaults() {
    let dir = site(&[("playbooks/runbook.md", "# Disk full\n\n- [ ] Free space\n")]);
    let (report, files) = build(dir.path());
    assert_eq!(report.errors(), 0);
    assert!(text(&files, "runbook/index.html").contains("<h1>Disk full</h1>"));
}

#[test]
fn two_builds_give_identical_bytes() {
    let (_, a) = build(&fixture("basic"));
    let (_, b) = build(&fixture("basic"));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(v == &b[k], "{k} differs between builds");
    }
}

#[test]
fn the_highlight_cache_never_changes_output() {
    let dir = copy_fixture("basic");
    let mut o = options(dir.path());
    let (_, cold) = build_with(o.clone());
    o.no_cache = false;
    let (_, fill) = build_with(o.clone());
    assert!(dir.path().join(".scalebook-cache/highlight.idx").exists());
    let (_, warm) = build_with(o);
    assert_eq!(cold, fill);
    assert_eq!(cold, warm);
}

fn errors_of(files: &[(&str, &str)]) -> Vec<scalebook::diagnostics::Diagnostic> {
    let dir = site(files);
    let (report, _) = build(dir.path());
    report
        .diagnostics
        .into_iter()
        .filter(|d| d.is_error())
        .collect()
}

#[test]
fn every_content_error_is_collected_with_its_position() {
    let errs = errors_of(&[
        (
            "playbooks/a.md",
            "+++\ntitle = \"A\"\nownr = \"x\"\n+++\n\nSee [b](b.md) and [c](missing.md).\n",
        ),
        (
            "playbooks/b.md",
            "+++\ntitle = \"B\"\n+++\n\n[back](a.md#nowhere)\n\n`${UNDECLARED}`\n",
        ),
    ]);
    let got: Vec<(String, usize, usize, &str)> = errs
        .iter()
        .map(|d| (d.path.to_string_lossy().into_owned(), d.line, d.col, d.rule))
        .collect();
    assert_eq!(
        got,
        vec![
            ("playbooks/a.md".into(), 3, 1, "front-matter-unknown-key"),
            ("playbooks/a.md".into(), 6, 19, "broken-link"),
            ("playbooks/b.md".into(), 5, 1, "broken-anchor"),
            ("playbooks/b.md".into(), 7, 2, "undeclared-param"),
        ]
    );
    assert_eq!(
        errs[0].hint.as_deref(),
        Some("did you mean `owner`? Free-form fields go under `[extra]`")
    );
}

#[test]
fn unsafe_slugs_and_aliases_are_rejected_and_nothing_is_written_outside() {
    let errs = errors_of(&[
        ("playbooks/a.md", "+++\nslug = \"../../x\"\n+++\n"),
        (
            "playbooks/b.md",
            "+++\naliases = [\"../../../etc/evil\"]\n+++\n",
        ),
    ]);
    let rules: Vec<&str> = errs.iter().map(|d| d.rule).collect();
    assert_eq!(rules, vec!["unsafe-path", "unsafe-path"]);
}

#[test]
fn two_sources_with_one_url_name_both_files() {
    let errs = errors_of(&[
        ("playbooks/x/a.md", "# A\n"),
        ("playbooks/x/b.md", "+++\nslug = \"a\"\n+++\n"),
    ]);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].rule, "duplicate-url");
    assert!(errs[0].message.contains("playbooks/x/a.md") || errs[0].path.ends_with("a.md"));
    assert!(
        errs[0].to_string().contains("playbooks/x/a.md")
            && errs[0].to_string().contains("playbooks/x/b.md"),
        "{}",
        errs[0]
    );
}

#[test]
fn bad_files_give_clear_errors_or_warnings_never_a_panic() {
    let dir = site(&[
        ("playbooks/ok.md", "# Ok\n"),
        ("playbooks/empty.md", ""),
        ("playbooks/unclosed.md", "+++\ntitle = \"x\"\n"),
    ]);
    std::fs::write(dir.path().join("playbooks/latin1.md"), b"# Caf\xe9\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        dir.path().join("playbooks"),
        dir.path().join("playbooks/loop"),
    )
    .unwrap();
    let (report, _) = build(dir.path());
    let got: Vec<(&str, String)> = report
        .diagnostics
        .iter()
        .map(|d| (d.rule, d.location()))
        .collect();
    assert!(
        got.contains(&("empty-file", "playbooks/empty.md".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("encoding", "playbooks/latin1.md:1:6".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("front-matter-syntax", "playbooks/unclosed.md:1:1".into())),
        "{got:?}"
    );
    #[cfg(unix)]
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.rule == "io" && d.message.contains("loop")),
        "{got:?}"
    );
}

#[test]
fn failed_build_exits_1_and_leaves_the_previous_site_untouched() {
    let dir = copy_fixture("basic");
    let out = dir.path().join("public");
    let ok = bin()
        .args(["build", "--root"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        String::from_utf8_lossy(&ok.stderr).contains("built 4 pages in 3 sections (2 warnings)"),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let before = std::fs::read(out.join("ops/restart/index.html")).unwrap();
    let src = dir.path().join("playbooks/ops/restart.md");
    let mut text = std::fs::read_to_string(&src).unwrap();
    text.push_str("\nSee [x](gone.md).\n");
    let line = text.lines().count();
    std::fs::write(&src, text).unwrap();
    let bad = bin()
        .args(["build", "--root"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains(&format!(
            "playbooks/ops/restart.md:{line}:5: error[broken-link]: link to missing page `gone.md`"
        )),
        "{err}"
    );
    assert!(err.contains("build failed: 1 error"), "{err}");
    assert_eq!(
        std::fs::read(out.join("ops/restart/index.html")).unwrap(),
        before
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = copy_fixture("basic");
    let out = bin()
        .args(["build", "--base-url", "/relative/", "--root"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be an absolute http(s) URL"));
    let out = bin()
        .args(["build", "--out"])
        .arg(dir.path())
        .arg("--root")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "the site itself is never the output folder"
    );
    assert!(dir.path().join("playbooks/ops/restart.md").exists());
}

#[test]
fn init_and_new_create_sites_that_build_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let site_dir = dir.path().join("runbooks");
    assert!(bin().arg("init").arg(&site_dir).status().unwrap().success());
    let st = bin()
        .args(["new", "payments/failover", "--root"])
        .arg(&site_dir)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let st = bin()
        .args([
            "new",
            "case-studies/failover-drill",
            "--kind",
            "case-study",
            "--root",
        ])
        .arg(&site_dir)
        .output()
        .unwrap();
    assert!(st.status.success());
    let again = bin()
        .args(["new", "payments/failover", "--root"])
        .arg(&site_dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "never overwrites a page");
    let (report, files) = build(&site_dir);
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    assert_eq!(report.pages, 4);
    assert!(text(&files, "payments/failover/index.html").contains("data-run=\"run\""));
    assert!(
        bin().arg("init").arg(&site_dir).status().unwrap().code() == Some(2),
        "init refuses an existing site"
    );
}

#[test]
fn the_repository_library_builds_cleanly_and_does_not_shrink() {
    let (report, files) = build(&repo_root());
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let playbooks: Vec<_> = report
        .page_facts
        .iter()
        .filter(|p| p.kind == scalebook::content::front_matter::Kind::Playbook)
        .collect();
    let cases: Vec<_> = report
        .page_facts
        .iter()
        .filter(|p| p.kind == scalebook::content::front_matter::Kind::CaseStudy)
        .collect();
    assert!(playbooks.len() >= 15, "{} playbooks", playbooks.len());
    assert!(cases.len() >= 6, "{} case studies", cases.len());
    for p in &playbooks {
        assert!(!p.steps.is_empty(), "{} has no checklist", p.src.display());
        assert!(
            p.runnable + p.verify >= 1,
            "{} has no runnable or verify block",
            p.src.display()
        );
    }
    for c in &cases {
        assert!(
            c.outcomes >= 3,
            "{} has {} outcomes",
            c.src.display(),
            c.outcomes
        );
    }
    for topic in ["traffic-surges/", "migrations/", "cost-control/"] {
        assert!(
            playbooks
                .iter()
                .filter(|p| p.url.starts_with(topic))
                .count()
                >= 3,
            "{topic}"
        );
    }
    assert!(main_of(&text(&files, "index.html")).contains("Traffic spiking right now?"));
}

#[test]
fn the_repository_site_passes_check_strict() {
    let out = bin()
        .args(["check", "--strict", "--root"])
        .arg(repo_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 errors, 0 warnings"), "{stdout}");
}

#[test]
fn overdue_reviews_are_reported_at_the_configured_severity() {
    let page = "+++\nowner = \"sre\"\nlast_reviewed = 2020-01-01\nreview_every = \"30d\"\n+++\n\n- [ ] Step\n";
    for (setting, expected) in [
        ("notice", scalebook::diagnostics::Severity::Notice),
        ("warning", scalebook::diagnostics::Severity::Warning),
        ("error", scalebook::diagnostics::Severity::Error),
    ] {
        let config = format!("[review]\noverdue = \"{setting}\"\n");
        let dir = site(&[("scalebook.toml", &config), ("playbooks/a.md", page)]);
        let (report, _) = build(dir.path());
        let d: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.rule == "review-overdue")
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].severity, expected, "{setting}");
    }
}

#[test]
fn a_repository_of_markdown_without_playbooks_folder_is_its_own_content() {
    let dir = site(&[
        ("disk-full.md", "# Disk full\n\n- [ ] Free space\n"),
        (
            "network/dns.md",
            "# DNS outage\n\nSee [disk](../disk-full.md).\n",
        ),
        ("node_modules/pkg/README.md", "# not content\n"),
    ]);
    for _ in 0..2 {
        // The second build must not read the first one's output as content.
        let out = bin()
            .args(["build", "--root"])
            .arg(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("built 2 pages in 2 sections"), "{err}");
    }
    let page = std::fs::read_to_string(dir.path().join("public/network/dns/index.html")).unwrap();
    assert!(main_of(&page).contains("href=\"../../disk-full/\""));
    assert!(!dir.path().join("public/node_modules").exists());
    assert!(!dir.path().join("public/public").exists());
}

/// `edit_url` puts an "Edit this page" link on pages (not sections), pointing at the source
/// file; without it there is no link.
#[test]
fn edit_url_links_each_page_to_its_source() {
    let site = copy_fixture("basic");
    let cfg = site.path().join("scalebook.toml");
    let config = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!("edit_url = \"https://git.example/acme/runbooks/edit/main/{{path}}\"\n{config}"),
    )
    .unwrap();
    let (report, files) = build(site.path());
    assert!(!report.diagnostics.iter().any(|d| d.is_error()));
    let page = text(&files, "ops/restart/index.html");
    assert!(
        page.contains("<p class=\"edit-link\"><a href=\"https://git.example/acme/runbooks/edit/main/playbooks/ops/restart.md\">Edit this page</a></p>"),
        "{page}"
    );
    assert!(!text(&files, "ops/index.html").contains("edit-link"));
    let (_, plain) = build(&fixture("basic"));
    assert!(!text(&plain, "ops/restart/index.html").contains("edit-link"));
}

/// Tags that differ only in case share a URL: they are one tag, whose page lists every page
/// tagged either way (two tags raced for the same file, and one page was lost).
#[test]
fn tags_spelled_differently_are_one_tag_page() {
    let (_, files) = build(&fixture("basic"));
    let page = text(&files, "tags/restarts/index.html");
    assert!(
        page.contains("Restart the service") && page.contains("Notes on restarts"),
        "{page}"
    );
    let index = text(&files, "tags/index.html");
    assert_eq!(
        index.matches("href=\"../tags/restarts/\"").count()
            + index.matches("href=\"restarts/\"").count(),
        1,
        "{index}"
    );
    assert_eq!(
        text(&files, "sitemap.xml")
            .matches("/tags/restarts/</loc>")
            .count(),
        1
    );
}
