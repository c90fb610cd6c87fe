//! The Upstash REST wire: decoding any answer body (one entry or a pipeline's
//! array, base64 or not), and encoding any binary command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::kv::Cmd;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        for entry in shared::fuzzing::upstash_answer(rest, mode & 2 == 0) {
            if let Err(e) = entry {
                let _ = e.to_string();
            }
        }
    } else {
        // Words separated by NUL; the first is the command name.
        let mut words = rest.split(|&b| b == 0);
        let Some(name) = words.next().and_then(|n| std::str::from_utf8(n).ok()) else {
            return;
        };
        let cmd = words.fold(Cmd::new(name), |cmd, word| cmd.arg(word));
        if let Ok(encoded) = shared::fuzzing::upstash_encode(&cmd) {
            assert!(!encoded.is_empty());
        }
    }
});
