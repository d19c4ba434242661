//! Squaring and small-base powers on plain limb slices: the arithmetic of `pow_self`.
//!
//! `num-bigint` has no squaring of its own (`&x * &x` runs the general product, and its Toom-3
//! allocates several `BigInt` temporaries per level), while `i**i` is almost nothing but
//! squarings. A square needs about half the limb products of a general product at every level
//! (the cross terms `a_i·a_j` come in pairs), and all temporaries here live in one scratch buffer
//! allocated once per power. The limbs match `num-bigint`'s: 64-bit where the target has 64-bit
//! pointers, 32-bit elsewhere (wasm32), so every product is a native double-width multiply.

#[cfg(target_pointer_width = "64")]
pub(super) type Limb = u64;
#[cfg(target_pointer_width = "64")]
type Wide = u128;
#[cfg(not(target_pointer_width = "64"))]
pub(super) type Limb = u32;
#[cfg(not(target_pointer_width = "64"))]
type Wide = u64;

const BITS: u32 = Limb::BITS;

/// Below this many limbs a square is schoolbook (`sqr_basecase`).
const KARATSUBA_THRESHOLD: usize = 40;
/// From this many limbs on a square splits in three (Toom-3) instead of two (Karatsuba).
const TOOM3_THRESHOLD: usize = 160;

/// `base**exp` for a one-limb `base`, little-endian limbs without high zero limbs, by
/// left-to-right square-and-multiply: every step is one square plus (for a set bit) a one-limb
/// product, which is linear, so the cost is the squares alone.
pub(super) fn pow_small(base: Limb, exp: u32) -> Vec<Limb> {
    if exp == 0 || base == 1 {
        return vec![1];
    }
    if base == 0 {
        return Vec::new();
    }
    // Upper bound on the result's length, so the buffers never grow.
    let base_bits = u64::from(BITS - base.leading_zeros());
    let max_len = (u64::from(exp) * base_bits / u64::from(BITS)) as usize + 2;
    let mut acc: Vec<Limb> = Vec::with_capacity(max_len + 1);
    let mut next: Vec<Limb> = Vec::with_capacity(max_len + 1);
    let mut scratch: Vec<Limb> = vec![0; sqr_scratch_len(max_len / 2 + 1)];
    acc.push(base);
    let top = 31 - exp.leading_zeros();
    for bit in (0..top).rev() {
        let n = acc.len();
        next.clear();
        next.resize(2 * n, 0);
        sqr(&mut next, &acc, &mut scratch);
        trim(&mut next);
        std::mem::swap(&mut acc, &mut next);
        if exp & (1 << bit) != 0 {
            let carry = mul_1_in_place(&mut acc, base);
            if carry != 0 {
                acc.push(carry);
            }
        }
    }
    acc
}

/// Drops high zero limbs.
fn trim(v: &mut Vec<Limb>) {
    while v.last() == Some(&0) {
        v.pop();
    }
}

/// `v *= m`; returns the carry limb.
fn mul_1_in_place(v: &mut [Limb], m: Limb) -> Limb {
    let mut carry: Limb = 0;
    for x in v.iter_mut() {
        let t = Wide::from(*x) * Wide::from(m) + Wide::from(carry);
        *x = t as Limb;
        carry = (t >> BITS) as Limb;
    }
    carry
}

/// `acc += b · (m0 + m1·B)` over `b.len()` limbs of `acc`; returns the two limbs that belong at
/// `acc[b.len()]` and `acc[b.len() + 1]`.
#[inline]
fn addmul_2(acc: &mut [Limb], b: &[Limb], m0: Limb, m1: Limb) -> (Limb, Limb) {
    let mut c0: Limb = 0;
    let mut c1: Limb = 0;
    for (x, &y) in acc.iter_mut().zip(b) {
        // (B−1)² + 2(B−1) < B² at both positions: neither sum overflows.
        let t0 = Wide::from(y) * Wide::from(m0) + Wide::from(*x) + Wide::from(c0);
        *x = t0 as Limb;
        let t1 = Wide::from(y) * Wide::from(m1) + (t0 >> BITS) + Wide::from(c1);
        c0 = t1 as Limb;
        c1 = (t1 >> BITS) as Limb;
    }
    (c0, c1)
}

/// `acc += b` (`acc` at least as long as `b`); returns the carry out of `acc`.
fn add_in(acc: &mut [Limb], b: &[Limb]) -> bool {
    let (lo, hi) = acc.split_at_mut(b.len());
    let mut carry = false;
    for (x, &y) in lo.iter_mut().zip(b) {
        let (s, c1) = x.overflowing_add(y);
        let (s, c2) = s.overflowing_add(Limb::from(carry));
        *x = s;
        carry = c1 | c2;
    }
    if carry {
        for x in hi.iter_mut() {
            let (s, c) = x.overflowing_add(1);
            *x = s;
            if !c {
                return false;
            }
        }
    }
    carry
}

/// `acc -= b` (`acc` at least as long as `b`); returns the borrow out of `acc`.
fn sub_in(acc: &mut [Limb], b: &[Limb]) -> bool {
    let (lo, hi) = acc.split_at_mut(b.len());
    let mut borrow = false;
    for (x, &y) in lo.iter_mut().zip(b) {
        let (s, b1) = x.overflowing_sub(y);
        let (s, b2) = s.overflowing_sub(Limb::from(borrow));
        *x = s;
        borrow = b1 | b2;
    }
    if borrow {
        for x in hi.iter_mut() {
            let (s, b) = x.overflowing_sub(1);
            *x = s;
            if !b {
                return false;
            }
        }
    }
    borrow
}

/// `out = |x - y|` where `x.len() == out.len() >= y.len()` (`y` zero-extended).
fn abs_diff(out: &mut [Limb], x: &[Limb], y: &[Limb]) {
    debug_assert!(x.len() == out.len() && x.len() >= y.len());
    let x_bigger = x[y.len()..].iter().any(|&d| d != 0) || {
        let xs = &x[..y.len()];
        xs.iter().rev().cmp(y.iter().rev()) != core::cmp::Ordering::Less
    };
    if x_bigger {
        out.copy_from_slice(x);
        let borrow = sub_in(out, y);
        debug_assert!(!borrow);
    } else {
        // y >= x, so x's limbs above y.len() are zero.
        out.fill(0);
        out[..y.len()].copy_from_slice(y);
        let borrow = sub_in(&mut out[..y.len()], &x[..y.len()]);
        debug_assert!(!borrow);
    }
}

/// Scratch limbs enough for `sqr` of up to `n` limbs: a level takes at most `8n/3 + 14` limbs
/// (Toom-3) or `2n + 3` (Karatsuba) and hands the rest to squares of at most `n/2 + 1` limbs,
/// so `4n` plus a little per level covers every depth (checked by a test below).
fn sqr_scratch_len(n: usize) -> usize {
    4 * n + 32 * (usize::BITS - n.leading_zeros()) as usize
}

/// `out = a²`; `out.len() == 2 * a.len()`, every limb of `out` is written.
fn sqr(out: &mut [Limb], a: &[Limb], scratch: &mut [Limb]) {
    debug_assert_eq!(out.len(), 2 * a.len());
    let n = a.len();
    if n < KARATSUBA_THRESHOLD {
        sqr_basecase(out, a);
    } else if n < TOOM3_THRESHOLD {
        sqr_karatsuba(out, a, scratch);
    } else {
        sqr_toom3(out, a, scratch);
    }
}

/// Schoolbook square: the products `a_i·a_j` for `i < j` once, two rows at a time
/// (`addmul_2`, two independent product chains per limb), doubled, plus the diagonal `a_i²`.
fn sqr_basecase(out: &mut [Limb], a: &[Limb]) {
    let n = a.len();
    out.fill(0);
    if n == 0 {
        return;
    }
    // Rows i and i+1 together: a_i·a_{i+1} at 2i+1, then a_j·(a_i + a_{i+1}·B) at i+j for
    // j ≥ i+2. Earlier pairs reach index i+n−1 only, so out[i+n] and out[i+n+1] are still zero.
    let mut i = 0;
    while i + 1 < n {
        let p = Wide::from(a[i]) * Wide::from(a[i + 1]);
        let t = Wide::from(out[2 * i + 1]) + (p as Limb as Wide);
        out[2 * i + 1] = t as Limb;
        // what is still to add at 2i+2: below 2·B
        let mut pending = (p >> BITS) + (t >> BITS);
        if i + 2 < n {
            let (c0, c1) = addmul_2(&mut out[2 * i + 2..i + n], &a[i + 2..], a[i], a[i + 1]);
            out[i + n] = c0;
            out[i + n + 1] = c1;
        }
        for x in out[2 * i + 2..].iter_mut() {
            if pending == 0 {
                break;
            }
            let t = Wide::from(*x) + pending;
            *x = t as Limb;
            pending = t >> BITS;
        }
        debug_assert_eq!(pending, 0);
        i += 2;
    }
    // out = 2·out + Σ a_i² B^(2i)
    let mut top_bit: Limb = 0;
    let mut carry: Limb = 0;
    for (i, &ai) in a.iter().enumerate() {
        let sq = Wide::from(ai) * Wide::from(ai);
        let lo = out[2 * i];
        let hi = out[2 * i + 1];
        let dlo = (lo << 1) | top_bit;
        let dhi = (hi << 1) | (lo >> (BITS - 1));
        top_bit = hi >> (BITS - 1);
        let t = Wide::from(dlo) + Wide::from(sq as Limb) + Wide::from(carry);
        out[2 * i] = t as Limb;
        let t = Wide::from(dhi) + (sq >> BITS) + (t >> BITS);
        out[2 * i + 1] = t as Limb;
        carry = (t >> BITS) as Limb;
    }
    debug_assert!(top_bit == 0 && carry == 0);
}

/// Karatsuba square: `a = a0 + a1·B^h`,
/// `a² = a0² + (a0² + a1² − (a1 − a0)²)·B^h + a1²·B^2h`, three half-size squares.
fn sqr_karatsuba(out: &mut [Limb], a: &[Limb], scratch: &mut [Limb]) {
    let n = a.len();
    let h = n / 2;
    let hh = n - h;
    let (a0, a1) = a.split_at(h);
    let (t, rest) = scratch.split_at_mut(2 * hh);
    let (m, rest) = rest.split_at_mut(2 * hh + 1);
    abs_diff(&mut m[..hh], a1, a0);
    sqr(t, &m[..hh], rest);
    {
        let (lo, hi) = out.split_at_mut(2 * h);
        sqr(lo, a0, rest);
        sqr(hi, a1, rest);
        // m = a0² + a1² − (a1 − a0)² = 2·a0·a1 ≥ 0
        m[..2 * hh].copy_from_slice(hi);
        m[2 * hh] = 0;
        add_in(m, lo);
        sub_in(m, t);
    }
    let carry = add_in(&mut out[h..], m);
    debug_assert!(!carry);
}

/// Toom-3 square: `a = a0 + a1·x + a2·x²` at `x = B^k`, evaluated at 0, 1, −1, −2 and ∞ (five
/// third-size squares, every one of them of a value whose sign does not matter), interpolated
/// with Bodrato's sequence in fixed-width two's complement, then added up.
fn sqr_toom3(out: &mut [Limb], a: &[Limb], scratch: &mut [Limb]) {
    let n = a.len();
    let k = n.div_ceil(3);
    let l = 2 * k + 2;
    let (a0, rest_a) = a.split_at(k);
    let (a1, a2) = rest_a.split_at(k);
    debug_assert!(!a2.is_empty() && a2.len() <= k);

    let (r1, rest) = scratch.split_at_mut(l);
    let (r2, rest) = rest.split_at_mut(l);
    let (r3, rest) = rest.split_at_mut(l);
    let (p, rest) = rest.split_at_mut(k + 1);
    let (e, rest) = rest.split_at_mut(k + 1);

    // p = a0 + a2
    p[..k].copy_from_slice(a0);
    p[k] = 0;
    add_in(p, a2);
    // r1 = (a0 + a1 + a2)²
    e.copy_from_slice(p);
    add_in(e, a1);
    sqr_trimmed(r1, e, rest);
    // r2 = (a0 − a1 + a2)²
    abs_diff(e, p, a1);
    sqr_trimmed(r2, e, rest);
    // r3 = (a0 − 2·a1 + 4·a2)²
    p[..k].copy_from_slice(a0);
    p[k] = 0;
    // p = a0 + 4·a2 (fits: < 5·B^k)
    e.fill(0);
    e[..a2.len()].copy_from_slice(a2);
    shl_in_place(e, 2);
    add_in(p, e);
    // e = 2·a1
    e[..k].copy_from_slice(a1);
    e[k] = 0;
    shl_in_place(e, 1);
    {
        // |p − e| into e, via r3 as the temporary (r3 is overwritten next)
        let tmp = &mut r3[..k + 1];
        abs_diff(tmp, p, e);
        e.copy_from_slice(tmp);
    }
    sqr_trimmed(r3, e, rest);

    // r0 = a0² and r4 = a2² straight into place.
    {
        let (lo, hi) = out.split_at_mut(2 * k);
        let (mid, top) = hi.split_at_mut(2 * k);
        sqr(lo, a0, rest);
        sqr(top, a2, rest);
        mid.fill(0);
    }
    let r0 = &out[..2 * k];
    let r4 = &out[4 * k..];

    // Bodrato: r3 = (r3 − r1)/3; r1 = (r1 − r2)/2; r2 = r2 − r0;
    // r3 = (r2 − r3)/2 + 2·r4; r2 = r2 + r1 − r4; r1 = r1 − r3.
    // Every value is kept in l limbs of two's complement (the true values stay far below
    // B^l / 2 in magnitude), so negative intermediates need no sign bookkeeping.
    sub_wrap(r3, r1);
    divexact_3(r3);
    sub_wrap(r1, r2);
    sar_1(r1);
    sub_wrap(r2, r0);
    // r3 = r2 − r3
    neg_wrap(r3);
    add_wrap(r3, r2);
    sar_1(r3);
    add_wrap(r3, r4);
    add_wrap(r3, r4);
    add_wrap(r2, r1);
    sub_wrap(r2, r4);
    sub_wrap(r1, r3);

    // out += r1·B^k + r2·B^2k + r3·B^3k (all three are the true, non-negative coefficients).
    for (off, r) in [(k, &*r1), (2 * k, &*r2), (3 * k, &*r3)] {
        let room = out.len() - off;
        let (used, spill) = r.split_at(l.min(room));
        debug_assert!(spill.iter().all(|&d| d == 0));
        let carry = add_in(&mut out[off..], used);
        debug_assert!(!carry);
    }
}

/// `sqr` of `e` without its high zero limbs, into `out` (`2 * e.len()` limbs).
fn sqr_trimmed(out: &mut [Limb], e: &[Limb], scratch: &mut [Limb]) {
    let mut len = e.len();
    while len > 0 && e[len - 1] == 0 {
        len -= 1;
    }
    sqr(&mut out[..2 * len], &e[..len], scratch);
    out[2 * len..].fill(0);
}

/// `v <<= s` for `0 < s < BITS`, dropping bits shifted out of the top.
fn shl_in_place(v: &mut [Limb], s: u32) {
    let mut carry: Limb = 0;
    for x in v.iter_mut() {
        let nx = (*x << s) | carry;
        carry = *x >> (BITS - s);
        *x = nx;
    }
}

/// `acc = acc + b` modulo `B^acc.len()` (`b` zero-extended).
fn add_wrap(acc: &mut [Limb], b: &[Limb]) {
    let _ = add_in(acc, b);
}

/// `acc = acc − b` modulo `B^acc.len()` (`b` zero-extended).
fn sub_wrap(acc: &mut [Limb], b: &[Limb]) {
    let _ = sub_in(acc, b);
}

/// `v = −v` modulo `B^v.len()`.
fn neg_wrap(v: &mut [Limb]) {
    let mut carry = true;
    for x in v.iter_mut() {
        let (s, c) = (!*x).overflowing_add(Limb::from(carry));
        *x = s;
        carry = c;
    }
}

/// Arithmetic shift right by one bit of a two's complement value.
fn sar_1(v: &mut [Limb]) {
    let mut high: Limb = if v.last().is_some_and(|&d| d >> (BITS - 1) != 0) {
        1
    } else {
        0
    };
    for x in v.iter_mut().rev() {
        let nx = (*x >> 1) | (high << (BITS - 1));
        high = *x & 1;
        *x = nx;
    }
}

/// `v = v / 3` for a multiple of 3 in two's complement (exact division by the inverse of 3
/// modulo `B`, limb by limb).
fn divexact_3(v: &mut [Limb]) {
    // 3 · INV3 ≡ 1 (mod B)
    const INV3: Limb = Limb::MAX / 3 * 2 + 1;
    let mut borrow: Limb = 0;
    for x in v.iter_mut() {
        let (s, b) = x.overflowing_sub(borrow);
        let q = s.wrapping_mul(INV3);
        *x = q;
        borrow = ((Wide::from(q) * 3) >> BITS) as Limb + Limb::from(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;

    fn to_big(v: &[Limb]) -> BigUint {
        let mut bytes = Vec::with_capacity(v.len() * (BITS as usize / 8));
        for d in v {
            bytes.extend_from_slice(&d.to_le_bytes());
        }
        BigUint::from_bytes_le(&bytes)
    }

    /// A deterministic pseudo-random limb stream (xorshift), with runs of all-ones and zeros
    /// mixed in to exercise the carries.
    fn limbs(seed: u64, n: usize) -> Vec<Limb> {
        let mut s = seed | 1;
        (0..n)
            .map(|j| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                match (seed as usize + j) % 11 {
                    0 => Limb::MAX,
                    1 => 0,
                    _ => s as Limb,
                }
            })
            .collect()
    }

    #[test]
    fn divexact_3_is_exact_in_twos_complement() {
        for x in [
            0i64,
            3,
            -3,
            300,
            -300,
            3 * 12_345_678_901,
            -3 * 987_654_321_012,
        ] {
            let mut v = [x as Limb, if x < 0 { Limb::MAX } else { 0 }, 0];
            if x < 0 {
                v[2] = Limb::MAX;
            }
            divexact_3(&mut v);
            assert_eq!(v[0], (x / 3) as Limb, "{x}");
        }
    }

    #[test]
    fn scratch_len_is_enough() {
        // need[m]: the most scratch any square of at most m limbs takes (what `sqr` splits off
        // at each level, plus the most its sub-squares take)
        let mut need = vec![0usize; 1];
        for n in 1..40_000usize {
            let own = scratch_used_level(n, &need);
            need.push(own);
            assert!(own <= sqr_scratch_len(n), "n = {n}: needs {own}");
        }
    }

    /// `need[n]` from `need[..n]`.
    fn scratch_used_level(n: usize, need: &[usize]) -> usize {
        let own = if n < KARATSUBA_THRESHOLD {
            0
        } else if n < TOOM3_THRESHOLD {
            let hh = n - n / 2;
            4 * hh + 1 + need[hh]
        } else {
            let k = n.div_ceil(3);
            3 * (2 * k + 2) + 2 * (k + 1) + need[k + 1]
        };
        own.max(need[n - 1])
    }

    #[test]
    fn sqr_matches_num_bigint() {
        let sizes = [
            1, 2, 3, 5, 17, 39, 40, 41, 64, 79, 80, 81, 100, 159, 160, 161, 241, 300, 481, 601,
            1000,
        ];
        for (seed, &n) in sizes.iter().enumerate() {
            for variant in 0..3 {
                let mut a = limbs(seed as u64 * 7919 + variant, n);
                match variant {
                    1 => a.iter_mut().for_each(|d| *d = Limb::MAX),
                    2 => {
                        // a small high third: the Toom-3 split's short top part
                        a.iter_mut().rev().take(n / 3).for_each(|d| *d = 0);
                        a[n - 1] = 1;
                    }
                    _ => {}
                }
                let mut out = vec![0; 2 * n];
                let mut scratch = vec![Limb::MAX; sqr_scratch_len(n)];
                sqr(&mut out, &a, &mut scratch);
                let x = to_big(&a);
                assert_eq!(to_big(&out), &x * &x, "n = {n}, variant {variant}");
            }
        }
    }

    #[test]
    fn pow_small_matches_num_bigint() {
        use num_traits::Pow;
        for &(b, e) in &[
            (3, 0),
            (3, 1),
            (1, 77),
            (0, 5),
            (7, 4999),
            (9999, 9999),
            (255, 3000),
        ] {
            let got = to_big(&pow_small(b, e));
            assert_eq!(got, BigUint::from(b).pow(e), "{b}**{e}");
        }
    }
}
