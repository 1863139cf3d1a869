//! Items the macros' generated code refers to. Not a public API: paths may change.

pub use crate::source::Mode;
pub use serde;
pub use stream_core::{DataType, Field, FieldSchema, Numeric, Record, Schema, Timestamp, Value};
pub use stream_macros::Record;

/// What `#[stream::main]` expands to.
pub mod app {
    pub use crate::session::app::{run, run_with_flags};
    pub use crate::session::app::{AppFlags, MainResult, SessionParam};
}

/// A row type `stream!` reads (`read_stream::<T>`, `read_static::<T>`): every
/// `#[derive(Record)]` implements it. `stream!` reads the row type through it, so that a type
/// without the derive is one error, on the type, and nothing downstream is reported again (the
/// projection fails and the pipeline's types become rustc's error type).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a record type: `stream!` reads rows of a struct with `#[derive(Record)]`",
    label = "`{Self}` does not derive `Record`",
    note = "add `#[derive(Record)]` to `{Self}` (it derives `Clone`, `Debug`, serde, an order and a hash too)"
)]
pub trait RowType {
    /// The row type itself.
    type Row: Record;
}

/// The checks `stream!`'s generated code declares in its own block, by name (`numeric`,
/// `event_time`, `gap`, `condition`, `row_type`, `read_stream`). Declared in the user's crate rather than here,
/// rustc names them without a path in its messages (`the trait `NumericColumn` is not
/// implemented for `String``); each has one impl per accepted type (no blanket impl), so that
/// for any other type the projection fails once, on the user's token, and nothing downstream of
/// it is reported again.
#[doc(hidden)]
#[macro_export]
macro_rules! __stream_check {
    (numeric) => {
        // `sum(col)` / `avg(col)`: the column is numeric (or an `Option` of a numeric type,
        // whose NULLs are skipped).
        #[diagnostic::on_unimplemented(
            message = "cannot sum or average a column of type `{Self}`",
            label = "`sum` and `avg` need a numeric column, this one is `{Self}`",
            note = "use a column of an integer or floating-point type (or an `Option` of one) here, or count(), min() or max() for other types"
        )]
        trait NumericColumn {
            type Num;
            fn into_numeric(self) -> Self::Num;
        }
        $crate::__stream_check!(@numeric i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);
    };
    (@numeric $($t:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl NumericColumn for $t {
            type Num = $t;
            #[inline(always)]
            fn into_numeric(self) -> $t {
                self
            }
        }
        #[diagnostic::do_not_recommend]
        impl NumericColumn for ::core::option::Option<$t> {
            type Num = ::core::option::Option<$t>;
            #[inline(always)]
            fn into_numeric(self) -> ::core::option::Option<$t> {
                self
            }
        }
    )*};
    (event_time) => {
        // `with_watermark(col, ..)`, `window(col, ..)`, `session_window(col, ..)`: the column
        // is a `Timestamp`.
        #[diagnostic::on_unimplemented(
            message = "the event-time column must be a `Timestamp`, this one is `{Self}`",
            label = "`with_watermark`, `window` and `session_window` need a `Timestamp` column, this one is `{Self}`",
            note = "declare the column as `Timestamp` (epoch milliseconds) in the record, or convert it with `.map(..)` first"
        )]
        trait EventTimeColumn {
            type Time;
            fn into_timestamp(self) -> Self::Time;
        }
        #[diagnostic::do_not_recommend]
        impl EventTimeColumn for $crate::Timestamp {
            type Time = $crate::Timestamp;
            #[inline(always)]
            fn into_timestamp(self) -> $crate::Timestamp {
                self
            }
        }
    };
    (gap) => {
        // `session_window(time, gap)` with a gap per row: milliseconds as `i64`.
        #[diagnostic::on_unimplemented(
            message = "a session gap expression gives milliseconds as `i64`, this one is `{Self}`",
            label = "`session_window(time, gap)` needs the gap in milliseconds (`i64`), this is `{Self}`",
            note = "convert it (`gap as i64`, `secs * 1000`), or write a fixed gap as a string: `session_window(time, \"5 seconds\")`"
        )]
        trait GapMillis {
            type Millis;
            fn into_millis(self) -> Self::Millis;
        }
        #[diagnostic::do_not_recommend]
        impl GapMillis for i64 {
            type Millis = i64;
            #[inline(always)]
            fn into_millis(self) -> i64 {
                self
            }
        }
    };
    (condition) => {
        // `filter(expr)`: the expression is a `bool`.
        #[diagnostic::on_unimplemented(
            message = "a filter condition must be a `bool`, this one is `{Self}`",
            label = "`filter` keeps the rows where this is true: it must be a `bool`, not `{Self}`",
            note = "compare the column to a value (`price > 10`, `name != \"\"`), or pass a typed closure: `.filter(|row| ..)`"
        )]
        trait FilterCondition {
            type Bool;
            fn into_bool(self) -> Self::Bool;
        }
        #[diagnostic::do_not_recommend]
        impl FilterCondition for bool {
            type Bool = bool;
            #[inline(always)]
            fn into_bool(self) -> bool {
                self
            }
        }
    };
    (json_value) => {
        // `from_json::<T>(col)`: the column is a string or binary (or a nullable one).
        #[diagnostic::on_unimplemented(
            message = "`from_json` parses a string or binary column, not one of type `{Self}`",
            label = "this column is `{Self}`; `from_json` needs `String`, `Vec<u8>` or an `Option` of one",
            note = "from_json reads text such as a Kafka record's `value`: `select(from_json::<Bid>(value))`"
        )]
        trait JsonValue {
            fn json_bytes(&self) -> ::core::option::Option<&[u8]>;
        }
        #[diagnostic::do_not_recommend]
        impl JsonValue for ::std::string::String {
            #[inline(always)]
            fn json_bytes(&self) -> ::core::option::Option<&[u8]> {
                ::core::option::Option::Some(self.as_bytes())
            }
        }
        #[diagnostic::do_not_recommend]
        impl JsonValue for ::std::vec::Vec<u8> {
            #[inline(always)]
            fn json_bytes(&self) -> ::core::option::Option<&[u8]> {
                ::core::option::Option::Some(self.as_slice())
            }
        }
        #[diagnostic::do_not_recommend]
        impl JsonValue for ::core::option::Option<::std::string::String> {
            #[inline(always)]
            fn json_bytes(&self) -> ::core::option::Option<&[u8]> {
                self.as_ref().map(|s| s.as_bytes())
            }
        }
        #[diagnostic::do_not_recommend]
        impl JsonValue for ::core::option::Option<::std::vec::Vec<u8>> {
            #[inline(always)]
            fn json_bytes(&self) -> ::core::option::Option<&[u8]> {
                self.as_ref().map(|v| v.as_slice())
            }
        }
    };
    (row_type) => {
        // `read_stream::<T>` / `read_static::<T>`: `T` derives `Record` (the message is
        // `RowType`'s; rustc's help names this trait).
        trait DeriveRecord {
            type Row;
        }
        #[diagnostic::do_not_recommend]
        impl<T: $crate::__private::RowType> DeriveRecord for T {
            type Row = <T as $crate::__private::RowType>::Row;
        }
    };
    (read_stream) => {
        // `read_stream(source)` with the row type inferred from the source: the same check,
        // on the source.
        #[diagnostic::on_unimplemented(
            message = "`{Self}` is not a record type: `stream!` reads rows of a struct with `#[derive(Record)]`",
            label = "the rows of this source are `{Self}`, which does not derive `Record`",
            note = "add `#[derive(Record)]` to `{Self}` (it derives `Clone`, `Debug`, serde, an order and a hash too)"
        )]
        trait ReadStream: Sized {
            type Row;
            fn read_stream<S: $crate::source::IntoSource<Self>>(source: S) -> $crate::Dataset<Self::Row>;
        }
        #[diagnostic::do_not_recommend]
        impl<T: $crate::__private::RowType<Row = T> + $crate::Record> ReadStream for T {
            type Row = <T as $crate::__private::RowType>::Row;
            fn read_stream<S: $crate::source::IntoSource<T>>(source: S) -> $crate::Dataset<T> {
                $crate::read_stream(source)
            }
        }
    };
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

/// A column type that can be a session gap computed per row (`session_window(ts, gap)`):
/// milliseconds as `i64`.
#[diagnostic::on_unimplemented(
    message = "a session gap expression gives milliseconds as `i64`, this one is `{Self}`",
    label = "`session_window(time, gap)` needs the gap in milliseconds (`i64`), this is `{Self}`",
    note = "convert it (`gap as i64`, `secs * 1000`), or write a fixed gap as a string: `session_window(time, \"5 seconds\")`"
)]
pub trait GapMillisColumn {
    /// The value as milliseconds.
    fn into_millis(self) -> i64;
}

impl GapMillisColumn for i64 {
    #[inline(always)]
    fn into_millis(self) -> i64 {
        self
    }
}

/// A row's session gap in `stream!`, spanned at the user's expression.
#[inline(always)]
pub fn gap_millis<V: GapMillisColumn>(value: V) -> i64 {
    value.into_millis()
}

/// A session gap of `ms` milliseconds for every row (checked positive at compile time).
pub fn fixed_session_gap<T>(ms: i64) -> crate::plan::SessionGap<T> {
    crate::plan::SessionGap::per_row(move |_| ms)
}

impl<T: Record> crate::plan::Dataset<T> {
    /// A compile-time check on the current rows in `stream!`'s generated code: `probe` reads
    /// columns whose names rustc checks, and its result type is rustc's error type (the
    /// expansion reports an error through it). Never called: code using it does not compile.
    #[doc(hidden)]
    pub fn __stream_probe<R>(self, probe: impl FnOnce(&T) -> R) -> R {
        let _ = probe;
        unreachable!("stream! reports a compile error through __stream_probe")
    }

    /// `group_by(session_window(time, gap_expr), ..)` in `stream!`: [`group_by_session_on`]
    /// the event-time column `column` with a gap per row, taken as a closure here so that its
    /// row type is known when rustc checks it.
    ///
    /// [`group_by_session_on`]: crate::plan::Dataset::group_by_session_on
    #[doc(hidden)]
    pub fn __group_by_session_per_row_on<K: crate::plan::Key>(
        self,
        gap: impl Fn(&T) -> i64 + Send + Sync + 'static,
        column: &str,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> crate::plan::SessionDataset<T, K> {
        self.group_by_session_on(crate::plan::SessionGap::per_row(gap), column, time, key)
    }
}

/// A sort key of `order_by` in `stream!`: a column value, ordered by the column's total order
/// (floats included).
#[derive(Clone, Debug)]
pub struct SortKey<V>(pub V);

impl<V: Field> PartialEq for SortKey<V> {
    fn eq(&self, other: &Self) -> bool {
        self.0.cmp_field(&other.0) == std::cmp::Ordering::Equal
    }
}
impl<V: Field> Eq for SortKey<V> {}
impl<V: Field> PartialOrd for SortKey<V> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<V: Field> Ord for SortKey<V> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp_field(&other.0)
    }
}

/// `order_by(col)` in `stream!`, spanned at the user's column.
#[inline(always)]
pub fn sort_key<V: Field>(value: V) -> SortKey<V> {
    SortKey(value)
}

/// `order_by(col.desc())` in `stream!`.
#[inline(always)]
pub fn sort_key_desc<V: Field>(value: V) -> std::cmp::Reverse<SortKey<V>> {
    std::cmp::Reverse(SortKey(value))
}

/// A row of a stream joined with a row of a static table (inner join): the stream's columns,
/// then the table's. Dereferences to the stream row, so that its columns are read as before;
/// `stream!` reads the table's as `__table`.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Joined<T, S> {
    /// The stream row.
    pub __stream: T,
    /// The matching table row.
    pub __table: S,
}

/// A row of an outer stream-static join: the stream row, and the matching table row if any
/// (its columns are NULL otherwise).
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct OuterJoined<T, S> {
    /// The stream row.
    pub __stream: T,
    /// The matching table row, if any.
    pub __table: Option<S>,
}

impl<T, S> std::ops::Deref for Joined<T, S> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.__stream
    }
}

impl<T, S> std::ops::Deref for OuterJoined<T, S> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.__stream
    }
}

// Mutable access lets `select` move the stream row's columns out (see `column`).
impl<T, S> std::ops::DerefMut for Joined<T, S> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.__stream
    }
}

impl<T, S> std::ops::DerefMut for OuterJoined<T, S> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.__stream
    }
}

/// An output column of `select` in `stream!` that the projection reads from a row it owns,
/// once: [`TakeColumn`] moves the value out (leaving its default behind, which for a `String`
/// or a `Vec` allocates nothing), and [`CloneColumn`] clones a value that has no default.
/// The generated code calls `(&column(&mut place)).take_or_clone()` with both traits in scope:
/// method resolution prefers the impl on `Column` to the one on `&Column` (autoref
/// specialization), so the choice is made per column type at compile time.
pub struct Column<'a, V>(std::cell::Cell<Option<&'a mut V>>);

/// See [`Column`].
#[inline(always)]
pub fn column<V>(place: &mut V) -> Column<'_, V> {
    Column(std::cell::Cell::new(Some(place)))
}

impl<V> Column<'_, V> {
    #[inline(always)]
    fn place(&self) -> &mut V {
        // Generated code reads each `Column` exactly once.
        self.0.take().expect("a column is read once")
    }
}

/// Moves a column value out of its row: see [`Column`].
pub trait TakeColumn {
    /// The column type.
    type Value;
    /// The value, moved out.
    fn take_or_clone(&self) -> Self::Value;
}

impl<V: Default> TakeColumn for Column<'_, V> {
    type Value = V;
    #[inline(always)]
    fn take_or_clone(&self) -> V {
        std::mem::take(self.place())
    }
}

/// Clones a column value that has no default: see [`Column`].
pub trait CloneColumn {
    /// The column type.
    type Value;
    /// The value, cloned.
    fn take_or_clone(&self) -> Self::Value;
}

impl<V: Clone> CloneColumn for &Column<'_, V> {
    type Value = V;
    #[inline(always)]
    fn take_or_clone(&self) -> V {
        self.place().clone()
    }
}

#[diagnostic::do_not_recommend]
impl<T: Record, S: Record> Record for Joined<T, S> {
    fn schema() -> Schema {
        let mut schema = T::schema();
        schema.fields.extend(S::schema().fields);
        schema
    }
    fn values(&self) -> Vec<Value> {
        let mut values = self.__stream.values();
        values.extend(self.__table.values());
        values
    }
    fn event_time(&self) -> Option<Timestamp> {
        self.__stream.event_time()
    }
}

#[diagnostic::do_not_recommend]
impl<T: Record, S: Record> Record for OuterJoined<T, S> {
    fn schema() -> Schema {
        let mut schema = T::schema();
        schema
            .fields
            .extend(S::schema().fields.into_iter().map(|f| FieldSchema {
                data_type: match f.data_type {
                    DataType::Nullable(t) => DataType::Nullable(t),
                    t => DataType::Nullable(Box::new(t)),
                },
                ..f
            }));
        schema
    }
    fn values(&self) -> Vec<Value> {
        let mut values = self.__stream.values();
        match &self.__table {
            Some(s) => values.extend(s.values()),
            None => values.extend(S::schema().fields.iter().map(|_| Value::Null)),
        }
        values
    }
    fn event_time(&self) -> Option<Timestamp> {
        self.__stream.event_time()
    }
}

/// The output row of an inner stream-static join (the stream on the left).
pub fn join_inner<T: Clone, S: Clone>(stream: &T, table: Option<&S>) -> Joined<T, S> {
    Joined {
        __stream: stream.clone(),
        __table: table
            .expect("an inner join combines matching rows only")
            .clone(),
    }
}

/// The output row of a left outer stream-static join.
pub fn join_outer<T: Clone, S: Clone>(stream: &T, table: Option<&S>) -> OuterJoined<T, S> {
    OuterJoined {
        __stream: stream.clone(),
        __table: table.cloned(),
    }
}

/// The output row of a left semi or left anti stream-static join: the stream row.
pub fn join_semi<T: Clone, S>(stream: &T, _: Option<&S>) -> T {
    stream.clone()
}

/// The output row of an inner stream-stream join: the left row, then the right one.
pub fn stream_join_inner<L: Clone, R: Clone>(left: Option<&L>, right: Option<&R>) -> Joined<L, R> {
    Joined {
        __stream: left.expect("an inner join has both rows").clone(),
        __table: right.expect("an inner join has both rows").clone(),
    }
}

/// The output row of a left outer stream-stream join.
pub fn stream_join_outer<L: Clone, R: Clone>(
    left: Option<&L>,
    right: Option<&R>,
) -> OuterJoined<L, R> {
    OuterJoined {
        __stream: left.expect("a left outer join has the left row").clone(),
        __table: right.cloned(),
    }
}

/// The output row of a left semi stream-stream join: the left row.
pub fn stream_join_semi<L: Clone, R>(left: Option<&L>, _: Option<&R>) -> L {
    left.expect("a left semi join has the left row").clone()
}

/// The output row of an inner join with the static table on the left.
pub fn static_join_inner<T: Clone, S: Clone>(table: Option<&S>, stream: &T) -> Joined<T, S> {
    join_inner(stream, table)
}

/// The output row of a right outer join with the static table on the left.
pub fn static_join_outer<T: Clone, S: Clone>(table: Option<&S>, stream: &T) -> OuterJoined<T, S> {
    join_outer(stream, table)
}

/// A row whose origin `from_json` may report: `(&&OriginOf(row)).origin()` is the row's
/// [`RowOrigin`](crate::source::RowOrigin) when its type has one, `None` otherwise (autoref
/// specialisation: the first impl applies only to types with an origin).
pub struct OriginOf<'a, T>(pub &'a T);

/// See [`OriginOf`].
pub trait KnownOrigin {
    /// The row's origin.
    fn origin(&self) -> Option<(String, u64)>;
}

impl<T: crate::source::RowOrigin> KnownOrigin for &OriginOf<'_, T> {
    fn origin(&self) -> Option<(String, u64)> {
        Some(crate::source::RowOrigin::origin(self.0))
    }
}

/// See [`OriginOf`].
pub trait UnknownOrigin {
    /// No origin: the row's position is reported instead.
    fn origin(&self) -> Option<(String, u64)> {
        None
    }
}

impl<T> UnknownOrigin for OriginOf<'_, T> {}

/// A state snapshot's cost, for `examples/state_snapshot.rs`.
pub use crate::state::bench::{snapshot as bench_state_snapshot, SnapshotCost};
