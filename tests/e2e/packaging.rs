//! The AWS packaging, checked without a release build: the SAM template
//! passes cfn-lint, and it deploys exactly the zips `cargo lambda build`
//! emits for the workspace's four function binaries (infra/aws/Makefile
//! builds them into target/lambda/<binary>/bootstrap.zip).

use std::path::PathBuf;
use std::process::Command;

use folio_e2e::{cargo_lambda, tools};

const FUNCTIONS: [&str; 4] = ["health", "ocr", "quiz", "worker-tick"];

fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

#[test]
fn the_sam_template_passes_cfn_lint() {
    if !tools::available(
        "cfn-lint",
        &["--version"],
        "pip install cfn-lint",
        "cfn-lint",
    ) {
        return;
    }
    let out = Command::new("cfn-lint")
        .arg(repo_file("infra/aws/template.yaml"))
        .output()
        .expect("run cfn-lint");
    assert!(
        out.status.success(),
        "cfn-lint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_template_deploys_exactly_the_zips_cargo_lambda_build_emits() {
    let template = std::fs::read_to_string(repo_file("infra/aws/template.yaml")).expect("template");
    let makefile = std::fs::read_to_string(repo_file("infra/aws/Makefile")).expect("Makefile");
    // Every function's CodeUri, relative to the template (infra/aws).
    let uris: Vec<&str> = template
        .lines()
        .filter_map(|l| l.trim().strip_prefix("CodeUri:"))
        .map(str::trim)
        .collect();
    let functions = template.matches("Type: AWS::Serverless::Function").count();
    assert_eq!(uris.len(), functions, "one CodeUri per function: {uris:?}");
    let mut deployed: Vec<&str> = uris
        .iter()
        .map(|u| {
            u.strip_prefix("../../target/lambda/")
                .unwrap_or_else(|| panic!("{u} is not under target/lambda"))
        })
        .collect();
    deployed.sort();
    let mut expected: Vec<String> = FUNCTIONS
        .iter()
        .map(|f| format!("{f}/bootstrap.zip"))
        .collect();
    expected.sort();
    assert_eq!(deployed, expected);
    // The Makefile builds those very binaries into that very folder.
    assert!(makefile.contains("LAMBDA_DIR := $(FOLIO_ROOT)/target/lambda"));
    assert!(makefile.contains(&format!("FUNCTIONS := {}", FUNCTIONS.join(" "))));
    assert!(makefile.contains("--output-format zip --lambda-dir \"$(LAMBDA_DIR)\""));
    // They are the workspace's binaries.
    for f in FUNCTIONS {
        assert!(
            repo_file(&format!("functions/{f}/src/main.rs")).exists(),
            "{f}"
        );
    }

    // And this is the layout cargo lambda build really emits.
    if !cargo_lambda::available("the cargo lambda build layout check") {
        return;
    }
    assert_eq!(cargo_lambda::emitted_zips(&FUNCTIONS), expected);
}
