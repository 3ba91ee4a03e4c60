//! From pages and sections to scored postings.
//!
//! Why scores are computed here and not in the browser: the browser then never
//! needs document lengths, field statistics or document frequencies: a posting
//! carries its final BM25F score (with the term's idf folded in) as one byte,
//! and a query only adds bytes up. This is what lets a shard be a plain sorted
//! list of terms with their postings.
//!
//! A *section* is one search document: the top of a page (title, tags, owner,
//! severity, description and any text before the first heading), a heading
//! section, or a checklist step. Sections are numbered per page in the order the
//! core gave them, the page top first; the fragment file of a page lists them in
//! the same order, so a posting says `(page, section)` and nothing more.
//!
//! Memory is the constraint that shapes this file (a 10,000-page build has to
//! fit in 500 MB with everything else the core keeps): pages are read in
//! batches, each batch split into *lanes* that tokenise in parallel, each lane
//! interning words into its own numbering (no locks, no string per token);
//! a sequential merge maps lane numbers to one vocabulary and appends each
//! (term, section) pair to its term's posting list as three varints (about 3
//! bytes rather than a 12-byte struct). A page's text is read once: the caller's
//! `per_page` (the fragment writer) runs in the same pass, and with
//! [`Docs::Owned`] the text is freed as soon as its batch is read.

use rayon::prelude::*;
use rust_stemmers::Stemmer;

use super::files::{read_varint, varint};
use super::text::{english_stemmer, scan, FxMap, Term};
use super::timings::Timings;
use super::{SearchDoc, SearchPage};

/// Field weights for BM25F. Title, tags and headings (including step text)
/// weigh more than the body, so a title match beats a body match.
/// Short-field weights are whole numbers so their weighted count is a `u16`.
const W_TITLE: u16 = 6;
const W_TAGS: u16 = 3;
const W_HEADING: u16 = 3;
const W_DESCRIPTION: u16 = 2;
const W_BODY: f32 = 1.0;
/// BM25 saturation and body length normalisation. The short fields are not
/// length-normalised (b = 0): a heading is a heading.
const K1: f32 = 1.2;
const B_BODY: f32 = 0.75;

/// How many pages are tokenised at once: bounds the memory of pages in flight.
const BATCH_PAGES: usize = 512;

/// At most this many lanes, whatever the core count: each lane keeps its own
/// vocabulary, so lanes cost memory, and the merge is sequential anyway.
const MAX_LANES: usize = 8;

/// A lane forgets its words when it knows more than this many (its numbering
/// starts again; the merge is told), so lane memory stays flat on huge sites.
const LANE_MAX_WORDS: usize = 250_000;

/// One section as search sees it, in fragment order. Borrows the core's text.
#[derive(Debug, Clone, Copy)]
pub struct Section<'a> {
    pub anchor: &'a str,
    pub heading: &'a str,
    pub text: &'a str,
    pub is_step: bool,
}

/// The search docs, borrowed, or owned so each batch's text is freed once read.
pub enum Docs<'a> {
    Shared(&'a [SearchDoc]),
    Owned(Vec<SearchDoc>),
}

impl Docs<'_> {
    fn all(&self) -> &[SearchDoc] {
        match self {
            Docs::Shared(d) => d,
            Docs::Owned(d) => d,
        }
    }

    /// Frees the text of docs `ids` (owned docs only).
    fn release(&mut self, ids: &[u32]) {
        if let Docs::Owned(docs) = self {
            for &i in ids {
                let d = &mut docs[i as usize];
                d.text = String::new();
                d.heading = String::new();
            }
        }
    }
}

/// Everything the encoder needs.
pub struct Scored {
    /// Terms in byte order with their postings.
    pub terms: Vec<ScoredTerm>,
    /// The score that byte 255 stands for.
    pub max_score: f32,
    /// Lower-cased, unstemmed words with their counts (for typo suggestions).
    pub words: Vec<(String, u32)>,
}

/// One term and its postings, sorted by (page, section), already in the shard
/// encoding (see `docs/search.md`): three columns of `count` entries each.
pub struct ScoredTerm {
    pub term: String,
    pub count: u32,
    /// Varint page deltas (the first from page 0).
    pub pages: Vec<u8>,
    /// Varint section numbers.
    pub sections: Vec<u8>,
    /// One score byte each.
    pub scores: Vec<u8>,
}

/// Page `page`'s sections: the page top first (title as heading; the core's own
/// page-top doc, anchor "", gives its text), then the other docs in order.
pub fn page_sections<'a>(
    page: &'a SearchPage,
    docs: impl Iterator<Item = &'a SearchDoc>,
) -> Vec<Section<'a>> {
    let mut list = vec![Section {
        anchor: "",
        heading: &page.title,
        text: "",
        is_step: false,
    }];
    for doc in docs {
        if doc.anchor.is_empty() && !doc.is_step && list.len() == 1 && list[0].text.is_empty() {
            list[0].text = &doc.text;
        } else {
            list.push(Section {
                anchor: &doc.anchor,
                heading: &doc.heading,
                text: &doc.text,
                is_step: doc.is_step,
            });
        }
    }
    list
}

/// Doc indices grouped by page, input order kept within a page:
/// page `p`'s docs are `order[starts[p]..starts[p + 1]]`.
fn by_page(pages: usize, docs: &[SearchDoc]) -> (Vec<u32>, Vec<u32>) {
    let mut starts = vec![0u32; pages + 1];
    for doc in docs {
        if doc.page >= pages {
            panic!(
                "search doc `{}` points at page {} of {}",
                doc.heading, doc.page, pages
            );
        }
        starts[doc.page + 1] += 1;
    }
    for p in 0..pages {
        starts[p + 1] += starts[p];
    }
    let mut next = starts.clone();
    let mut order = vec![0u32; docs.len()];
    for (i, doc) in docs.iter().enumerate() {
        order[next[doc.page] as usize] = i as u32;
        next[doc.page] += 1;
    }
    (order, starts)
}

const NO_STEM: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Entry {
    id: u32,
    /// For a word seen as a part: the id of its stem; else [`NO_STEM`].
    stem: u32,
}

/// One tokenising worker: numbers every string it meets (terms and surface
/// words) in its own id space, so the hot loop does one hash lookup per token
/// and allocates nothing.
struct Lane {
    stemmer: Stemmer,
    ids: FxMap<Box<str>, Entry>,
    /// Strings numbered since the merge last took them (ids consecutive).
    fresh: Vec<Box<str>>,
    /// The lane forgot its numbering before this batch.
    reset: bool,
    /// Per id: the section that last used it, and where its tf entry is.
    stamp: Vec<u32>,
    slot: Vec<u32>,
    section: u32,
    /// Per id: surface count in this batch; which ids are non-zero.
    word_count: Vec<u32>,
    words: Vec<u32>,
}

impl Lane {
    fn new() -> Lane {
        Lane {
            stemmer: english_stemmer(),
            ids: FxMap::default(),
            fresh: Vec::new(),
            reset: false,
            stamp: Vec::new(),
            slot: Vec::new(),
            section: 0,
            word_count: Vec::new(),
            words: Vec::new(),
        }
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(e) = self.ids.get(s) {
            return e.id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(s.into(), Entry { id, stem: NO_STEM });
        self.fresh.push(s.into());
        self.stamp.push(0);
        self.slot.push(0);
        self.word_count.push(0);
        id
    }

    /// (stem id, surface id) of a lower-cased part.
    fn part(&mut self, surface: &str) -> (u32, u32) {
        if let Some(e) = self.ids.get(surface) {
            if e.stem != NO_STEM {
                return (e.stem, e.id);
            }
        }
        let id = self.intern(surface);
        let stem = self.stemmer.stem(surface);
        let stem_id = if stem == surface {
            id
        } else {
            self.intern(&stem)
        };
        if let Some(e) = self.ids.get_mut(surface) {
            e.stem = stem_id;
        }
        (stem_id, id)
    }

    /// Forgets the numbering when it has grown too large (before a batch).
    fn start_batch(&mut self) {
        self.reset = self.ids.len() > LANE_MAX_WORDS;
        if self.reset {
            *self = Lane {
                reset: true,
                ..Lane::new()
            };
        }
    }

    /// Tokenises one page's sections into `out`.
    fn page(&mut self, page: &SearchPage, sections: &[Section], out: &mut PageTerms) {
        for (i, sec) in sections.iter().enumerate() {
            if self.section == u32::MAX {
                self.stamp.fill(0);
                self.section = 0;
            }
            self.section += 1;
            let mut body_len = 0u32;
            let mut add = |lane: &mut Lane, text: &str, weight: Option<u16>| {
                scan(text, &mut |t| {
                    let id = match t {
                        Term::Whole(w) => lane.intern(w),
                        Term::Part(surface) => {
                            let (stem, word) = lane.part(surface);
                            if lane.word_count[word as usize] == 0 {
                                lane.words.push(word);
                            }
                            lane.word_count[word as usize] += 1;
                            stem
                        }
                        Term::End => return,
                    } as usize;
                    let k = if lane.stamp[id] == lane.section {
                        lane.slot[id] as usize
                    } else {
                        lane.stamp[id] = lane.section;
                        lane.slot[id] = out.terms.len() as u32;
                        out.terms.push((id as u32, 0, 0));
                        out.terms.len() - 1
                    };
                    let e = &mut out.terms[k];
                    match weight {
                        Some(w) => e.1 = e.1.saturating_add(w),
                        None => {
                            e.2 = e.2.saturating_add(1);
                            body_len += 1;
                        }
                    }
                })
            };
            if i == 0 {
                add(self, &page.title, Some(W_TITLE));
                let mut tags = page.tags.join(" ");
                for extra in [&page.owner, &page.severity].into_iter().flatten() {
                    tags.push(' ');
                    tags.push_str(extra);
                }
                add(self, &tags, Some(W_TAGS));
                add(self, &page.description, Some(W_DESCRIPTION));
            } else {
                add(self, sec.heading, Some(W_HEADING));
            }
            add(self, sec.text, None);
            out.sections.push((body_len, out.terms.len() as u32));
        }
    }

    /// Hands the batch's new strings and word counts to the merge.
    fn finish_batch<T>(&mut self, pages: Vec<(PageTerms, T)>) -> LaneOut<T> {
        let words = self
            .words
            .drain(..)
            .map(|w| (w, std::mem::take(&mut self.word_count[w as usize])))
            .collect();
        LaneOut {
            reset: self.reset,
            fresh: std::mem::take(&mut self.fresh),
            pages,
            words,
        }
    }
}

/// One page's term statistics, in lane ids.
#[derive(Default)]
struct PageTerms {
    /// Per section: body length and the end of its entries in `terms`.
    sections: Vec<(u32, u32)>,
    /// (lane term id, weighted short-field tf, body tf), grouped by section.
    terms: Vec<(u32, u16, u16)>,
}

struct LaneOut<T> {
    reset: bool,
    fresh: Vec<Box<str>>,
    pages: Vec<(PageTerms, T)>,
    words: Vec<(u32, u32)>,
}

/// The one vocabulary and the raw postings, filled in page order.
#[derive(Default)]
struct Merged {
    ids: FxMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    /// Per lane: lane id -> global id.
    lanes: Vec<Vec<u32>>,
    /// Per term: postings as varints (section delta, short-field tf, body tf).
    postings: Vec<Vec<u8>>,
    df: Vec<u32>,
    last: Vec<u32>,
    words: Vec<u32>,
    /// Per global section: body length, and (page, section within page).
    body_lens: Vec<u32>,
    section_of: Vec<(u32, u16)>,
}

impl Merged {
    fn add<T>(&mut self, lane: usize, out: LaneOut<T>, first_page: usize, extra: &mut Vec<T>) {
        if self.lanes.len() <= lane {
            self.lanes.resize_with(lane + 1, Vec::new);
        }
        if out.reset {
            self.lanes[lane].clear();
        }
        for name in out.fresh {
            let id = match self.ids.get(&name) {
                Some(&id) => id,
                None => {
                    let id = self.names.len() as u32;
                    self.ids.insert(name.clone(), id);
                    self.names.push(name);
                    self.postings.push(Vec::new());
                    self.df.push(0);
                    self.last.push(0);
                    self.words.push(0);
                    id
                }
            };
            self.lanes[lane].push(id);
        }
        let map = &self.lanes[lane];
        for (w, n) in out.words {
            self.words[map[w as usize] as usize] += n;
        }
        for (i, (page, x)) in out.pages.into_iter().enumerate() {
            let mut start = 0;
            for (local, &(body_len, end)) in page.sections.iter().enumerate() {
                let section = self.body_lens.len() as u32;
                self.body_lens.push(body_len);
                self.section_of
                    .push(((first_page + i) as u32, local as u16));
                for &(t, short, body) in &page.terms[start as usize..end as usize] {
                    let g = map[t as usize] as usize;
                    let list = &mut self.postings[g];
                    varint(list, section - self.last[g]);
                    varint(list, short as u32);
                    varint(list, body as u32);
                    self.last[g] = section;
                    self.df[g] += 1;
                }
                start = end;
            }
            extra.push(x);
        }
    }
}

/// Reads every page, scores every (term, section) pair with BM25F, keeps at most
/// `max_postings` best postings per term and quantises the scores.
pub fn score(pages: &[SearchPage], docs: &[SearchDoc], max_postings: usize) -> Scored {
    let none = |_: usize, _: &[Section]| ();
    score_with(
        pages,
        Docs::Shared(docs),
        max_postings,
        &none,
        &mut Timings::start(),
    )
    .0
}

/// [`score`], also calling `per_page(page, sections)` on every page while its
/// text is at hand (results in page order).
pub fn score_with<T: Send>(
    pages: &[SearchPage],
    mut docs: Docs,
    max_postings: usize,
    per_page: &(dyn Fn(usize, &[Section]) -> T + Sync),
    t: &mut Timings,
) -> (Scored, Vec<T>) {
    let (order, starts) = by_page(pages.len(), docs.all());
    let mut lanes: Vec<Lane> = (0..rayon::current_num_threads().clamp(2, MAX_LANES))
        .map(|_| Lane::new())
        .collect();
    let mut merged = Merged::default();
    let mut extra = Vec::with_capacity(pages.len());

    // Tokenising a batch (parallel lanes) overlaps with merging the one before
    // it (sequential, in page order, so the output does not depend on timing).
    let tokenise = |lanes: &mut [Lane], docs: &[SearchDoc], first: usize, end: usize| {
        // Cut the batch into one run of pages per lane, of similar text size.
        let weight = |p: usize| -> usize {
            order[starts[p] as usize..starts[p + 1] as usize]
                .iter()
                .map(|&d| docs[d as usize].text.len() + 64)
                .sum()
        };
        let weights: Vec<usize> = (first..end).map(weight).collect();
        let total: usize = weights.iter().sum();
        let mut cuts = vec![first];
        let mut acc = 0;
        for (k, w) in weights.iter().enumerate() {
            acc += w;
            if cuts.len() < lanes.len() && acc * lanes.len() >= total * cuts.len() {
                cuts.push(first + k + 1);
            }
        }
        while cuts.len() <= lanes.len() {
            cuts.push(end);
        }
        lanes
            .par_iter_mut()
            .zip(cuts.par_windows(2))
            .map(|(lane, w)| {
                lane.start_batch();
                let out = (w[0]..w[1])
                    .map(|p| {
                        let secs = page_sections(
                            &pages[p],
                            order[starts[p] as usize..starts[p + 1] as usize]
                                .iter()
                                .map(|&d| &docs[d as usize]),
                        );
                        let mut terms = PageTerms::default();
                        lane.page(&pages[p], &secs, &mut terms);
                        (terms, per_page(p, &secs))
                    })
                    .collect();
                (w[0], lane.finish_batch(out))
            })
            .collect::<Vec<_>>()
    };
    let mut pending: Vec<(usize, LaneOut<T>)> = Vec::new();
    for first in (0..pages.len()).step_by(BATCH_PAGES) {
        let end = (first + BATCH_PAGES).min(pages.len());
        let (outs, ()) = rayon::join(
            || tokenise(&mut lanes, docs.all(), first, end),
            || {
                for (lane, (p, out)) in std::mem::take(&mut pending).into_iter().enumerate() {
                    merged.add(lane, out, p, &mut extra);
                }
            },
        );
        pending = outs;
        docs.release(&order[starts[first] as usize..starts[end] as usize]);
    }
    for (lane, (p, out)) in pending.into_iter().enumerate() {
        merged.add(lane, out, p, &mut extra);
    }
    drop(lanes);
    drop(docs);
    let Merged {
        ids,
        names,
        postings,
        df,
        words,
        body_lens,
        section_of,
        ..
    } = merged;
    drop(ids);
    t.phase("tokenise");
    t.note(format_args!(
        "{} sections, {} strings, {} postings ({} bytes)",
        body_lens.len(),
        names.len(),
        df.iter().map(|&d| d as usize).sum::<usize>(),
        postings.iter().map(Vec::len).sum::<usize>(),
    ));

    let n = body_lens.len().max(1) as f32;
    let avg_body = (body_lens.iter().map(|&l| l as f64).sum::<f64>() / n as f64).max(1.0) as f32;

    // Real-valued scores, pruned; then one global quantisation scale. Each
    // term's raw postings are freed as soon as they are scored.
    let mut scored: Vec<Vec<(u32, f32)>> = postings
        .into_par_iter()
        .zip(df.par_iter())
        .map(|(list, &df)| {
            let idf_df = df as f32;
            let idf = (1.0 + (n - idf_df + 0.5) / (idf_df + 0.5)).ln();
            let mut s: Vec<(u32, f32)> = Vec::with_capacity(df as usize);
            let (mut i, mut section) = (0, 0);
            while i < list.len() {
                section += read_varint(&list, &mut i);
                let short_fields = read_varint(&list, &mut i);
                let body_tf = read_varint(&list, &mut i);
                let norm = 1.0 - B_BODY + B_BODY * body_lens[section as usize] as f32 / avg_body;
                let tf = short_fields as f32 + W_BODY * body_tf as f32 / norm;
                s.push((section, idf * tf * (K1 + 1.0) / (K1 + tf)));
            }
            drop(list);
            if s.len() > max_postings {
                // Best first, ties by position, so pruning is deterministic.
                s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                s.truncate(max_postings);
                s.sort_by_key(|p| p.0);
                s.shrink_to_fit();
            }
            s
        })
        .collect();
    t.phase("bm25");
    let words: Vec<(String, u32)> = words
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(id, &n)| (names[id].to_string(), n))
        .collect();
    let mut order: Vec<u32> = (0..names.len() as u32)
        .filter(|&id| df[id as usize] > 0)
        .collect();
    order.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let max_score = scored
        .iter()
        .flatten()
        .map(|p| p.1)
        .fold(0.0f32, f32::max)
        .max(1e-6);
    let scale = 255.0 / (1.0 + max_score).ln();
    let mut names = names;
    let terms = order
        .iter()
        .map(|&id| {
            let list = std::mem::take(&mut scored[id as usize]);
            let mut pages = Vec::with_capacity(list.len() * 2);
            let mut sections = Vec::with_capacity(list.len());
            let mut scores = Vec::with_capacity(list.len());
            let mut last_page = 0;
            for &(sec, s) in &list {
                let (page, section) = section_of[sec as usize];
                varint(&mut pages, page - last_page);
                last_page = page;
                varint(&mut sections, section as u32);
                scores.push(quantise(s, scale));
            }
            ScoredTerm {
                term: std::mem::take(&mut names[id as usize]).into_string(),
                count: list.len() as u32,
                pages,
                sections,
                scores,
            }
        })
        .collect();
    t.phase("quantise");
    (
        Scored {
            terms,
            max_score,
            words,
        },
        extra,
    )
}

fn quantise(score: f32, scale: f32) -> u8 {
    ((1.0 + score).ln() * scale).round().clamp(1.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::tests::{doc, page};

    #[derive(Debug)]
    struct Posting {
        page: u32,
        section: u32,
        score: u8,
    }

    fn postings(s: &Scored, term: &str) -> Vec<Posting> {
        let t = s
            .terms
            .iter()
            .find(|t| t.term == term)
            .unwrap_or_else(|| panic!("no term {term}"));
        let (mut i, mut j, mut page, mut out) = (0, 0, 0, Vec::new());
        for &score in &t.scores {
            page += read_varint(&t.pages, &mut i);
            let section = read_varint(&t.sections, &mut j);
            out.push(Posting {
                page,
                section,
                score,
            });
        }
        assert_eq!((i, j), (t.pages.len(), t.sections.len()));
        assert_eq!(out.len(), t.count as usize);
        out
    }

    #[test]
    fn page_top_doc_is_merged_and_others_follow() {
        let pages = [page("A", "")];
        let docs = [
            doc(0, "", "A", "intro text"),
            doc(0, "step-1", "Drain the node", ""),
        ];
        let secs = page_sections(&pages[0], docs.iter());
        assert_eq!(secs.len(), 2);
        assert_eq!(secs[0].text, "intro text");
        assert_eq!(secs[1].anchor, "step-1");
    }

    #[test]
    fn docs_out_of_page_order_are_grouped_by_page() {
        let pages = [page("A", ""), page("B", "")];
        let docs = [
            doc(1, "b1", "B one", "bravo"),
            doc(0, "a1", "A one", "alpha"),
            doc(1, "b2", "B two", "bravo"),
        ];
        let s = score(&pages, &docs, 100);
        let p: Vec<_> = postings(&s, "bravo")
            .iter()
            .map(|p| (p.page, p.section))
            .collect();
        assert_eq!(p, [(1, 1), (1, 2)]);
        assert_eq!(postings(&s, "alpha")[0].section, 1);
    }

    #[test]
    fn title_match_beats_body_match() {
        let pages = [
            page("Intro", "x"),
            page("Throttle the gateway", "y"),
            page("Other", "z"),
        ];
        let docs = [
            doc(
                0,
                "a",
                "Background",
                "you may need to throttle traffic here and there",
            ),
            doc(1, "b", "Steps", "first do the usual"),
            doc(2, "c", "More", "nothing relevant"),
        ];
        let s = score(&pages, &docs, 100);
        let p = postings(&s, "throttl");
        let title = p.iter().find(|p| p.page == 1).unwrap();
        let body = p.iter().find(|p| p.page == 0).unwrap();
        assert_eq!(title.section, 0);
        assert!(title.score > body.score, "{title:?} vs {body:?}");
    }

    #[test]
    fn common_terms_keep_only_their_best_postings() {
        let pages: Vec<_> = (0..10).map(|i| page(&format!("P{i}"), "")).collect();
        let mut docs: Vec<_> = (0..10)
            .map(|i| doc(i, "s", "Body", "alpha filler words here"))
            .collect();
        docs[7] = doc(7, "s", "Alpha", "alpha alpha");
        let s = score(&pages, &docs, 3);
        let p = postings(&s, "alpha");
        assert_eq!(p.len(), 3);
        assert!(
            p.iter().any(|p| p.page == 7),
            "the best posting survives pruning"
        );
        assert!(p
            .windows(2)
            .all(|w| (w[0].page, w[0].section) < (w[1].page, w[1].section)));
    }
}
