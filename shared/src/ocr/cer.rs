//! Character error rate: the edit distance between a known text and what was
//! recognised, over the known text's length. Whitespace runs count as one
//! space (layout is not content) and typographic variants Tesseract likes
//! (curly quotes, dashes, ligatures) count as their ASCII forms. Used by the
//! tests and the benchmark, for both pipelines alike.

/// Edits (insertions, deletions, substitutions) and reference length, so
/// several pages can be summed before dividing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub edits: usize,
    pub reference_chars: usize,
}

impl std::ops::Add for Tally {
    type Output = Tally;

    fn add(self, other: Tally) -> Tally {
        Tally {
            edits: self.edits + other.edits,
            reference_chars: self.reference_chars + other.reference_chars,
        }
    }
}

impl std::iter::Sum for Tally {
    fn sum<I: Iterator<Item = Tally>>(iter: I) -> Tally {
        iter.fold(Tally::default(), |a, b| a + b)
    }
}

impl Tally {
    /// Edits per reference character (0 = perfect; can exceed 1).
    pub fn rate(self) -> f64 {
        if self.reference_chars == 0 {
            return if self.edits == 0 { 0.0 } else { 1.0 };
        }
        self.edits as f64 / self.reference_chars as f64
    }
}

/// Compares one page (or any stretch of text).
pub fn tally(reference: &str, recognised: &str) -> Tally {
    let reference = normalise(reference);
    let recognised = normalise(recognised);
    Tally {
        edits: edit_distance(&reference, &recognised),
        reference_chars: reference.len(),
    }
}

/// The character error rate of `recognised` against `reference`.
pub fn cer(reference: &str, recognised: &str) -> f64 {
    tally(reference, recognised).rate()
}

/// Characters after the normalisation described above.
pub fn normalise(text: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' => out.push('"'),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
            '\u{FB01}' => out.extend(['f', 'i']),
            '\u{FB02}' => out.extend(['f', 'l']),
            '\u{FB00}' => out.extend(['f', 'f']),
            other => out.push(other),
        }
    }
    out
}

/// Levenshtein distance in O(len(a) × len(b)) time and O(len(b)) memory.
pub fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}
