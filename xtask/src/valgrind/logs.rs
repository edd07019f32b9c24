//! Reading what a test binary's run left: libtest's output (counts, the
//! failed tests) and memcheck's log (its verdict and first error reports).

/// What one binary's run under valgrind found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Outcome {
    /// Tests passed, over every `test result:` line.
    pub(super) passed: usize,
    /// Tests failed, over every `test result:` line.
    pub(super) failed: usize,
    /// The names of the failed tests, as libtest lists them.
    pub(super) failed_tests: Vec<String>,
    /// memcheck's `ERROR SUMMARY` count.
    pub(super) errors: usize,
    /// Bytes memcheck reported definitely lost.
    pub(super) definitely_lost: u64,
    /// The first error reports of the log, a few lines each.
    pub(super) first_errors: Vec<String>,
}

/// The totals of every libtest `test result:` line in `output`.
pub(super) fn parse_test_counts(output: &str) -> (usize, usize) {
    let count = |line: &str, what: &str| -> usize {
        line.split(';')
            .find_map(|part| {
                let part = part.trim().trim_start_matches("test result: ");
                let part = part.split_once(". ").map_or(part, |(_, rest)| rest);
                part.strip_suffix(what)?.trim().parse().ok()
            })
            .unwrap_or(0)
    };
    output
        .lines()
        .filter(|l| l.starts_with("test result:"))
        .fold((0, 0), |(p, f), l| {
            (p + count(l, "passed"), f + count(l, "failed"))
        })
}

/// memcheck's verdict in its log: the error count, the definitely lost
/// bytes, and the first few error reports (each up to the first blank line).
pub(super) fn parse_valgrind_log(log: &str) -> Outcome {
    // Strip the `==PID== ` prefix.
    let body = |line: &str| -> String {
        line.strip_prefix("==")
            .and_then(|l| l.split_once("=="))
            .map_or(line, |(_, rest)| rest.strip_prefix(' ').unwrap_or(rest))
            .to_owned()
    };
    let lines: Vec<String> = log.lines().map(body).collect();
    let mut outcome = Outcome::default();
    for line in &lines {
        if let Some(rest) = line.strip_prefix("ERROR SUMMARY: ") {
            let n = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.replace(',', "").parse().ok());
            outcome.errors = outcome.errors.max(n.unwrap_or(0));
        }
        if let Some(rest) = line.trim_start().strip_prefix("definitely lost: ") {
            let n = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.replace(',', "").parse().ok());
            outcome.definitely_lost = outcome.definitely_lost.max(n.unwrap_or(0));
        }
    }
    // An error report starts with a line that is not indented and is
    // followed by ` at ` / ` by ` frames. Leak records that are not errors
    // (possibly lost, still reachable, indirectly lost) are left out.
    let not_an_error = |line: &str| {
        [
            "are possibly lost",
            "are still reachable",
            "are indirectly lost",
        ]
        .iter()
        .any(|kind| line.contains(kind))
    };
    let mut i = 0;
    while i < lines.len() && outcome.first_errors.len() < 3 {
        let line = &lines[i];
        let frames_follow = lines.get(i + 1).is_some_and(|next| {
            next.trim_start().starts_with("at ") || next.trim_start().starts_with("by ")
        });
        if !line.is_empty() && !line.starts_with(' ') && frames_follow {
            let end = (i..lines.len())
                .find(|&j| lines[j].is_empty())
                .unwrap_or(lines.len());
            if not_an_error(line) {
                i = end;
                continue;
            }
            let report: Vec<&str> = lines[i..end].iter().take(14).map(String::as_str).collect();
            outcome.first_errors.push(report.join("\n"));
            i = end;
        } else {
            i += 1;
        }
    }
    outcome
}

/// The failed tests libtest lists at the end of its output: the indented
/// names under a `failures:` line.
pub(super) fn failed_tests(output: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_list = false;
    for line in output.lines() {
        if line == "failures:" {
            in_list = true;
        } else if in_list && line.starts_with("    ") && !line.trim().contains(' ') {
            names.push(line.trim().to_owned());
        } else {
            in_list = false;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tests_over_every_result_line() {
        let output = "\
running 3 tests
test a ... ok
test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
test result: FAILED. 10 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 1.00s
";
        assert_eq!(parse_test_counts(output), (13, 2));
        assert_eq!(parse_test_counts("no tests here"), (0, 0));
    }

    #[test]
    fn lists_the_failed_tests() {
        let output = "\
running 3 tests
test a ... ok
test b::slow ... FAILED
test c ... FAILED

failures:

---- b::slow stdout ----
thread 'b::slow' panicked at tests/b.rs:3:5:
returned after 126ms

failures:
    b::slow
    c

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s
";
        assert_eq!(failed_tests(output), ["b::slow", "c"]);
        assert!(failed_tests("test result: ok. 3 passed; 0 failed;").is_empty());
    }

    #[test]
    fn reads_memcheck_errors_leaks_and_reports() {
        let log = "\
==42== Memcheck, a memory error detector
==42== Command: /t/debug/deps/close-1 --test-threads=1
==42==
==42== Invalid read of size 8
==42==    at 0x1234: corio_executor::raw::header::Header::state (header.rs:10)
==42==    by 0x5678: corio_executor::local::close (local.rs:20)
==42==  Address 0xdead is 16 bytes inside a block of size 64 free'd
==42==
==42== HEAP SUMMARY:
==42==     in use at exit: 1,024 bytes in 2 blocks
==42==
==42== 48 bytes in 1 blocks are possibly lost in loss record 1 of 3
==42==    at 0x9abc: malloc (vg_replace_malloc.c:381)
==42==    by 0x1111: std::thread::current::init_current (current.rs:294)
==42==
==42== 96 bytes in 1 blocks are definitely lost in loss record 2 of 3
==42==    at 0x9abc: malloc (vg_replace_malloc.c:381)
==42==    by 0xdef0: alloc::alloc::alloc (alloc.rs:1)
==42==
==42== LEAK SUMMARY:
==42==    definitely lost: 1,096 bytes in 1 blocks
==42==    indirectly lost: 0 bytes in 0 blocks
==42==
==42== ERROR SUMMARY: 2 errors from 2 contexts (suppressed: 0 from 0)
";
        let outcome = parse_valgrind_log(log);
        assert_eq!(outcome.errors, 2);
        assert_eq!(outcome.definitely_lost, 1096);
        assert_eq!(outcome.first_errors.len(), 2, "{:#?}", outcome.first_errors);
        assert!(outcome.first_errors[0].starts_with("Invalid read of size 8\n   at 0x1234"));
        assert!(outcome.first_errors[0].contains("free'd"));
        assert!(outcome.first_errors[1].starts_with("96 bytes in 1 blocks are definitely lost"));
        assert_eq!(
            parse_valgrind_log("==1== ERROR SUMMARY: 0 errors from 0 contexts"),
            Outcome::default()
        );
    }
}
