//! SQL NULLs in keys: a join key that holds a NULL (`None`) anywhere equals nothing, not even
//! another NULL, as in SQL (`NULL = NULL` is not true). Keys are any serializable value, so the
//! check walks a key through serde and stops at the first `None`.

use serde::ser::{self, Serialize, Serializer};
use std::fmt;

/// Whether `key` holds a NULL: a `None` anywhere inside it (a tuple or record field included).
pub(crate) fn has_null<K: Serialize + ?Sized>(key: &K) -> bool {
    matches!(key.serialize(NullCheck), Err(Found::Null))
}

/// Why the walk stopped: a NULL was found, or the value said it cannot be serialized (treated as
/// no NULL: such a key then fails elsewhere with its own error).
#[derive(Debug)]
enum Found {
    Null,
    Other,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Found::Null => "a NULL",
            Found::Other => "not serializable",
        })
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Found::Other
    }
}

/// A serializer that writes nothing and fails on the first `None`.
struct NullCheck;

/// Every scalar is fine.
macro_rules! scalars {
    ($($f:ident: $t:ty),*) => {$(
        fn $f(self, _: $t) -> Result<(), Found> {
            Ok(())
        }
    )*};
}

impl Serializer for NullCheck {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = NullCheck;
    type SerializeTuple = NullCheck;
    type SerializeTupleStruct = NullCheck;
    type SerializeTupleVariant = NullCheck;
    type SerializeMap = NullCheck;
    type SerializeStruct = NullCheck;
    type SerializeStructVariant = NullCheck;

    scalars!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_f32: f32,
        serialize_f64: f64, serialize_char: char, serialize_str: &str, serialize_bytes: &[u8],
        serialize_unit_struct: &'static str);

    fn serialize_none(self) -> Result<(), Found> {
        Err(Found::Null)
    }
    fn serialize_some<V: Serialize + ?Sized>(self, v: &V) -> Result<(), Found> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_newtype_struct<V: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &V,
    ) -> Result<(), Found> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &V,
    ) -> Result<(), Found> {
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<NullCheck, Found> {
        Ok(NullCheck)
    }
    fn serialize_tuple(self, _: usize) -> Result<NullCheck, Found> {
        Ok(NullCheck)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<NullCheck, Found> {
        Ok(NullCheck)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<NullCheck, Found> {
        Ok(NullCheck)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<NullCheck, Found> {
        Ok(NullCheck)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<NullCheck, Found> {
        Ok(NullCheck)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<NullCheck, Found> {
        Ok(NullCheck)
    }
}

/// The parts of compound values: each is checked in turn.
macro_rules! compound {
    ($($trait:ident: $method:ident $(($name:ty))?;)*) => {$(
        impl ser::$trait for NullCheck {
            type Ok = ();
            type Error = Found;
            fn $method<V: Serialize + ?Sized>(&mut self, $(_: $name,)? v: &V) -> Result<(), Found> {
                v.serialize(NullCheck)
            }
            fn end(self) -> Result<(), Found> {
                Ok(())
            }
        }
    )*};
}

compound! {
    SerializeSeq: serialize_element;
    SerializeTuple: serialize_element;
    SerializeTupleStruct: serialize_field;
    SerializeTupleVariant: serialize_field;
    SerializeStruct: serialize_field(&'static str);
    SerializeStructVariant: serialize_field(&'static str);
}

impl ser::SerializeMap for NullCheck {
    type Ok = ();
    type Error = Found;
    fn serialize_key<V: Serialize + ?Sized>(&mut self, v: &V) -> Result<(), Found> {
        v.serialize(NullCheck)
    }
    fn serialize_value<V: Serialize + ?Sized>(&mut self, v: &V) -> Result<(), Found> {
        v.serialize(NullCheck)
    }
    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::has_null;

    #[derive(serde::Serialize)]
    struct Key {
        a: u64,
        b: Option<String>,
    }

    #[test]
    fn a_none_anywhere_is_a_null() {
        assert!(!has_null(&7u64));
        assert!(!has_null(&"x"));
        assert!(!has_null(&Some(3)));
        assert!(has_null(&None::<u64>));
        assert!(has_null(&(1, None::<u8>)));
        assert!(!has_null(&(1, Some(2u8), "z".to_string())));
        assert!(has_null(&Key { a: 1, b: None }));
        assert!(!has_null(&Key {
            a: 1,
            b: Some("b".into())
        }));
        assert!(has_null(&vec![Some(1), None]));
        assert!(!has_null(&()));
    }
}
