//! Image header checks (size against the pixel cap, every TIFF directory)
//! before anything is decoded: an answer or a refusal, never a panic, and
//! never more pages than the cap.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shared::ocr::Limits;

fn limits() -> Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    *LIMITS.get_or_init(|| shared::fuzzing::default_limits().expect("default limits"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(pages) = shared::fuzzing::image_header(data, limits()) {
        assert!(
            pages <= limits().max_pages.max(1),
            "{pages} pages passed the cap"
        );
    }
});
