//! Lambda entry point of the `booking` function: init once, then serve.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let context = shared::boot::init_or_exit("booking").await;
    shared::boot::serve(booking_fn::App::new(context)).await
}
