//! Lambda entry point of the `userinfo` function: init once, then serve.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let context = shared::boot::init_or_exit("userinfo").await;
    shared::boot::serve(userinfo_fn::App::new(context)).await
}
