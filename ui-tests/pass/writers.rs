//! Output modes, triggers, `.start()`, global aggregations, unions of projections, and a
//! `Dataset` built outside the macro.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Reading {
    sensor: String,
    celsius: f64,
    ok: bool,
}

fn main() -> Result<(), StreamError> {
    let input = MemoryStream::<Reading>::new();
    let sink = MemorySink::new();
    let offset = 273.15;
    // A Dataset from the builder API, continued in the macro.
    let readings = read_stream::<Reading>(input.clone());
    let query = stream! {
        let warm = readings.filter(ok && celsius > 20.0).select(sensor, celsius + lit(offset) as kelvin);
        let cold = readings.filter(ok && celsius <= 20.0).select(sensor, celsius as kelvin);
        warm.union(cold)
            .with_column(hot, kelvin > 300.0)
            .group_by()
            .agg(count() as readings, avg(kelvin) as mean, max(hot) as any_hot)
            .write_stream(sink.clone())
            .output_mode(Complete)
            .trigger(Default)
            .query_name("global")
            .start()
    };
    let handle = query?;
    input.add_data([
        Reading {
            sensor: "a".into(),
            celsius: 30.0,
            ok: true,
        },
        Reading {
            sensor: "b".into(),
            celsius: 10.0,
            ok: true,
        },
        Reading {
            sensor: "c".into(),
            celsius: 99.0,
            ok: false,
        },
    ]);
    handle.process_all_available()?;
    handle.stop()?;
    let last = sink.rows().into_iter().last().expect("a result row");
    assert_eq!(last.readings, 2);
    assert!(last.any_hot);

    let per_sensor = stream! {
        read_stream::<Reading>(MemoryStream::new())
            .group_by(sensor)
            .count()
            .write_stream(Console::new())
            .output_mode(Update)
            .trigger(Once)
    };
    let catch_up = stream! {
        read_stream::<Reading>(MemoryStream::new())
            .select(sensor, celsius * 1.8 + 32.0 as fahrenheit)
            .write_stream(Console::new())
            .trigger(AvailableNow)
    };
    let stateless = stream! {
        read_stream::<Reading>(MemoryStream::new())
            .filter(sensor.starts_with("temp-") && f64::abs(celsius) < 100.0)
            .write_stream(Console::new())
            .output_mode(Append)
            .trigger(ProcessingTime(250))
    };
    let _ = (per_sensor, stateless, catch_up);
    Ok(())
}
