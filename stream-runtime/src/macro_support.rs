//! Items the macros' generated code refers to. Not a public API: paths may change.

pub use serde;
pub use stream_core::{DataType, Field, FieldSchema, Numeric, Record, Schema, Timestamp, Value};
pub use stream_macros::Record;

/// A column type that `sum(col)` / `avg(col)` accept in `stream!`: the numeric types of
/// [`Numeric`], one impl each (no blanket impl), so that for any other type the projection
/// `<V as NumericColumn>::Num` fails once, on the user's column, and nothing downstream of it is
/// reported again.
#[diagnostic::on_unimplemented(
    message = "cannot sum or average a column of type `{Self}`",
    label = "`sum` and `avg` need a numeric column, this one is `{Self}`",
    note = "use a column of an integer or floating-point type here, or count(), min() or max() for other types"
)]
pub trait NumericColumn {
    /// The column type itself.
    type Num: Numeric;
    /// The identity.
    fn into_numeric(self) -> Self::Num;
}

macro_rules! numeric_column {
    ($($t:ty),*) => {$(
        impl NumericColumn for $t {
            type Num = $t;
            #[inline(always)]
            fn into_numeric(self) -> $t {
                self
            }
        }
    )*};
}
numeric_column!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

/// `sum(col)` / `avg(col)` in `stream!`: the identity on numeric columns, spanned at the user's
/// column so that a non-numeric one is reported there.
#[inline(always)]
pub fn numeric<V: NumericColumn>(value: V) -> V::Num {
    value.into_numeric()
}

/// A column type that can carry event time: `Timestamp` only.
#[diagnostic::on_unimplemented(
    message = "the event-time column must be a `Timestamp`, this one is `{Self}`",
    label = "`with_watermark` and `window` need a `Timestamp` column, this one is `{Self}`",
    note = "declare the column as `Timestamp` (epoch milliseconds) in the record, or convert it with `.map(..)` first"
)]
pub trait EventTimeColumn {
    /// The value as a timestamp.
    fn into_timestamp(self) -> Timestamp;
}

impl EventTimeColumn for Timestamp {
    #[inline(always)]
    fn into_timestamp(self) -> Timestamp {
        self
    }
}

/// `with_watermark(col, ..)` / `window(col, ..)` in `stream!`: the event time of a row, spanned
/// at the user's column so that a non-timestamp column is reported there.
#[inline(always)]
pub fn event_time<V: EventTimeColumn>(value: V) -> Timestamp {
    value.into_timestamp()
}

/// The schema of a row of type `B` with the column `name` (of type `V`) added, or replaced if
/// `B` already has a column of that name (Spark's `withColumn`).
pub fn with_column_schema<B: Record, V: Field>(name: &'static str) -> Schema {
    let mut schema = B::schema();
    let field = FieldSchema {
        name,
        data_type: V::data_type(),
    };
    match schema.fields.iter_mut().find(|f| f.name == name) {
        Some(slot) => *slot = field,
        None => schema.fields.push(field),
    }
    schema
}

/// The values of `base` with the column `name` set to `value` (see [`with_column_schema`]).
pub fn with_column_values<B: Record, V: Field>(base: &B, name: &str, value: &V) -> Vec<Value> {
    let mut values = base.values();
    match B::schema().fields.iter().position(|f| f.name == name) {
        Some(i) => values[i] = value.to_value(),
        None => values.push(value.to_value()),
    }
    values
}
