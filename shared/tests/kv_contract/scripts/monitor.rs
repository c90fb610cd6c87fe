//! What a real Redis ran, read from `MONITOR`: each `EVAL`/`EVALSHA` a client
//! sent, with the commands its script ran inside the server (`[0 lua]` lines,
//! which Redis writes right after the script's own line).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One script run: what the client declared, and what the script did.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The SHA-1 of the script (computed from the source for `EVAL`).
    pub sha: String,
    pub keys: Vec<Vec<u8>>,
    pub args: Vec<Vec<u8>>,
    /// Each command the script ran, words as sent.
    pub calls: Vec<Vec<Vec<u8>>>,
}

/// A `MONITOR` connection to a server, collecting lines until `finish`.
pub struct Monitor {
    port: u16,
    stream: TcpStream,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Monitor {
    pub fn start(port: u16) -> Monitor {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect for MONITOR");
        stream.write_all(b"MONITOR\r\n").expect("send MONITOR");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut ok = String::new();
        reader.read_line(&mut ok).expect("MONITOR answer");
        assert_eq!(ok.trim_end(), "+OK", "MONITOR refused");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in reader.lines() {
                let Ok(line) = line else { break };
                sink.lock().expect("lines").push(line);
            }
        });
        Monitor {
            port,
            stream,
            lines,
        }
    }

    /// Waits until everything sent before now has been seen, stops watching,
    /// and returns the script runs in order.
    pub fn finish(self) -> Vec<Invocation> {
        let marker = format!("monitor-end-{}", uuid::Uuid::new_v4());
        let mut con = redis::Client::open(format!("redis://127.0.0.1:{}", self.port))
            .expect("client")
            .get_connection()
            .expect("connection");
        let _: String = redis::cmd("ECHO")
            .arg(&marker)
            .query(&mut con)
            .expect("echo");
        let deadline = Instant::now() + Duration::from_secs(10);
        let lines = loop {
            let lines = self.lines.lock().expect("lines").clone();
            if lines.iter().any(|l| l.contains(&marker)) {
                break lines;
            }
            assert!(Instant::now() < deadline, "MONITOR never showed the marker");
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        invocations(&lines)
    }
}

/// Groups monitor lines into script runs.
pub fn invocations(lines: &[String]) -> Vec<Invocation> {
    let mut runs: Vec<Invocation> = Vec::new();
    let mut open = false;
    for line in lines {
        let line = line.strip_prefix('+').unwrap_or(line);
        let Some((client, words)) = parse_line(line) else {
            continue;
        };
        if client == "lua" {
            assert!(open, "a script command outside any script: {line}");
            if let Some(run) = runs.last_mut() {
                run.calls.push(words);
            }
            continue;
        }
        let name = words
            .first()
            .map(|w| String::from_utf8_lossy(w).to_ascii_uppercase());
        open = matches!(name.as_deref(), Some("EVAL" | "EVALSHA"));
        if open {
            runs.push(invocation(&words));
        }
    }
    runs
}

fn invocation(words: &[Vec<u8>]) -> Invocation {
    let name = String::from_utf8_lossy(&words[0]).to_ascii_uppercase();
    let sha = if name == "EVAL" {
        sha1_smol::Sha1::from(&words[1]).digest().to_string()
    } else {
        String::from_utf8_lossy(&words[1]).to_ascii_lowercase()
    };
    let numkeys: usize = String::from_utf8_lossy(&words[2]).parse().expect("numkeys");
    Invocation {
        sha,
        keys: words[3..3 + numkeys].to_vec(),
        args: words[3 + numkeys..].to_vec(),
        calls: Vec::new(),
    }
}

/// `1700000000.123456 [0 127.0.0.1:5555] "SET" "k\x00"` → (`127.0.0.1:5555`, words).
fn parse_line(line: &str) -> Option<(String, Vec<Vec<u8>>)> {
    let open = line.find('[')?;
    let close = open + line[open..].find("] ")?;
    let client = line[open + 1..close].split_once(' ')?.1.to_owned();
    Some((client, unquote_all(&line.as_bytes()[close + 2..])))
}

/// The words of a `MONITOR` line: `"…"` strings with Redis's escapes.
fn unquote_all(mut rest: &[u8]) -> Vec<Vec<u8>> {
    let mut words = Vec::new();
    while let Some(start) = rest.iter().position(|&b| b == b'"') {
        let mut word = Vec::new();
        let mut i = start + 1;
        while i < rest.len() && rest[i] != b'"' {
            if rest[i] == b'\\' && i + 1 < rest.len() {
                i += 1;
                match rest[i] {
                    b'n' => word.push(b'\n'),
                    b'r' => word.push(b'\r'),
                    b't' => word.push(b'\t'),
                    b'a' => word.push(7),
                    b'b' => word.push(8),
                    b'x' if i + 2 < rest.len() => {
                        let hex = std::str::from_utf8(&rest[i + 1..i + 3]).unwrap_or("00");
                        word.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                        i += 2;
                    }
                    other => word.push(other),
                }
            } else {
                word.push(rest[i]);
            }
            i += 1;
        }
        words.push(word);
        rest = &rest[(i + 1).min(rest.len())..];
    }
    words
}

#[test]
fn monitor_lines_decode_with_their_escapes() {
    let lines = [
        r#"+1.5 [0 127.0.0.1:1] "EVAL" "return 1" "1" "k\"1" "\xff\x01x""#.to_owned(),
        r#"+1.6 [0 lua] "GET" "a\\b\nc""#.to_owned(),
        r#"+1.7 [0 127.0.0.1:1] "GET" "x""#.to_owned(),
    ];
    let runs = invocations(&lines);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].keys, vec![b"k\"1".to_vec()]);
    assert_eq!(runs[0].args, vec![vec![0xff, 0x01, b'x']]);
    assert_eq!(
        runs[0].calls,
        vec![vec![b"GET".to_vec(), b"a\\b\nc".to_vec()]]
    );
    assert_eq!(runs[0].sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}
