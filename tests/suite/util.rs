//! Shared helpers: fixture sites, in-process builds, the real binary.

#![allow(dead_code)]

use scalebook::config::BuildOptions;
use scalebook::output::Memory;
use scalebook::site::Report;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fixed "today" so review status never depends on the day the tests run.
pub const TODAY: &str = "2026-11-29";

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A site in a fresh temporary folder, from `(path, text)` pairs.
pub fn site(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// A copy of a fixture site in a temporary folder (for tests that edit or build to disk).
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&fixture(name), dir.path());
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = e.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

pub fn options(root: &Path) -> BuildOptions {
    let mut o = BuildOptions::for_root(root).expect("options");
    o.today = scalebook::dates::Date::parse(TODAY).unwrap().0;
    o.no_cache = true;
    o
}

/// Builds in memory; returns the report and every file written.
pub fn build(root: &Path) -> (Report, BTreeMap<String, Vec<u8>>) {
    build_with(options(root))
}

pub fn build_with(opts: BuildOptions) -> (Report, BTreeMap<String, Vec<u8>>) {
    let mem = Memory::default();
    let report = scalebook::site::build(&opts, &mem).expect("build ran");
    (report, mem.into_files())
}

pub fn text(files: &BTreeMap<String, Vec<u8>>, path: &str) -> String {
    let bytes = files.get(path).unwrap_or_else(|| {
        panic!(
            "no file {path}; have {:?}",
            files.keys().take(40).collect::<Vec<_>>()
        )
    });
    String::from_utf8(bytes.clone()).unwrap()
}

/// The `<main>` element of a page: what a test should compare, not the chrome around it.
pub fn main_of(html: &str) -> &str {
    let start = html.find("<main").expect("a <main> element");
    let end = html.rfind("</main>").expect("a </main>") + "</main>".len();
    &html[start..end]
}

/// The real binary, with a fixed date.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scalebook"));
    c.env("SCALEBOOK_TODAY", TODAY).env("NO_COLOR", "1");
    c
}
