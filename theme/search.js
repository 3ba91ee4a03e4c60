/* scalebook search: queries the static index written by src/search/.
 *
 * Why it is built this way (docs/search.md has the byte layout):
 * - A plain script, not an ES module, and every index file is a script that
 *   calls __sb_search_load(name, base64): Chromium blocks fetch() and module
 *   scripts on file://, but plain <script> tags load, so one code path serves a
 *   host under any sub-path, a file:// copy and an offline copy.
 * - Scores are final at build time; the browser only adds them up. A query
 *   loads the manifest (on focus), the shard(s) of its terms, then one fragment
 *   per result shown: two sequential rounds after a keystroke.
 * - The tokenizer and the stemmer are twins of src/search/text.rs (Snowball
 *   English, "Porter2"); a Rust test runs this file under node and compares.
 * - Content reaches the page through textContent only, never innerHTML.
 */
(function () {
  "use strict";

  var FORMAT_VERSION = 2;
  var MAX_TERM_CHARS = 40;
  /* Parts with a run of more than 4 digits, wholes with more than 7, are not
   * indexed (src/search/text.rs `indexable`). */
  var MAX_PART_DIGITS = /[0-9]{5}/, MAX_WHOLE_DIGITS = /[0-9]{8}/;

  /* ------------------------------------------------------------------ */
  /* Snowball English (Porter2) stemmer, as in rust-stemmers 1.2.        */

  var EXCEPTION1 = {
    skis: "ski", skies: "sky", dying: "die", lying: "lie", tying: "tie",
    idly: "idl", gently: "gentl", ugly: "ugli", early: "earli", only: "onli",
    singly: "singl", sky: "sky", news: "news", howe: "howe", atlas: "atlas",
    cosmos: "cosmos", bias: "bias", andes: "andes"
  };
  var EXCEPTION2 = ["inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed"];

  function isV(c) { return c === "a" || c === "e" || c === "i" || c === "o" || c === "u" || c === "y"; }
  function isVWXY(c) { return isV(c) || c === "w" || c === "x" || c === "Y"; }

  function endsWith(a, s) {
    if (s.length > a.length) return false;
    for (var i = 0; i < s.length; i++) if (a[a.length - s.length + i] !== s[i]) return false;
    return true;
  }
  function setSuffix(a, n, rep) {
    a.length -= n;
    for (var i = 0; i < rep.length; i++) a.push(rep[i]);
  }
  /* Longest of `list` that `a` ends with, or "". */
  function longest(a, list) {
    var best = "";
    for (var i = 0; i < list.length; i++) {
      if (list[i].length > best.length && endsWith(a, list[i])) best = list[i];
    }
    return best;
  }
  /* Position after the first non-vowel that follows a vowel, from i; -1 if none. */
  function pastVNV(a, i) {
    while (i < a.length && !isV(a[i])) i++;
    if (i >= a.length) return -1;
    i++;
    while (i < a.length && isV(a[i])) i++;
    if (i >= a.length) return -1;
    return i + 1;
  }
  /* A short syllable ends at position `end` (exclusive). */
  function shortV(a, end) {
    if (end >= 3 && !isVWXY(a[end - 1]) && isV(a[end - 2]) && !isV(a[end - 3])) return true;
    return end === 2 && !isV(a[1]) && isV(a[0]);
  }
  function hasVowel(a, from, to) {
    for (var i = from; i < to; i++) if (isV(a[i])) return true;
    return false;
  }

  function stem(word) {
    if (Object.prototype.hasOwnProperty.call(EXCEPTION1, word)) return EXCEPTION1[word];
    var a = Array.from(word);
    if (a.length < 3) return word;
    if (a[0] === "'") a.shift();
    if (a[0] === "y") a[0] = "Y";
    for (var i = 1; i < a.length; i++) if (a[i] === "y" && isV(a[i - 1])) a[i] = "Y";

    var p1 = a.length, p2 = a.length;
    var s = a.join("");
    var pre = /^(gener|commun|arsen)/.exec(s);
    var r = pre ? pre[0].length : pastVNV(a, 0);
    if (r >= 0) {
      p1 = r;
      var r2 = pastVNV(a, p1);
      if (r2 >= 0) p2 = r2;
    }

    // Step 1a
    var suf = longest(a, ["'", "'s", "'s'"]);
    if (suf) a.length -= suf.length;
    suf = longest(a, ["sses", "ied", "ies", "s", "us", "ss"]);
    if (suf === "sses") setSuffix(a, 4, "ss");
    else if (suf === "ied" || suf === "ies") setSuffix(a, 3, a.length - 3 >= 2 ? "i" : "ie");
    else if (suf === "s" && hasVowel(a, 0, a.length - 2)) a.length -= 1;

    if (EXCEPTION2.indexOf(a.join("")) >= 0) return a.join("").replace(/Y/g, "y");

    // Step 1b
    suf = longest(a, ["eed", "eedly", "ed", "edly", "ing", "ingly"]);
    if (suf === "eed" || suf === "eedly") {
      if (a.length - suf.length >= p1) setSuffix(a, suf.length, "ee");
    } else if (suf && hasVowel(a, 0, a.length - suf.length)) {
      a.length -= suf.length;
      var end = longest(a, ["at", "bl", "iz", "bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt"]);
      if (end === "at" || end === "bl" || end === "iz") a.push("e");
      else if (end) a.length -= 1;
      else if (a.length === p1 && shortV(a, a.length)) a.push("e");
    }

    // Step 1c
    var n = a.length;
    if (n > 2 && (a[n - 1] === "y" || a[n - 1] === "Y") && !isV(a[n - 2])) a[n - 1] = "i";

    // Step 2
    var STEP2 = {
      tional: "tion", enci: "ence", anci: "ance", abli: "able", entli: "ent",
      izer: "ize", ization: "ize", ational: "ate", ation: "ate", ator: "ate",
      alism: "al", aliti: "al", alli: "al", fulness: "ful", ousli: "ous",
      ousness: "ous", iveness: "ive", iviti: "ive", biliti: "ble", bli: "ble",
      ogi: "og", fulli: "ful", lessli: "less", li: ""
    };
    suf = longest(a, Object.keys(STEP2));
    if (suf && a.length - suf.length >= p1) {
      var before = a[a.length - suf.length - 1];
      if (suf === "ogi") { if (before === "l") setSuffix(a, 3, "og"); }
      else if (suf === "li") { if (before && "cdeghkmnrt".indexOf(before) >= 0) a.length -= 2; }
      else setSuffix(a, suf.length, STEP2[suf]);
    }

    // Step 3
    var STEP3 = {
      tional: "tion", ational: "ate", alize: "al", icate: "ic", iciti: "ic",
      ical: "ic", ful: "", ness: "", ative: ""
    };
    suf = longest(a, Object.keys(STEP3));
    if (suf && a.length - suf.length >= p1) {
      if (suf !== "ative" || a.length - suf.length >= p2) setSuffix(a, suf.length, STEP3[suf]);
    }

    // Step 4
    suf = longest(a, ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment",
      "ent", "ism", "ate", "iti", "ous", "ive", "ize", "ion"]);
    if (suf && a.length - suf.length >= p2) {
      if (suf !== "ion") a.length -= suf.length;
      else {
        var c = a[a.length - 4];
        if (c === "s" || c === "t") a.length -= 3;
      }
    }

    // Step 5
    n = a.length;
    if (a[n - 1] === "e") {
      if (n - 1 >= p2 || (n - 1 >= p1 && !shortV(a, n - 1))) a.length -= 1;
    } else if (a[n - 1] === "l") {
      if (n - 1 >= p2 && a[n - 2] === "l") a.length -= 1;
    }
    return a.join("").replace(/Y/g, "y");
  }

  /* ------------------------------------------------------------------ */
  /* Tokenizer: the twin of src/search/text.rs (see its module comment). */

  var RE_ALNUM = /[\p{Alphabetic}\p{N}]/u;
  var RE_UPPER = /\p{Uppercase}/u;
  var RE_LOWER = /\p{Lowercase}/u;
  var RE_IDEO = /[\p{Script=Han}\p{Script=Hiragana}]/u;
  var JOINERS = { "-": 1, "/": 1, ":": 1, "@": 1, ".": 1 };

  function fold(text) {
    return text.normalize("NFD").replace(/\p{M}/gu, "").replace(/\u2019/g, "'");
  }

  var segmenter = null;
  try { segmenter = new Intl.Segmenter("en", { granularity: "word" }); } catch (e) { segmenter = null; }

  /* UAX #29 segments as [offset, text]. ICU joins runs of ideographs into
   * dictionary words; unicode-segmentation does not, so split them here. */
  function segments(text) {
    var out = [];
    if (segmenter) {
      var it = segmenter.segment(text)[Symbol.iterator]();
      for (var r = it.next(); !r.done; r = it.next()) {
        var seg = r.value.segment, off = r.value.index;
        if (seg.length > 1 && RE_IDEO.test(seg)) {
          var chars = Array.from(seg), run = "";
          for (var k = 0; k < chars.length; k++) {
            if (RE_IDEO.test(chars[k])) {
              if (run) { out.push([off, run]); off += run.length; run = ""; }
              out.push([off, chars[k]]);
              off += chars[k].length;
            } else run += chars[k];
          }
          if (run) out.push([off, run]);
        } else out.push([off, seg]);
      }
      return out;
    }
    // Old browsers: letters/digits with inner ' . _ : count as one word.
    var re = /[\p{Alphabetic}\p{N}\p{M}_]+(?:['.:][\p{Alphabetic}\p{N}\p{M}_]+)*|[\s\S]/gu, m;
    while ((m = re.exec(text))) out.push([m.index, m[0]]);
    return out;
  }

  function splitWord(word) {
    var parts = [], start = -1, prev = " ";
    var chars = Array.from(word), off = 0, offs = [];
    for (var i = 0; i < chars.length; i++) { offs.push(off); off += chars[i].length; }
    offs.push(off);
    function push(a, b) {
      while (a < b && word[a] === "'") a++;
      while (b > a && word[b - 1] === "'") b--;
      var p = word.slice(a, b);
      if (RE_ALNUM.test(p)) parts.push(p);
    }
    for (i = 0; i < chars.length; i++) {
      var c = chars[i];
      if (!(RE_ALNUM.test(c) || c === "'")) {
        if (start >= 0) { push(start, offs[i]); start = -1; }
        prev = c;
        continue;
      }
      if (start < 0) start = offs[i];
      else {
        var next = chars[i + 1];
        if (RE_UPPER.test(c) && (RE_LOWER.test(prev) || (RE_UPPER.test(prev) && next !== undefined && RE_LOWER.test(next)))) {
          push(start, offs[i]);
          start = offs[i];
        }
      }
      prev = c;
    }
    if (start >= 0) push(start, word.length);
    return parts;
  }

  function charCount(s) { return Array.from(s).length; }

  /* Groups of terms: [{whole: string|null, parts: [stems], surface: [words]}]. */
  function tokenize(text) {
    var folded = fold(text), groups = [], segs = segments(folded);
    var start = 0, end = 0, words = 0, joiner = false;
    function emit() {
      var whole = folded.slice(start, end);
      var surface = splitWord(whole).map(function (p) { return p.toLowerCase(); })
        .filter(function (p) { return charCount(p) <= MAX_TERM_CHARS && !MAX_PART_DIGITS.test(p); });
      var w = (words > 1 || surface.length > 1) && charCount(whole) <= MAX_TERM_CHARS &&
        !MAX_WHOLE_DIGITS.test(whole) ? whole.toLowerCase() : null;
      groups.push({ whole: w, parts: surface.map(stem), surface: surface });
      words = 0;
    }
    for (var i = 0; i < segs.length; i++) {
      var off = segs[i][0], seg = segs[i][1];
      if (RE_ALNUM.test(seg)) {
        if (words > 0 && !joiner) emit();
        if (words === 0) start = off;
        words++;
        end = off + seg.length;
        joiner = false;
      } else if (words > 0 && !joiner && off === end && JOINERS[seg]) {
        joiner = true;
      } else if (words > 0) {
        emit();
        joiner = false;
      }
    }
    if (words > 0) emit();
    return groups;
  }

  /* Compares strings in code point order, which is the index's UTF-8 byte order. */
  function cmp(a, b) {
    var n = Math.min(a.length, b.length);
    for (var i = 0; i < n; i++) {
      var x = a.charCodeAt(i), y = b.charCodeAt(i);
      if (x !== y) {
        if (x >= 0xd800 && y >= 0xd800) { // fix surrogate vs U+E000..U+FFFF order
          x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
          y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
        }
        return x < y ? -1 : 1;
      }
    }
    return a.length - b.length;
  }

  /* Damerau-Levenshtein (optimal string alignment), stopping above `max`. */
  function editDistance(a, b, max) {
    if (Math.abs(a.length - b.length) > max) return max + 1;
    var prev2 = null, prev = [], cur, i, j;
    for (j = 0; j <= b.length; j++) prev.push(j);
    for (i = 1; i <= a.length; i++) {
      cur = [i];
      var rowMin = i;
      for (j = 1; j <= b.length; j++) {
        var cost = a[i - 1] === b[j - 1] ? 0 : 1;
        var v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
        cur.push(v);
        if (v < rowMin) rowMin = v;
      }
      if (rowMin > max) return max + 1;
      prev2 = prev;
      prev = cur;
    }
    return prev[b.length];
  }

  /* ------------------------------------------------------------------ */
  /* Engine: manifest, shards, fragments, facets, vocabulary.           */

  function readVarint(b, pos) {
    var v = 0, shift = 0, byte;
    do {
      byte = b[pos.i++];
      v += (byte & 0x7f) * Math.pow(2, shift);
      shift += 7;
    } while (byte >= 0x80);
    return v;
  }

  var utf8 = new TextDecoder();

  /* A shard: sorted terms with their posting counts, then the postings of all
   * terms as three columns: page deltas (varints, from 0 for each term),
   * sections (varints), scores (bytes). Decoded whole: `pages`, `secs` and
   * `scores` hold every posting, term t's from `offs[t]`. */
  function decodeShard(b) {
    var pos = { i: 0 }, n = readVarint(b, pos), terms = [], offs = [], counts = [], prev = new Uint8Array(0), total = 0;
    for (var t = 0; t < n; t++) {
      var shared = readVarint(b, pos), len = readVarint(b, pos);
      var bytes = new Uint8Array(shared + len);
      bytes.set(prev.subarray(0, shared));
      bytes.set(b.subarray(pos.i, pos.i + len), shared);
      pos.i += len;
      prev = bytes;
      terms.push(utf8.decode(bytes));
      var count = readVarint(b, pos);
      counts.push(count);
      offs.push(total);
      total += count;
    }
    var pages = new Uint32Array(total), secs = new Uint32Array(total), k = 0;
    for (t = 0; t < n; t++) {
      for (var page = 0, j = 0; j < counts[t]; j++) pages[k++] = page += readVarint(b, pos);
    }
    for (k = 0; k < total; k++) secs[k] = readVarint(b, pos);
    var scores = b.subarray(pos.i, pos.i + total);
    return { terms: terms, offs: offs, counts: counts, pages: pages, secs: secs, scores: scores };
  }

  function postingsAt(shard, t) {
    var out = [];
    for (var k = shard.offs[t], end = k + shard.counts[t]; k < end; k++) {
      out.push([shard.pages[k], shard.secs[k], shard.scores[k]]);
    }
    return out;
  }

  function lowerBound(terms, x) {
    var lo = 0, hi = terms.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (cmp(terms[mid], x) < 0) lo = mid + 1; else hi = mid; }
    return lo;
  }

  /* `load(name)` resolves to the inflated bytes of `<dir><name>.js`. */
  function Engine(manifest, load) {
    if (manifest.v !== FORMAT_VERSION) throw new Error("search index format " + manifest.v + ", expected " + FORMAT_VERSION);
    this.m = manifest;
    this.load = load;
    this.cache = {};
    this.scale = Math.log(1 + manifest.max_score) / 255;
  }

  Engine.prototype.file = function (name) {
    if (!this.cache[name]) {
      var self = this;
      this.cache[name] = this.load(name).catch(function (e) { delete self.cache[name]; throw e; });
    }
    return this.cache[name];
  };
  Engine.prototype.json = function (name) {
    var key = "json:" + name, self = this;
    if (!this.cache[key]) this.cache[key] = this.file(name).then(function (b) { return JSON.parse(utf8.decode(b)); });
    return this.cache[key].catch(function (e) { delete self.cache[key]; throw e; });
  };
  Engine.prototype.shard = function (i) {
    var key = "shard:" + i, self = this;
    if (!this.cache[key]) this.cache[key] = this.file("s" + i).then(decodeShard);
    return this.cache[key].catch(function (e) { delete self.cache[key]; throw e; });
  };
  Engine.prototype.shardOf = function (term) {
    var s = this.m.shards, lo = 0, hi = s.length - 1; // last shard whose bound <= term
    while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (cmp(s[mid], term) <= 0) lo = mid; else hi = mid - 1; }
    return lo;
  };
  Engine.prototype.fragment = function (page) { return this.json("f" + page); };
  Engine.prototype.facets = function () { return this.json("facets"); };
  Engine.prototype.score = function (q) { return Math.exp(q * this.scale) - 1; };

  /* Plans the lookups of a query: [{group, term, weight, prefix}], prefix
   * lookups for the last word while it is still being typed. */
  function plan(query) {
    var groups = tokenize(query), out = [];
    var typing = query.length > 0 && !/[\s.,;!?)]$/.test(query);
    groups.forEach(function (g, gi) {
      var last = typing && gi === groups.length - 1;
      if (g.whole) out.push({ group: gi, term: g.whole, weight: 1, prefix: last, whole: true });
      g.parts.forEach(function (p, pi) {
        out.push({ group: gi, term: p, weight: 1, prefix: false });
        var surface = g.surface[pi];
        if (last && pi === g.parts.length - 1 && charCount(surface) >= 2) {
          out.push({ group: gi, term: surface, weight: 0.7, prefix: true });
        }
      });
    });
    return { groups: groups, lookups: out };
  }

  var PREFIX_EXPANSIONS = 6;
  /* Shards are about 4 KB: 6 of them cover a pasted alert's terms (the
   * labelled queries in tests/data/search/ pass) and cap its first query. */
  var MAX_SHARDS = 6;
  var STOP = {};
  ("a an and are as at be but by for from has have in is it its not of on or that the then this " +
   "to was were will with").split(" ").forEach(function (w) { STOP[w] = 1; });

  /* Resolves to {groups, pages: [{page, score, sections: [[sec, score]...]}], missing}
   * with pages sorted best first. `filter(page)` may drop pages. */
  Engine.prototype.search = function (query) {
    var self = this, p = plan(query), shards = {}, nShards = 0;
    // A pasted alert can name a dozen terms; load at most MAX_SHARDS shards,
    // most specific terms first (whole identifiers, long words), stop words last.
    var order = p.lookups.map(function (l, i) { return i; });
    function rank(l) { return (STOP[l.term] ? 20 : l.whole ? 0 : 10) - Math.min(l.term.length, 9); }
    order.sort(function (a, b) { return rank(p.lookups[a]) - rank(p.lookups[b]) || a - b; });
    order.forEach(function (k) {
      var l = p.lookups[k], i = self.shardOf(l.term), need = [i];
      // A prefix may run on into the next shard.
      if (l.prefix && i + 1 < self.m.shards.length && self.m.shards[i + 1].indexOf(l.term) === 0) need.push(i + 1);
      var extra = need.filter(function (j) { return !shards[j]; }).length;
      if (nShards > 0 && nShards + extra > MAX_SHARDS) { l.skipped = true; return; }
      need.forEach(function (j) { if (!shards[j]) { shards[j] = true; nShards++; } });
    });
    var skippedGroups = p.groups.map(function (g, gi) {
      return p.lookups.every(function (l) { return l.group !== gi || l.skipped; });
    });
    var ids = Object.keys(shards).map(Number);
    return Promise.all(ids.map(function (i) { return self.shard(i); })).then(function (loaded) {
      var byId = {};
      ids.forEach(function (id, k) { byId[id] = loaded[k]; });
      var pages = {}, found = p.groups.map(function () { return false; });
      function add(l, list, weight) {
        list.forEach(function (ps) {
          var s = self.score(ps[2]) * weight, page = pages[ps[0]];
          if (!page) page = pages[ps[0]] = { page: ps[0], groups: {}, secs: {} };
          page.groups[l.group] = Math.max(page.groups[l.group] || 0, s);
          page.secs[ps[1]] = (page.secs[ps[1]] || 0) + s;
        });
        if (list.length) found[l.group] = true;
      }
      var exact = {}; // group:term looked up exactly, so a prefix does not count it twice
      p.lookups.forEach(function (l) { if (!l.prefix) exact[l.group + ":" + l.term] = 1; });
      p.lookups.forEach(function (l) {
        if (l.skipped) return;
        var i = self.shardOf(l.term), seen = {};
        if (!l.prefix) {
          var sh = byId[i], t = lowerBound(sh.terms, l.term);
          if (t < sh.terms.length && sh.terms[t] === l.term) add(l, postingsAt(sh, t), l.weight);
          return;
        }
        // Prefix: the most common terms that start with it.
        var cands = [];
        for (var j = i; j <= i + 1 && byId[j]; j++) {
          var shj = byId[j];
          for (var k = lowerBound(shj.terms, l.term); k < shj.terms.length && shj.terms[k].indexOf(l.term) === 0; k++) {
            var term = shj.terms[k];
            if (!seen[term] && !exact[l.group + ":" + term]) { seen[term] = 1; cands.push([shj, k]); }
          }
        }
        cands.sort(function (a, b) { return b[0].counts[b[1]] - a[0].counts[a[1]]; });
        cands.slice(0, PREFIX_EXPANSIONS).forEach(function (c) {
          add(l, postingsAt(c[0], c[1]), c[0].terms[c[1]] === l.term ? 1 : l.weight);
        });
      });
      var n = skippedGroups.filter(function (x) { return !x; }).length || 1, list = [];
      Object.keys(pages).forEach(function (k) {
        var pg = pages[k], sum = 0, matched = 0, best = 0, secs = [];
        for (var g in pg.groups) { sum += pg.groups[g]; matched++; }
        for (var s in pg.secs) { secs.push([Number(s), pg.secs[s]]); best = Math.max(best, pg.secs[s]); }
        secs.sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
        var coord = matched / n;
        list.push({ page: pg.page, score: (sum + best) * coord * coord, sections: secs });
      });
      list.sort(function (a, b) { return b.score - a.score || a.page - b.page; });
      var missing = [];
      p.groups.forEach(function (g, gi) { if (!found[gi] && !skippedGroups[gi]) missing.push(g); });
      return { groups: p.groups, pages: list, missing: missing, skipped: skippedGroups.filter(Boolean).length };
    });
  };

  /* What the UI offers as "Did you mean": for every word of the query that
   * found nothing, however many pages the other words found (a typo next to a
   * common word still deserves a fix), the nearest indexed word. */
  Engine.prototype.suggestFor = function (res) {
    return res.missing.length ? this.suggest(res.missing) : Promise.resolve([]);
  };

  /* Nearest indexed words to the words that found nothing, or [] . */
  Engine.prototype.suggest = function (missing) {
    var words = missing.filter(function (g) { return !g.whole && g.surface.length === 1 && g.surface[0].length >= 3; })
      .map(function (g) { return g.surface[0]; });
    if (!words.length) return Promise.resolve([]);
    return this.file("vocab").then(function (b) {
      var vocab = utf8.decode(b).split("\n"), out = [];
      words.forEach(function (w) {
        var max = w.length >= 6 ? 2 : 1, best = null, bestD = max + 1;
        // Most frequent first, so the first word at the smallest distance wins.
        for (var i = 0; i < vocab.length && bestD > 1; i++) {
          var d = editDistance(w, vocab[i], bestD - 1);
          if (d > 0 && d < bestD) { bestD = d; best = vocab[i]; }
        }
        if (best) out.push([w, best]);
      });
      return out;
    });
  };

  /* The query with suggestion [word, fix] applied: the word's first
   * occurrence, in any case, is replaced. */
  function applySuggestion(q, s) {
    return q.replace(new RegExp(s[0].replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i"), function () { return s[1]; });
  }

  /* Filters: {facet: [value index, ...]}; a page passes when, for every facet
   * with values chosen, it has one of them. */
  function passes(facets, page, filters, except) {
    for (var f in filters) {
      if (f === except || !filters[f].length) continue;
      var v = facets[f][page], ok = false;
      if (Array.isArray(v)) { for (var i = 0; i < v.length && !ok; i++) ok = filters[f].indexOf(v[i]) >= 0; }
      else ok = filters[f].indexOf(v) >= 0;
      if (!ok) return false;
    }
    return true;
  }

  /* Counts per facet value over `pages` (page ids), each facet counted with the
   * other facets' filters applied. */
  function facetCounts(meta, facets, pages, filters) {
    var out = {};
    Object.keys(meta).forEach(function (f) {
      var counts = meta[f].values.map(function () { return 0; });
      pages.forEach(function (p) {
        if (!passes(facets, p, filters, f)) return;
        var v = facets[f][p];
        (Array.isArray(v) ? v : [v]).forEach(function (x) { if (x >= 0) counts[x]++; });
      });
      out[f] = counts;
    });
    return out;
  }

  /* The link of a result: directory URLs need index.html on file://. */
  function resultHref(root, url, anchor, isFile) {
    var href = root + url;
    if (isFile && (href === "" || /\/$/.test(href))) href += "index.html";
    return anchor ? href + "#" + anchor : href;
  }

  /* Text split into [text, isMatch] runs: words whose stem or whole form is
   * one of `terms` (or, for `prefixes`, starts with one) are matches. */
  function highlight(text, terms, prefixes) {
    var runs = [], last = 0;
    var re = /[\p{Alphabetic}\p{N}][\p{Alphabetic}\p{N}\p{M}'_.:\-\/@]*/gu, m;
    while ((m = re.exec(text))) {
      var word = m[0].replace(/[.:\-\/@']+$/, "");
      var groups = tokenize(word), hit = false;
      groups.forEach(function (g) {
        if (g.whole && terms[g.whole]) hit = true;
        g.parts.forEach(function (p, i) {
          if (terms[p]) hit = true;
          prefixes.forEach(function (x) { if (g.surface[i].indexOf(x) === 0) hit = true; });
        });
      });
      if (hit) {
        if (m.index > last) runs.push([text.slice(last, m.index), false]);
        runs.push([word, true]);
        last = m.index + word.length;
      }
      re.lastIndex = m.index + word.length || re.lastIndex;
    }
    if (last < text.length) runs.push([text.slice(last), false]);
    return runs;
  }

  /* A window of about `width` characters around the first match. */
  function excerpt(text, terms, prefixes, width) {
    var runs = highlight(text, terms, prefixes), pos = 0, first = -1;
    for (var i = 0; i < runs.length; i++) { if (runs[i][1]) { first = pos; break; } pos += runs[i][0].length; }
    if (text.length <= width || first < width / 2) {
      if (text.length <= width) return runs;
      return cut(runs, 0, width, false);
    }
    return cut(runs, first - Math.floor(width / 3), width, true);
  }
  function cut(runs, from, width, lead) {
    var out = lead ? [["\u2026", false]] : [], pos = 0, to = from + width;
    runs.forEach(function (r) {
      var a = pos, b = pos + r[0].length;
      pos = b;
      if (b <= from || a >= to) return;
      out.push([r[0].slice(Math.max(0, from - a), Math.min(r[0].length, to - a)), r[1]]);
    });
    if (pos > to) out.push(["\u2026", false]);
    return out;
  }

  /* The terms a query's results are highlighted with. */
  function queryTerms(groups, typing) {
    var terms = {}, prefixes = [];
    groups.forEach(function (g, gi) {
      if (g.whole) terms[g.whole] = 1;
      g.parts.forEach(function (p) { terms[p] = 1; });
      if (typing && gi === groups.length - 1 && g.surface.length) {
        var s = g.surface[g.surface.length - 1];
        if (s.length >= 2) prefixes.push(s);
      }
    });
    return { terms: terms, prefixes: prefixes };
  }

  var api = {
    stem: stem, fold: fold, tokenize: tokenize, cmp: cmp, editDistance: editDistance,
    decodeShard: decodeShard, postingsAt: postingsAt, Engine: Engine, plan: plan,
    passes: passes, facetCounts: facetCounts, resultHref: resultHref, highlight: highlight,
    excerpt: excerpt, queryTerms: queryTerms, applySuggestion: applySuggestion, FORMAT_VERSION: FORMAT_VERSION
  };

  if (typeof module === "object" && module.exports) {
    module.exports = api;
    return;
  }
  window.scalebookSearch = api;
  /* ---------------------------------------------------------------- */
  /* Browser: loading files, the combobox, the full results page.    */

  var pending = {};
  window.__sb_search_load = function (name, b64) {
    var p = pending[name];
    if (p) { delete pending[name]; p.resolve(b64); }
  };

  function inflate(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new Response(stream).arrayBuffer().then(function (b) { return new Uint8Array(b); });
  }

  /* Loads `url` as a script that calls __sb_search_load(name, ...). */
  function loadFile(url, name) {
    return new Promise(function (resolve, reject) {
      pending[name] = { resolve: resolve, reject: reject };
      var s = document.createElement("script");
      s.src = url;
      s.async = true;
      s.onload = function () {
        s.remove();
        if (pending[name]) { delete pending[name]; reject(new Error(url + " did not register as `" + name + "`")); }
      };
      s.onerror = function () { s.remove(); delete pending[name]; reject(new Error("could not load " + url)); };
      document.head.appendChild(s);
    }).then(inflate);
  }

  var engines = {};
  /* One engine per manifest URL, shared by the header box and the results page. */
  function engineFor(root, manifestUrl) {
    if (!engines[manifestUrl]) {
      if (typeof DecompressionStream === "undefined") return Promise.reject(new Error("this browser cannot decompress the search index"));
      engines[manifestUrl] = loadFile(manifestUrl, "manifest").then(function (bytes) {
        var m = JSON.parse(utf8.decode(bytes));
        return new Engine(m, function (name) { return loadFile(root + m.dir + name + ".js", name); });
      });
      engines[manifestUrl].catch(function () { delete engines[manifestUrl]; });
    }
    return engines[manifestUrl];
  }

  var isFile = location.protocol === "file:";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function appendRuns(parent, runs) {
    runs.forEach(function (r) { parent.appendChild(r[1] ? el("mark", null, r[0]) : document.createTextNode(r[0])); });
  }
  function searchPageHref(root, q) {
    return root + "search/" + (isFile ? "index.html" : "") + (q ? "?q=" + encodeURIComponent(q) : "");
  }
  function isTyping(q) { return q.length > 0 && !/[\s.,;!?)]$/.test(q); }

  /* The label of a matched section: "" for the page top. */
  function sectionLabel(d) {
    if (!d || !d[1]) return "";
    return (d[2] ? "Step: " : "") + d[1];
  }

  /* Renders a page's best section: heading line and excerpt. */
  function renderSection(parent, d, hl, width) {
    var label = sectionLabel(d);
    if (label) {
      var h = el("span", "sb-section");
      appendRuns(h, d[2] ? api.highlight(label, hl.terms, hl.prefixes) : [[label, false]]);
      parent.appendChild(h);
    }
    if (d && d[3]) {
      var x = el("span", "sb-excerpt");
      appendRuns(x, excerpt(d[3], hl.terms, hl.prefixes, width));
      parent.appendChild(x);
    }
  }

  var DROPDOWN_RESULTS = 8;

  function initBox(form) {
    var input = form.querySelector("input[type=search]");
    var box = form.querySelector("#sb-results") || form.appendChild(el("div"));
    if (!input) return;
    var root = form.getAttribute("data-root") || "";
    var manifestUrl = form.getAttribute("data-manifest");
    if (isFile) form.setAttribute("action", searchPageHref(root, ""));
    var list = el("div", "sb-listbox");
    list.id = "sb-listbox";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Search results");
    list.hidden = true;
    var status = el("div", "visually-hidden");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    box.appendChild(list);
    box.appendChild(status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);

    var seq = 0, timer = 0, active = -1;
    function options() { return list.querySelectorAll("[role=option]:not([aria-disabled=true])"); }
    function setActive(i) {
      var opts = options();
      if (active >= 0 && opts[active]) opts[active].classList.remove("is-active"), opts[active].setAttribute("aria-selected", "false");
      active = opts.length ? (i + opts.length) % opts.length : -1;
      if (active >= 0) {
        opts[active].classList.add("is-active");
        opts[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", opts[active].id);
        if (opts[active].scrollIntoView) opts[active].scrollIntoView({ block: "nearest" });
      } else input.removeAttribute("aria-activedescendant");
    }
    // No option active: nothing highlighted and no aria-activedescendant, so a screen reader
    // never announces an option that is hidden or has been replaced.
    function clearActive() {
      var opts = options();
      if (active >= 0 && opts[active]) opts[active].classList.remove("is-active"), opts[active].setAttribute("aria-selected", "false");
      active = -1;
      input.removeAttribute("aria-activedescendant");
    }
    function open(yes) {
      list.hidden = !yes;
      input.setAttribute("aria-expanded", yes ? "true" : "false");
      if (!yes) clearActive();
    }
    function option(i, href) {
      var a = el("a", "sb-option");
      a.id = "sb-opt-" + i;
      a.setAttribute("role", "option");
      a.setAttribute("aria-selected", "false");
      a.href = href;
      a.tabIndex = -1;
      return a;
    }
    function run() {
      var q = input.value, my = ++seq;
      if (!q.trim()) { list.textContent = ""; open(false); status.textContent = ""; return; }
      engineFor(root, manifestUrl).then(function (eng) {
        return eng.search(q).then(function (res) {
          var top = res.pages.slice(0, DROPDOWN_RESULTS);
          var sugg = eng.suggestFor(res);
          return Promise.all([Promise.all(top.map(function (r) { return eng.fragment(r.page); })), sugg]).then(function (x) {
            if (my !== seq) return;
            render(q, res, top, x[0], x[1]);
          });
        });
      }).catch(function (e) {
        if (my !== seq) return;
        list.textContent = "";
        list.setAttribute("data-shows", q);
        var err = el("div", "sb-empty", "Search is unavailable: " + e.message);
        err.setAttribute("role", "option");
        err.setAttribute("aria-disabled", "true");
        list.appendChild(err);
        status.textContent = err.textContent;
        open(true);
      });
    }
    function render(q, res, top, frags, sugg) {
      clearActive();
      list.textContent = "";
      // Which query the list answers: the box may already hold a newer one (a followed suggestion
      // sets it before its results arrive), and tests wait on this rather than on timing.
      list.setAttribute("data-shows", q);
      var hl = queryTerms(res.groups, isTyping(q)), n = 0;
      top.forEach(function (r, i) {
        var f = frags[i], sec = r.sections[0][0], d = f.d[sec];
        var a = option(n++, resultHref(root, f.u, sec === 0 ? "" : d[0], isFile));
        var title = el("span", "sb-title");
        appendRuns(title, api.highlight(f.t, hl.terms, hl.prefixes));
        a.appendChild(title);
        renderSection(a, d, hl, 110);
        list.appendChild(a);
      });
      sugg.forEach(function (s) {
        var fixed = applySuggestion(q, s);
        var a = option(n++, searchPageHref(root, fixed));
        a.classList.add("sb-suggest");
        a.setAttribute("data-query", fixed);
        a.appendChild(document.createTextNode("Did you mean "));
        a.appendChild(el("strong", null, fixed));
        a.appendChild(document.createTextNode("?"));
        list.appendChild(a);
      });
      if (res.pages.length) {
        var all = option(n++, searchPageHref(root, q));
        all.classList.add("sb-all");
        all.textContent = "See all " + res.pages.length + " results";
        list.appendChild(all);
      } else if (!sugg.length) {
        var none = el("div", "sb-empty", "No results for \u201c" + q + "\u201d");
        none.id = "sb-opt-none";
        none.setAttribute("role", "option");
        none.setAttribute("aria-disabled", "true");
        list.appendChild(none);
      }
      open(true);
      status.textContent = res.pages.length ? res.pages.length + (res.pages.length === 1 ? " result" : " results") +
        (sugg.length ? ". Did you mean " + sugg.map(function (s) { return s[1]; }).join(", ") + "?" : "")
        : "No results" + (sugg.length ? ". Did you mean " + sugg[0][1] + "?" : "");
    }
    function follow(a) {
      var q = a.getAttribute("data-query");
      if (q) { input.value = q; run(); input.focus(); return; }
      location.href = a.href;
    }
    input.addEventListener("focus", function () { engineFor(root, manifestUrl).catch(function () {}); });
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 120); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (list.hidden && list.firstChild) open(true);
        setActive(active + (e.key === "ArrowDown" ? 1 : (active < 0 ? 0 : -1)));
        e.preventDefault();
      } else if (e.key === "Enter") {
        var opts = options();
        if (active >= 0 && opts[active]) { e.preventDefault(); follow(opts[active]); }
      } else if (e.key === "Escape") {
        if (!list.hidden || input.value) { e.preventDefault(); }
        input.value = "";
        seq++;
        list.textContent = "";
        status.textContent = "";
        open(false);
      }
    });
    input.addEventListener("blur", function () { setTimeout(function () { if (document.activeElement !== input) open(false); }, 150); });
    list.addEventListener("mousedown", function (e) { e.preventDefault(); });
    list.addEventListener("click", function (e) {
      var a = e.target.closest ? e.target.closest("[data-query]") : null;
      if (a) { e.preventDefault(); follow(a); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      location.href = searchPageHref(root, input.value.trim());
    });
    document.addEventListener("keydown", function (e) {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
      var t = e.target, tag = t && t.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) return;
      e.preventDefault();
      input.focus();
      input.select();
    });
  }

  /* ---------------------------------------------------------------- */
  /* Full results page with filters.                                   */

  var FACET_LABELS = { topic: "Topic", kind: "Kind", severity: "Severity", owner: "Owner", tag: "Tags" };
  var PAGE_SIZE = 20;

  function initPage(host) {
    var root = host.getAttribute("data-root") || "";
    var manifestUrl = host.getAttribute("data-manifest");
    var params = new URLSearchParams(location.search);
    host.textContent = "";
    var form = el("form", "sb-page-form");
    form.setAttribute("role", "search");
    var label = el("label", null, "Search playbooks");
    label.setAttribute("for", "sb-page-q");
    var input = el("input");
    input.id = "sb-page-q";
    input.type = "search";
    input.name = "q";
    input.autocomplete = "off";
    input.value = params.get("q") || "";
    form.appendChild(label);
    form.appendChild(input);
    var layout = el("div", "sb-page");
    var filtersBox = el("div", "sb-filters");
    filtersBox.setAttribute("aria-label", "Filters");
    filtersBox.setAttribute("role", "group");
    var main = el("div", "sb-page-results");
    var status = el("p", "sb-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var list = el("ol", "sb-page-list");
    var more = el("button", "sb-more", "Show more results");
    more.type = "button";
    more.hidden = true;
    main.appendChild(status);
    main.appendChild(list);
    main.appendChild(more);
    layout.appendChild(filtersBox);
    layout.appendChild(main);
    host.appendChild(form);
    host.appendChild(layout);

    var eng, facets, filters = {}, results = [], shown = 0, hl = { terms: {}, prefixes: [] }, seq = 0, timer = 0;

    function syncUrl() {
      var p = new URLSearchParams();
      if (input.value.trim()) p.set("q", input.value.trim());
      Object.keys(filters).forEach(function (f) {
        filters[f].forEach(function (i) { p.append(f, eng.m.facets[f].values[i]); });
      });
      var s = p.toString();
      history.replaceState(null, "", location.pathname + (s ? "?" + s : ""));
    }

    function renderFilters(counts) {
      filtersBox.textContent = "";
      Object.keys(FACET_LABELS).forEach(function (f) {
        var meta = eng.m.facets[f];
        if (!meta || !meta.values.length || (meta.values.length === 1 && meta.values[0] === "")) return;
        var fs = el("fieldset", "sb-facet");
        fs.appendChild(el("legend", null, FACET_LABELS[f]));
        meta.values.forEach(function (v, i) {
          var chosen = (filters[f] || []).indexOf(i) >= 0;
          if (!counts[f][i] && !chosen) return;
          var id = "sb-f-" + f + "-" + i;
          var row = el("div", "sb-facet-row");
          var cb = el("input");
          cb.type = "checkbox";
          cb.id = id;
          cb.checked = chosen;
          cb.addEventListener("change", function () {
            var list = filters[f] || (filters[f] = []);
            if (cb.checked) list.push(i); else list.splice(list.indexOf(i), 1);
            update();
          });
          var lab = el("label", null, v === "" ? "(none)" : v);
          lab.setAttribute("for", id);
          lab.appendChild(el("span", "sb-count", String(counts[f][i])));
          row.appendChild(cb);
          row.appendChild(lab);
          fs.appendChild(row);
        });
        if (fs.childNodes.length > 1) filtersBox.appendChild(fs);
      });
    }

    function renderMore() {
      var slice = results.slice(shown, shown + PAGE_SIZE), my = seq;
      shown += slice.length;
      more.hidden = shown >= results.length;
      return Promise.all(slice.map(function (r) { return eng.fragment(r.page); })).then(function (frags) {
        if (my !== seq) return;
        slice.forEach(function (r, k) {
          var f = frags[k], li = el("li", "sb-hit");
          var best = r.sections.length ? r.sections[0][0] : 0;
          var h = el("h3", "sb-hit-title"), a = el("a");
          appendRuns(a, api.highlight(f.t, hl.terms, hl.prefixes));
          a.href = resultHref(root, f.u, best === 0 ? "" : f.d[best][0], isFile);
          h.appendChild(a);
          li.appendChild(h);
          var meta = [f.k === "case-study" ? "Case study" : "Playbook"];
          if (f.s) meta.push(f.s);
          li.appendChild(el("p", "sb-hit-meta", meta.join(" \u00b7 ")));
          (r.sections.length ? r.sections.slice(0, 3) : [[0, 0]]).forEach(function (s) {
            var d = f.d[s[0]];
            if (!d) return;
            if (!d[1] && !d[3]) return;
            var sa = el("a", "sb-hit-section");
            sa.href = resultHref(root, f.u, s[0] === 0 ? "" : d[0], isFile);
            renderSection(sa, d, hl, 200);
            li.appendChild(sa);
          });
          list.appendChild(li);
        });
      });
    }

    function update() {
      var q = input.value, my = ++seq;
      syncUrl();
      var active = Object.keys(filters).some(function (f) { return filters[f].length; });
      var searching = q.trim() ? eng.search(q) : Promise.resolve(null);
      Promise.all([searching, active || q.trim() ? eng.facets() : Promise.resolve(facets)]).then(function (x) {
        if (my !== seq) return;
        var res = x[0];
        facets = x[1];
        var candidates = res ? res.pages : [];
        if (!res) for (var p = 0; p < eng.m.pages && active; p++) candidates.push({ page: p, score: 0, sections: [] });
        hl = res ? queryTerms(res.groups, false) : { terms: {}, prefixes: [] };
        results = facets ? candidates.filter(function (r) { return passes(facets, r.page, filters); }) : candidates;
        // With neither a query nor a filter, show every filter with its site-wide count, so
        // clearing the last filter never leaves an empty filter list.
        if (facets && (res || active)) renderFilters(facetCounts(eng.m.facets, facets, candidates.map(function (r) { return r.page; }), filters));
        else renderFilters(allCounts());
        list.textContent = "";
        shown = 0;
        status.textContent = !q.trim() && !active ? "Type a query or choose a filter." :
          results.length + (results.length === 1 ? " result" : " results");
        if (res) {
          eng.suggestFor(res).then(function (sugg) {
            if (my !== seq || !sugg.length) return;
            var fixed = q;
            sugg.forEach(function (s) { fixed = applySuggestion(fixed, s); });
            var b = el("button", "sb-suggest-button");
            b.type = "button";
            b.appendChild(document.createTextNode("Did you mean "));
            b.appendChild(el("strong", null, fixed));
            b.appendChild(document.createTextNode("?"));
            b.addEventListener("click", function () { input.value = fixed; update(); });
            status.appendChild(document.createTextNode(" "));
            status.appendChild(b);
          });
        }
        return renderMore();
      }).catch(function (e) { status.textContent = "Search is unavailable: " + e.message; });
    }
    function allCounts() {
      var out = {};
      Object.keys(eng.m.facets).forEach(function (f) { out[f] = eng.m.facets[f].counts; });
      return out;
    }

    form.addEventListener("submit", function (e) { e.preventDefault(); clearTimeout(timer); update(); });
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 200); });
    more.addEventListener("click", function () { renderMore(); });
    status.textContent = "Loading search\u2026";
    engineFor(root, manifestUrl).then(function (e) {
      eng = e;
      params.forEach(function (v, k) {
        var meta = eng.m.facets[k];
        var i = meta ? meta.values.indexOf(v) : -1;
        if (i >= 0) (filters[k] || (filters[k] = [])).push(i);
      });
      update();
    }).catch(function (e) { status.textContent = "Search is unavailable: " + e.message; });
  }

  function init() {
    var forms = document.querySelectorAll("form.sb-search");
    for (var i = 0; i < forms.length; i++) initBox(forms[i]);
    var page = document.getElementById("sb-search-page");
    if (page) initPage(page);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
