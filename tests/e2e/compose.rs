use std::path::Path;
use std::process::Command;

/// The compose file is checked with a real compose parser (no Docker engine
/// runs here): every profile must parse and every function must have a
/// healthcheck and wait for healthy databases.
#[test]
fn the_compose_file_is_valid_for_every_profile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root");
    let output = Command::new("bash")
        .arg(root.join("scripts/check-compose.sh"))
        .current_dir(root)
        .output()
        .expect("run scripts/check-compose.sh");
    assert!(
        output.status.success(),
        "check-compose failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
