//! Seeded randomness. Every piece of output draws from its own generator, derived from the run
//! seed and a path of tags (account, day, hour, actor...), so a chunk of output is the same
//! whichever thread makes it and in whatever order chunks run.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator type used everywhere in the simulator: fast, portable, reproducible.
pub(crate) type SimRng = ChaCha8Rng;

/// SplitMix64 finalizer: a cheap bijective mixer with good avalanche, used to derive seeds.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of a string, so tags can be names ("scanner", "humans") rather than magic numbers.
pub(crate) fn tag(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A seed derived from the run seed and a path of tags.
pub(crate) fn derive(seed: u64, tags: &[u64]) -> u64 {
    let mut h = mix(seed);
    for t in tags {
        h = mix(h ^ mix(*t));
    }
    h
}

/// A generator for one independent stream of output.
pub(crate) fn rng_for(seed: u64, tags: &[u64]) -> SimRng {
    SimRng::seed_from_u64(derive(seed, tags))
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";

/// Convenience draws on top of [`rand::Rng`].
pub(crate) trait RngExt: Rng {
    /// True with probability `p` (clamped to 0..=1, so a computed rate can never panic).
    fn chance(&mut self, p: f64) -> bool {
        let p = if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.random::<f64>() < p
    }

    /// Uniform integer in `lo..=hi` (returns `lo` when the range is empty).
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.random_range(lo..=hi)
        }
    }

    /// Uniform index below `n` (0 when `n` is 0, so callers indexing non-empty tables are safe).
    fn index(&mut self, n: usize) -> usize {
        if n <= 1 { 0 } else { self.random_range(0..n) }
    }

    /// One element of a non-empty slice.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = self.index(items.len());
        &items[i]
    }

    /// Poisson-distributed count with mean `lambda`: Knuth's method for small means, a rounded
    /// normal approximation above (exactness does not matter, speed and determinism do).
    fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda.is_nan() || lambda <= 0.0 || !lambda.is_finite() {
            return 0;
        }
        if lambda < 30.0 {
            let l = (-lambda).exp();
            let mut k = 0u64;
            let mut p = 1.0;
            loop {
                p *= self.random::<f64>();
                if p <= l {
                    return k;
                }
                k += 1;
            }
        }
        let n = self.normal();
        let v = (lambda + lambda.sqrt() * n).round();
        if v <= 0.0 { 0 } else { v as u64 }
    }

    /// Standard normal draw (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u1: f64 = self.random::<f64>().max(1e-12);
        let u2: f64 = self.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal positive value around `median` (bytes, durations: heavy right tail).
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// `n` characters of the base-32 alphabet AWS uses in key and principal ids.
    fn upper_id(&mut self, n: usize) -> String {
        self.chars_of(UPPER_ALNUM, n)
    }

    /// `n` characters of mixed-case letters and digits.
    fn alnum(&mut self, n: usize) -> String {
        self.chars_of(ALNUM, n)
    }

    /// `n` lowercase hex digits.
    fn hex(&mut self, n: usize) -> String {
        self.chars_of(HEX, n)
    }

    fn chars_of(&mut self, alphabet: &[u8], n: usize) -> String {
        let mut s = String::with_capacity(n);
        for _ in 0..n {
            s.push(char::from(alphabet[self.index(alphabet.len())]));
        }
        s
    }

    /// A random (version 4) UUID, the shape of CloudTrail `eventID` and `requestID`.
    fn uuid(&mut self) -> String {
        let a: u128 = self.random();
        let a = (a & !(0xF000u128 << 64) | (0x4000u128 << 64)) & !(0xC000u128 << 48)
            | (0x8000u128 << 48);
        let h = format!("{a:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

impl<R: Rng + ?Sized> RngExt for R {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_is_stable_and_sensitive() {
        assert_eq!(derive(1, &[2, 3]), derive(1, &[2, 3]));
        assert_ne!(derive(1, &[2, 3]), derive(1, &[3, 2]));
        assert_ne!(derive(1, &[2]), derive(2, &[2]));
    }

    #[test]
    fn uuid_shape() {
        let mut r = rng_for(7, &[]);
        let u = r.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
    }

    #[test]
    fn poisson_mean_is_close() {
        let mut r = rng_for(9, &[]);
        for lambda in [0.5, 5.0, 80.0] {
            let n = 4000;
            let sum: u64 = (0..n).map(|_| r.poisson(lambda)).sum();
            let mean = sum as f64 / f64::from(n);
            assert!(
                (mean - lambda).abs() < lambda * 0.1 + 0.1,
                "{lambda} {mean}"
            );
        }
    }
}
