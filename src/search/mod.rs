//! The search index: a static, sharded, pre-scored index that the browser
//! (`theme/search.js`) queries without a server, from any sub-path and from
//! `file://`.
//!
//! Why this shape (see `docs/search.md` for the byte layout): people search a
//! playbook site under stress, often by pasting alert text, and a one-file index
//! (mdBook, Zola) costs megabytes before the first result. Here a query loads a
//! small manifest, the one or two shards that hold its terms, and one fragment
//! per result shown, and nothing else: scores are final at build time, so the
//! browser only adds bytes up.
//!
//! The flow: [`score`] turns pages and sections into BM25F-scored, pruned,
//! quantised postings (using [`text`] for words, the twin of the browser's
//! tokenizer); this file cuts them into shards and writes fragments, facets,
//! the typo vocabulary and the manifest; [`files`] knows the wrapper format.
//! Output is a pure function of the input: same pages, same bytes.

pub mod files;
pub mod score;
pub mod text;
mod timings;

#[cfg(test)]
mod agreement;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::Serialize;

use files::{fnv1a, varint, wrap, FNV_OFFSET};
use score::{ScoredTerm, Section};

/// One page as search sees it.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    /// Site-relative path without leading slash, e.g. `traffic-surges/absorb-a-spike/`.
    pub url: String,
    pub title: String,
    /// Section title, e.g. "Traffic surges" ("" for root pages).
    pub topic: String,
    /// "playbook" | "case-study".
    pub kind: String,
    pub tags: Vec<String>,
    /// "sev1".."sev4".
    pub severity: Option<String>,
    pub owner: Option<String>,
    pub description: String,
}

/// One search document: a heading section of a page or a checklist step.
#[derive(Debug, Clone, Default)]
pub struct SearchDoc {
    /// Index into the pages slice.
    pub page: usize,
    /// Fragment id without '#', "" for the page top.
    pub anchor: String,
    /// The section heading text or the step text.
    pub heading: String,
    /// Plain text of the section body (already stripped of markup).
    pub text: String,
    pub is_step: bool,
}

/// One file to write at `<out>/<path>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchFile {
    /// Relative to the output root, e.g. `search/idx-3f2a9c0d1e2f/s3.js`.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// The whole index: every file, and the manifest the pages point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchIndex {
    pub files: Vec<SearchFile>,
    /// e.g. `search/manifest-ab12cd34ef56.js`; also one of `files`.
    pub manifest_path: String,
}

/// Tuning knobs; [`build_index`] uses the defaults, which the measurements in
/// `docs/search.md` were taken with.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// A term keeps at most this many postings (its best-scored ones).
    pub max_postings: usize,
    /// Target compressed size of a shard, before base64. 4 KB rather than 8:
    /// on 10k pages the first query loads a third less (the manifest, which
    /// lists every shard, grows by about 2.5 KB).
    pub shard_bytes: usize,
    /// Excerpt text kept per section, in characters.
    pub excerpt_chars: usize,
    /// Excerpt text kept per page, in characters.
    pub page_excerpt_chars: usize,
    /// At most this many words in the typo vocabulary.
    pub vocab_words: usize,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            max_postings: 400,
            shard_bytes: 4 * 1024,
            excerpt_chars: 160,
            page_excerpt_chars: 1000,
            vocab_words: 30_000,
        }
    }
}

/// An excerpt shorter than this is not worth showing; the heading stands alone.
const MIN_EXCERPT_CHARS: usize = 60;

/// A stable, unhashed name the core may also write the manifest under (see
/// `site.rs`): templates rendered before the index is built can point at it.
/// Prefer [`SearchIndex::manifest_path`], which is content-hashed and so never
/// served stale from a cache.
pub const MANIFEST_PATH: &str = "search/manifest.js";

/// Format version, bumped whenever a payload changes shape; `search.js` refuses
/// other versions instead of misreading them.
pub const FORMAT_VERSION: u32 = 2;

/// Builds the index with default options.
pub fn build_index(pages: &[SearchPage], docs: &[SearchDoc]) -> SearchIndex {
    build_index_with(pages, docs, &SearchOptions::default())
}

/// Builds the index. Deterministic: the same input gives the same bytes.
pub fn build_index_with(
    pages: &[SearchPage],
    docs: &[SearchDoc],
    opts: &SearchOptions,
) -> SearchIndex {
    build(pages, score::Docs::Shared(docs), opts)
}

/// [`build_index`] that takes the docs by value and frees each page's text as
/// soon as it has been read, so the text of the site is not held twice while
/// the postings grow. Same output as [`build_index`].
pub fn build_index_owned(pages: &[SearchPage], docs: Vec<SearchDoc>) -> SearchIndex {
    build(pages, score::Docs::Owned(docs), &SearchOptions::default())
}

fn build(pages: &[SearchPage], docs: score::Docs, opts: &SearchOptions) -> SearchIndex {
    let mut t = timings::Timings::start();
    // Fragments are written in the same pass that reads the text.
    let fragment_file =
        |p: usize, secs: &[Section]| wrap(&format!("f{p}"), &fragment(&pages[p], secs, opts));
    let (scored, fragments) =
        score::score_with(pages, docs, opts.max_postings, &fragment_file, &mut t);
    let (shard_first_terms, shard_payloads) = shards(&scored.terms, opts.shard_bytes);
    let max_score = scored.max_score;
    let vocab = vocabulary(&scored.words, opts.vocab_words);
    drop(scored);
    t.phase("shards");
    let (facets, facet_payload) = facets(pages);
    t.phase("facets");

    // Names inside the index folder; the folder is named by a hash of all of it.
    let mut named: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, s) in shard_payloads.into_iter().enumerate() {
        named.push((format!("s{i}"), s));
    }
    named.push(("facets".into(), facet_payload));
    named.push(("vocab".into(), vocab));
    let mut wrapped: Vec<(String, Vec<u8>)> = named
        .into_par_iter()
        .map(|(name, payload)| (name.clone(), wrap(&name, &payload)))
        .collect();
    wrapped.extend(
        fragments
            .into_iter()
            .enumerate()
            .map(|(i, f)| (format!("f{i}"), f)),
    );
    t.phase("wrap");
    let mut h = FNV_OFFSET;
    for (name, bytes) in &wrapped {
        h = fnv1a(fnv1a(h, name.as_bytes()), bytes);
    }
    let dir = format!("search/idx-{:012x}/", h >> 16);

    let manifest = Manifest {
        v: FORMAT_VERSION,
        dir: dir.clone(),
        pages: pages.len(),
        max_score,
        shards: shard_first_terms,
        facets,
    };
    let manifest_json = serde_json::to_vec(&manifest).expect("manifest serialises");
    let manifest_file = wrap("manifest", &manifest_json);
    let manifest_path = format!("search/manifest-{:012x}.js", fnv1a(h, &manifest_file) >> 16);

    let mut files: Vec<SearchFile> = wrapped
        .into_iter()
        .map(|(name, bytes)| SearchFile {
            path: format!("{dir}{name}.js"),
            bytes,
        })
        .collect();
    files.push(SearchFile {
        path: manifest_path.clone(),
        bytes: manifest_file,
    });
    t.phase("manifest");
    t.finish();
    SearchIndex {
        files,
        manifest_path,
    }
}

/// The manifest: the only file a page loads before the first keystroke.
#[derive(Serialize)]
struct Manifest {
    v: u32,
    /// Folder of all other index files, relative to the output root.
    dir: String,
    pages: usize,
    /// The score that byte 255 stands for (log scale, see `search.js`).
    max_score: f32,
    /// First term of each shard `s0`, `s1`, ...; the first is always "".
    shards: Vec<String>,
    facets: BTreeMap<&'static str, Facet>,
}

#[derive(Serialize, Default)]
struct Facet {
    values: Vec<String>,
    counts: Vec<u32>,
}

/// Encodes one term's head (front-coded against `prev`) and posting count.
fn encode_term(out: &mut Vec<u8>, prev: &str, t: &ScoredTerm) {
    let term = t.term.as_str();
    let shared = prev
        .bytes()
        .zip(term.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    // Never split a UTF-8 sequence: back off to a char boundary.
    let shared = (0..=shared)
        .rev()
        .find(|&i| term.is_char_boundary(i))
        .unwrap_or(0);
    varint(out, shared as u32);
    varint(out, (term.len() - shared) as u32);
    out.extend_from_slice(&term.as_bytes()[shared..]);
    varint(out, t.count);
}

/// Cuts the sorted terms into shards of about `target` compressed bytes.
/// Returns each shard's lower bound (a [`separator`]; "" for the first shard,
/// so every query term has a shard) and each shard's uncompressed payload.
///
/// Compression ratios vary a lot along the term list (numbers compress worse
/// than words), so the cut takes two passes: the first cuts by raw size and
/// measures each shard's ratio, the second cuts again with those local ratios.
fn shards(terms: &[ScoredTerm], target: usize) -> (Vec<String>, Vec<Vec<u8>>) {
    let estimate = |t: &ScoredTerm| {
        (t.term.len() + 3 + t.pages.len() + t.sections.len() + t.scores.len()) as f64
    };
    let first = cut(terms, |i| estimate(&terms[i]) / 3.0, target as f64);
    let ratios: Vec<f64> = first
        .par_iter()
        .map(|&(a, b)| {
            let raw = encode_shard(&terms[a..b]);
            raw.len() as f64 / files::deflate(&raw).len().max(1) as f64
        })
        .collect();
    let mut ratio_of = Vec::with_capacity(terms.len());
    for (&(a, b), r) in first.iter().zip(&ratios) {
        ratio_of.extend(std::iter::repeat_n(*r, b - a));
    }
    let ranges = cut(terms, |i| estimate(&terms[i]) / ratio_of[i], target as f64);
    let payloads = ranges
        .par_iter()
        .map(|&(a, b)| encode_shard(&terms[a..b]))
        .collect();
    let firsts = ranges
        .iter()
        .enumerate()
        .map(|(i, &(a, _))| {
            if i == 0 {
                String::new()
            } else {
                separator(&terms[a - 1].term, &terms[a].term).to_owned()
            }
        })
        .collect();
    (firsts, payloads)
}

/// The shortest prefix of `first` that sorts after `last` (`last < first`).
/// The manifest lists these rather than whole first terms: every indexed term
/// still falls in the right shard, a prefix of a term still runs on into the
/// next shard exactly when that shard's separator starts with it, and the
/// manifest, which lists every shard, is a third smaller.
fn separator<'a>(last: &str, first: &'a str) -> &'a str {
    debug_assert!(last < first);
    let shared = last
        .bytes()
        .zip(first.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    // One byte past the shared prefix, extended to the end of its character.
    let end = (shared + 1..=first.len())
        .find(|&i| first.is_char_boundary(i))
        .unwrap_or(first.len());
    &first[..end]
}

/// Greedy cut into ranges whose summed `cost` stays under `target` (a range
/// holds at least one term).
fn cut(terms: &[ScoredTerm], cost: impl Fn(usize) -> f64, target: f64) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let (mut start, mut size) = (0, 0.0);
    for i in 0..terms.len() {
        let c = cost(i);
        if i > start && size + c > target {
            ranges.push((start, i));
            start = i;
            size = 0.0;
        }
        size += c;
    }
    ranges.push((start, terms.len()));
    ranges
}

/// A shard: the term list with counts, then the postings of all its terms as
/// three columns (page deltas, sections, scores). Columns compress far better
/// than interleaved postings: each is a stream of similar small numbers, which
/// deflate's Huffman codes per column (a tenth smaller on the 10k corpus).
fn encode_shard(terms: &[ScoredTerm]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(&mut out, terms.len() as u32);
    let mut prev = "";
    for t in terms {
        encode_term(&mut out, prev, t);
        prev = &t.term;
    }
    for t in terms {
        out.extend_from_slice(&t.pages);
    }
    for t in terms {
        out.extend_from_slice(&t.sections);
    }
    for t in terms {
        out.extend_from_slice(&t.scores);
    }
    out
}

/// A page's fragment: what a result needs to be shown. JSON:
/// `{"t":title,"u":url,"k":kind,"s":severity,"d":[[anchor,heading,is_step,excerpt],...]}`
/// with sections in posting order.
fn fragment<'a>(page: &'a SearchPage, sections: &[Section<'a>], opts: &SearchOptions) -> Vec<u8> {
    #[derive(Serialize)]
    struct Fragment<'a> {
        t: &'a str,
        u: &'a str,
        k: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        s: Option<&'a str>,
        d: Vec<(&'a str, String, u8, String)>,
    }
    // Share the page's excerpt budget evenly among sections that have text,
    // so late sections get a real excerpt rather than a stub.
    let source = |i: usize, s: &Section<'a>| -> &'a str {
        if i == 0 && s.text.is_empty() {
            page.description.as_str()
        } else {
            s.text
        }
    };
    let with_text = sections
        .iter()
        .enumerate()
        .filter(|(i, s)| !source(*i, s).trim().is_empty())
        .count()
        .max(1);
    let share = (opts.page_excerpt_chars / with_text).clamp(MIN_EXCERPT_CHARS, opts.excerpt_chars);
    let mut budget = opts.page_excerpt_chars;
    let d = sections
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // The page top (intro or description) stands for the whole page: double share.
            let max = if i == 0 {
                (2 * share).min(opts.excerpt_chars)
            } else {
                share
            }
            .min(budget);
            let excerpt = if max >= MIN_EXCERPT_CHARS {
                truncate_words(source(i, s), max)
            } else {
                String::new()
            };
            budget -= excerpt.chars().count().min(budget);
            let heading = if i == 0 {
                String::new()
            } else {
                s.heading.split_whitespace().collect::<Vec<_>>().join(" ")
            };
            (s.anchor, heading, s.is_step as u8, excerpt)
        })
        .collect();
    let f = Fragment {
        t: &page.title,
        u: &page.url,
        k: &page.kind,
        s: page.severity.as_deref(),
        d,
    };
    serde_json::to_vec(&f).expect("fragment serialises")
}

/// The first `max` characters of `text` (whitespace collapsed), cut at a word
/// boundary when there is one.
fn truncate_words(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count() + (n > 0) as usize;
        if n + len > max {
            if n == 0 {
                out.extend(word.chars().take(max));
            }
            break;
        }
        if n > 0 {
            out.push(' ');
        }
        out.push_str(word);
        n += len;
    }
    out
}

/// Facet values with page counts (for the manifest) and, per page, the index of
/// its value in each facet (for the facets file, loaded when filters are used).
/// Facets file JSON: `{"topic":[i,...],"kind":[...],"severity":[i|-1,...],
/// "owner":[i|-1,...],"tag":[[i,...],...]}`, one entry per page.
fn facets(pages: &[SearchPage]) -> (BTreeMap<&'static str, Facet>, Vec<u8>) {
    type Pick = fn(&SearchPage) -> Vec<&str>;
    let pickers: [(&'static str, Pick); 5] = [
        ("topic", |p| vec![p.topic.as_str()]),
        ("kind", |p| vec![p.kind.as_str()]),
        ("severity", |p| {
            p.severity.iter().map(String::as_str).collect()
        }),
        ("owner", |p| p.owner.iter().map(String::as_str).collect()),
        ("tag", |p| p.tags.iter().map(String::as_str).collect()),
    ];
    let mut meta = BTreeMap::new();
    let mut per_page: BTreeMap<&'static str, serde_json::Value> = BTreeMap::new();
    for (name, pick) in pickers {
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for p in pages {
            let mut vals = pick(p);
            vals.sort_unstable();
            vals.dedup();
            for v in vals {
                *counts.entry(v).or_default() += 1;
            }
        }
        let index: HashMap<&str, usize> = counts.keys().enumerate().map(|(i, v)| (*v, i)).collect();
        let column: Vec<serde_json::Value> = pages
            .iter()
            .map(|p| {
                let vals: Vec<i64> = pick(p).iter().map(|v| index[v] as i64).collect();
                match name {
                    "tag" => vals.into(),
                    _ => vals.first().copied().unwrap_or(-1).into(),
                }
            })
            .collect();
        per_page.insert(name, column.into());
        meta.insert(
            name,
            Facet {
                values: counts.keys().map(|s| s.to_string()).collect(),
                counts: counts.values().copied().collect(),
            },
        );
    }
    (
        meta,
        serde_json::to_vec(&per_page).expect("facets serialise"),
    )
}

/// The typo vocabulary: alphabetic words of 3 to 24 letters seen at least twice,
/// most frequent first, one per line. Loaded only when a query finds little.
fn vocabulary(words: &[(String, u32)], max: usize) -> Vec<u8> {
    let mut list: Vec<(&str, u32)> = words
        .iter()
        .filter(|(w, n)| {
            *n >= 2 && (3..=24).contains(&w.chars().count()) && w.chars().all(char::is_alphabetic)
        })
        .map(|(w, n)| (w.as_str(), *n))
        .collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    list.truncate(max);
    list.iter()
        .map(|(w, _)| *w)
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::files::read_varint;
    use super::*;
    use std::io::Read;

    pub fn page(title: &str, description: &str) -> SearchPage {
        SearchPage {
            url: format!("t/{}/", title.to_lowercase().replace(' ', "-")),
            title: title.into(),
            topic: "Traffic surges".into(),
            kind: "playbook".into(),
            tags: vec!["cdn".into()],
            severity: Some("sev2".into()),
            owner: Some("sre-platform".into()),
            description: description.into(),
        }
    }

    pub fn doc(page: usize, anchor: &str, heading: &str, text: &str) -> SearchDoc {
        SearchDoc {
            page,
            anchor: anchor.into(),
            heading: heading.into(),
            text: text.into(),
            is_step: false,
        }
    }

    /// Reads a wrapped file back: (name, payload).
    pub fn unwrap_file(bytes: &[u8]) -> (String, Vec<u8>) {
        let s = std::str::from_utf8(bytes).unwrap();
        let rest = s
            .strip_prefix("__sb_search_load(\"")
            .expect("wrapper prefix");
        let (name, rest) = rest.split_once("\",\"").unwrap();
        let b64 = rest.strip_suffix("\");\n").unwrap();
        let raw = decode_base64(b64);
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        (name.to_owned(), out)
    }

    fn decode_base64(s: &str) -> Vec<u8> {
        let val = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64"),
        };
        let mut out = Vec::new();
        for chunk in s.as_bytes().chunks(4) {
            let pad = chunk.iter().filter(|&&c| c == b'=').count();
            let n = chunk
                .iter()
                .filter(|&&c| c != b'=')
                .fold(0u32, |n, &c| n << 6 | val(c) as u32)
                << (6 * pad);
            out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
        }
        out
    }

    pub type DecodedTerm = (String, Vec<(u32, u32, u8)>);

    /// Decodes a shard payload into (term, postings as (page, section, score)).
    pub fn decode_shard(b: &[u8]) -> Vec<DecodedTerm> {
        let mut i = 0;
        let n = read_varint(b, &mut i);
        let mut prev = Vec::new();
        let mut heads = Vec::new();
        for _ in 0..n {
            let shared = read_varint(b, &mut i) as usize;
            let len = read_varint(b, &mut i) as usize;
            prev.truncate(shared);
            prev.extend_from_slice(&b[i..i + len]);
            i += len;
            let count = read_varint(b, &mut i);
            heads.push((String::from_utf8(prev.clone()).unwrap(), count));
        }
        let total: u32 = heads.iter().map(|h| h.1).sum();
        let mut pages = Vec::new();
        for (_, count) in &heads {
            let mut page = 0;
            for _ in 0..*count {
                page += read_varint(b, &mut i);
                pages.push(page);
            }
        }
        let sections: Vec<u32> = (0..total).map(|_| read_varint(b, &mut i)).collect();
        let scores = &b[i..];
        assert_eq!(scores.len(), total as usize, "shard fully consumed");
        let mut k = 0;
        heads
            .into_iter()
            .map(|(term, count)| {
                let ps = (k..k + count as usize)
                    .map(|j| (pages[j], sections[j], scores[j]))
                    .collect();
                k += count as usize;
                (term, ps)
            })
            .collect()
    }

    /// A site big enough for many shards: page i mentions `zz{i:04}x` and a few
    /// shared words.
    pub fn synthetic(n: usize) -> (Vec<SearchPage>, Vec<SearchDoc>) {
        let pages: Vec<_> = (0..n)
            .map(|i| page(&format!("Page {i} about throttling"), "A page."))
            .collect();
        let docs = (0..n)
            .flat_map(|i| {
                [
                    doc(i, "", "", &format!("intro for zz{i:04}x")),
                    doc(
                        i,
                        "detail",
                        "Detail",
                        &format!("restart the kube-proxy on node{i} and check p95 latency"),
                    ),
                    SearchDoc {
                        is_step: true,
                        ..doc(i, "step-1", &format!("Drain node{i}"), "")
                    },
                ]
            })
            .collect();
        (pages, docs)
    }

    fn manifest(index: &SearchIndex) -> serde_json::Value {
        let f = index
            .files
            .iter()
            .find(|f| f.path == index.manifest_path)
            .expect("manifest is a file");
        serde_json::from_slice(&unwrap_file(&f.bytes).1).unwrap()
    }

    /// Finds a term the way search.js does: the last shard whose first term <= term.
    fn lookup(index: &SearchIndex, term: &str) -> Option<Vec<(u32, u32, u8)>> {
        let m = manifest(index);
        let firsts: Vec<&str> = m["shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let shard = firsts.iter().rposition(|f| *f <= term).unwrap();
        let dir = m["dir"].as_str().unwrap();
        let f = index
            .files
            .iter()
            .find(|f| f.path == format!("{dir}s{shard}.js"))
            .unwrap();
        decode_shard(&unwrap_file(&f.bytes).1)
            .into_iter()
            .find(|t| t.0 == term)
            .map(|t| t.1)
    }

    #[test]
    fn two_builds_give_identical_bytes() {
        let (pages, docs) = synthetic(300);
        let a = build_index(&pages, &docs);
        let b = build_index(&pages, &docs);
        assert_eq!(a, b);
        assert_eq!(
            a,
            build_index_owned(&pages, docs.clone()),
            "owned docs give the same bytes"
        );
        let mut changed = docs.clone();
        changed[4].text.push_str(" extra");
        let c = build_index(&pages, &changed);
        assert_ne!(
            a.manifest_path, c.manifest_path,
            "content change renames the manifest"
        );
    }

    #[test]
    fn output_does_not_depend_on_the_number_of_threads() {
        let (pages, docs) = synthetic(1500);
        let with = |n: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
                .install(|| build_index(&pages, &docs))
        };
        assert_eq!(
            with(1),
            with(5),
            "lanes and batches are merged in page order"
        );
    }

    #[test]
    fn terms_at_shard_boundaries_are_found() {
        let (pages, docs) = synthetic(3000);
        let opts = SearchOptions {
            shard_bytes: 2048,
            ..SearchOptions::default()
        };
        let index = build_index_with(&pages, &docs, &opts);
        let m = manifest(&index);
        let firsts: Vec<String> = m["shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert!(
            firsts.len() > 5,
            "expected many shards, got {}",
            firsts.len()
        );
        assert_eq!(firsts[0], "");
        assert!(
            firsts.windows(2).all(|w| w[0] < w[1]),
            "shard first terms ascend"
        );
        let dir = m["dir"].as_str().unwrap();
        let shard = |i: usize| {
            let f = index
                .files
                .iter()
                .find(|f| f.path == format!("{dir}s{i}.js"))
                .unwrap();
            decode_shard(&unwrap_file(&f.bytes).1)
        };
        for (i, bound) in firsts.iter().enumerate().skip(1) {
            // The first term of every shard, and the last term of the one before.
            let first = shard(i).remove(0);
            assert!(first.0.starts_with(bound.as_str()), "{bound} / {}", first.0);
            assert_eq!(lookup(&index, &first.0).unwrap(), first.1);
            let last = shard(i - 1).pop().unwrap();
            assert!(last.0 < *bound);
            assert_eq!(lookup(&index, &last.0).unwrap(), last.1);
        }
        // A unique word resolves to its one page, section 0 (the intro).
        assert_eq!(
            lookup(&index, "zz1234x").unwrap(),
            [(1234, 0, lookup(&index, "zz1234x").unwrap()[0].2)]
        );
    }

    #[test]
    fn step_and_heading_sections_are_in_fragment_order() {
        let (pages, docs) = synthetic(3);
        let index = build_index(&pages, &docs);
        let dir = manifest(&index)["dir"].as_str().unwrap().to_owned();
        let f = index
            .files
            .iter()
            .find(|f| f.path == format!("{dir}f2.js"))
            .unwrap();
        let frag: serde_json::Value = serde_json::from_slice(&unwrap_file(&f.bytes).1).unwrap();
        assert_eq!(frag["t"], "Page 2 about throttling");
        assert_eq!(frag["u"], "t/page-2-about-throttling/");
        assert_eq!(
            frag["d"][0],
            serde_json::json!(["", "", 0, "intro for zz0002x"])
        );
        assert_eq!(
            frag["d"][2],
            serde_json::json!(["step-1", "Drain node2", 1, ""])
        );
        let drain = lookup(&index, "node2").unwrap();
        assert!(
            drain.iter().any(|p| p.0 == 2 && p.1 == 2),
            "step section is posting section 2: {drain:?}"
        );
    }

    #[test]
    fn facets_count_pages_per_value() {
        let mut pages = vec![page("A", ""), page("B", ""), page("C", "")];
        pages[1].severity = Some("sev1".into());
        pages[2].severity = None;
        pages[2].tags = vec!["cdn".into(), "dns".into()];
        let (meta, per_page) = facets(&pages);
        assert_eq!(meta["severity"].values, ["sev1", "sev2"]);
        assert_eq!(meta["severity"].counts, [1, 1]);
        assert_eq!(meta["tag"].counts, [3, 1]);
        let v: serde_json::Value = serde_json::from_slice(&per_page).unwrap();
        assert_eq!(v["severity"], serde_json::json!([1, 0, -1]));
        assert_eq!(v["tag"], serde_json::json!([[0], [0], [0, 1]]));
    }

    #[test]
    fn empty_site_builds_one_empty_shard() {
        let index = build_index(&[], &[]);
        let m = manifest(&index);
        assert_eq!(m["shards"], serde_json::json!([""]));
        assert_eq!(m["pages"], 0);
        let dir = m["dir"].as_str().unwrap();
        let s0 = index
            .files
            .iter()
            .find(|f| f.path == format!("{dir}s0.js"))
            .unwrap();
        assert!(decode_shard(&unwrap_file(&s0.bytes).1).is_empty());
    }

    #[test]
    fn separators_are_the_shortest_prefix_after_the_last_term() {
        assert_eq!(separator("checkin", "checkout"), "checko");
        assert_eq!(separator("check", "checkout"), "checko");
        assert_eq!(separator("abc", "b"), "b");
        assert_eq!(separator("caf", "café"), "café");
        assert_eq!(separator("cafa", "café"), "café");
    }

    #[test]
    fn excerpts_are_cut_at_words() {
        assert_eq!(truncate_words("one  two three", 8), "one two");
        assert_eq!(truncate_words("abcdefghij", 4), "abcd");
    }
}
