//! The runner's terminal: plain lines in, wrapped lines out, colour only where it can show.
//!
//! Why this module exists: the runner must work over a bare SSH session, in 80 columns, piped
//! into a log, and from a test that feeds lines on stdin. So input is one line at a time (a
//! letter and Enter), output is wrapped to the width, and ANSI colour is used only when stdout
//! is a terminal and `NO_COLOR` is not set (<https://no-color.org>).

use std::io::{BufRead, Write};

pub struct Term<'a> {
    pub out: &'a mut dyn Write,
    input: &'a mut dyn BufRead,
    pub color: bool,
    pub width: usize,
}

#[derive(Clone, Copy)]
pub enum Tone {
    Bold,
    Dim,
    Good,
    Bad,
    Warn,
}

impl<'a> Term<'a> {
    pub fn new(
        input: &'a mut dyn BufRead,
        out: &'a mut dyn Write,
        color: bool,
        width: usize,
    ) -> Term<'a> {
        Term {
            out,
            input,
            color,
            width: width.max(40),
        }
    }

    /// `text` in a tone, or as it is without colour.
    pub fn paint(&self, tone: Tone, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match tone {
            Tone::Bold => "1",
            Tone::Dim => "2",
            Tone::Good => "32",
            Tone::Bad => "31",
            Tone::Warn => "33",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Prints `text` wrapped to the width: the first line after `first`, the others indented
    /// by `indent` spaces. Colour is applied per line, so a wrap never splits an escape.
    pub fn say(&mut self, first: &str, indent: usize, text: &str, tone: Option<Tone>) {
        let room = self.width.saturating_sub(indent).max(20);
        let first_room = self.width.saturating_sub(first.chars().count()).max(20);
        let mut lines = Vec::new();
        for (n, para) in text.split('\n').enumerate() {
            let w = if n == 0 { first_room } else { room };
            let mut wrapped = wrap(para, w, room);
            if wrapped.is_empty() {
                wrapped.push(String::new());
            }
            lines.extend(wrapped);
        }
        for (n, line) in lines.iter().enumerate() {
            let lead = if n == 0 {
                first.to_string()
            } else {
                " ".repeat(indent)
            };
            let body = match tone {
                Some(t) if !line.is_empty() => self.paint(t, line),
                _ => line.clone(),
            };
            let _ = writeln!(self.out, "{lead}{body}");
        }
        let _ = self.out.flush();
    }

    pub fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    /// Shows `prompt` and reads one line without its line break; `None` at end of input.
    pub fn ask(&mut self, prompt: &str) -> Option<String> {
        let _ = write!(self.out, "{prompt}");
        let _ = self.out.flush();
        let mut s = String::new();
        match self.input.read_line(&mut s) {
            Ok(0) | Err(_) => {
                let _ = writeln!(self.out);
                None
            }
            Ok(_) => Some(s.trim_end_matches(['\n', '\r']).to_string()),
        }
    }

    /// `y` or `yes` (any case) is yes; anything else, and end of input, is no.
    pub fn confirm(&mut self, question: &str) -> bool {
        self.ask(&format!("{question} [y/N] "))
            .is_some_and(|a| is_yes(&a))
    }
}

pub fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Splits `text` into lines of at most `first` characters (the first line) and `rest` (the
/// others), at spaces where possible; a word longer than a line is cut.
pub fn wrap(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut out = Vec::new();
    // Leading spaces (indented code) are kept on the first line.
    let body = text.trim_start_matches(' ');
    let mut cur = " ".repeat(text.len() - body.len());
    let mut cur_len = cur.len();
    let text = body;
    let mut has_word = false;
    let limit = |n: usize| if n == 0 { first.max(1) } else { rest.max(1) };
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let room = limit(out.len());
            let sep = usize::from(has_word);
            if cur_len + sep + word.len() <= room {
                if sep == 1 {
                    cur.push(' ');
                }
                cur.extend(word.iter());
                cur_len += sep + word.len();
                has_word = true;
                break;
            }
            if cur_len > 0 {
                out.push(std::mem::take(&mut cur));
                cur_len = 0;
                has_word = false;
                continue;
            }
            // A word longer than a whole line.
            let head: String = word[..room].iter().collect();
            out.push(head);
            word.drain(..room);
        }
    }
    if cur_len > 0 || out.is_empty() && !text.is_empty() {
        out.push(cur);
    }
    out
}

/// `1h02m03s`, `4m05s`, `6s`.
pub fn elapsed(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("aaa bbb ccc", 7, 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4, 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("ab cd", 2, 5), vec!["ab", "cd"]);
        assert!(wrap("", 10, 10).is_empty());
        assert_eq!(wrap("  indented code", 20, 20), vec!["  indented code"]);
        for l in wrap(&"word ".repeat(50), 80, 76) {
            assert!(l.chars().count() <= 80);
        }
    }

    #[test]
    fn no_colour_means_no_escapes_and_lines_fit_the_width() {
        let mut input: &[u8] = b"";
        let mut out = Vec::new();
        let mut t = Term::new(&mut input, &mut out, false, 40);
        t.say(
            "[1/2] ",
            6,
            &"long words here ".repeat(10),
            Some(Tone::Bold),
        );
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\x1b'));
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
        assert!(text.lines().skip(1).all(|l| l.starts_with("      ")));
    }

    #[test]
    fn only_y_or_yes_confirms() {
        for (a, want) in [
            ("y", true),
            ("YES", true),
            (" yes ", true),
            ("n", false),
            ("", false),
            ("yess", false),
        ] {
            assert_eq!(is_yes(a), want, "{a}");
        }
        let mut input: &[u8] = b"";
        let mut out = Vec::new();
        assert!(!Term::new(&mut input, &mut out, false, 80).confirm("Run?"));
    }

    #[test]
    fn elapsed_is_short() {
        assert_eq!(elapsed(6), "6s");
        assert_eq!(elapsed(245), "4m05s");
        assert_eq!(elapsed(3723), "1h02m03s");
    }
}
