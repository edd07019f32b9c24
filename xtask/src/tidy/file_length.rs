//! The file-length rule: a `.rs` file holds one thing, so it stays under
//! [`MAX_LINES`] lines; a longer one is split by what it holds, or named on
//! [`ALLOWED`] with the reason it cannot be.

use super::{Source, Violation};

/// The most lines a `.rs` file under `crates/`, `xtask/` or `benches/` may have.
pub(super) const MAX_LINES: usize = 600;

/// Files that may be longer than [`MAX_LINES`], and why. An entry whose
/// file is gone or short again is a violation, so the list only shrinks.
pub(super) const ALLOWED: [(&str, &str); 0] = [];

/// The length rule over `sources`.
pub(super) fn check(
    sources: &[Source],
    max_lines: usize,
    allowed: &[(&str, &str)],
) -> Vec<Violation> {
    let mut violations = Vec::new();
    for source in sources {
        let lines = source.text.lines().count();
        let listed = allowed.iter().any(|(path, _)| *path == source.path);
        if lines > max_lines && !listed {
            violations.push(Violation::new(
                &source.path,
                format!(
                    "{lines} lines, more than {max_lines}: split it by what it holds (or name it, with the reason, on tidy's file-length allow-list)"
                ),
            ));
        } else if lines <= max_lines && listed {
            violations.push(Violation::new(
                &source.path,
                format!("is on the file-length allow-list but has {lines} lines; remove the entry"),
            ));
        }
    }
    for (path, _) in allowed {
        if !sources.iter().any(|s| s.path == *path) {
            violations.push(Violation::new(
                *path,
                "is on the file-length allow-list but does not exist; remove the entry",
            ));
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(path: &str, n: usize) -> Source {
        Source {
            path: path.to_owned(),
            text: "x\n".repeat(n),
        }
    }

    #[test]
    fn long_files_are_reported_unless_allowed() {
        let allowed = [("long_but_listed.rs", "generated")];
        let found = check(
            &[
                lines("short.rs", 10),
                lines("exactly.rs", 10),
                lines("long.rs", 11),
                lines("long_but_listed.rs", 50),
            ],
            10,
            &allowed,
        );
        let found: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("long.rs: 11 lines, more than 10: split it"),
            "{found:#?}"
        );
    }

    #[test]
    fn stale_allow_list_entries_are_reported() {
        let allowed = [("gone.rs", "was long"), ("short_now.rs", "was long")];
        let found = check(&[lines("short_now.rs", 3)], 10, &allowed);
        let found: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "short_now.rs: is on the file-length allow-list but has 3 lines; remove the entry",
                "gone.rs: is on the file-length allow-list but does not exist; remove the entry",
            ]
        );
    }
}
