//! Type sniffing: any body gets a kind or a refusal that describes it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match shared::fuzzing::sniff(data) {
        Ok(kind) => assert!(!data.is_empty(), "{kind:?} from nothing"),
        Err(e) => {
            // The refusal is shown to the caller: it must render.
            let _ = e.to_string();
        }
    }
});
