use super::*;

#[test]
fn iso_round_trip_hand_worked() {
    // 2015-07-15 00:00:00 UTC is Nexmark's base time 1436918400000.
    assert_eq!(
        Timestamp::parse_iso("2015-07-15T00:00:00Z"),
        Some(Timestamp(1_436_918_400_000))
    );
    assert_eq!(
        Timestamp(1_436_918_400_000).to_string(),
        "2015-07-15 00:00:00"
    );
    assert_eq!(Timestamp(11_000).to_string(), "1970-01-01 00:00:11");
    assert_eq!(Timestamp(-1).to_string(), "1969-12-31 23:59:59.999");
    assert_eq!(
        Timestamp::parse_iso("1970-01-01 00:00:01.5"),
        Some(Timestamp(1500))
    );
    assert_eq!(Timestamp::parse_iso("1970-13-01"), None);
}

#[test]
fn parse_iso_out_of_range_is_none_not_a_panic() {
    // Spark's parser takes 4 to 6 year digits and a result that fits its microseconds.
    assert_eq!(Timestamp::parse_iso("99999999999999999-01-01"), None);
    assert_eq!(Timestamp::parse_iso("9999999-01-01"), None);
    assert_eq!(Timestamp::parse_iso("-99999999999999999-01-01"), None);
    // The extremes, hand-checked with a day-by-day count: Long.MaxValue microseconds is
    // +294247-01-10T04:00:54.775807Z, Long.MinValue is -290308-12-21T19:59:05.224192Z.
    assert_eq!(
        Timestamp::parse_iso("294247-01-10T04:00:54.775807Z"),
        Some(Timestamp(9_223_372_036_854_775))
    );
    assert_eq!(Timestamp::parse_iso("294247-01-10T04:00:54.775808Z"), None);
    assert_eq!(
        Timestamp::parse_iso("-290308-12-21T19:59:05.224192Z"),
        Some(Timestamp(-9_223_372_036_854_776))
    );
    assert_eq!(Timestamp::parse_iso("-290308-12-21T19:59:05.224191Z"), None);
    assert_eq!(Timestamp::parse_iso("999999-12-31T23:59:59Z"), None);
    // Years 0001 and 9999 are plain (`date -u -d ... +%s`).
    assert_eq!(
        Timestamp::parse_iso("0001-01-01T00:00:00Z"),
        Some(Timestamp(-62_135_596_800_000))
    );
    assert_eq!(
        Timestamp::parse_iso("9999-12-31T23:59:59.999Z"),
        Some(Timestamp(253_402_300_799_999))
    );
    // Rendering never panics either.
    let _ = (
        Timestamp(i64::MAX).to_string(),
        Timestamp(i64::MIN).to_string(),
    );
}

#[test]
fn parse_iso_honours_zone_offsets() {
    // 2015-07-15T00:00:01Z is 1436918401 s (`date -u -d ... +%s`).
    let utc = 1_436_918_401_000;
    let hour = 3_600_000;
    let cases = [
        ("2015-07-15T00:00:01.500+02:00", utc + 500 - 2 * hour),
        ("2015-07-15T00:00:01.500Z", utc + 500),
        ("2015-07-15T00:00:01-05:30", utc + 5 * hour + hour / 2),
        ("2015-07-15T00:00:01+0200", utc - 2 * hour),
        ("2015-07-15T00:00:01+2", utc - 2 * hour),
        ("2015-07-15T00:00:01+1:00", utc - hour),
        ("2015-07-15T00:00:01Z", utc),
        ("2015-07-15 00:00:01 UTC", utc),
        ("2015-07-15T00:00:01GMT+02:00", utc - 2 * hour),
        ("2015-07-15T00:00:01.25UTC-01", utc + 250 + hour),
        ("2015-07-15T00:00:01 EST", utc + 5 * hour),
        (
            "2015-07-15T00:00:01+01:02:03",
            utc - hour - 2 * 60_000 - 3_000,
        ),
    ];
    for (text, ms) in cases {
        assert_eq!(Timestamp::parse_iso(text), Some(Timestamp(ms)), "{text}");
    }
    for bad in [
        "2015-07-15T00:00:01+19:00",
        "2015-07-15T00:00:01+02:60",
        "2015-07-15T00:00:01+",
        "2015-07-15T00:00:01z",
        "2015-07-15T00:00:01 Mars/Olympus",
        "2015-07-15T00:00:01+02:00junk",
    ] {
        assert_eq!(Timestamp::parse_iso(bad), None, "{bad}");
    }
}

#[test]
fn parse_iso_rejects_impossible_dates_and_times() {
    for bad in [
        "2015-02-31T25:61:99",
        "2015-02-29",
        "2015-02-29T00:00:00Z",
        "2015-07-15T24:00:00",
        "2015-07-15T23:60:00",
        "2015-07-15T23:59:60",
        "2015-00-10",
        "2015-04-31",
        "2015-07-00",
        "",
        "  ",
        "15-07-15",
        "2015-07-15T",
        "2015-07-15T10:00Z",
        "2015-7-15X",
        "10:00:00",
    ] {
        assert_eq!(Timestamp::parse_iso(bad), None, "{bad:?}");
    }
    // Leap days exist in leap years (2016-02-29 is 1456704000 s).
    assert_eq!(
        Timestamp::parse_iso("2016-02-29"),
        Some(Timestamp(1_456_704_000_000))
    );
    assert!(Timestamp::parse_iso("2000-02-29").is_some());
    assert_eq!(Timestamp::parse_iso("1900-02-29"), None);
    // Spark's shorter forms: a year, a month, one-digit fields, trimmed text, and a fraction
    // truncated (not rounded) to the millisecond.
    assert_eq!(Timestamp::parse_iso("1970"), Some(Timestamp(0)));
    assert_eq!(
        Timestamp::parse_iso("1970-02"),
        Some(Timestamp(31 * 86_400_000))
    );
    assert_eq!(
        Timestamp::parse_iso(" 1970-1-2T3:4:5.0069 "),
        Some(Timestamp(86_400_000 + 3 * 3_600_000 + 4 * 60_000 + 5_006))
    );
    assert_eq!(Timestamp::parse_iso("1970-01-01T00:00"), Some(Timestamp(0)));
    assert_eq!(
        Timestamp::parse_iso("1969-12-31T23:59:59.9999"),
        Some(Timestamp(-1))
    );
}

#[test]
fn text_numbers_are_milliseconds_except_in_spark_source_modes() {
    use serde::de::value::{Error, F64Deserializer, I64Deserializer, StrDeserializer};
    let int = |v: i64| Timestamp::deserialize(I64Deserializer::<Error>::new(v));
    let text = |v: &str| Timestamp::deserialize(StrDeserializer::<Error>::new(v));
    let float = |v: f64| Timestamp::deserialize(F64Deserializer::<Error>::new(v));
    // The engine's own text form: integer milliseconds.
    assert_eq!(int(1_500).unwrap(), Timestamp(1_500));
    assert_eq!(text("1500").unwrap(), Timestamp(1_500));
    assert_eq!(text("1970-01-01T00:00:01.5Z").unwrap(), Timestamp(1_500));
    // Spark's JSON reader: an integer is seconds; a string is a timestamp string (digits
    // too: "2015" is the year 2015); a fractional number is not a timestamp.
    with_text_timestamps(TextTimestamps::SparkJson, || {
        assert_eq!(int(1_436_918_400).unwrap(), Timestamp(1_436_918_400_000));
        assert_eq!(int(-1).unwrap(), Timestamp(-1_000));
        assert_eq!(text("2015").unwrap(), Timestamp(1_420_070_400_000));
        assert!(float(1.5).is_err());
        // Past Spark's microseconds (i64::MAX / 1_000_000 s), out of range, not wrapped.
        assert_eq!(
            int(9_223_372_036_854).unwrap(),
            Timestamp(9_223_372_036_854_000)
        );
        assert!(int(9_223_372_036_855).is_err());
        assert!(int(i64::MIN).is_err());
        assert!(text("2015-02-30").is_err());
    });
    // Spark's CSV reader: the field's text is a timestamp string.
    with_text_timestamps(TextTimestamps::SparkCsv, || {
        assert_eq!(text("2015").unwrap(), Timestamp(1_420_070_400_000));
        assert!(text("1436918400").is_err());
    });
    // The mode is scoped: restored after the closure, even one that panics.
    assert_eq!(int(7).unwrap(), Timestamp(7));
    let caught = std::panic::catch_unwind(|| {
        with_text_timestamps(TextTimestamps::SparkJson, || panic!("boom"))
    });
    assert!(caught.is_err());
    assert_eq!(int(7).unwrap(), Timestamp(7));
}

#[test]
fn decodes_from_binary_formats_without_deserialize_any() {
    struct Bin(Vec<u8>);
    // A minimal binary (not human-readable) format: i64 as 8 little-endian bytes.
    impl<'de> serde::Deserializer<'de> for &mut Bin {
        type Error = serde::de::value::Error;
        fn is_human_readable(&self) -> bool {
            false
        }
        fn deserialize_i64<V: serde::de::Visitor<'de>>(
            self,
            v: V,
        ) -> Result<V::Value, Self::Error> {
            let bytes: [u8; 8] = self.0[..8].try_into().unwrap();
            v.visit_i64(i64::from_le_bytes(bytes))
        }
        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("deserialize_any is not supported"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
            identifier ignored_any
        }
    }
    let mut bin = Bin(1_500i64.to_le_bytes().to_vec());
    assert_eq!(Timestamp::deserialize(&mut bin).unwrap(), Timestamp(1_500));
}
