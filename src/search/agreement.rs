//! The browser must turn a query into the same terms as the build. These tests
//! run `theme/search.js` under node (its `module.exports` branch) over a word
//! list generated here and compare its stemmer and tokenizer with the Rust
//! ones. They need `node` on the PATH; set `SCALEBOOK_SKIP_NODE=1` to skip them
//! explicitly on a machine without it.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::text::{english_stemmer, tokenize};

const SCRIPT: &str = r#"
const api = require(process.argv[1]);
let input = "";
process.stdin.on("data", d => input += d);
process.stdin.on("end", () => {
  const req = JSON.parse(input);
  const out = {
    stems: req.words.map(api.stem),
    groups: req.texts.map(t => api.tokenize(t).map(g => [g.whole, g.parts, g.surface])),
  };
  process.stdout.write(JSON.stringify(out));
});
"#;

/// Runs search.js under node on `request`; None when skipping is asked for.
fn run_node(request: &serde_json::Value) -> Option<serde_json::Value> {
    if std::env::var_os("SCALEBOOK_SKIP_NODE").is_some() {
        eprintln!("SCALEBOOK_SKIP_NODE set: skipping the search.js agreement test");
        return None;
    }
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("theme/search.js");
    let mut child = Command::new("node")
        .arg("-e")
        .arg(SCRIPT)
        .arg(&js)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("`node` must be on the PATH to test search.js (or set SCALEBOOK_SKIP_NODE=1)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "node failed on {}", js.display());
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// Words that reach every branch of the Snowball English stemmer: the
/// algorithm's exceptions and classic examples, plus bases crossed with the
/// suffixes each step removes.
pub fn word_list() -> Vec<String> {
    let fixed = "a aa is as us gas this kiwis ties cries dies caress caresses ponies ties sky skies \
        skis dying lying tying idly gently ugly early only singly news howe atlas cosmos bias andes \
        inning innings outing canning herring earring proceed exceed succeed generate generous \
        communism community arsenal arsenic feed agreed agreedly plastered bled motoring sing \
        conflated troubled sized hopping tanned falling hissing fizzed failing filing luxuriate \
        happy sky cry say boy by toy yelling youth yes syzygy abyss rational valency hesitancy \
        digitizer conformably radically differently vilely analogously vietnamization predication \
        operator feudalism decisiveness hopefulness callousness formality sensitivity \
        sensibility triplicate formative formalize electricity electrical hopeful goodness \
        revival allowance inference airliner gyroscopic adjustable defensible irritant \
        replacement adjustment dependent adoption homologou communism activate angularity \
        homologous effective bowdlerize probate rate cease controll roll fluently \
        knightly quickly logically archaeology geology ecology fully lessly \
        helpfully carelessly apology tional ational enci anci abli entli izer ization ation \
        ator alism aliti alli fulness ousli ousness iveness iviti biliti bli ogi fulli lessli \
        ied ies sses eed ing ingly edly 'tis o'clock dog's dogs' user's ' y yy yyy \
        kube proxy oomkilled p95 5xx restart restarting restarted restarts throttling \
        latency latencies replica replicas scaling autoscaling rollback rollbacks \
        caf\u{e9} na\u{ef}ve stra\u{df}e \u{3b1}\u{3b2}\u{3b3} \u{432}\u{43e}\u{434}\u{430} \
        emeritus bus focus census plus thus abyss pass mass";
    let bases = [
        "connect", "gener", "hope", "run", "happ", "relat", "fail", "cri", "agre", "plaster",
        "motor", "conflat", "size", "hop", "tan", "fall", "hiss", "fizz", "fil", "luxur", "ration",
        "valen", "digit", "conform", "radic", "differ", "vile", "analog", "predic", "operat",
        "feud", "decis", "callous", "formal", "sensit", "triplic", "electr", "revi", "allow",
        "infer", "airlin", "gyroscop", "adjust", "defens", "irrit", "replac", "depend", "adopt",
        "activ", "angular", "homolog", "effect", "bowdler", "prob", "ceas", "control", "roll",
        "fluent", "knight", "quick", "log", "geolog", "help", "care", "deploy", "scal", "throttl",
        "cach", "shard", "index", "queue", "drain", "evict", "ab", "bat", "beat", "y", "oy", "eye",
    ];
    let suffixes = [
        "", "s", "es", "ed", "ing", "ly", "ness", "ational", "tional", "ization", "ation", "ator",
        "izer", "fulness", "iveness", "ousness", "ement", "ment", "ent", "ance", "ence", "able",
        "ible", "ous", "ive", "ize", "ise", "ion", "sion", "tion", "er", "ist", "ism", "ful",
        "less", "li", "bli", "abli", "entli", "ousli", "fulli", "lessli", "alli", "aliti", "iviti",
        "biliti", "ogi", "ies", "ied", "'s", "s'", "'", "eed", "eedly", "ingly", "edly", "al",
        "ical", "icate", "iciti", "alize", "ative", "ant", "ic", "iti", "ate", "e", "le", "ll",
        "y", "ys", "ying", "ied", "at", "bl", "iz", "ated", "ating", "ened", "enn",
    ];
    let mut words: Vec<String> = fixed.split_whitespace().map(str::to_owned).collect();
    for b in bases {
        for s in suffixes {
            words.push(format!("{b}{s}"));
        }
    }
    words.sort();
    words.dedup();
    words
}

const TEXTS: &[&str] = &[
    "Restarting the Pods quickly",
    "check kube-proxy logs; p95 > 2s and 5xx rising",
    "OOMKilled maxReplicas HTTPServer rate_limit_per_ip",
    "eu-west-1 api.example.com user@example.com a/b/c 3.14 v1.2.3",
    "Café naïve résumé Ünïcödé",
    "the team’s runbook, don't 'quoted' words",
    "(kube-proxy) end. Next - dash a -- b",
    "北京 東京タワー ok",
    "KubePodCrashLooping: pod checkout-api-7f9c in namespace prod is restarting 3 times / 5 minutes",
    "x--y a..b trailing- -leading __init__ foo_ _bar",
    "INC-84712 req-20240115093000 port 5432 fooBar12345 48213 v1.20240115 abc1234567890",
];

#[test]
fn stemmer_agrees_with_search_js() {
    let stemmer = english_stemmer();
    let words = word_list();
    assert!(words.len() > 5000, "word list too short: {}", words.len());
    let Some(out) = run_node(&serde_json::json!({ "words": words, "texts": [] })) else {
        return;
    };
    let js = out["stems"].as_array().unwrap();
    let mismatches: Vec<String> = words
        .iter()
        .zip(js)
        .filter(|(w, j)| stemmer.stem(w) != j.as_str().unwrap())
        .map(|(w, j)| format!("{w}: rust `{}` js {j}", stemmer.stem(w)))
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} words differ:\n{}",
        mismatches.len(),
        words.len(),
        mismatches.join("\n")
    );
}

#[test]
fn tokenizer_agrees_with_search_js() {
    let stemmer = english_stemmer();
    let Some(out) = run_node(&serde_json::json!({ "words": [], "texts": TEXTS })) else {
        return;
    };
    for (text, js) in TEXTS.iter().zip(out["groups"].as_array().unwrap()) {
        let rust: Vec<serde_json::Value> = tokenize(text, &stemmer)
            .into_iter()
            .map(|g| serde_json::json!([g.whole, g.parts, g.surface]))
            .collect();
        assert_eq!(&serde_json::Value::from(rust), js, "tokenizing {text:?}");
    }
}

/// Writes `index` under a fresh temporary folder and returns it.
fn write_index(index: &super::SearchIndex, tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("scalebook-search-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for f in &index.files {
        let p = dir.join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &f.bytes).unwrap();
    }
    dir
}

/// Runs `body` (an async JS function body with `api`, `eng` and `manifest` in
/// scope) against an index written at `dir`; returns what it returns.
fn run_engine(dir: &Path, manifest_path: &str, body: &str) -> Option<serde_json::Value> {
    if std::env::var_os("SCALEBOOK_SKIP_NODE").is_some() {
        eprintln!("SCALEBOOK_SKIP_NODE set: skipping the search.js engine test");
        return None;
    }
    let script = format!(
        r#"
const api = require(process.argv[1]);
const fs = require("fs"), zlib = require("zlib"), path = require("path");
const out = process.argv[2];
function unwrap(file, name) {{
  const m = /^__sb_search_load\("([^"]+)","([^"]*)"\);\n$/.exec(fs.readFileSync(file, "utf8"));
  if (!m || m[1] !== name) throw new Error(file + " is not a wrapped `" + name + "`");
  return new Uint8Array(zlib.inflateRawSync(Buffer.from(m[2], "base64")));
}}
const manifest = JSON.parse(Buffer.from(unwrap(path.join(out, process.argv[3]), "manifest")).toString());
const eng = new api.Engine(manifest, name => Promise.resolve(unwrap(path.join(out, manifest.dir, name + ".js"), name)));
(async () => {{ {body} }})().then(r => process.stdout.write(JSON.stringify(r)), e => {{ console.error(e); process.exit(1); }});
"#
    );
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("theme/search.js");
    let out = Command::new("node")
        .arg("-e")
        .arg(script)
        .arg(&js)
        .arg(dir)
        .arg(manifest_path)
        .stderr(Stdio::inherit())
        .output()
        .expect("`node` must be on the PATH to test search.js (or set SCALEBOOK_SKIP_NODE=1)");
    assert!(out.status.success(), "node failed");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn search_js_reads_every_shard_boundary_like_rust() {
    use super::tests::{decode_shard, synthetic, unwrap_file};
    let (pages, docs) = synthetic(2000);
    let opts = super::SearchOptions {
        shard_bytes: 2048,
        ..Default::default()
    };
    let index = super::build_index_with(&pages, &docs, &opts);
    let dir = write_index(&index, "shards");
    // Rust's view: the first and last term of every shard with their postings.
    let mut expected = serde_json::Map::new();
    let shard_files: Vec<_> = (0..)
        .map_while(|i| {
            index
                .files
                .iter()
                .find(|f| f.path.ends_with(&format!("/s{i}.js")))
        })
        .collect();
    assert!(shard_files.len() > 5, "only {} shards", shard_files.len());
    for f in shard_files {
        let terms = decode_shard(&unwrap_file(&f.bytes).1);
        for t in [terms.first().unwrap(), terms.last().unwrap()] {
            expected.insert(t.0.clone(), serde_json::json!(t.1));
        }
    }
    let body = format!(
        r#"const want = {};
        const got = {{}};
        for (const term of Object.keys(want)) {{
          const sh = await eng.shard(eng.shardOf(term));
          const i = sh.terms.indexOf(term);
          got[term] = i < 0 ? null : api.postingsAt(sh, i);
        }}
        return got;"#,
        serde_json::Value::Object(expected.clone())
    );
    let Some(got) = run_engine(&dir, &index.manifest_path, &body) else {
        return;
    };
    assert_eq!(got, serde_json::Value::Object(expected));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn search_js_ranks_finds_prefixes_steps_and_suggestions() {
    use super::tests::{doc, page, synthetic};
    let (mut pages, mut docs) = synthetic(400);
    // Page 400: "quench" in the title; page 401: only in the body.
    pages.push(page("Quench the gateway", "How to slow clients down."));
    pages.push(page("Gateway notes", "Misc."));
    docs.push(doc(400, "why", "Why", "Clients retry too fast."));
    docs.push(doc(
        401,
        "misc",
        "Misc",
        "Sometimes you quench, sometimes you restart the gateway.",
    ));
    pages[3].severity = Some("sev1".into());
    let index = super::build_index(&pages, &docs);
    let dir = write_index(&index, "engine");
    let body = r#"
      const top = async q => { const r = await eng.search(q); return r.pages.slice(0, 3).map(p => [p.page, p.sections[0][0]]); };
      const throttle = await top("quench");
      const exact = await top("zz0123x");
      const prefix = (await eng.search("zz012")).pages.map(p => p.page);
      const step = await top("drain node7");
      const frag = await eng.fragment(7);
      const href = api.resultHref("../../", frag.u, frag.d[step[0][1]][0], true);
      const miss = await eng.search("restrat");
      const sugg = await eng.suggest(miss.missing);
      const facets = await eng.facets();
      const sev = manifest.facets.severity.values.indexOf("sev1");
      const sev1 = [...Array(manifest.pages).keys()].filter(p => api.passes(facets, p, { severity: [sev] }));
      const ident = await top("kube-proxy");
      return { throttle, exact, prefix, step, href, missing: miss.missing.length, sugg, sev1, ident };
    "#;
    let Some(r) = run_engine(&dir, &index.manifest_path, body) else {
        return;
    };
    assert_eq!(
        r["throttle"][0],
        serde_json::json!([400, 0]),
        "title match first: {}",
        r["throttle"]
    );
    assert_eq!(
        r["throttle"][1][0], 401,
        "body match second: {}",
        r["throttle"]
    );
    assert_eq!(r["exact"][0], serde_json::json!([123, 0]));
    let prefix: Vec<u64> = r["prefix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(
        !prefix.is_empty() && prefix.iter().all(|p| (120..130).contains(p)),
        "prefix zz012: {prefix:?}"
    );
    assert_eq!(
        r["step"][0],
        serde_json::json!([7, 2]),
        "the step section wins: {}",
        r["step"]
    );
    assert_eq!(
        r["href"],
        "../../t/page-7-about-throttling/index.html#step-1"
    );
    assert_eq!(r["missing"], 1);
    assert_eq!(r["sugg"], serde_json::json!([["restrat", "restart"]]));
    assert_eq!(r["sev1"], serde_json::json!([3]));
    assert_eq!(
        r["ident"].as_array().unwrap().len(),
        3,
        "kube-proxy is found"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
