//! Lambda entry point of the `token` function: init once, then serve.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let context = shared::boot::init_or_exit("token").await;
    shared::boot::serve(token_fn::App::new(context)).await
}
