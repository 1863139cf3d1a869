//! Typed aggregate functions: `count()`, `sum(col)`, `min(col)`, `max(col)`, `avg(col)`.
//!
//! An aggregate turns one row into a small accumulator, merges accumulators (so that rows can be
//! pre-aggregated within a batch before they are exchanged, as Spark's partial aggregation does),
//! and finishes an accumulator into an output column.

use crate::value::{Field, Ordered};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

/// An aggregate's partial state: data that can be exchanged, ordered, hashed, and merged with
/// another partial of the same aggregate without the aggregate function at hand (so that the
/// engine can keep partials as the weights of an arrangement and let it merge them).
pub trait Mergeable:
    Clone + Debug + Ord + Hash + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// `self ⊕= other`.
    fn merge(&mut self, other: &Self);
    /// `self` stands for `n >= 1` copies of itself: `self = self ⊕ ... ⊕ self` (n times).
    fn scale(&mut self, n: i64);
}

/// One aggregate function over rows of type `T`.
pub trait AggFn<T>: Clone + Send + Sync + 'static {
    /// The partial state.
    type Acc: Mergeable;
    /// The output column.
    type Out: Field;
    /// The accumulator of a single row.
    fn init(&self, row: &T) -> Self::Acc;
    /// The output value.
    fn finish(&self, acc: &Self::Acc) -> Self::Out;
}

/// A tuple of aggregate functions, computed together: `(count(), sum(..), ...)`.
pub trait Aggregates<T>: Clone + Send + Sync + 'static {
    /// The tuple of partial states.
    type Acc: Mergeable;
    /// The tuple of outputs.
    type Out: Clone + Debug + Send + Sync + 'static;
    /// The accumulator of a single row.
    fn init(&self, row: &T) -> Self::Acc;
    /// The outputs.
    fn finish(&self, acc: &Self::Acc) -> Self::Out;
}

macro_rules! tuple_aggregates {
    ($(($($A:ident $i:tt),+))*) => {$(
        impl<$($A: Mergeable),+> Mergeable for ($($A,)+) {
            fn merge(&mut self, other: &Self) { $(self.$i.merge(&other.$i);)+ }
            fn scale(&mut self, n: i64) { $(self.$i.scale(n);)+ }
        }
        impl<T, $($A: AggFn<T>),+> Aggregates<T> for ($($A,)+) {
            type Acc = ($($A::Acc,)+);
            type Out = ($($A::Out,)+);
            fn init(&self, row: &T) -> Self::Acc { ($(self.$i.init(row),)+) }
            fn finish(&self, acc: &Self::Acc) -> Self::Out { ($(self.$i.finish(&acc.$i),)+) }
        }
    )*};
}
tuple_aggregates! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}

impl Mergeable for i64 {
    fn merge(&mut self, other: &Self) {
        *self = self.wrapping_add(*other);
    }
    fn scale(&mut self, n: i64) {
        *self = self.wrapping_mul(n);
    }
}
impl Mergeable for u64 {
    fn merge(&mut self, other: &Self) {
        *self = self.wrapping_add(*other);
    }
    fn scale(&mut self, n: i64) {
        *self = self.wrapping_mul(n as u64);
    }
}

/// `count()`: the number of rows (Spark's `count(1)`, a `bigint`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Count;

/// `count()`: the number of rows in the group.
pub fn count() -> Count {
    Count
}

impl<T> AggFn<T> for Count {
    type Acc = i64;
    type Out = i64;
    fn init(&self, _: &T) -> i64 {
        1
    }
    fn finish(&self, acc: &i64) -> i64 {
        *acc
    }
}

/// A column type that `sum` and `avg` accept.
#[diagnostic::on_unimplemented(
    message = "cannot sum or average a column of type `{Self}`",
    label = "`sum` and `avg` need a numeric column, this one is `{Self}`",
    note = "use a column of an integer or floating-point type here, or count(), min() or max() for other types"
)]
pub trait Numeric: Field {
    /// The sum's accumulator.
    type Sum: Mergeable + Default;
    /// The type `sum` outputs (`i64` for signed, `u64` for unsigned, `f64` for floats).
    type SumOut: Field;
    /// This value as a sum.
    fn to_sum(&self) -> Self::Sum;
    /// The finished sum.
    fn sum_out(acc: &Self::Sum) -> Self::SumOut;
    /// The value as `f64` (for `avg`).
    fn sum_f64(acc: &Self::Sum) -> f64;
}

macro_rules! numeric {
    ($($t:ty => $s:ty;)*) => {$(
        impl Numeric for $t {
            type Sum = $s;
            type SumOut = $s;
            fn to_sum(&self) -> $s { *self as $s }
            fn sum_out(acc: &$s) -> $s { *acc }
            fn sum_f64(acc: &$s) -> f64 { *acc as f64 }
        }
    )*};
}
numeric! { i8 => i64; i16 => i64; i32 => i64; i64 => i64; isize => i64;
u8 => u64; u16 => u64; u32 => u64; u64 => u64; usize => u64; }

/// A float sum accumulator, totally ordered so that it can live in an arrangement.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct FloatSum(pub f64);
impl PartialEq for FloatSum {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for FloatSum {}
impl PartialOrd for FloatSum {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for FloatSum {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0)
    }
}
impl Mergeable for FloatSum {
    fn merge(&mut self, other: &Self) {
        self.0 += other.0;
    }
    fn scale(&mut self, n: i64) {
        self.0 *= n as f64;
    }
}
impl Hash for FloatSum {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.to_bits().hash(h)
    }
}

macro_rules! float_numeric {
    ($($t:ty;)*) => {$(
        impl Numeric for $t {
            type Sum = FloatSum;
            type SumOut = f64;
            fn to_sum(&self) -> FloatSum { FloatSum(*self as f64) }
            fn sum_out(acc: &FloatSum) -> f64 { acc.0 }
            fn sum_f64(acc: &FloatSum) -> f64 { acc.0 }
        }
    )*};
}
float_numeric! { f32; f64; }

/// `sum(col)`: the sum of a numeric column.
pub struct Sum<F, V>(F, PhantomData<fn() -> V>);
impl<F: Clone, V> Clone for Sum<F, V> {
    fn clone(&self) -> Self {
        Sum(self.0.clone(), PhantomData)
    }
}

/// `sum(col)`: the sum of a numeric column (`i64`, `u64` or `f64`).
pub fn sum<T, V: Numeric, F: Fn(&T) -> V + Clone + Send + Sync + 'static>(col: F) -> Sum<F, V> {
    Sum(col, PhantomData)
}

impl<T, V: Numeric, F: Fn(&T) -> V + Clone + Send + Sync + 'static> AggFn<T> for Sum<F, V> {
    type Acc = V::Sum;
    type Out = V::SumOut;
    fn init(&self, row: &T) -> V::Sum {
        (self.0)(row).to_sum()
    }
    fn finish(&self, acc: &V::Sum) -> V::SumOut {
        V::sum_out(acc)
    }
}

/// `avg(col)`: the mean of a numeric column, as `f64`.
pub struct Avg<F, V>(F, PhantomData<fn() -> V>);
impl<F: Clone, V> Clone for Avg<F, V> {
    fn clone(&self) -> Self {
        Avg(self.0.clone(), PhantomData)
    }
}

/// `avg(col)`: the mean of a numeric column, as `f64`.
pub fn avg<T, V: Numeric, F: Fn(&T) -> V + Clone + Send + Sync + 'static>(col: F) -> Avg<F, V> {
    Avg(col, PhantomData)
}

impl<T, V: Numeric, F: Fn(&T) -> V + Clone + Send + Sync + 'static> AggFn<T> for Avg<F, V> {
    type Acc = (V::Sum, i64);
    type Out = f64;
    fn init(&self, row: &T) -> Self::Acc {
        ((self.0)(row).to_sum(), 1)
    }
    fn finish(&self, acc: &Self::Acc) -> f64 {
        V::sum_f64(&acc.0) / acc.1 as f64
    }
}

/// `min(col)` / `max(col)`: the least or greatest value of a column.
pub struct Extreme<F, V, const MAX: bool>(F, PhantomData<fn() -> V>);
impl<F: Clone, V, const MAX: bool> Clone for Extreme<F, V, MAX> {
    fn clone(&self) -> Self {
        Extreme(self.0.clone(), PhantomData)
    }
}

/// The partial state of `min` (`MAX = false`) or `max` (`MAX = true`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Extremum<V: Field, const MAX: bool>(pub Ordered<V>);

impl<V: Field, const MAX: bool> PartialEq for Extremum<V, MAX> {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl<V: Field, const MAX: bool> Eq for Extremum<V, MAX> {}
impl<V: Field, const MAX: bool> PartialOrd for Extremum<V, MAX> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<V: Field, const MAX: bool> Ord for Extremum<V, MAX> {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.cmp(&o.0)
    }
}
impl<V: Field, const MAX: bool> Hash for Extremum<V, MAX> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.hash(h)
    }
}

impl<V: Field, const MAX: bool> Mergeable for Extremum<V, MAX> {
    fn merge(&mut self, other: &Self) {
        let better = if MAX {
            other.0 > self.0
        } else {
            other.0 < self.0
        };
        if better {
            *self = other.clone();
        }
    }
    fn scale(&mut self, _n: i64) {}
}

/// `min(col)`: the least value of a column.
pub fn min<T, V: Field, F: Fn(&T) -> V + Clone + Send + Sync + 'static>(
    col: F,
) -> Extreme<F, V, false> {
    Extreme(col, PhantomData)
}

/// `max(col)`: the greatest value of a column.
pub fn max<T, V: Field, F: Fn(&T) -> V + Clone + Send + Sync + 'static>(
    col: F,
) -> Extreme<F, V, true> {
    Extreme(col, PhantomData)
}

impl<T, V: Field, F: Fn(&T) -> V + Clone + Send + Sync + 'static, const MAX: bool> AggFn<T>
    for Extreme<F, V, MAX>
{
    type Acc = Extremum<V, MAX>;
    type Out = V;
    fn init(&self, row: &T) -> Extremum<V, MAX> {
        Extremum(Ordered((self.0)(row)))
    }
    fn finish(&self, acc: &Extremum<V, MAX>) -> V {
        acc.0 .0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Row {
        k: &'static str,
        v: i32,
        x: f64,
    }

    /// Folds rows with the aggregate machinery, merging in uneven partial groups, and compares
    /// with a plain loop.
    #[test]
    fn partial_merges_match_a_plain_fold() {
        let rows: Vec<Row> = (0..50)
            .map(|i| Row {
                k: if i % 3 == 0 { "a" } else { "b" },
                v: (i * 7 % 11) - 5,
                x: i as f64 / 4.0,
            })
            .collect();
        let aggs = (
            count(),
            sum(|r: &Row| r.v),
            min(|r: &Row| r.x),
            max(|r: &Row| r.v),
            avg(|r: &Row| r.v),
        );
        let a: Vec<&Row> = rows.iter().filter(|r| r.k == "a").collect();
        // Partials of uneven size, then merged (one of them twice, with n = 2 standing for a copy).
        let mut acc = aggs.init(a[0]);
        for r in &a[1..] {
            acc.merge(&aggs.init(r));
        }
        let out = aggs.finish(&acc);
        let n = a.len() as i64;
        let s: i64 = a.iter().map(|r| r.v as i64).sum();
        assert_eq!(out.0, n);
        assert_eq!(out.1, s);
        assert_eq!(out.2, a.iter().map(|r| r.x).fold(f64::INFINITY, f64::min));
        assert_eq!(out.3, a.iter().map(|r| r.v).max().unwrap());
        assert!((out.4 - s as f64 / n as f64).abs() < 1e-12);
        let mut twice = acc.clone();
        twice.scale(2);
        assert_eq!(aggs.finish(&twice).0, 2 * n);
        assert_eq!(aggs.finish(&twice).1, 2 * s);
        assert_eq!(aggs.finish(&twice).3, aggs.finish(&acc).3);
        let _ = rows[0].k;
    }
}
