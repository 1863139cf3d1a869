//! Descriptions of a query's parts for its checkpoint, which a restart compares
//! (`checkpoint/changes.rs`): type names without their module paths, and schemas as text.

use stream_core::Schema;

/// `T`'s name without module paths, e.g. `(Window, String)` or `Sum<i128>`.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut path = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
        } else {
            out.push_str(last_segment(&path));
            path.clear();
            out.push(c);
        }
    }
    out.push_str(last_segment(&path));
    out
}

fn last_segment(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

/// A record's columns, e.g. `{user: string, n: long}`.
pub(crate) fn schema_text(schema: &Schema) -> String {
    let fields: Vec<String> = schema
        .fields
        .iter()
        .map(|f| format!("{}: {}", f.name, f.data_type))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_lose_their_paths() {
        assert_eq!(
            short_type_name::<(stream_core::Window, String)>(),
            "(Window, String)"
        );
        assert_eq!(
            short_type_name::<Vec<std::collections::BTreeMap<u64, i64>>>(),
            "Vec<BTreeMap<u64, i64>>"
        );
    }
}
