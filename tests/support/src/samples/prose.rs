//! Known English text for sample documents: plain prose, ASCII only, drawn
//! from a fixed list of sentences in an order set by the page number, so every
//! page differs and every run makes the same pages.

const SENTENCES: [&str; 40] = [
    "The river carried the spring melt down from the hills, and the town woke to the sound of water under its bridges.",
    "Every morning the baker opened the shutters at six, set out forty loaves, and wrote the price of rye on a small slate.",
    "A quiet library keeps its own kind of time, measured in pages turned and chairs pushed back against the floor.",
    "The committee met on Tuesday to review the budget for the new school, which had grown by twelve percent since March.",
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen inside the green leaves of plants.",
    "She folded the map twice, tucked it into her coat, and walked north until the road turned into a narrow path.",
    "Old ships were built from oak because the wood is dense, strong, and slow to rot when it stays wet.",
    "The report lists three causes for the delay: a late delivery of steel, a week of heavy rain, and a missing permit.",
    "In the museum, a clock from 1790 still keeps good time, although its case has faded to the color of tea.",
    "Farmers in the valley plant barley in April and bring in the harvest before the first frost of autumn.",
    "A good recipe for bread needs only flour, water, salt and yeast, but it also needs patience and a warm kitchen.",
    "The train left the station eleven minutes late and made up the time somewhere between the lake and the city.",
    "Most of the letters in the archive were written in pencil, so the staff scan them before the marks fade away.",
    "The bridge was painted green in 1931 and has been repainted every seven years since then, always the same shade.",
    "Children learn to read by hearing stories first, then by matching sounds to letters, and finally by reading alone.",
    "The survey found that most people walk less than two kilometers a day, far below what doctors recommend.",
    "Snow fell through the night and covered the cars, the fences and the roofs until the street looked brand new.",
    "The manager asked every team to send a short summary of their progress before the end of the quarter.",
    "Bees visit thousands of flowers to make a single spoon of honey, and they share the work across the whole hive.",
    "A lighthouse stands at the end of the pier, and its lamp turns once every ten seconds from dusk until dawn.",
    "The new software release fixes a memory leak, speeds up the search page, and adds support for two languages.",
    "He kept a notebook of every bird he saw, with the date, the place and the weather written beside each name.",
    "The market sells apples, pears, cheese, honey and wool, and on Saturdays a band plays near the fountain.",
    "Mountains shape the weather on both of their sides, with rain on one slope and dry wind on the other.",
    "The contract starts on the first of June and runs for two years, with an option to extend it by another year.",
    "At the end of the hall hangs a portrait of the founder, a stern man with a gray beard and a kind smile.",
    "Water boils at a lower temperature high in the mountains, so cooking pasta there takes a little longer.",
    "The students built a small robot that can follow a black line across the floor and stop at every corner.",
    "Our office moved to the third floor, where the windows face the park and the light is softer in the afternoon.",
    "A careful reader checks the dates, the names and the numbers before trusting any story in the newspaper.",
    "The old road follows the coast for sixty kilometers, passing through five villages and one busy harbor.",
    "Tea was first brought to the port in wooden chests, each one stamped with the name of the estate.",
    "The orchestra tuned their instruments while the hall filled slowly with people shaking rain from their coats.",
    "Please return the signed form by Friday, together with a copy of your identity card and a recent photograph.",
    "Wind turbines on the hill produce enough power for four thousand homes on a good day in winter.",
    "The garden has a pond, a stone bench, a row of tall sunflowers and a path lined with lavender.",
    "Engineers measured the vibration of the tower every hour for a month before they approved the design.",
    "The recipe calls for two cups of flour, one cup of milk, three eggs and a pinch of salt.",
    "Late in the evening the harbor grew quiet, and only the gulls and the creaking ropes could still be heard.",
    "Scientists count tree rings to learn how old a tree is and how much rain fell in each year of its life.",
];

/// A full page of prose (about 2,000 characters in four paragraphs).
pub fn page_text(page: usize) -> String {
    let mut state = (page as u64)
        .wrapping_mul(2_654_435_761)
        .wrapping_add(12_345);
    let mut paragraphs = Vec::new();
    for _ in 0..4 {
        let mut paragraph = Vec::new();
        let mut length = 0;
        while length < 480 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let sentence = SENTENCES[((state >> 33) % SENTENCES.len() as u64) as usize];
            length += sentence.len() + 1;
            paragraph.push(sentence);
        }
        paragraphs.push(paragraph.join(" "));
    }
    paragraphs.join("\n")
}

/// A short block of prose (three sentences) for image samples.
pub fn paragraph(seed: usize) -> String {
    (0..3)
        .map(|i| SENTENCES[(seed * 7 + i * 13) % SENTENCES.len()])
        .collect::<Vec<_>>()
        .join(" ")
}
