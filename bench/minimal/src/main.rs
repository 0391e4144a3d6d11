//! The smallest `lambda_http` function, on the same current-thread runtime as the portal's: what
//! a cold start costs before any of the portal's own init (the reference of the cold-start
//! target in docs/performance.md). It answers every request `200 ok`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(
        |_request: lambda_http::Request| async {
            Ok::<_, lambda_http::Error>(lambda_http::Response::new(lambda_http::Body::from("ok")))
        },
    ))
    .await
}
