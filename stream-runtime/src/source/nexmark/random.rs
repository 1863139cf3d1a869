//! `java.util.Random`, bit for bit as the JDK specifies it, and `splitmix64` (docs/nexmark.md 1.4,
//! 1.4b).

/// The 48-bit linear congruential generator of `java.util.Random`.
///
/// Every method reproduces the JDK's algorithm exactly, including `nextInt(bound)`'s
/// power-of-two shortcut and rejection loop, so that a seed gives the same draws as in Java.
#[derive(Clone, Debug)]
pub struct JavaRandom {
    seed: u64,
}

const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const ADDEND: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;

impl JavaRandom {
    /// `new Random(seed)`: keeps the low 48 bits of `seed ^ 0x5DEECE66D`.
    #[inline]
    pub fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed as u64 ^ MULTIPLIER) & MASK,
        }
    }

    /// `next(bits)`: advances the state and returns its top `bits` bits (1..=32) as an `int`.
    #[inline(always)]
    pub fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(MULTIPLIER).wrapping_add(ADDEND)) & MASK;
        (self.seed >> (48 - bits)) as u32 as i32
    }

    /// `nextInt()`: a uniform `int`.
    #[inline(always)]
    pub fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `nextInt(bound)`: uniform in `[0, bound)`. Panics unless `bound > 0`, as Java throws.
    #[inline(always)]
    pub fn next_int_bounded(&mut self, bound: i32) -> i32 {
        assert!(bound > 0, "bound must be positive");
        let r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((bound as i64 * r as i64) >> 31) as i32;
        }
        let mut u = r;
        loop {
            let r = u % bound;
            // Java: retry while `u - r + m` overflows an int.
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }

    /// `nextLong()`: `((long) next(32) << 32) + next(32)`.
    #[inline]
    pub fn next_long(&mut self) -> i64 {
        let hi = self.next(32) as i64;
        let lo = self.next(32) as i64;
        (hi << 32).wrapping_add(lo)
    }

    /// `nextDouble()`: 53 random bits scaled to `[0, 1)`.
    #[inline]
    pub fn next_double(&mut self) -> f64 {
        let hi = self.next(26) as i64;
        let lo = self.next(27) as i64;
        ((hi << 27) + lo) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// SplitMix64's output function (Steele, Lea and Flood), applied once: spreads consecutive
/// inputs over the whole 64-bit range. All arithmetic wraps.
#[inline]
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `Random` of one event or one url: `new Random(splitmix64(x))` (docs/nexmark.md 1.4b).
#[inline]
pub fn random_for(x: u64) -> JavaRandom {
    JavaRandom::new(splitmix64(x) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jdk_values() {
        // `new Random(42).nextInt()` is the well-known -1170105035; the rest is from
        // stream-runtime/tests/nexmark_golden.py.
        let mut r = JavaRandom::new(42);
        assert_eq!(r.next_int(), -1_170_105_035);
        assert_eq!(r.next_int_bounded(10), 3);
        assert_eq!(r.next_long(), -5_843_495_416_241_995_736);
        assert_eq!(r.next_double(), 0.30871945533265976);
    }

    #[test]
    fn splitmix_values() {
        assert_eq!(splitmix64(0), 16_294_208_416_658_607_535);
        assert_eq!(splitmix64(1), 10_451_216_379_200_822_465);
        assert_eq!(splitmix64(1 << 40), 2_296_115_805_719_413_641);
    }

    #[test]
    fn bounded_in_range() {
        let mut r = JavaRandom::new(7);
        for bound in [1, 2, 3, 13, 26, 1000, 10_000, i32::MAX] {
            for _ in 0..1000 {
                let v = r.next_int_bounded(bound);
                assert!((0..bound).contains(&v));
            }
        }
    }
}
