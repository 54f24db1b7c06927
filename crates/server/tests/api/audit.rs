//! The audit chain: written with each change, verified by `civgrid audit verify`, which
//! catches an edited row, a deleted row and a truncated tail.

use crate::both;
use crate::support::*;
use serde_json::json;

async fn audit_chain_detects_tampering(b: Backend) {
    let app = TestApp::demo(b).await;
    let town = app.login("town_centre").await;
    town.post("/api/grids", json!({"village_code": "371502001002", "name": "审计测试网格", "grid_type": "basic", "boundary": square(117.0, 37.0, 0.01)}))
        .await;
    let _ = app
        .anon()
        .post(
            "/api/auth/login",
            json!({"username": "town_centre", "password": "nope"}),
        )
        .await;

    // The rows say who did what, where, from which address.
    let (user, role, area, ip): (Option<String>, Option<String>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT username, role, area_code, source_ip FROM audit_log WHERE action = 'create_grid' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(user.as_deref(), Some("town_centre"));
    assert_eq!(role.as_deref(), Some("centre_operator"));
    assert!(area.unwrap().starts_with("371502001002"));
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));

    let verify = || {
        let out = app.cli(&["audit", "verify"]);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (ok, text) = verify();
    assert!(ok, "{text}");
    let rows = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    assert!(text.contains(&format!("{rows} 条记录")), "{text}");

    // Edit a row.
    sqlx::query(
        "UPDATE audit_log SET result = 'success' WHERE action = 'login' AND result = 'failure'",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let (ok, text) = verify();
    assert!(!ok && text.contains("row_modified"), "{text}");
    sqlx::query("UPDATE audit_log SET result = 'failure' WHERE action = 'login' AND username = 'town_centre' AND seq = (SELECT MAX(seq) FROM audit_log)")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert!(verify().0, "restored");

    // Delete a row in the middle.
    let backup: (i64,) = sqlx::query_as("SELECT seq FROM audit_log WHERE seq = 3")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (ok, text) = verify();
    assert!(
        !ok && text.contains("第 3 条") && text.contains("missing_row"),
        "{text} {backup:?}"
    );
}
both!(audit_chain_detects_tampering);

async fn audit_detects_truncated_tail(b: Backend) {
    let app = TestApp::demo(b).await;
    assert!(app.cli(&["audit", "verify"]).status.success());
    sqlx::query("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let out = app.cli(&["audit", "verify"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("tail_missing"));
}
both!(audit_detects_truncated_tail);
