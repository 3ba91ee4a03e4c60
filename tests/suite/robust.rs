//! Robustness: whatever a page holds — arbitrary bytes, odd front matter, any markdown — a
//! build never panics and never writes outside its output folder. Property tests (proptest),
//! kept small (64 cases each) so `cargo test` stays quick; `fuzz/` runs the same pipeline for
//! longer.

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use scalebook::output::{check_rel_path, Memory, Staging};
use std::collections::BTreeSet;
use std::path::Path;

/// 64 cases from a fixed seed, so CI is repeatable; `PROPTEST_CASES=5000
/// PROPTEST_RNG_SEED=$RANDOM cargo test --test suite robust` explores further.
fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 64;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = RngSeed::Fixed(0x5ca1_eb00);
    }
    // A failure is shrunk, but not for long: the report names the input either way.
    c.max_shrink_iters = 256;
    c.failure_persistence = None;
    c
}

/// A small site whose one playbook holds `page`, next to a sibling so links have a target.
fn site_with(page: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let content = dir.path().join("playbooks");
    std::fs::create_dir_all(content.join("topic")).unwrap();
    std::fs::write(content.join("_index.md"), "# Home\n").unwrap();
    std::fs::write(content.join("topic/_index.md"), "# Topic\n").unwrap();
    std::fs::write(
        content.join("topic/other.md"),
        "+++\ntitle = \"Other\"\n+++\n## Steps\n\n- [ ] one\n",
    )
    .unwrap();
    std::fs::write(content.join("topic/page.md"), page).unwrap();
    dir
}

/// Builds into memory: must not panic, and every path written must stay in the output.
fn build_in_memory(page: &[u8]) -> Result<(), TestCaseError> {
    let dir = site_with(page);
    let opts = crate::util::options(dir.path());
    let mem = Memory::default();
    // An `Err` (an unreadable site) is an answer too; only a panic or a bad path is a bug.
    let _ = scalebook::site::build(&opts, &mem);
    for key in mem.into_files().keys() {
        prop_assert!(check_rel_path(key).is_ok(), "wrote `{key}`");
    }
    Ok(())
}

/// Every file under `root`, relative to it.
fn files_under(root: &Path) -> BTreeSet<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            e.path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Builds to disk through `Staging`, as `scalebook build` does: nothing may appear anywhere
/// but the output folder, and no staging folder may be left behind.
fn build_on_disk(page: &[u8]) -> Result<(), TestCaseError> {
    let dir = site_with(page);
    let before = files_under(dir.path());
    let out = dir.path().join("public");
    let mut opts = crate::util::options(dir.path());
    opts.out = out.clone();
    let staging = Staging::begin(&out).expect("staging");
    match scalebook::site::build(&opts, &staging) {
        Ok(report) if report.errors() == 0 => staging.commit().expect("commit"),
        // A failed build drops the staging folder, as `scalebook build` does.
        _ => drop(staging),
    }
    let after: BTreeSet<String> = files_under(dir.path())
        .into_iter()
        .filter(|f| !Path::new(f).starts_with("public"))
        .collect();
    prop_assert_eq!(&after, &before, "files appeared outside the output folder");
    Ok(())
}

/// Front matter that looks like TOML or YAML, with values aimed at paths and parsers.
fn front_matter() -> impl Strategy<Value = String> {
    let mut keys = scalebook::content::front_matter::KEYS.to_vec();
    keys.push("nonsense");
    let key = prop::sample::select(keys);
    let value = prop_oneof![
        prop::sample::select(vec![
            "\"../../../escape\"",
            "[\"../../x\", \"/etc/passwd\", \"a/../../b\", \"C:\\\\x\", \"//host/x\", \"ok/alias\"]",
            "\"/abs/slug\"",
            "\"a\\u0000b\"",
            "\"..\"",
            "\"case-study\"",
            "\"playbook\"",
            "2024-02-30",
            "\"2024-13-01\"",
            "9999999999999999999",
            "-1",
            "true",
            "\"90d\"",
            "\"0d\"",
            "[[1, 2], {a = 1}]",
            "{ name = \"X\", default = \"${Y}\" }",
            "[{ metric = \"p95\", before = 1e308, after = -0.0, unit = \"ms\" }]",
            "[{ name = \"A B\" }, { name = \"A B\" }]",
            "\"\"",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,30}".prop_map(|s| format!("\"{}\"", s.replace(['"', '\\'], ""))),
        any::<String>(),
    ];
    let line = (key, value).prop_map(|(k, v)| (k.to_string(), v));
    (any::<bool>(), prop::collection::vec(line, 0..6), markdown()).prop_map(
        |(toml, lines, body)| {
            let (fence, sep) = if toml { ("+++", " = ") } else { ("---", ": ") };
            let mut s = format!("{fence}\n");
            for (k, v) in lines {
                s.push_str(&k);
                s.push_str(sep);
                s.push_str(&v);
                s.push('\n');
            }
            s.push_str(fence);
            s.push('\n');
            s.push_str(&body);
            s
        },
    )
}

/// Markdown built from the constructs scalebook treats specially, in random order and nesting.
fn markdown() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("# Title\n".to_string()),
        Just("## Steps {#steps}\n".to_string()),
        Just("## Steps {#steps}\n".to_string()),
        Just("### main\n".to_string()),
        Just("- [ ] step one\n".to_string()),
        Just("- [x] step two\n  - [ ] nested\n".to_string()),
        Just("1. [ ] ordered step\n".to_string()),
        Just("```sh run\nkubectl scale --replicas=${N}\n```\n".to_string()),
        Just("```sh verify expect=\"^ok$\"\necho ok\n```\n".to_string()),
        Just("```\nunterminated\n".to_string()),
        Just("[other](other.md#steps--one)\n".to_string()),
        Just("[up](../../../../etc/passwd)\n".to_string()),
        Just("[self](#nowhere)\n".to_string()),
        Just("![](../../img.png)\n".to_string()),
        Just("| a | b |\n|---|---|\n| ${X} | `$${Y}` |\n".to_string()),
        Just("[^1]\n\n[^1]: note\n".to_string()),
        Just("<div>raw <script>x</script></div>\n".to_string()),
        Just("> - [ ] quoted task\n".to_string()),
        Just("---\n".to_string()),
        Just("\n".to_string()),
        any::<String>(),
        "[-#*>\\[\\]()`{}$!|: a-z\n]{0,40}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

/// Found by the properties below: a step slug cut at 48 bytes inside a multi-byte character.
#[test]
fn a_long_step_with_a_multibyte_character_at_the_slug_limit_builds() {
    let page = format!(
        "## Steps\n\n- [ ] {}\u{e9} and more words\n",
        "a".repeat(47)
    );
    build_in_memory(page.as_bytes()).unwrap();
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_as_a_page_build_safely(page in prop::collection::vec(any::<u8>(), 0..2048)) {
        build_in_memory(&page)?;
    }

    #[test]
    fn arbitrary_front_matter_builds_safely(page in front_matter()) {
        build_in_memory(page.as_bytes())?;
    }

    #[test]
    fn arbitrary_markdown_builds_safely(body in markdown()) {
        build_in_memory(body.as_bytes())?;
    }

    #[test]
    fn arbitrary_pages_never_write_outside_the_output_folder(page in front_matter()) {
        build_on_disk(page.as_bytes())?;
    }
}
