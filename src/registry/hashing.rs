//! The hash of the registry's tables.

/// How the table of entries hashes its keys (system names of at most a few
/// hundred bytes): a folded 64x64->128-bit multiply per 8 bytes, the
/// construction of foldhash (hashbrown's default hasher), keyed per registry
/// from the standard library's random keys so that collisions cannot be
/// precomputed. SipHash-1-3, the standard default, was a quarter of the
/// cost of a registration; this is a few instructions per word.
#[derive(Clone)]
pub(super) struct KeyHashing {
    seed: u64,
    multiplier: u64,
}

impl KeyHashing {
    pub(super) fn new() -> Self {
        use std::hash::{BuildHasher, RandomState};
        let random = RandomState::new();
        KeyHashing {
            seed: random.hash_one(0x7472_6974_6f6e_u64),
            // Odd, so that the multiply never loses the low bit.
            multiplier: random.hash_one(0x73_686d_u64) | 1,
        }
    }
}

impl KeyHashing {
    /// One keyed round over a single word.
    pub(super) fn mix_word(&self, word: u64) -> u64 {
        folded_multiply(self.seed ^ word, self.multiplier)
    }
}

impl std::hash::BuildHasher for KeyHashing {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher {
            state: self.seed,
            multiplier: self.multiplier,
        }
    }
}

/// The 128-bit product of `a` and `b`, its two halves xored: the one round
/// every hash here is made of.
fn folded_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    // Truncations on purpose: fold the two halves of the product.
    (product as u64) ^ ((product >> 64) as u64)
}

pub(super) struct KeyHasher {
    state: u64,
    multiplier: u64,
}

impl KeyHasher {
    fn mix(&mut self, word: u64) {
        self.state = folded_multiply(self.state ^ word, self.multiplier);
    }
}

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut le = [0u8; 8];
            le.copy_from_slice(word);
            self.mix(u64::from_le_bytes(le));
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            let mut le = [0u8; 8];
            le[..tail.len()].copy_from_slice(tail);
            // The length in the top byte keeps "a" and "a\0" apart.
            self.mix(u64::from_le_bytes(le) ^ ((tail.len() as u64) << 56));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        // One more round so the last word reaches every bit.
        folded_multiply(self.state.rotate_left(23), self.multiplier)
    }
}
