//! The one-click unsubscribe link (RFC 8058): works once, cannot be forged.

use testkit::Event;

use super::*;

#[tokio::test]
async fn the_unsubscribe_link_works_once_and_cannot_be_forged() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    let (early, late) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&early, 198, 53).await;
    let first = p.book(&early, &free[0], None).await;
    let waiting = p.book(&late, &free[6], Some("late@example.org")).await;
    p.cancel(&early, &first).await;
    let link = path_and_query(&unsubscribe_link(&mails(&p.outbox())[0]));

    // GET shows a confirmation page and changes nothing (mail scanners follow links).
    let page = call(&*p.asap, Event::get(&link)).await;
    assert_eq!(status(&page), 200);
    let html = String::from_utf8_lossy(page.body().as_ref()).to_string();
    assert!(html.contains("<form method=\"post\""), "{html}");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert!(page.headers().get("access-control-allow-origin").is_none());
    let shown = ok(&*p.booking, late.get(&format!("/appointments/{waiting}"))).await;
    assert_eq!(shown["asap_list"]["subscribed"], true);

    // A forged or damaged token is refused.
    let forged = link.replace("token=", "token=x");
    assert_eq!(
        status(
            &call(
                &*p.asap,
                Event::post(&forged).form(&[("List-Unsubscribe", "One-Click")])
            )
            .await
        ),
        400
    );
    assert_eq!(
        status(&call(&*p.asap, Event::post("/asap/unsubscribe")).await),
        400
    );

    // RFC 8058 one-click POST: unsubscribed, once.
    let done = call(
        &*p.asap,
        Event::post(&link).form(&[("List-Unsubscribe", "One-Click")]),
    )
    .await;
    assert_eq!(status(&done), 200);
    let shown = ok(&*p.booking, late.get(&format!("/appointments/{waiting}"))).await;
    assert_eq!(shown["asap_list"]["subscribed"], false);
    let again = call(
        &*p.asap,
        Event::post(&link).form(&[("List-Unsubscribe", "One-Click")]),
    )
    .await;
    assert_eq!(status(&again), 410);

    // Subscribing again starts a new subscription the old link cannot end.
    ok(
        &*p.asap,
        late.post(&format!("/appointments/{waiting}/asap_list"), &json!({})),
    )
    .await;
    let old = call(
        &*p.asap,
        Event::post(&link).form(&[("List-Unsubscribe", "One-Click")]),
    )
    .await;
    assert_eq!(status(&old), 410);
    let shown = ok(&*p.booking, late.get(&format!("/appointments/{waiting}"))).await;
    assert_eq!(shown["asap_list"]["subscribed"], true);
}
