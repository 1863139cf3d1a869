//! Aggregations and windows: `.with_watermark(..)`, the groupings (`.group_by(..)` by columns,
//! `window(..)` or `session_window(..)`, `.group_by_key(..)`), their aggregates (`.agg(..)`,
//! `.count()`), the sort of an aggregation's result table (`.order_by(..)` / `.sort(..)`) and
//! its first rows (`.limit(n)`).

pub mod agg;
pub mod group_by;
pub mod limit;
pub mod order_by;
pub mod watermark;
pub mod window;
