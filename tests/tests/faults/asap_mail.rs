//! No ASAP mail lost or sent twice, whichever store call fails: a cancellation that frees a slot
//! two subscribers wait for is run again and again, failing a different call each time (the first,
//! the second, … of everything the cancellation and its dispatch do) in each of the three ways,
//! until the flow has no call left to fail. The client sends its cancellation again while it is
//! answered 503; the stream (when it delivers the mail) retries the records it reports failed.

use shared::store::faults::Fault;
use testkit::api::{body, call};

use super::stack::{assert_unavailable, context, Adapter, Dispatch, Stack};

/// Runs the scenario with call `n` failing with `fault`; whether the flow reached call `n`.
async fn scenario(
    ctx: &testkit::TestContext,
    adapter: Adapter,
    dispatch: Dispatch,
    n: u64,
    fault: Fault,
) -> bool {
    let s = Stack::new(ctx, adapter).await;
    let (leaving, first, second) = (s.patient().await, s.patient().await, s.patient().await);
    let free = s.free(&leaving).await;
    let id = s.book(&leaving, &free[0], false).await;
    let waiting = [
        s.book(&first, &free[4], true).await,
        s.book(&second, &free[6], true).await,
    ];
    let tag = s.etag(&leaving, &id).await;
    let cancel = leaving
        .delete(&format!("/appointments/{id}"))
        .header("if-match", &tag);

    s.faults.fail_nth(n, fault);
    let mut answer = call(&s.booking, cancel.clone()).await;
    if answer.status() == 503 {
        assert_unavailable(&answer);
        answer = call(&s.booking, cancel).await;
    }
    let case = format!("call {n} {fault} ({adapter:?}, {dispatch:?})");
    assert_eq!(answer.status(), 200, "{case}: {}", body(&answer));
    if dispatch == Dispatch::Stream {
        assert!(s.run_stream(5).await, "{case}: the stream got through");
    }
    let reached = s.faults.pending() == 0;

    let mut told: Vec<String> = s
        .mail
        .sent()
        .iter()
        .map(|mail| {
            waiting
                .iter()
                .find(|appointment| mail.message_id.contains(appointment.as_str()))
                .cloned()
                .unwrap_or_else(|| format!("unexpected mail {}", mail.message_id))
        })
        .collect();
    told.sort();
    let mut expected = waiting.to_vec();
    expected.sort();
    assert_eq!(told, expected, "{case}: each subscriber told exactly once");
    s.assert_consistent(&[]).await;
    reached
}

/// Fails call 0, 1, 2, … of the flow, each in every way, until no call is left to fail.
async fn sweep(adapter: Adapter, dispatch: Dispatch) {
    let ctx = context(dispatch);
    let mut n = 0;
    loop {
        let mut reached = false;
        for fault in Fault::ALL {
            reached |= scenario(&ctx, adapter, dispatch, n, fault).await;
        }
        if !reached {
            break;
        }
        n += 1;
    }
    // The cancellation's write and the dispatch's reads, claims and marks: a sweep that stopped
    // early failed nothing of the dispatch.
    assert!(n >= 8, "only {n} calls were failed in turn");
}

#[tokio::test]
async fn sqlite_inline_no_asap_mail_is_lost_or_doubled_whichever_call_fails() {
    sweep(Adapter::Sqlite, Dispatch::Inline).await;
}

#[tokio::test]
async fn sqlite_stream_no_asap_mail_is_lost_or_doubled_whichever_call_fails() {
    sweep(Adapter::Sqlite, Dispatch::Stream).await;
}

#[tokio::test]
async fn dynamo_stream_no_asap_mail_is_lost_or_doubled_whichever_call_fails() {
    sweep(Adapter::Dynamo, Dispatch::Stream).await;
}
