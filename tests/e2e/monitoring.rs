//! The monitoring profile's files, checked offline with the real tools:
//! promtool (config, rules, rule unit tests) and the dashboard against its
//! schema, by `scripts/check-monitoring.sh`.

use std::path::Path;
use std::process::Command;

#[test]
fn the_monitoring_profile_validates_with_promtool_and_the_dashboard_schema() {
    if !folio_e2e::tools::available(
        "promtool",
        &["--version"],
        "apt-get install prometheus",
        "the_monitoring_profile_validates_with_promtool_and_the_dashboard_schema",
    ) {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root");
    let output = Command::new("bash")
        .arg(root.join("scripts/check-monitoring.sh"))
        .current_dir(root)
        .output()
        .expect("run scripts/check-monitoring.sh");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "check-monitoring failed:\n{text}");
    assert!(
        text.contains("Unit Testing:  alerts.test.yml\n  SUCCESS"),
        "{text}"
    );
    assert!(text.contains("check-monitoring: ok"), "{text}");
}
