//! The dependency-direction rules, read from `cargo metadata`: the
//! low-level crates use no other corio crate, and the runtimes corio is
//! compared against are only dev-dependencies (the facade's optional
//! `tokio` feature excepted).

use serde_json::Value;

use super::Violation;

/// The crates at the bottom of the stack, which must not depend on any
/// other corio crate.
pub(super) const LOW_LEVEL: [&str; 4] = [
    "corio-reactor",
    "corio-timer",
    "corio-executor",
    "corio-sync",
];

/// The Python extension (issue 18): it uses corio's crates and pyo3;
/// nothing may depend on it (it links against libpython only when loaded).
const LEAF_CRATES: [&str; 1] = ["corio-py"];

/// The runtimes corio is compared against, allowed only as dev-dependencies.
const COMPETITORS: [&str; 2] = ["tokio", "smol"];

/// The crates that may depend on [`COMPETITORS`] normally.
const COMPARISON_CRATES: [&str; 2] = ["corio-benches", "xtask"];

/// (crate, competitor) pairs allowed as an *optional* normal dependency:
/// the facade's `tokio` feature runs a tokio runtime beside the loop so
/// that tokio-based libraries work (issue 16); off by default.
const OPTIONAL_BRIDGES: [(&str, &str); 1] = [("corio", "tokio")];

/// The dependency-direction rules, over `cargo metadata` output.
pub(super) fn check(metadata: &Value) -> Vec<Violation> {
    let mut violations = Vec::new();
    let empty = Vec::new();
    let packages = metadata["packages"].as_array().unwrap_or(&empty);
    for name in LOW_LEVEL {
        if !packages.iter().any(|p| p["name"] == name) {
            violations.push(Violation::new(
                name,
                "expected as a workspace member, not found",
            ));
        }
    }
    for package in packages {
        let name = package["name"].as_str().unwrap_or("?");
        for dep in package["dependencies"].as_array().unwrap_or(&empty) {
            let dep_name = dep["name"].as_str().unwrap_or("?");
            let kind = dep["kind"].as_str().unwrap_or("normal");
            let is_corio = dep_name == "corio" || dep_name.starts_with("corio-");
            if LOW_LEVEL.contains(&name) && is_corio {
                violations.push(Violation::new(
                    name,
                    format!("low-level crate depends on `{dep_name}` ({kind} dependency); it may use no other corio crate"),
                ));
            }
            if LEAF_CRATES.contains(&dep_name) {
                violations.push(Violation::new(
                    name,
                    format!(
                        "depends on `{dep_name}` ({kind} dependency); nothing may depend on it"
                    ),
                ));
            }
            let optional_bridge = dep["optional"].as_bool() == Some(true)
                && OPTIONAL_BRIDGES.contains(&(name, dep_name));
            if COMPETITORS.contains(&dep_name)
                && kind != "dev"
                && !COMPARISON_CRATES.contains(&name)
                && !optional_bridge
            {
                violations.push(Violation::new(
                    name,
                    format!("depends on `{dep_name}` as a {kind} dependency; it is allowed only in [dev-dependencies]"),
                ));
            }
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(packages: &str) -> Value {
        let lows: Vec<String> = LOW_LEVEL
            .iter()
            .map(|n| format!(r#"{{"name":"{n}","dependencies":[]}}"#))
            .collect();
        serde_json::from_str(&format!(
            r#"{{"packages":[{},{packages}]}}"#,
            lows.join(",")
        ))
        .unwrap()
    }

    #[test]
    fn low_level_crates_may_not_use_other_corio_crates() {
        let m: Value = serde_json::from_str(
            r#"{"packages":[
                {"name":"corio-reactor","dependencies":[{"name":"polling","kind":null}]},
                {"name":"corio-timer","dependencies":[{"name":"corio-reactor","kind":"dev"}]},
                {"name":"corio-executor","dependencies":[{"name":"corio","kind":"build"}]},
                {"name":"corio-sync","dependencies":[]},
                {"name":"corio","dependencies":[{"name":"corio-timer","kind":null}]}
            ]}"#,
        )
        .unwrap();
        let subjects: Vec<String> = check(&m).into_iter().map(|v| v.subject).collect();
        assert_eq!(subjects, ["corio-timer", "corio-executor"]);
    }

    #[test]
    fn nothing_depends_on_the_python_extension() {
        let m = metadata(
            r#"{"name":"corio-py","dependencies":[{"name":"corio-reactor","kind":null},{"name":"pyo3","kind":null}]},
               {"name":"corio","dependencies":[{"name":"corio-py","kind":"dev"}]}"#,
        );
        let found: Vec<String> = check(&m).iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("corio: depends on `corio-py`"));
    }

    #[test]
    fn missing_low_level_crate_is_reported() {
        let m: Value = serde_json::from_str(r#"{"packages":[]}"#).unwrap();
        assert_eq!(check(&m).len(), LOW_LEVEL.len());
    }

    #[test]
    fn competitors_only_as_dev_dependencies() {
        let m = metadata(
            r#"{"name":"corio","dependencies":[{"name":"tokio","kind":"dev"},{"name":"smol","kind":null}]},
               {"name":"corio-sync2","dependencies":[{"name":"tokio","kind":"build"}]},
               {"name":"corio-benches","dependencies":[{"name":"tokio","kind":null},{"name":"smol","kind":null}]}"#,
        );
        let found: Vec<String> = check(&m).iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("corio: depends on `smol` as a normal"));
        assert!(found[1].starts_with("corio-sync2: depends on `tokio` as a build"));
    }

    #[test]
    fn the_facade_may_bridge_to_tokio_only_optionally() {
        let m = metadata(
            r#"{"name":"corio","dependencies":[{"name":"tokio","kind":null,"optional":true}]},
               {"name":"corio-net2","dependencies":[{"name":"tokio","kind":null,"optional":true}]},
               {"name":"corio","dependencies":[{"name":"tokio","kind":null,"optional":false}]}"#,
        );
        let found: Vec<String> = check(&m).iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("corio-net2: depends on `tokio` as a normal"));
        assert!(found[1].starts_with("corio: depends on `tokio` as a normal"));
    }
}
