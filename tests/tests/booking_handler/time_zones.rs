//! Time zones: offsets of DST weeks, cursors and bad search windows.

use chrono::{Duration, NaiveDate, Utc, Weekday};

use super::*;

/// The next last Sunday of March or October at least three days ahead, and whether clocks go
/// forward then.
fn next_dst_change() -> (NaiveDate, bool) {
    let soon = Utc::now().date_naive() + Duration::days(3);
    let last_sunday = |year: i32, month: u32| {
        let mut day = NaiveDate::from_ymd_opt(year, month, 31).unwrap();
        while day.weekday() != Weekday::Sun {
            day = day.pred_opt().unwrap();
        }
        day
    };
    (soon.year()..soon.year() + 2)
        .flat_map(|y| [(last_sunday(y, 3), true), (last_sunday(y, 10), false)])
        .find(|(day, _)| *day > soon)
        .unwrap()
}

#[tokio::test]
async fn availabilities_in_a_dst_week_carry_the_offset_of_their_own_day() {
    let ctx = TestContext::new();
    let catalog = catalog::daily("09:00", "10:00", 60, 366);
    catalog::load(&ctx.context.store, &catalog.to_string()).await;
    let app = App::new(ctx.function(Role::Booking));
    let patient = ApiPatient::new(&ctx.context);
    let (change, forward) = next_dst_change();
    let (before, after) = if forward {
        ("+01:00", "+02:00")
    } else {
        ("+02:00", "+01:00")
    };
    let page = ok(
        &app,
        patient.get(&format!(
            "/availabilities?category_id=53&type_id=198&insurance_id=136&from={}&to={}",
            change - Duration::days(3),
            change + Duration::days(2)
        )),
    )
    .await;
    let starts: Vec<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (-3..=2)
        .map(|d| {
            let day = change + Duration::days(d);
            let offset = if d < 0 { before } else { after };
            format!("{day}T09:00:00{offset}")
        })
        .collect();
    assert_eq!(starts, expected);
    let ends: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ends_at"].as_str().unwrap())
        .collect();
    assert!(ends.iter().all(|e| e.contains("T09:30:00")), "{ends:?}");
}

#[tokio::test]
async fn availabilities_page_with_a_cursor_and_reject_bad_windows() {
    let (ctx, app) = setup().await;
    let patient = ApiPatient::new(&ctx.context);
    let base = format!(
        "/availabilities?category_id=53&type_id=198&insurance_id=136&from={}",
        days_ahead(3)
    );
    let all = ok(&app, patient.get(&base)).await;
    let all = all["data"].as_array().unwrap();
    let first = ok(&app, patient.get(&format!("{base}&limit=2"))).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = ok(
        &app,
        patient.get(&format!("{base}&limit=2&cursor={cursor}")),
    )
    .await;
    assert_eq!(second["data"][0]["starts_at"], all[2]["starts_at"]);
    assert_eq!(second["data"][1]["starts_at"], all[3]["starts_at"]);

    for bad in [
        format!("{base}&to={}", days_ahead(2)),
        format!("{base}&to={}", days_ahead(40)),
        format!("{base}&limit=0"),
        format!("{base}&limit=201"),
        format!("{base}&cursor=garbage"),
        format!("{base}&from=tomorrow"),
        "/availabilities?category_id=53&type_id=198".to_owned(),
        "/availabilities?category_id=53&type_id=abc&insurance_id=136".to_owned(),
        "/availabilities?category_id=53&type_id=198&type_id=199&insurance_id=136".to_owned(),
    ] {
        let response = call(&app, patient.get(&bad)).await;
        assert_eq!(response.status(), 400, "{bad}");
        assert!(body(&response)["error_description"].is_string());
    }
}
