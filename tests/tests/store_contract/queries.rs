//! Queries: one partition (of the table or the index) in sort-key order, ranges, and paging.

use std::collections::BTreeSet;

use shared::store::{Cursor, Item, Key, Query, MAX_QUERY_LIMIT};

use super::support::*;

/// Stores an item with `tag = sk` at each `pk/sk`.
async fn put_all(store: &S, pk: &str, sks: &[&str]) {
    for sk in sks {
        put(store, Item::new(key(pk, sk)).with("tag", *sk)).await;
    }
}

pub(super) async fn query_returns_one_partition_in_sort_key_order(store: S) {
    put_all(&store, "P1", &["c", "a", "B", "b", "a#2"]).await;
    // Neighbouring partitions, including one whose name extends "P1".
    put_all(&store, "P10", &["a"]).await;
    put_all(&store, "P", &["a"]).await;
    put_all(&store, "p1", &["a"]).await;
    let items = query_page(&store, Query::partition("P1", 100)).await;
    assert_eq!(sort_keys(&items), strings(&["B", "a", "a#2", "b", "c"]));
    assert!(items.iter().all(|i| i.key.pk == "P1"));
    assert_eq!(items[0], Item::new(key("P1", "B")).with("tag", "B"));
}

pub(super) async fn prefix_query_matches_exactly_the_sort_keys_with_that_prefix(store: S) {
    put_all(
        &store,
        "P",
        &[
            "APPT#1",
            "APPT#2",
            "APPT#é",
            "APPT#\u{10FFFF}",
            "APPTX",
            "APPT",
            "APPS",
            "APPU#1",
            "appt#3",
            "A_1",
            "AB1",
            "A%1",
            "AX%",
            "A\\1",
            "A1",
            "x\u{10FFFF}",
            "x\u{10FFFF}a",
            "y",
            "\u{D7FF}",
            "\u{D7FF}z",
            "\u{E000}",
        ],
    )
    .await;
    let cases: [(&str, &[&str]); 8] = [
        ("APPT#", &["APPT#1", "APPT#2", "APPT#é", "APPT#\u{10FFFF}"]),
        (
            "APPT",
            &[
                "APPT",
                "APPT#1",
                "APPT#2",
                "APPT#é",
                "APPT#\u{10FFFF}",
                "APPTX",
            ],
        ),
        // Characters that are wildcards or escapes in SQL LIKE match only themselves.
        ("A_", &["A_1"]),
        ("A%", &["A%1"]),
        ("A\\", &["A\\1"]),
        ("Z", &[]),
        // Prefixes whose last character is the highest code point, or the last before the
        // surrogate gap: no simple "next string" bounds them.
        ("x\u{10FFFF}", &["x\u{10FFFF}", "x\u{10FFFF}a"]),
        ("\u{D7FF}", &["\u{D7FF}", "\u{D7FF}z"]),
    ];
    for (prefix, expected) in cases {
        let items = query_page(&store, Query::partition("P", 100).prefix(prefix)).await;
        assert_eq!(sort_keys(&items), strings(expected), "prefix {prefix:?}");
    }
}

pub(super) async fn between_query_includes_both_bounds(store: S) {
    let sks: Vec<String> = (1..=10).map(|i| format!("{i:02}")).collect();
    let sks: Vec<&str> = sks.iter().map(String::as_str).collect();
    put_all(&store, "P", &sks).await;
    let cases: [(&str, &str, &[&str]); 4] = [
        ("03", "07", &["03", "04", "05", "06", "07"]),
        ("03", "03", &["03"]),
        ("025", "065", &["03", "04", "05", "06"]),
        ("11", "99", &[]),
    ];
    for (low, high, expected) in cases {
        let items = query_page(&store, Query::partition("P", 100).between(low, high)).await;
        assert_eq!(
            sort_keys(&items),
            strings(expected),
            "between {low:?} and {high:?}"
        );
    }
}

pub(super) async fn descending_query_returns_the_highest_sort_key_first(store: S) {
    put_all(&store, "P", &["a1", "a2", "a3", "b1", "b2"]).await;
    let all = query_page(&store, Query::partition("P", 100).descending()).await;
    assert_eq!(sort_keys(&all), strings(&["b2", "b1", "a3", "a2", "a1"]));
    let prefixed = query_page(&store, Query::partition("P", 100).prefix("a").descending()).await;
    assert_eq!(sort_keys(&prefixed), strings(&["a3", "a2", "a1"]));
    let between = query_page(
        &store,
        Query::partition("P", 100).between("a2", "b1").descending(),
    )
    .await;
    assert_eq!(sort_keys(&between), strings(&["b1", "a3", "a2"]));
    let top = query_page(&store, Query::partition("P", 2).descending()).await;
    assert_eq!(sort_keys(&top), strings(&["b2", "b1"]));
}

pub(super) async fn paging_by_3_over_10_items_visits_every_item_once_in_order(store: S) {
    let sks: Vec<String> = (0..10).map(|i| format!("ITEM#{i:02}")).collect();
    let refs: Vec<&str> = sks.iter().map(String::as_str).collect();
    put_all(&store, "P", &refs).await;
    put_all(&store, "Q", &["ITEM#00"]).await;

    let first = store.query(Query::partition("P", 3)).await.unwrap();
    assert_eq!(
        sort_keys(&first.items),
        sks[..3].to_vec(),
        "first page is full"
    );
    assert!(
        first.next.is_some(),
        "a full first page of more has a cursor"
    );

    let ascending = query_all(&store, Query::partition("P", 3)).await;
    assert_eq!(sort_keys(&ascending), sks);

    let descending = query_all(&store, Query::partition("P", 3).descending()).await;
    let mut reversed = sks.clone();
    reversed.reverse();
    assert_eq!(sort_keys(&descending), reversed);
}

pub(super) async fn paging_over_partly_expired_items_visits_every_live_item_once(store: S) {
    let mut live = Vec::new();
    for i in 0..12 {
        let sk = format!("ITEM#{i:02}");
        // The first, the last and every third item in between are expired.
        let expired = i == 0 || i == 11 || i % 3 == 1;
        let item = Item::new(key("P", &sk)).with("i", i);
        let item = if expired {
            item.expiring_at(past())
        } else {
            live.push(sk);
            item.expiring_at(future())
        };
        put(&store, item).await;
    }
    let ascending = query_all(&store, Query::partition("P", 3)).await;
    assert_eq!(sort_keys(&ascending), live);
    let descending = query_all(&store, Query::partition("P", 3).descending()).await;
    live.reverse();
    assert_eq!(sort_keys(&descending), live);
}

pub(super) async fn paging_stays_inside_a_prefix_or_between_range(store: S) {
    put_all(
        &store,
        "P",
        &[
            "A#1", "A#2", "A#3", "A#4", "A#5", "AB", "B#1", "B#2", "B#3", "B#4", "C",
        ],
    )
    .await;
    let prefixed = query_all(&store, Query::partition("P", 2).prefix("A#")).await;
    assert_eq!(
        sort_keys(&prefixed),
        strings(&["A#1", "A#2", "A#3", "A#4", "A#5"])
    );
    let between = query_all(
        &store,
        Query::partition("P", 2).between("A#4", "B#3").descending(),
    )
    .await;
    assert_eq!(
        sort_keys(&between),
        strings(&["B#3", "B#2", "B#1", "AB", "A#5", "A#4"])
    );
}

pub(super) async fn index_query_finds_only_live_indexed_items_in_index_order(store: S) {
    let day3 = Item::new(key("APPT#1", "A"))
        .with("n", 1)
        .indexed(key("DOC#1", "2024-01-03"));
    let day1 = Item::new(key("APPT#2", "A"))
        .with("n", 2)
        .indexed(key("DOC#1", "2024-01-01"));
    let day2 = Item::new(key("APPT#3", "A"))
        .with("n", 3)
        .indexed(key("DOC#1", "2024-01-02"));
    let other_doctor = Item::new(key("APPT#4", "A")).indexed(key("DOC#2", "2024-01-01"));
    let neighbour = Item::new(key("APPT#5", "A")).indexed(key("DOC#10", "2024-01-01"));
    let not_indexed = Item::new(key("DOC#1", "2024-01-01")).with("n", 5);
    let expired = Item::new(key("APPT#6", "A"))
        .indexed(key("DOC#1", "2024-01-04"))
        .expiring_at(past());
    for item in [
        &day3,
        &day1,
        &day2,
        &other_doctor,
        &neighbour,
        &not_indexed,
        &expired,
    ] {
        put(&store, item.clone()).await;
    }
    let on_index = || Query::partition("DOC#1", 100).on_index();
    assert_eq!(
        query_page(&store, on_index()).await,
        vec![day1.clone(), day2.clone(), day3.clone()],
        "whole items, in index sort-key order"
    );
    assert_eq!(
        query_page(&store, on_index().descending()).await,
        vec![day3.clone(), day2.clone(), day1.clone()]
    );
    assert_eq!(
        query_page(
            &store,
            on_index().prefix("2024-01-0").descending().after(None)
        )
        .await,
        vec![day3.clone(), day2.clone(), day1.clone()]
    );
    assert_eq!(
        query_page(&store, on_index().between("2024-01-02", "2024-01-03")).await,
        vec![day2.clone(), day3.clone()]
    );
    assert_eq!(
        query_all(&store, Query::partition("DOC#1", 1).on_index()).await,
        vec![day1, day2, day3],
        "paging one by one"
    );
    assert_eq!(
        query_page(&store, Query::partition("DOC#1", 100)).await,
        vec![not_indexed],
        "the table key and the index key are separate"
    );
}

pub(super) async fn index_paging_visits_every_item_once_even_when_index_sort_keys_repeat(store: S) {
    // Several appointments in the same slot share an index key; paging must still see each once.
    let mut expected = BTreeSet::new();
    for i in 0..7 {
        let slot = if i < 4 { "SLOT#09:00" } else { "SLOT#10:00" };
        let k = key(&format!("APPT#{i}"), "A");
        put(&store, Item::new(k.clone()).indexed(key("DAY#1", slot))).await;
        expected.insert(k);
    }
    for query in [
        Query::partition("DAY#1", 2).on_index(),
        Query::partition("DAY#1", 2).on_index().descending(),
    ] {
        let items = query_all(&store, query.clone()).await;
        let keys: Vec<Key> = items.iter().map(|i| i.key.clone()).collect();
        let distinct: BTreeSet<Key> = keys.iter().cloned().collect();
        assert_eq!(
            keys.len(),
            distinct.len(),
            "{query:?}: an item came twice: {keys:?}"
        );
        assert_eq!(distinct, expected, "{query:?}: items missing");
        let slots: Vec<String> = items.iter().map(|i| i.gsi1.clone().unwrap().sk).collect();
        let mut sorted = slots.clone();
        sorted.sort();
        if query.descending {
            sorted.reverse();
        }
        assert_eq!(slots, sorted, "{query:?}: out of index order");
    }
}

pub(super) async fn a_cursor_survives_encoding_and_a_malformed_cursor_is_invalid(store: S) {
    put_all(&store, "P", &["a", "b", "c", "d"]).await;
    let first = store.query(Query::partition("P", 2)).await.unwrap();
    let cursor = first.next.expect("a cursor after a full page");
    let text = cursor.encode();
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "cursor text is URL-safe: {text}"
    );
    let decoded = Cursor::decode(&text).unwrap();
    assert_eq!(decoded, cursor);
    let second = query_page(&store, Query::partition("P", 2).after(Some(decoded))).await;
    assert_eq!(sort_keys(&second), strings(&["c", "d"]));

    for bad in [
        "",
        "not a cursor!",
        "e30",
        "bnVsbA",
        &text[..text.len() / 2],
    ] {
        assert_invalid(Cursor::decode(bad), &format!("decoding {bad:?}"));
    }
}

pub(super) async fn a_cursor_of_another_partition_or_a_table_cursor_on_the_index_is_invalid(
    store: S,
) {
    put_all(&store, "P", &["a", "b"]).await;
    let other_partition = Cursor {
        key: key("Q", "a"),
        gsi1: None,
    };
    assert_invalid(
        store
            .query(Query::partition("P", 1).after(Some(other_partition)))
            .await,
        "a cursor of partition Q continuing a query of P",
    );
    // A table cursor carries no index key, so it cannot continue an index query.
    let table_cursor = Cursor {
        key: key("P", "a"),
        gsi1: None,
    };
    assert_invalid(
        store
            .query(
                Query::partition("P", 1)
                    .on_index()
                    .after(Some(table_cursor)),
            )
            .await,
        "a table cursor continuing an index query",
    );
    let other_index_partition = Cursor {
        key: key("P", "a"),
        gsi1: Some(key("H", "1")),
    };
    assert_invalid(
        store
            .query(
                Query::partition("G", 1)
                    .on_index()
                    .after(Some(other_index_partition)),
            )
            .await,
        "an index cursor of partition H continuing a query of G",
    );
}

pub(super) async fn queries_with_a_bad_limit_an_inverted_range_or_no_partition_are_invalid(
    store: S,
) {
    put_all(&store, "P", &["a"]).await;
    for (query, what) in [
        (Query::partition("P", 0), "limit 0"),
        (
            Query::partition("P", MAX_QUERY_LIMIT + 1),
            "limit above the maximum",
        ),
        (
            Query::partition("P", 10).between("b", "a"),
            "inverted range",
        ),
        (Query::partition("", 10), "empty partition"),
        (Query::partition("", 10).on_index(), "empty index partition"),
    ] {
        assert_invalid(store.query(query).await, what);
    }
    assert_eq!(
        query_page(&store, Query::partition("P", MAX_QUERY_LIMIT))
            .await
            .len(),
        1
    );
}
