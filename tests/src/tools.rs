//! Outside tools some tests drive (cargo-lambda, cfn-lint: both from PyPI,
//! installed by `scripts/install-deps.sh`). Absent, a test skips with a loud
//! message; but where the tool is required (`scripts/test.sh` sets
//! `FOLIO_REQUIRE_TOOLS=1`, and CI sets `CI`) its absence fails the test.

use std::process::{Command, Stdio};

/// True when `program args…` runs and succeeds. Otherwise panics if tools
/// are required here, or says loudly that `test` is skipped and returns false.
pub fn available(program: &str, args: &[&str], install: &str, test: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    let required = std::env::var_os("FOLIO_REQUIRE_TOOLS").is_some_and(|v| v == "1")
        || std::env::var_os("CI").is_some();
    assert!(
        !required,
        "`{program} {}` does not run, and tools are required here: {install} (scripts/install-deps.sh does)",
        args.join(" ")
    );
    eprintln!(
        "\n!!!!!!!!\n!!! SKIPPED {test}: `{program}` is not installed ({install})\n!!!!!!!!\n"
    );
    false
}
