//! `sum_powers(n)`: Σ i**i for i in 0..n, the lesson's CPU-bound task.
//!
//! The sum is computed as a loop of *steps*, one `i**i` plus the add each, because that is where
//! CPython can hand the GIL over (a call and a loop end); a single `i**i` is one uninterruptible
//! operation there as here.

mod square;

use num_bigint::BigUint;
use num_traits::{One, Zero};

use super::Digest;
use square::Limb;

/// Largest `n` the lab accepts: `sum_powers(50_000)` is already ~780 kbit and minutes of CPU in
/// CPython; beyond that the lesson stops being a lesson.
pub const MAX_N: u32 = 50_000;

/// The state of one `sum_powers(n)` call, advanced one `i**i` at a time.
#[derive(Debug, Clone)]
pub struct SumPowers {
    n: u32,
    next: u32,
    total: BigUint,
}

impl SumPowers {
    /// A fresh call of `sum_powers(n)`.
    pub fn new(n: u32) -> Self {
        Self {
            n,
            next: 0,
            total: BigUint::zero(),
        }
    }

    /// Runs one step (`total = total + i**i`). Returns `false` once every step has run.
    pub fn step(&mut self) -> bool {
        if self.next >= self.n {
            return false;
        }
        self.total += pow_self(self.next);
        self.next += 1;
        true
    }

    /// Steps already run.
    pub fn done(&self) -> u32 {
        self.next
    }

    /// Whether every step has run.
    pub fn finished(&self) -> bool {
        self.next >= self.n
    }

    /// The sum so far (the full result once `step` returned `false`).
    pub fn total(&self) -> &BigUint {
        &self.total
    }

    /// Runs every remaining step and returns the digest of the result.
    pub fn finish(mut self) -> Digest {
        while self.step() {}
        Digest::of(&self.total)
    }
}

/// `i**i` as CPython defines it for ints (`0**0 == 1`).
pub fn pow_self(i: u32) -> BigUint {
    if i == 0 {
        return BigUint::one();
    }
    // i = 2^t * m: the power of two becomes one shift at the end, so the squarings work on
    // numbers `t*i` bits shorter (half the even i's save a quarter or more of the work).
    let t = i.trailing_zeros();
    let m = i >> t;
    // m**i by square-and-multiply on plain limbs with a dedicated square (see `square`): about
    // 1.7x faster than `&acc * &acc` on `BigUint`s, and the only place the time goes.
    let limbs = square::pow_small(Limb::from(m), i);
    let mut acc = to_biguint(&limbs);
    acc <<= (t as u64) * (i as u64);
    acc
}

/// The `BigUint` of little-endian limbs.
fn to_biguint(limbs: &[Limb]) -> BigUint {
    #[cfg(target_pointer_width = "64")]
    {
        let mut digits = Vec::with_capacity(2 * limbs.len());
        for &d in limbs {
            digits.push(d as u32);
            digits.push((d >> 32) as u32);
        }
        BigUint::new(digits)
    }
    #[cfg(not(target_pointer_width = "64"))]
    {
        BigUint::from_slice(limbs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::Pow;

    #[test]
    fn pow_self_matches_plain_pow() {
        for i in 0..300u32 {
            assert_eq!(pow_self(i), BigUint::from(i).pow(i), "i = {i}");
        }
    }
}
