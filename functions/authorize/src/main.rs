//! Lambda entry point of the `authorize` function: init once, then serve.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let context = shared::boot::init_or_exit("authorize").await;
    shared::boot::serve(authorize_fn::App::new(context)).await
}
