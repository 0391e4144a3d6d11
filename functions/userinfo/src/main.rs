//! Lambda entry point of the `userinfo` function: init once, then serve.

// One thread: a Lambda instance serves one event at a time, so worker threads would only add thread
// hops to every invocation (measured in docs/performance.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let context = shared::boot::init_or_exit(shared::keys::Role::Userinfo).await;
    shared::boot::serve(userinfo_fn::App::new(context)).await
}
