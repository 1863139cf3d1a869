//! Typed aggregate functions: `count()`, `count_non_null(col)` (Spark's `count(col)`),
//! `sum(col)`, `min(col)`, `max(col)`, `avg(col)`.
//!
//! As in SQL, `count_non_null`, `sum`, `min`, `max` and `avg` ignore NULLs (`None` in an
//! `Option` column); `sum`, `min`, `max` and `avg` of a nullable column are NULL only when every
//! input is NULL.
//!
//! An aggregate turns one row into a small accumulator, merges accumulators (so that rows can be
//! pre-aggregated within a batch before they are exchanged, as Spark's partial aggregation does),
//! and finishes an accumulator into an output column.

use crate::value::{Field, Ordered};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt::{self, Debug};
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
/// The accumulator of `sum` over signed integers: no `i64` values can overflow it short of
/// 2^64 rows, and it saturates rather than wrap beyond that, so a total out of `i64` range stays
/// out of range (and `finish` reports it).
impl Mergeable for i128 {
    fn merge(&mut self, other: &Self) {
        *self = self.saturating_add(*other);
    }
    fn scale(&mut self, n: i64) {
        *self = self.saturating_mul(i128::from(n));
    }
}
/// The accumulator of `sum` over unsigned integers (see the `i128` one).
impl Mergeable for u128 {
    fn merge(&mut self, other: &Self) {
        *self = self.saturating_add(*other);
    }
    fn scale(&mut self, n: i64) {
        *self = self.saturating_mul(u128::from(n.max(0).unsigned_abs()));
    }
}
/// A partial over possibly no values: `None` (only NULLs so far) is the identity.
impl<A: Mergeable> Mergeable for Option<A> {
    fn merge(&mut self, other: &Self) {
        match (self.as_mut(), other) {
            (_, None) => {}
            (None, Some(o)) => *self = Some(o.clone()),
            (Some(s), Some(o)) => s.merge(o),
        }
    }
    fn scale(&mut self, n: i64) {
        if let Some(a) = self {
            a.scale(n);
        }
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

/// `count_non_null(col)`: the number of rows whose column is not NULL (Spark's `count(col)`, a
/// `bigint`); every row counts for a column that is not an `Option`.
pub struct CountNonNull<F, V>(F, PhantomData<fn() -> V>);
impl<F: Clone, V> Clone for CountNonNull<F, V> {
    fn clone(&self) -> Self {
        CountNonNull(self.0.clone(), PhantomData)
    }
}

/// `count_non_null(col)`: the number of rows whose column is not NULL (Spark's `count(col)`).
pub fn count_non_null<T, V: Field, F: Fn(&T) -> V + Clone + Send + Sync + 'static>(
    col: F,
) -> CountNonNull<F, V> {
    CountNonNull(col, PhantomData)
}

impl<T, V: Field, F: Fn(&T) -> V + Clone + Send + Sync + 'static> AggFn<T> for CountNonNull<F, V> {
    type Acc = i64;
    type Out = i64;
    fn init(&self, row: &T) -> i64 {
        i64::from(!(self.0)(row).is_null())
    }
    fn finish(&self, acc: &i64) -> i64 {
        *acc
    }
}

/// A column type that `sum` and `avg` accept: integers, floats, and `Option`s of those (whose
/// NULLs are ignored).
#[diagnostic::on_unimplemented(
    message = "cannot sum or average a column of type `{Self}`",
    label = "`sum` and `avg` need a numeric column, this one is `{Self}`",
    note = "use a column of an integer or floating-point type here, or count(), min() or max() for other types"
)]
pub trait Numeric: Field {
    /// The sum's accumulator (wider than the column for integers, so that it does not wrap).
    type Sum: Mergeable + Default;
    /// The type `sum` outputs (`i64` for signed, `u64` for unsigned, `f64` for floats; an
    /// `Option` of it for a nullable column).
    type SumOut: Field;
    /// The type `avg` outputs (`f64`; `Option<f64>` for a nullable column).
    type AvgOut: Field;
    /// This value as a sum.
    fn to_sum(&self) -> Self::Sum;
    /// The finished sum.
    ///
    /// # Panics
    ///
    /// If an integer total does not fit the output type: Spark's `ARITHMETIC_OVERFLOW` (the
    /// engine turns a worker's panic into a query error carrying the message).
    fn sum_out(acc: &Self::Sum) -> Self::SumOut;
    /// This value as the state of `avg`.
    fn to_mean(&self) -> Mean;
    /// The finished average.
    fn avg_out(acc: &Mean) -> Self::AvgOut;
}

/// The state of `avg`: a sum in double precision and a count of values, as Spark's `Average`
/// (`Average.scala`) keeps for non-decimal inputs (the sum cannot wrap; very large integers
/// lose precision as they do in Spark).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Mean {
    /// The sum of the values.
    pub sum: FloatSum,
    /// How many values.
    pub count: i64,
}

impl Mean {
    /// The state of one value.
    pub fn of(value: f64) -> Mean {
        Mean {
            sum: FloatSum(value),
            count: 1,
        }
    }
    /// The average (`NaN` for no values).
    pub fn value(&self) -> f64 {
        self.sum.0 / self.count as f64
    }
}

impl Mergeable for Mean {
    fn merge(&mut self, other: &Self) {
        self.sum.merge(&other.sum);
        self.count = self.count.saturating_add(other.count);
    }
    fn scale(&mut self, n: i64) {
        self.sum.scale(n);
        self.count = self.count.saturating_mul(n);
    }
}

/// A wide integer total as the `sum` output type, or Spark's `ARITHMETIC_OVERFLOW` as a panic.
///
/// Spark 4 (ANSI mode, `Sum.scala` with `Add` in ANSI eval mode) raises `ARITHMETIC_OVERFLOW`
/// as soon as a running `bigint` sum overflows; here the sum is exact in a wider type and only
/// the total is checked, so the outcome does not depend on the order in which partials merge
/// (`i64::MAX + 1 - 1` is `i64::MAX`, whatever the split).
fn narrow_sum<W: Copy + fmt::Display, O: TryFrom<W>>(total: W, column: &str, out: &str) -> O {
    O::try_from(total).unwrap_or_else(|_| {
        panic!(
            "arithmetic overflow: sum(...) of a `{column}` column is {total}, which exceeds the \
             range of {out} (Spark: ARITHMETIC_OVERFLOW)"
        )
    })
}

macro_rules! int_numeric {
    ($($t:ty => $acc:ty, $out:ty;)*) => {$(
        impl Numeric for $t {
            type Sum = $acc;
            type SumOut = $out;
            type AvgOut = f64;
            fn to_sum(&self) -> $acc { *self as $acc }
            fn sum_out(acc: &$acc) -> $out {
                narrow_sum(*acc, stringify!($t), stringify!($out))
            }
            fn to_mean(&self) -> Mean { Mean::of(*self as f64) }
            fn avg_out(acc: &Mean) -> f64 { acc.value() }
        }
    )*};
}
int_numeric! { i8 => i128, i64; i16 => i128, i64; i32 => i128, i64; i64 => i128, i64;
isize => i128, i64; u8 => u128, u64; u16 => u128, u64; u32 => u128, u64; u64 => u128, u64;
usize => u128, u64; }

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
            type AvgOut = f64;
            fn to_sum(&self) -> FloatSum { FloatSum(*self as f64) }
            fn sum_out(acc: &FloatSum) -> f64 { acc.0 }
            fn to_mean(&self) -> Mean { Mean::of(*self as f64) }
            fn avg_out(acc: &Mean) -> f64 { acc.value() }
        }
    )*};
}
float_numeric! { f32; f64; }

/// A nullable numeric column: NULLs are skipped; the sum and the average of no values are NULL.
impl<V: Numeric<AvgOut = f64>> Numeric for Option<V> {
    type Sum = Option<V::Sum>;
    type SumOut = Option<V::SumOut>;
    type AvgOut = Option<f64>;
    fn to_sum(&self) -> Option<V::Sum> {
        self.as_ref().map(V::to_sum)
    }
    fn sum_out(acc: &Option<V::Sum>) -> Option<V::SumOut> {
        acc.as_ref().map(V::sum_out)
    }
    fn to_mean(&self) -> Mean {
        self.as_ref().map_or(Mean::default(), V::to_mean)
    }
    fn avg_out(acc: &Mean) -> Option<f64> {
        (acc.count > 0).then(|| acc.value())
    }
}

/// `sum(col)`: the sum of a numeric column.
pub struct Sum<F, V>(F, PhantomData<fn() -> V>);
impl<F: Clone, V> Clone for Sum<F, V> {
    fn clone(&self) -> Self {
        Sum(self.0.clone(), PhantomData)
    }
}

/// `sum(col)`: the sum of a numeric column (`i64`, `u64` or `f64`; NULLs ignored). Integer
/// sums are exact; one out of range of the output type is an error (see [`Numeric::sum_out`]).
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

/// `avg(col)`: the mean of a numeric column, as `f64` (`Option<f64>` for a nullable column,
/// NULL when it has no values).
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
    type Acc = Mean;
    type Out = V::AvgOut;
    fn init(&self, row: &T) -> Mean {
        (self.0)(row).to_mean()
    }
    fn finish(&self, acc: &Mean) -> V::AvgOut {
        V::avg_out(acc)
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
        // NULLs are ignored: a NULL is the identity, and the result is NULL only if every
        // input is.
        if other.0 .0.is_null() {
            return;
        }
        let better = self.0 .0.is_null()
            || if MAX {
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

/// `min(col)`: the least value of a column (NULLs ignored).
pub fn min<T, V: Field, F: Fn(&T) -> V + Clone + Send + Sync + 'static>(
    col: F,
) -> Extreme<F, V, false> {
    Extreme(col, PhantomData)
}

/// `max(col)`: the greatest value of a column (NULLs ignored).
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
mod tests;
