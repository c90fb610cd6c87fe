//! A tiny seeded generator (SplitMix64) for the extractive generator's choices.
//! Written out rather than borrowed so the same input gives the same quiz on
//! every build, whatever a dependency's next version does to its streams.

#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    /// Seeds from the first eight bytes of a digest.
    pub fn from_digest(digest: &[u8]) -> Self {
        let mut seed = [0u8; 8];
        for (slot, byte) in seed.iter_mut().zip(digest) {
            *slot = *byte;
        }
        SeededRng(u64::from_le_bytes(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`); the tiny modulo bias does not matter here.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % (n.max(1) as u64)) as usize
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Fisher-Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let mut a = SeededRng::from_digest(b"abcdefgh");
        let mut b = SeededRng::from_digest(b"abcdefgh");
        let mut c = SeededRng::from_digest(b"abcdefgi");
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..5).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        assert!((0..100).all(|_| a.below(4) < 4 && (0.0..1.0).contains(&a.unit())));
    }
}
