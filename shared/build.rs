//! Records the Tesseract version this build links against, so readiness can
//! report it without linking libtesseract into binaries that run no OCR (the
//! `health` function: loading libtesseract and its ~50 dependencies would
//! triple its cold start).

fn main() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let version = std::process::Command::new("pkg-config")
        .args(["--modversion", "tesseract"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=FOLIO_TESSERACT_VERSION={version}");
}
