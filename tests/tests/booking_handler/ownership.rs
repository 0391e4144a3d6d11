//! A patient sees only their own appointments: another's is exactly as unknown as a missing one.

use serde_json::json;
use shared::crypto::random_id;

use super::*;

#[tokio::test]
async fn another_patients_appointment_is_not_found_exactly_like_an_unknown_one() {
    let (ctx, app) = setup().await;
    let owner = ApiPatient::new(&ctx.context);
    let intruder = ApiPatient::new(&ctx.context);
    let slots = availabilities(&app, &owner, 198, 53).await;
    let id = book(&app, &owner, &slots[0]).await;
    let unknown = random_id(28);
    let move_to = json!({ "availability_id": slots[1]["id"] });
    for target in [&id, &unknown] {
        for event in [
            intruder.get(&format!("/appointments/{target}")),
            intruder.put(&format!("/appointments/{target}"), &move_to),
            intruder.delete(&format!("/appointments/{target}")),
            intruder.get(&format!("/appointments/{target}/availabilities")),
            intruder.get(&format!("/appointments/{target}/video_consultation")),
        ] {
            let response = call(&app, event).await;
            assert_eq!(response.status(), 404);
            assert_eq!(body(&response)["error"], "not_found");
        }
    }
    let still = ok(&app, owner.get(&format!("/appointments/{id}"))).await;
    assert_eq!(still["status"], "booked");
    assert_eq!(still["starts_at"], slots[0]["starts_at"]);
    let theirs = ok(&app, intruder.get("/appointments")).await;
    assert_eq!(theirs["data"], json!([]));
}
