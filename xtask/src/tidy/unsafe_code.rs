//! Where `unsafe` may live: the executor's `raw/` module and the reactor's
//! syscall module ([`HOMES`]), plus the few files of [`ALLOWED`], each with
//! its reason. Everything else is safe code over their safe APIs
//! (docs/ARCHITECTURE.md, "Unsafe").
//!
//! The keyword is found as a token of code: [`code_only`] blanks comments
//! (doc comments included), string literals (raw, byte and C strings too) and
//! character literals first, so prose about `unsafe` does not count, and
//! `unsafe_code` or `unsafe_op_in_unsafe_fn` are other identifiers. It is a
//! lexer good enough for this workspace's sources, not a Rust parser: it does
//! not expand macros, so an `unsafe` written by a macro defined elsewhere is
//! seen only where the macro is defined.

use std::collections::BTreeMap;

use super::{Source, Violation};

/// Where unsafe code belongs: a path prefix (a directory ending in `/`, or
/// one file) and what lives there.
pub(super) const HOMES: [(&str, &str); 2] = [
    (
        "crates/corio-executor/src/raw/",
        "the task harness: raw task pointers and the state machine",
    ),
    (
        "crates/corio-reactor/src/sys.rs",
        "the reactor's syscall module: fd registration",
    ),
];

/// Files outside [`HOMES`] that may hold `unsafe`, and why. Keep it short:
/// an entry whose file is gone or has no `unsafe` left is a violation.
pub(super) const ALLOWED: [(&str, &str); 13] = [
    (
        "benches/src/measure.rs",
        "clock_gettime(CLOCK_PROCESS_CPUTIME_ID): the CPU-time clock std does not offer",
    ),
    (
        "benches/src/workloads/idle_conns.rs",
        "raises RLIMIT_NOFILE and unshare(CLONE_FILES)s the thread holding 10,000 idle client \
         sockets: std has neither, and rustix 1.x makes unshare unsafe too",
    ),
    (
        "benches/examples/uring_echo_probe/driver.rs",
        "the probe's CPU clocks: clock_gettime(CLOCK_PROCESS_CPUTIME_ID) and \
         getrusage(RUSAGE_CHILDREN), which std does not offer",
    ),
    (
        "benches/examples/uring_echo_probe/epoll.rs",
        "the probe's runtime-free epoll echo: raw epoll_create1/epoll_ctl/epoll_wait/recv/send, \
         the least an epoll runtime could do",
    ),
    (
        "benches/examples/uring_echo_probe/uring.rs",
        "the probe's io_uring variants: SQEs point at memory the kernel writes after the call \
         returns (io_uring's API is unsafe by nature)",
    ),
    (
        "crates/corio-py/src/callbacks.rs",
        "a handle's run path: PyObject_Vectorcall of Context.run with the arguments on the C \
         stack, or PyContext_Enter/Exit around a vectorcall; PyO3 has no safe API for either, \
         and they cut ~700 instructions per callback (docs/python.md)",
    ),
    (
        "crates/corio-py/src/event_loop/call_soon.rs",
        "loop.call_soon as a raw METH_FASTCALL|METH_KEYWORDS method (PyO3's generic argument \
         parsing was about a tenth of a callback): reads the vectorcall argument array",
    ),
    (
        "crates/corio-py/src/handle.rs",
        "handles from a free list of their own with their own tp_dealloc (layout checked \
         against PyO3's at first use), and a running handle lends its context pointer for \
         the call without a new reference (the caller's handle keeps it alive)",
    ),
    (
        "crates/corio-reactor/src/uring/ring.rs",
        "the io_uring backend (`io-uring` feature): SQEs point at buffers the kernel reads or \
         writes after the call returns, owned by the operation's slot until its completion",
    ),
    (
        "crates/corio-py/src/sock/fd.rs",
        "sock_* syscalls on a socket's fd for one syscall, while its io-reference is held or \
         right after fileno()",
    ),
    (
        "crates/corio-py/src/sys.rs",
        "Python names fds by number (`loop.add_reader(fd, ...)`): `BorrowedFd::borrow_raw` \
         for a registration call and for the level-triggered `poll(2)` check",
    ),
    (
        "crates/corio-executor/tests/leaks.rs",
        "a counting #[global_allocator] for the leak tests (GlobalAlloc is an unsafe trait)",
    ),
    (
        "crates/corio-executor/tests/executor/harness.rs",
        "tests the public unsafe `Builder::spawn_unchecked`: calling it takes an unsafe block",
    ),
];

/// The unsafe rule over `sources`: a violation per file outside `homes` and
/// `allowed` that uses `unsafe`, and per `allowed` entry that is stale.
pub(super) fn check(
    sources: &[Source],
    homes: &[(&str, &str)],
    allowed: &[(&str, &str)],
) -> Vec<Violation> {
    let in_home = |path: &str| {
        homes.iter().any(|(home, _)| {
            if home.ends_with('/') {
                path.starts_with(home)
            } else {
                path == *home
            }
        })
    };
    let mut stale: BTreeMap<&str, &str> = BTreeMap::new();
    for (path, _) in allowed {
        stale.insert(path, "is on the unsafe allow-list but does not exist");
    }
    let mut violations = Vec::new();
    for source in sources {
        let path = source.path.as_str();
        if in_home(path) {
            continue;
        }
        let lines = unsafe_lines(&source.text);
        if stale.contains_key(path) {
            if lines.is_empty() {
                stale.insert(path, "is on the unsafe allow-list but has no `unsafe`");
            } else {
                stale.remove(path);
            }
            continue;
        }
        if !lines.is_empty() {
            let shown: Vec<String> = lines.iter().take(8).map(ToString::to_string).collect();
            let more = if lines.len() > 8 { ", ..." } else { "" };
            let homes: Vec<&str> = homes.iter().map(|(home, _)| *home).collect();
            violations.push(Violation::new(
                path,
                format!(
                    "`unsafe` on line(s) {}{more}: unsafe code lives only in {} (or on tidy's allow-list, with a reason)",
                    shown.join(", "),
                    homes.join(", "),
                ),
            ));
        }
    }
    violations.extend(
        stale
            .into_iter()
            .map(|(path, why)| Violation::new(path, format!("{why}; remove the entry"))),
    );
    violations
}

/// The 1-based numbers of the lines where `unsafe` is a token of code.
pub(super) fn unsafe_lines(source: &str) -> Vec<usize> {
    code_only(source)
        .lines()
        .enumerate()
        .filter(|(_, line)| has_token(line, "unsafe"))
        .map(|(i, _)| i + 1)
        .collect()
}

/// Whether `word` occurs in `line` as a whole identifier.
fn has_token(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Whether `c` can be part of an identifier.
fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `source` with every comment and the inside of every string and character
/// literal replaced by spaces; newlines are kept, so line numbers stay.
pub(super) fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let starts_token = i == 0 || !is_ident(chars[i - 1]);
        if c == '/' && next == Some('/') {
            // A line comment, doc comments included.
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // A block comment; they nest.
            let mut depth = 0usize;
            while i < chars.len() {
                let pair = (chars[i], chars.get(i + 1).copied());
                if pair == ('/', Some('*')) {
                    depth += 1;
                } else if pair == ('*', Some('/')) {
                    depth -= 1;
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                    continue;
                }
                out.push_str("  ");
                i += 2;
                if depth == 0 {
                    break;
                }
            }
        } else if c == '"' {
            i = skip_string(&chars, i, None, &mut out);
        } else if let Some((prefix, hashes)) = raw_string_start(&chars, i).filter(|_| starts_token)
        {
            out.extend(&chars[i..i + prefix]);
            i = skip_string(&chars, i + prefix, Some(hashes), &mut out);
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}'), or else a lifetime
            // or label, which is code.
            let end = if next == Some('\\') {
                (i + 3..chars.len()).find(|&j| chars[j] == '\'')
            } else if chars.get(i + 2) == Some(&'\'') && next != Some('\n') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.push('\'');
                    for &inner in &chars[i + 1..end] {
                        blank(&mut out, inner);
                    }
                    out.push('\'');
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// At `chars[i]`, the start of a raw string (`r"`, `r#"`, `br##"`, `cr"`):
/// the length of the prefix before its opening quote (`r#` is 2) and the
/// number of `#`s.
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if matches!(chars.get(j), Some('b' | 'c')) {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    j += hashes;
    (chars.get(j) == Some(&'"')).then_some((j - i, hashes))
}

/// Blanks the string literal whose opening quote is `chars[quote]`: a raw
/// one (no escapes) closed by a quote and `raw` = `Some(n)` `#`s, or an
/// ordinary one. Returns the index after it.
fn skip_string(chars: &[char], quote: usize, raw: Option<usize>, out: &mut String) -> usize {
    let hashes = raw.unwrap_or(0);
    out.push('"');
    let mut i = quote + 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && raw.is_none() {
            out.push(' ');
            if let Some(&escaped) = chars.get(i + 1) {
                out.push(if escaped == '\n' { '\n' } else { ' ' });
            }
            i += 2;
            continue;
        }
        let closes = c == '"'
            && chars[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&h| h == '#')
                .count()
                == hashes;
        if closes {
            out.push('"');
            out.push_str(&"#".repeat(hashes));
            return i + 1 + hashes;
        }
        out.push(if c == '\n' { '\n' } else { ' ' });
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(path: &str, text: &str) -> Source {
        Source {
            path: path.to_owned(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn finds_unsafe_code_by_line() {
        assert_eq!(unsafe_lines("unsafe { f() }"), [1]);
        assert_eq!(
            unsafe_lines("fn f() {}\n\n    let x = unsafe { g() };\n"),
            [3]
        );
        assert_eq!(unsafe_lines("unsafe impl Send for X {}\n"), [1]);
        assert_eq!(unsafe_lines("pub unsafe fn f() {}\n"), [1]);
        assert_eq!(unsafe_lines("x(unsafe{y})"), [1]);
    }

    #[test]
    fn ignores_comments_docs_and_other_identifiers() {
        let text = "\
//! Since the crate forbids `unsafe`, ...
#![forbid(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
/// Filling it needs `unsafe`.
// unsafe
/* unsafe /* nested */ still a comment: unsafe */
fn not_unsafe() { let unsafely = 1; }
#[doc = \"unsafe\"]
";
        assert_eq!(unsafe_lines(text), Vec::<usize>::new());
    }

    #[test]
    fn ignores_strings_and_chars_but_not_code_after_them() {
        assert!(unsafe_lines(r#"let s = "unsafe \" unsafe";"#).is_empty());
        assert!(unsafe_lines("let s = r#\"unsafe \" unsafe\"#;").is_empty());
        assert!(unsafe_lines("let s = br##\"unsafe \"# unsafe\"##;").is_empty());
        assert!(unsafe_lines("let s = b\"unsafe\";").is_empty());
        assert!(unsafe_lines("let s = \"multi\nline unsafe\n\";").is_empty());
        // A quote in a char literal opens no string.
        assert_eq!(unsafe_lines("let q = '\"'; unsafe { f() }"), [1]);
        assert_eq!(unsafe_lines("let q = '\\''; unsafe { f() }"), [1]);
        assert_eq!(unsafe_lines("let q = b'\\\\'; unsafe { f() }"), [1]);
        // Lifetimes are code, not the start of a char literal.
        assert_eq!(
            unsafe_lines("fn f<'a>(x: &'a str) { unsafe { g(x) } }"),
            [1]
        );
        // A string ends where it ends.
        assert_eq!(unsafe_lines("let s = \"a\\\\\"; unsafe { f() }"), [1]);
        assert_eq!(unsafe_lines("let s = r\"a\\\"; unsafe { f() }"), [1]);
        // `r` inside an identifier starts no raw string.
        assert_eq!(unsafe_lines("let bar = x; unsafe { f() }"), [1]);
    }

    #[test]
    fn code_only_keeps_lines_and_code() {
        let text = "a /* x\ny */ b // c\n\"s\nt\" 'q' d";
        let code = code_only(text);
        assert_eq!(code.lines().count(), text.lines().count());
        assert_eq!(code.len(), text.len());
        let words: Vec<&str> = code.split_whitespace().collect();
        assert_eq!(words, ["a", "b", "\"", "\"", "'", "'", "d"]);
    }

    #[test]
    fn unsafe_outside_its_homes_is_reported_unless_allowed() {
        let homes = [
            ("crates/exec/src/raw/", "raw"),
            ("crates/reactor/src/sys.rs", "sys"),
        ];
        let allowed = [("benches/src/clock.rs", "a clock")];
        let found = check(
            &[
                source("crates/exec/src/raw/task.rs", "unsafe { f() }"),
                source("crates/reactor/src/sys.rs", "unsafe { f() }"),
                source("crates/reactor/src/sys_more.rs", "\n unsafe { f() }"),
                source("crates/exec/src/local.rs", "// unsafe in a comment\n"),
                source(
                    "crates/exec/src/lib.rs",
                    "#![forbid(unsafe_code)]\nunsafe fn f() {}",
                ),
                source("benches/src/clock.rs", "unsafe { clock() }"),
            ],
            &homes,
            &allowed,
        );
        let found: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].starts_with("crates/reactor/src/sys_more.rs: `unsafe` on line(s) 2:"),
            "{found:#?}"
        );
        assert!(
            found[1].starts_with("crates/exec/src/lib.rs: `unsafe` on line(s) 2:"),
            "{found:#?}"
        );
        assert!(found[1].contains("crates/exec/src/raw/, crates/reactor/src/sys.rs"));
    }

    #[test]
    fn stale_allow_list_entries_are_reported() {
        let allowed = [
            ("a.rs", "gone"),
            ("b.rs", "no unsafe left"),
            ("c.rs", "used"),
        ];
        let found = check(
            &[
                source("b.rs", "// unsafe once\n"),
                source("c.rs", "unsafe { f() }"),
            ],
            &[],
            &allowed,
        );
        let found: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "a.rs: is on the unsafe allow-list but does not exist; remove the entry",
                "b.rs: is on the unsafe allow-list but has no `unsafe`; remove the entry",
            ]
        );
    }
}
