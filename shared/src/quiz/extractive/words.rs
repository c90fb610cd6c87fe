//! Word lists for English: function words that are never a key term, generic
//! words too vague to quiz on, and the little words that come before a noun.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Function words, connectives and pronouns.
#[rustfmt::skip]
const STOP: &[&str] = &[
    "a", "about", "above", "across", "after", "afterwards", "again", "against", "all", "almost",
    "alone", "along", "inside", "outside", "beneath", "behind", "near", "underneath", "despite", "already", "also", "although", "always", "am", "among", "amongst", "an",
    "and", "another", "any", "anyone", "anything", "are", "around", "as", "at", "back", "be",
    "became", "because", "become", "becomes", "been", "before", "being", "below", "beside",
    "besides", "between", "beyond", "both", "but", "by", "can", "cannot", "could", "did", "do",
    "does", "doing", "done", "down", "during", "each", "either", "else", "enough", "even", "ever",
    "every", "few", "for", "from", "further", "had", "has", "have", "having", "he", "hence", "her",
    "here", "hers", "herself", "him", "himself", "his", "how", "however", "i", "if", "in", "into",
    "is", "it", "its", "itself", "just", "least", "less", "may", "me", "meanwhile", "might",
    "mine", "more", "moreover", "most", "mostly", "much", "must", "my", "myself", "neither",
    "never", "nevertheless", "next", "no", "nor", "not", "nothing", "now", "of", "off", "often",
    "on", "once", "one", "only", "onto", "or", "other", "others", "otherwise", "our", "ours",
    "ourselves", "out", "over", "own", "per", "perhaps", "quite", "rather", "same", "several",
    "shall", "she", "should", "since", "so", "some", "something", "sometimes", "still", "such",
    "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "thereby",
    "therefore", "these", "they", "this", "those", "though", "through", "throughout", "thus",
    "to", "together", "too", "toward", "towards", "under", "unless", "until", "up", "upon", "us",
    "very", "via", "was", "we", "well", "were", "what", "whatever", "when", "whence", "whenever",
    "where", "whereas", "whether", "which", "while", "who", "whole", "whom", "whose", "why",
    "will", "with", "within", "without", "would", "yet", "you", "your", "yours", "yourself",
    // Calendar words are names in form but make poor answers.
    "january", "february", "march", "april", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday",
];

/// Common words that are content words in form but too vague to be a key term.
#[rustfmt::skip]
const GENERIC: &[&str] = &[
    "able", "according", "actually", "addition", "allow", "allows", "another", "approximately",
    "area", "areas", "aspect", "aspects", "based", "begin", "began", "called", "case", "cases",
    "certain", "change", "changes", "common", "commonly", "different", "each", "early", "example",
    "examples", "fact", "first", "following", "form", "forms", "found", "further", "general",
    "generally", "give", "given", "gives", "good", "great", "help", "helps", "high", "however",
    "important", "include", "included", "includes", "including", "instance", "kind", "kinds",
    "known", "large", "larger", "last", "late", "later", "like", "likely", "little", "long",
    "made", "main", "major", "make", "makes", "making", "many", "means", "modern", "much", "need",
    "needs", "number", "numbers", "order", "part", "parts", "place", "possible", "process",
    "processes", "result", "results", "second", "seen", "show", "shows", "similar", "small",
    "smaller", "sort", "still", "take", "takes", "term", "terms", "thing", "things", "third",
    "time", "times", "type", "types", "usually", "used", "uses", "using", "various", "way", "ways",
    "whole", "within", "work", "works", "year", "years", "today", "another", "around", "several",
    "using", "become", "becomes", "known", "often", "well", "even", "rather", "three", "four",
    "five", "seven", "eight", "nine", "twenty", "hundred", "thousand", "million", "billion",
    "hundreds", "thousands", "millions", "billions", "dozens", "lots", "start", "end", "rest",
];

/// Determiners: what follows them (before any further word) is a noun.
#[rustfmt::skip]
const DETERMINERS: &[&str] = &[
    "a", "an", "the", "this", "these", "those", "its", "their", "his", "her", "our", "each",
    "every", "many", "some", "two", "three", "several", "no", "any", "both", "few",
];

/// Prepositions: what follows them is a noun when it is plural in form
/// ("in leaves"); otherwise it may be an adjective or adverb ("from deep").
#[rustfmt::skip]
const PREPOSITIONS: &[&str] = &[
    "of", "in", "by", "with", "from", "into", "for", "on", "as", "called", "named", "between",
    "through", "during", "about", "than", "like", "among", "across", "under", "over",
];

/// Sentence openers that point back to something outside the sentence.
#[rustfmt::skip]
const CONTEXT_OPENERS: &[&str] = &[
    "it", "this", "these", "they", "he", "she", "its", "their", "his", "her", "such", "those",
    "that", "there", "here",
];

fn set(words: &'static [&'static str]) -> HashSet<&'static str> {
    words.iter().copied().collect()
}

static STOP_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| set(STOP));
static GENERIC_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| set(GENERIC));
static DETERMINER_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| set(DETERMINERS));
static PREPOSITION_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| set(PREPOSITIONS));
static OPENER_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| set(CONTEXT_OPENERS));

/// `lower` is lower-cased.
pub fn is_stop(lower: &str) -> bool {
    STOP_SET.contains(lower)
}

pub fn is_generic(lower: &str) -> bool {
    GENERIC_SET.contains(lower)
}

pub fn is_determiner(lower: &str) -> bool {
    DETERMINER_SET.contains(lower)
}

pub fn is_preposition(lower: &str) -> bool {
    PREPOSITION_SET.contains(lower)
}

/// Words after which a noun phrase usually starts.
pub fn comes_before_noun(lower: &str) -> bool {
    is_determiner(lower) || is_preposition(lower)
}

pub fn is_context_opener(lower: &str) -> bool {
    OPENER_SET.contains(lower)
}

/// Endings that mark a noun (`-tion`, `-ment`, `-ase`…).
pub fn has_noun_suffix(lower: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "tion", "tions", "sion", "sions", "ment", "ments", "ness", "ity", "ities", "ism", "isms",
        "ist", "ists", "ide", "ides", "ose", "phyll", "ogen", "ogens", "cycle", "ence", "ences",
        "ance", "ances", "ship", "hood", "ery", "cule", "cules", "oid", "oids", "plast", "plasts",
        "some", "somes", "cyte", "cytes", "gen", "gens",
    ];
    SUFFIXES
        .iter()
        .any(|s| lower.len() > s.len() + 2 && lower.ends_with(s))
}

/// Endings that mark a verb, adjective or adverb.
pub fn has_non_noun_suffix(lower: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "ly", "ous", "ive", "ful", "less", "able", "ible", "ed", "ing", "est", "based", "ize",
        "izes", "ise", "ises", "ify", "ifies", "al", "ic",
    ];
    SUFFIXES
        .iter()
        .any(|s| lower.len() > s.len() + 2 && lower.ends_with(s))
}

/// A crude singular, for telling `chloroplast` and `chloroplasts` apart from
/// different terms: never shown to anyone.
pub fn stem(lower: &str) -> String {
    if let Some(base) = lower.strip_suffix("ies").filter(|b| b.len() > 2) {
        return format!("{base}y");
    }
    for ending in ["sses", "shes", "ches", "xes"] {
        if lower.ends_with(ending) {
            return lower[..lower.len() - 2].to_owned();
        }
    }
    if is_plural(lower) {
        return lower[..lower.len() - 1].to_owned();
    }
    lower.to_owned()
}

/// True for an English plural in form (`leaves`, `plants`, not `glass`, `virus`, `basis`).
pub fn is_plural(lower: &str) -> bool {
    lower.len() > 3
        && lower.ends_with('s')
        && !["ss", "us", "is", "ics", "sis", "ous"]
            .iter()
            .any(|e| lower.ends_with(e))
}
