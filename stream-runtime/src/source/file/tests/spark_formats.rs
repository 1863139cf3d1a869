//! The file source reads values as Spark's readers do: JSON timestamp numbers are seconds,
//! CSV headers are skipped with columns by position, `\` escapes quotes, text keeps lines
//! that are not UTF-8, and corrupt records are bounded.

use super::*;

#[derive(crate::Record)]
struct Event {
    id: i64,
    ts: crate::Timestamp,
    seen: Option<crate::Timestamp>,
}

/// 2015-07-15T00:00:00Z in epoch seconds (`date -u -d 2015-07-15 +%s`).
const JULY_15: i64 = 1_436_918_400;

#[test]
fn json_timestamp_numbers_are_epoch_seconds_as_in_spark() {
    let dir = TempDir::new("jsonts");
    let text = format!(
        "{{\"id\":1,\"ts\":{JULY_15},\"seen\":null}}\n\
         {{\"id\":2,\"ts\":\"2015-07-15T02:00:01.500+02:00\",\"seen\":{}}}\n\
         {{\"id\":3,\"ts\":1.5}}\n\
         {{\"id\":4,\"ts\":\"2015-02-30T00:00:00\"}}\n\
         {{\"id\":5,\"ts\":\"99999999999999999-01-01\"}}\n\
         {{\"id\":6,\"ts\":99999999999999}}\n\
         {{\"id\":7,\"ts\":\"{JULY_15}\"}}\n",
        JULY_15 + 60
    );
    let f = dir.write("a.json", &text, 1);
    let (rows, stats) = read_rows(&Files::json::<Event>(&dir.0), &split_of(&[&f]));
    let got: Vec<(i64, i64, Option<i64>)> = rows
        .iter()
        .map(|e| (e.id, e.ts.millis(), e.seen.map(|t| t.millis())))
        .collect();
    assert_eq!(
        got,
        [
            (1, JULY_15 * 1000, None),
            (2, JULY_15 * 1000 + 1_500, Some((JULY_15 + 60) * 1000)),
        ]
    );
    // A fractional number, an impossible date, a year out of range, seconds past Spark's
    // microseconds and a 10-digit string (not a timestamp string) are malformed records.
    let bad: Vec<u64> = stats.corrupt.iter().map(|c| c.line).collect();
    assert_eq!(bad, [3, 4, 5, 6, 7], "{:?}", stats.corrupt);
}

#[test]
fn csv_timestamps_are_timestamp_strings_as_in_spark() {
    let dir = TempDir::new("csvts");
    let f = dir.write(
        "a.csv",
        "1,2015-07-15T00:00:01.500+02:00,\n\
         2,2015,2015-07-15 00:00:00\n\
         3,1436918400,\n\
         4,99999999999999999-01-01,\n\
         5,2015-07-15T24:00:00,\n",
        1,
    );
    let (rows, stats) = read_rows(&Files::csv::<Event>(&dir.0), &split_of(&[&f]));
    let got: Vec<(i64, i64, Option<i64>)> = rows
        .iter()
        .map(|e| (e.id, e.ts.millis(), e.seen.map(|t| t.millis())))
        .collect();
    // 2015-01-01T00:00:00Z is 1420070400 s.
    assert_eq!(
        got,
        [
            (1, JULY_15 * 1000 + 1_500 - 7_200_000, None),
            (2, 1_420_070_400_000, Some(JULY_15 * 1000)),
        ]
    );
    let bad: Vec<u64> = stats.corrupt.iter().map(|c| c.line).collect();
    assert_eq!(bad, [3, 4, 5], "{:?}", stats.corrupt);
}

#[test]
fn csv_header_is_skipped_and_columns_stay_by_position() {
    // Spark's default `enforceSchema = true`: the header line is skipped, its names are not
    // used, and fields map to the schema by position.
    #[derive(crate::Record)]
    struct Ab {
        a: i64,
        b: i64,
    }
    let dir = TempDir::new("csvhdrpos");
    let f1 = dir.write("a.csv", "b,a\n1,2\n", 1);
    // A header with another number of columns only changes what Spark logs.
    let f2 = dir.write("b.csv", "x,y,z\n3,4\n5,6,7\n", 2);
    let src = Files::csv::<Ab>(&dir.0).header(true);
    let (rows, stats) = read_rows(&src, &split_of(&[&f1, &f2]));
    let got: Vec<(i64, i64)> = rows.iter().map(|r| (r.a, r.b)).collect();
    assert_eq!(got, [(1, 2), (3, 4)]);
    // The row with three fields is malformed, as it is without a header.
    let bad: Vec<(&str, u64)> = stats
        .corrupt
        .iter()
        .map(|c| (c.file.as_str(), c.line))
        .collect();
    assert_eq!(bad, [(f2.as_str(), 3)]);
}

#[test]
fn csv_backslash_escapes_quotes_by_default() {
    #[derive(crate::Record)]
    struct Said {
        text: String,
        n: i64,
    }
    let dir = TempDir::new("csvesc");
    let f = dir.write(
        "a.csv",
        "\"say \\\"hi\\\", bob\",1\n\
         \"doubled \"\"quotes\"\" too\",2\n\
         \"back\\\\slash\",3\n\
         unquoted \\\"raw\\\",4\n",
        1,
    );
    let (rows, stats) = read_rows(&Files::csv::<Said>(&dir.0), &split_of(&[&f]));
    let got: Vec<(&str, i64)> = rows.iter().map(|r| (r.text.as_str(), r.n)).collect();
    assert_eq!(
        got,
        [
            ("say \"hi\", bob", 1),
            ("doubled \"quotes\" too", 2),
            ("back\\slash", 3),
            ("unquoted \\\"raw\\\"", 4),
        ],
        "{:?}",
        stats.corrupt
    );
    // Another escape character (Spark's `escape` option).
    let f = dir.write("b.csv", "\"it's '\"quoted'\"\",5\n", 2);
    let src = Files::csv::<Said>(&f).escape(b'\'');
    let (rows, _) = read_rows(&src, &split_of(&[&f]));
    assert_eq!(rows[0].text, "it's \"quoted\"");
}

#[test]
fn text_keeps_lines_that_are_not_utf8_with_replacement_characters() {
    let dir = TempDir::new("latin1");
    // "café" and "naïve" in Latin-1, between valid lines.
    let path = dir.0.join("latin1.txt");
    fs::write(&path, b"one\ncaf\xe9 au lait\nna\xefve\nlast").unwrap();
    let f = path.to_string_lossy().into_owned();
    let (rows, stats) = read_rows(&Files::text::<Line>(&dir.0), &split_of(&[&f]));
    let values: Vec<&str> = rows.iter().map(|l| l.value.as_str()).collect();
    assert_eq!(
        values,
        ["one", "caf\u{FFFD} au lait", "na\u{FFFD}ve", "last"]
    );
    assert_eq!((stats.rows, stats.corrupt.len()), (4, 0));
}

#[test]
fn permissive_mode_keeps_a_bounded_number_of_corrupt_records_and_counts_them_all() {
    let dir = TempDir::new("manybad");
    // 200k bad lines (one in 1000 is a good row), then a long bad line of multi-byte characters.
    let mut text = String::new();
    let mut good = 0;
    for i in 0..200_000u64 {
        if i % 1000 == 999 {
            text.push_str(&format!("{{\"auction\":{i},\"price\":1}}\n"));
            good += 1;
        } else {
            text.push_str(&format!("not json {i}\n"));
        }
    }
    let long = "é".repeat(3000); // 6000 bytes
    text.push_str(&long);
    text.push('\n');
    let bad = 200_000 - good + 1;
    let f = dir.write("bad.json", &text, 1);
    let src = Files::json::<Bid>(&dir.0);
    let (rows, stats) = read_rows(&src, &split_of(&[&f]));
    assert_eq!(rows.len() as u64, good);
    assert_eq!(stats.rows, good);
    // All are counted, at most 1000 (the default) are kept: the first ones.
    assert_eq!(stats.corrupt_count, bad);
    assert_eq!(stats.corrupt.len(), 1000);
    assert_eq!(stats.corrupt[0].raw, "not json 0");
    assert_eq!(stats.corrupt[999].line, 1001); // line 1000 is a good row
                                               // A smaller cap, over two files (the cap is per read), and a long record truncated on a
                                               // character boundary, with a marker.
    let g = dir.write("long.json", &format!("{long}\nnot json\n"), 2);
    let src = Files::json::<Bid>(&dir.0).max_corrupt_records(3);
    let (_, stats) = read_rows(&src, &split_of(&[&g, &f]));
    assert_eq!(stats.corrupt_count, bad + 2);
    assert_eq!(stats.corrupt.len(), 3);
    let raw = &stats.corrupt[0].raw;
    assert!(raw.len() <= 1024 + 64, "{} bytes", raw.len());
    assert!(raw.starts_with(&"é".repeat(512)), "{raw}");
    assert!(
        raw.contains("truncated") && raw.contains("6000 bytes"),
        "{raw}"
    );
    assert_eq!(stats.corrupt[1].raw, "not json");
    assert_eq!(stats.corrupt[2].raw, "not json 0");
    // Zero keeps none and still counts.
    let src = Files::json::<Bid>(&dir.0).max_corrupt_records(0);
    let (_, stats) = read_rows(&src, &split_of(&[&g]));
    assert_eq!((stats.corrupt_count, stats.corrupt.len()), (2, 0));
}
