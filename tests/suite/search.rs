//! Search relevance on this repo's own playbooks: the labelled queries in
//! `tests/data/search/queries.toml` run through `theme/search.js` under node
//! (the engine the browser runs, as `src/search/agreement.rs` does) against the
//! index files the build writes. Needs `node` on the PATH; set
//! `SCALEBOOK_SKIP_NODE=1` to skip explicitly on a machine without it.
//! `SCALEBOOK_SEARCH_REPORT=1` prints every query's top three.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::util::{build, repo_root};

#[derive(Deserialize)]
struct QuerySet {
    query: Vec<Labelled>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Labelled {
    query: String,
    expect: Vec<String>,
    kind: String,
}

/// Runs each query as the UI does: search; when the engine offers a "Did you
/// mean" (`suggestFor`: a word found nothing), also the query with the first
/// suggestion applied, as the dropdown's first suggestion does. Returns, per query, the
/// top three URLs and, if a suggestion was offered, the corrected query and its
/// top three.
const ENGINE: &str = r#"
const api = require(process.argv[1]);
const fs = require("fs"), zlib = require("zlib"), path = require("path");
const out = process.argv[2];
function unwrap(file, name) {
  const m = /^__sb_search_load\("([^"]+)","([^"]*)"\);\n$/.exec(fs.readFileSync(file, "utf8"));
  if (!m || m[1] !== name) throw new Error(file + " is not a wrapped `" + name + "`");
  return new Uint8Array(zlib.inflateRawSync(Buffer.from(m[2], "base64")));
}
const manifest = JSON.parse(Buffer.from(unwrap(path.join(out, process.argv[3]), "manifest")).toString());
const eng = new api.Engine(manifest, name => Promise.resolve(unwrap(path.join(out, manifest.dir, name + ".js"), name)));
async function top3(q) {
  const r = await eng.search(q);
  const urls = [];
  for (const p of r.pages.slice(0, 3)) urls.push((await eng.fragment(p.page)).u);
  return { r, urls };
}
let input = "";
process.stdin.on("data", d => input += d);
process.stdin.on("end", async () => {
  try {
    const results = [];
    for (const q of JSON.parse(input)) {
      const { r, urls } = await top3(q);
      const row = { urls, corrected: null, corrected_urls: [] };
      const sugg = await eng.suggestFor(r);
      if (sugg.length) {
        {
          row.corrected = api.applySuggestion(q, sugg[0]);
          row.corrected_urls = (await top3(row.corrected)).urls;
        }
      }
      results.push(row);
    }
    process.stdout.write(JSON.stringify(results));
  } catch (e) { console.error(e); process.exit(1); }
});
"#;

#[derive(Deserialize)]
struct Outcome {
    urls: Vec<String>,
    corrected: Option<String>,
    corrected_urls: Vec<String>,
}

fn run_engine(dir: &Path, manifest: &str, queries: &[&str]) -> Option<Vec<Outcome>> {
    if std::env::var_os("SCALEBOOK_SKIP_NODE").is_some() {
        eprintln!("SCALEBOOK_SKIP_NODE set: skipping the search relevance test");
        return None;
    }
    let js = repo_root().join("theme/search.js");
    let mut child = Command::new("node")
        .arg("-e")
        .arg(ENGINE)
        .arg(&js)
        .arg(dir)
        .arg(manifest)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("`node` must be on the PATH to test search.js (or set SCALEBOOK_SKIP_NODE=1)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(queries).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "node failed on {}", js.display());
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn labelled_queries_find_their_pages_in_the_top_three() {
    let text = std::fs::read_to_string(repo_root().join("tests/data/search/queries.toml")).unwrap();
    let set: QuerySet = toml::from_str(&text).expect("queries.toml parses");
    assert!(set.query.len() >= 40, "only {} queries", set.query.len());

    let (report, files) = build(&repo_root());
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = None;
    for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with("search/")) {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
        if path.starts_with("search/manifest-") {
            manifest = Some(path.clone());
        }
    }
    let manifest = manifest.expect("the build writes a hashed manifest");
    // Every expected page exists, so a renamed playbook fails here, not as a miss.
    let urls: Vec<&str> = report.page_facts.iter().map(|p| p.url.as_str()).collect();
    for q in &set.query {
        assert!(
            matches!(q.kind.as_str(), "alert" | "identifier" | "plain" | "typo"),
            "{:?}: unknown kind `{}`",
            q.query,
            q.kind
        );
        for e in &q.expect {
            assert!(
                urls.contains(&e.as_str()),
                "{:?} expects unknown page `{e}`",
                q.query
            );
        }
    }

    let queries: Vec<&str> = set.query.iter().map(|q| q.query.as_str()).collect();
    let Some(outcomes) = run_engine(dir.path(), &manifest, &queries) else {
        return;
    };
    let verbose = std::env::var_os("SCALEBOOK_SEARCH_REPORT").is_some();
    let mut per_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for (q, o) in set.query.iter().zip(&outcomes) {
        let hit_in = |urls: &[String]| urls.iter().any(|u| q.expect.contains(u));
        let hit = hit_in(&o.urls) || (q.kind == "typo" && hit_in(&o.corrected_urls));
        let k = per_kind.entry(q.kind.as_str()).or_default();
        k.0 += hit as usize;
        k.1 += 1;
        let line = format!(
            "{} [{}] {:?} -> {:?}{}",
            if hit { "hit " } else { "MISS" },
            q.kind,
            q.query,
            o.urls,
            match &o.corrected {
                Some(c) => format!(" | did you mean {c:?} -> {:?}", o.corrected_urls),
                None => String::new(),
            }
        );
        if verbose {
            eprintln!("{line}");
        }
        if !hit {
            misses.push(format!("{line}\n     expected one of {:?}", q.expect));
        }
    }
    let (hits, total) = per_kind
        .values()
        .fold((0, 0), |(h, t), (kh, kt)| (h + kh, t + kt));
    eprintln!(
        "search relevance: {hits}/{total} queries hit the top 3 ({:.0}%)",
        100.0 * hits as f64 / total as f64
    );
    for (kind, (h, t)) in &per_kind {
        eprintln!("  {kind:<10} {h}/{t}");
    }
    assert!(misses.is_empty(), "misses:\n{}", misses.join("\n"));
}
