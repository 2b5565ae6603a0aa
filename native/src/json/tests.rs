use super::*;

fn fields(spec: &[(&str, Kind)]) -> Vec<Field> {
    spec.iter()
        .map(|(n, k)| Field {
            name: n.to_string(),
            kind: *k,
        })
        .collect()
}

fn layout(values: &[&str]) -> (Vec<i64>, Vec<u8>) {
    let mut offsets = vec![0i64];
    let mut data = Vec::new();
    for v in values {
        data.extend_from_slice(v.as_bytes());
        offsets.push(data.len() as i64);
    }
    (offsets, data)
}

const I64: Kind = Kind::Int {
    min: i64::MIN,
    max: i64::MAX,
};

fn strings(c: &Column) -> Vec<Option<String>> {
    let Values::Bytes { offsets, data } = &c.values else {
        panic!("not a bytes column")
    };
    (0..c.valid.len())
        .map(|i| {
            (c.valid[i] == 1).then(|| {
                String::from_utf8(data[offsets[i] as usize..offsets[i + 1] as usize].to_vec())
                    .unwrap()
            })
        })
        .collect()
}

#[test]
fn picks_typed_fields_and_skips_the_rest() {
    let f = fields(&[
        ("id", I64),
        ("price", Kind::Float),
        ("name", Kind::Str),
        ("ok", Kind::Bool),
    ]);
    let (o, d) = layout(&[
        r#"{"id": 7, "price": 1.5, "name": "a\"b\u00e9", "ok": true, "x": [1, {"y": 2}]}"#,
        r#"{"name": "z", "id": 8, "price": 3}"#,
        r#" {"id": "9", "price": null, "name": 5, "ok": 1} "#,
    ]);
    let out = decode(&o, &d, None, &f).unwrap();
    assert!(out.bad_rows.is_empty());
    assert_eq!(out.columns[0].values, Values::Int(vec![7, 8, 0]));
    assert_eq!(out.columns[0].valid, vec![1, 1, 0]);
    assert_eq!(out.columns[1].values, Values::Float(vec![1.5, 3.0, 0.0]));
    assert_eq!(out.columns[1].valid, vec![1, 1, 0]);
    assert_eq!(
        strings(&out.columns[2]),
        vec![Some("a\"bé".to_string()), Some("z".to_string()), None]
    );
    assert_eq!(out.columns[3].values, Values::Bool(vec![1, 0, 0]));
    assert_eq!(out.columns[3].valid, vec![1, 0, 0]);
    assert_eq!(out.columns[3].nulls, 2);
}

#[test]
fn integers_out_of_range_are_null_and_bools_are_not_numbers() {
    let f = fields(&[
        (
            "a",
            Kind::Int {
                min: -128,
                max: 127,
            },
        ),
        ("b", Kind::UInt { max: u64::MAX }),
        ("c", Kind::Float),
    ]);
    let (o, d) = layout(&[
        r#"{"a": 127, "b": 18446744073709551615, "c": true}"#,
        r#"{"a": 128, "b": -1, "c": 1e3}"#,
        r#"{"a": 1.0, "b": 1.5, "c": 99999999999999999999999}"#,
    ]);
    let out = decode(&o, &d, None, &f).unwrap();
    assert!(out.bad_rows.is_empty());
    assert_eq!(out.columns[0].values, Values::Int(vec![127, 0, 0]));
    assert_eq!(out.columns[0].valid, vec![1, 0, 0]);
    assert_eq!(out.columns[1].values, Values::UInt(vec![u64::MAX, 0, 0]));
    assert_eq!(out.columns[1].valid, vec![1, 0, 0]);
    assert_eq!(
        out.columns[2].values,
        Values::Float(vec![0.0, 1000.0, 1e23])
    );
    assert_eq!(out.columns[2].valid, vec![0, 1, 1]);
}

#[test]
fn last_duplicate_wins_and_null_values_are_null_rows() {
    let f = fields(&[("k", Kind::Str), ("n", I64)]);
    let (o, d) = layout(&[
        r#"{"k": "first", "k": "second", "n": 1, "n": null}"#,
        "garbage",
    ]);
    let out = decode(&o, &d, Some(&[1, 0]), &f).unwrap();
    assert!(
        out.bad_rows.is_empty(),
        "a null value is a null row, not a bad one"
    );
    assert_eq!(
        strings(&out.columns[0]),
        vec![Some("second".to_string()), None]
    );
    assert_eq!(out.columns[1].valid, vec![0, 0]);
}

#[test]
fn reports_values_that_are_not_one_object() {
    let f = fields(&[("n", I64)]);
    let (o, d) = layout(&[
        r#"{"n": 1}"#,
        "[1]",
        "",
        r#"{"n": 2} {"n": 3}"#,
        r#"{"n": NaN}"#,
        "null",
        r#"{"n": 4"#,
        r#"{"n": -0}"#,
        r#"{"n": 5}"#,
    ]);
    let out = decode(&o, &d, None, &f).unwrap();
    assert_eq!(out.bad_rows, vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        out.columns[0].values,
        Values::Int(vec![1, 0, 0, 0, 0, 0, 0, 0, 5])
    );
    assert_eq!(out.columns[0].valid, vec![1, 0, 0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn refuses_offsets_outside_the_data() {
    let f = fields(&[("n", I64)]);
    assert_eq!(
        decode(&[0, 5], b"{}", None, &f).unwrap_err(),
        JsonColumnsError::BadOffsets
    );
    assert_eq!(
        decode(&[2, 1], b"{}", None, &f).unwrap_err(),
        JsonColumnsError::BadOffsets
    );
    assert_eq!(
        decode(&[], b"", None, &f).unwrap_err(),
        JsonColumnsError::BadOffsets
    );
    assert_eq!(
        decode(&[0, 2], b"{}", Some(&[1, 1]), &f).unwrap_err(),
        JsonColumnsError::BadValidity(2, 1)
    );
}
