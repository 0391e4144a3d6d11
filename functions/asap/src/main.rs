//! Lambda entry point of the `asap` function: init once, then serve HTTP requests and DynamoDB
//! Stream batches.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let context = shared::boot::init_or_exit("asap").await;
    shared::boot::serve_events(asap_fn::App::new(context)).await
}
