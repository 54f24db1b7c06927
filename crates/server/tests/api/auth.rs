//! Sign-in, lockout, idle timeout, logout, cookies and password change.

use crate::both;
use crate::support::*;
use civgrid_server::config::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn login_lockout_and_sessions(b: Backend) {
    let app = TestApp::demo(b).await;
    let anon = app.anon();
    let login = |u: &str, p: &str| {
        let anon = anon.clone();
        let body = json!({"username": u, "password": p});
        async move { anon.post("/api/auth/login", body).await }
    };
    // Unknown user and wrong password look the same, down to the attempts left and the lock.
    for left in (1..=4).rev() {
        let (s, r) = login("nobody", "Wrong@2026").await;
        assert_eq!(
            (
                s,
                r["code"].as_str(),
                r["details"]["remaining_attempts"].as_i64()
            ),
            (
                StatusCode::UNAUTHORIZED,
                Some("invalid_credentials"),
                Some(left)
            )
        );
    }
    let (s, r) = login("nobody", "Wrong@2026").await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::LOCKED, Some("account_locked"))
    );
    for left in (1..=4).rev() {
        let (s, r) = login("grid_worker", "Wrong@2026").await;
        assert_eq!(
            (s, r["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
        );
        assert_eq!(r["details"]["remaining_attempts"], left);
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .contains(&format!("还可尝试 {left} 次")),
            "{r}"
        );
    }
    // The fifth failure locks for 15 minutes, and the right password does not get in.
    let (s, r) = login("grid_worker", "Wrong@2026").await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::LOCKED, Some("account_locked"))
    );
    assert_eq!(r["details"]["remaining_seconds"], 900);
    let (s, r) = login("grid_worker", PW).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::LOCKED, Some("account_locked"))
    );
    let secs = r["details"]["remaining_seconds"].as_i64().unwrap();
    assert!((880..=900).contains(&secs), "{secs}");
    assert!(r["message"].as_str().unwrap().contains("15 分钟"), "{r}");
    // Others are unaffected; the admin sees the lock.
    let admin = app.login("admin").await;
    let (_, users) = admin.get("/api/users").await;
    let w = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "grid_worker")
        .unwrap()
        .clone();
    assert!(w["locked_until"].is_string());
    // Failures and successes are audited.
    let fails = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login' AND result = 'failure'")
        .await;
    assert_eq!(fails, 5 + 5 + 1);
    assert!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login' AND result = 'success'")
            .await
            >= 1
    );
    // A success clears the counter.
    for _ in 0..3 {
        login("grid_chief", "Wrong@2026").await;
    }
    let chief = app.login("grid_chief").await;
    let (_, me) = chief.get("/api/auth/me").await;
    assert_eq!(me["username"], "grid_chief");
    assert_eq!(me["roles"][0]["label"], "网格长");
    assert_eq!(
        app.scalar("SELECT failed_count FROM users WHERE username = 'grid_chief'")
            .await,
        0
    );

    // Cookie sessions work for browsers; the cookie is HttpOnly.
    let jar_client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = jar_client
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({"username": "leader", "password": PW}))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("civgrid_session="),
        "{cookie}"
    );
    let me = jar_client
        .get(format!("{}/api/auth/me", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // Logout ends the session.
    let (s, _) = chief.post("/api/auth/logout", json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, r) = chief.get("/api/auth/me").await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let (s, _) = app.anon().get("/api/auth/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
both!(login_lockout_and_sessions);

async fn password_change(b: Backend) {
    let app = TestApp::demo(b).await;
    let a = app.login("mediator").await;
    let other = app.login("mediator").await;
    let change = |old: &str, new: &str| json!({"old_password": old, "new_password": new});
    let (s, r) = a
        .post("/api/auth/password", change("Wrong@2026", "Better#2027"))
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    for weak in ["short1!", "alllowercase1", "Mediator#2027"] {
        let (s, r) = a.post("/api/auth/password", change(PW, weak)).await;
        assert_eq!(
            (s, r["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("weak_password")),
            "{weak}"
        );
    }
    let (s, _) = a
        .post("/api/auth/password", change(PW, "Better#2027"))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // This session goes on; the other one ended; the new password works, the old one not.
    assert_eq!(a.get("/api/auth/me").await.0, StatusCode::OK);
    assert_eq!(other.get("/api/auth/me").await.0, StatusCode::UNAUTHORIZED);
    let (s, _) = app
        .anon()
        .post(
            "/api/auth/login",
            json!({"username": "mediator", "password": PW}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    app.login_pw("mediator", "Better#2027").await;
    // Creating accounts checks the same rules.
    let admin = app.login("admin").await;
    let (s, r) = admin.post("/api/users", json!({"username": "x1", "display_name": "某", "area_code": "3715", "roles": ["leader"], "password": PW})).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "short user name"
    );
    let (s, r) = admin.post("/api/users", json!({"username": "leader", "display_name": "某", "area_code": "3715", "roles": ["leader"], "password": PW})).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::CONFLICT, Some("username_taken"))
    );
    let (s, r) = admin.post("/api/users", json!({"username": "boss1", "display_name": "某", "area_code": "3715", "roles": ["boss"], "password": PW})).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    let (s, r) = admin.post("/api/users", json!({"username": "lost1", "display_name": "某", "area_code": "371502999", "roles": ["leader"], "password": PW})).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("area_not_found"))
    );
}
both!(password_change);

async fn idle_timeout_and_custom_lockout(b: Backend) {
    let cfg = Config {
        session_idle_minutes: 0,
        lockout_max_failures: 2,
        lockout_minutes: 1,
        ..Config::default()
    };
    let app = TestApp::demo_with(b, cfg).await;
    let api = app.login("leader").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (s, r) = api.get("/api/auth/me").await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_expired"))
    );
    assert!(r["message"].as_str().unwrap().contains("超时"));
    let anon = app.anon();
    let bad = json!({"username": "leader", "password": "Wrong@2026"});
    assert_eq!(
        anon.post("/api/auth/login", bad.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, r) = anon.post("/api/auth/login", bad).await;
    assert_eq!(
        (s, r["details"]["remaining_seconds"].as_i64()),
        (StatusCode::LOCKED, Some(60))
    );
}
both!(idle_timeout_and_custom_lockout);

async fn cli_user_add(b: Backend) {
    let app = spawn_app(b).await;
    let add = |pw: &str, area: &str, roles: &str| {
        app.cli(&[
            "user",
            "add",
            "--username",
            "zhang.wei",
            "--name",
            "张伟",
            "--area",
            area,
            "--roles",
            roles,
            "--password",
            pw,
        ])
    };
    let out = add("weak", "371502001", "centre_operator");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("weak_password"));
    let out = add(PW, "371502999", "centre_operator");
    assert!(String::from_utf8_lossy(&out.stderr).contains("area_not_found"));
    let out = add(PW, "371502001", "centre_operator,boss");
    assert!(String::from_utf8_lossy(&out.stderr).contains("validation_failed"));
    let out = add(PW, "371502001", "centre_operator,leader");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let api = app.login("zhang.wei").await;
    let (_, me) = api.get("/api/auth/me").await;
    assert_eq!(me["area_name"], "古楼街道");
    assert_eq!(me["roles"].as_array().unwrap().len(), 2);
    let out = add(PW, "371502001", "leader");
    assert!(String::from_utf8_lossy(&out.stderr).contains("username_taken"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'create_user'")
            .await,
        1
    );
}
both!(cli_user_add);

async fn user_admin(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;
    let (_, users) = admin.get("/api/users").await;
    let id_of = |name: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (chief, worker, county) = (
        id_of("grid_chief"),
        id_of("grid_worker"),
        id_of("county_centre"),
    );
    let worker_api = app.login("grid_worker").await;

    // Edit: name, role, area; an unknown area or role changes nothing.
    let (s, u) = admin
        .patch(
            &format!("/api/users/{chief}"),
            json!({"display_name": "李网格长", "roles": ["grid_chief", "grid_instructor"], "area_code": "371502001"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(
        (&u["display_name"], &u["area_code"]),
        (&json!("李网格长"), &json!("371502001"))
    );
    assert_eq!(u["roles"].as_array().unwrap().len(), 2);
    let (s, r) = admin
        .patch(
            &format!("/api/users/{chief}"),
            json!({"area_code": "371502999", "display_name": "X"}),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("area_not_found"))
    );
    let (s, r) = admin
        .patch(&format!("/api/users/{chief}"), json!({"roles": ["boss"]}))
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    let (s, r) = admin
        .patch(
            &format!("/api/users/{chief}"),
            json!({"department_id": "371502-cgj"}),
        )
        .await;
    assert_eq!(
        (s, r["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("department_id")),
        "{r}"
    );
    let (_, me) = app.login("grid_chief").await.get("/api/auth/me").await;
    assert_eq!(me["display_name"], "李网格长");

    // Disable ends the sessions and refuses sign-in; enable lets it back in.
    let (s, u) = admin
        .patch(
            &format!("/api/users/{worker}"),
            json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(
        (s, u["status"].as_str()),
        (StatusCode::OK, Some("disabled"))
    );
    assert_eq!(
        worker_api.get("/api/auth/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, r) = app
        .anon()
        .post(
            "/api/auth/login",
            json!({"username": "grid_worker", "password": PW}),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("account_disabled"))
    );
    admin
        .patch(&format!("/api/users/{worker}"), json!({"status": "active"}))
        .await;
    let (s, r) = admin
        .patch(&format!("/api/users/{worker}"), json!({"status": "gone"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");

    // Lockout lifted by an administrator.
    for _ in 0..5 {
        app.anon()
            .post(
                "/api/auth/login",
                json!({"username": "grid_worker", "password": "Wrong@2026"}),
            )
            .await;
    }
    let (s, _) = app
        .anon()
        .post(
            "/api/auth/login",
            json!({"username": "grid_worker", "password": PW}),
        )
        .await;
    assert_eq!(s, StatusCode::LOCKED);
    let (s, u) = admin
        .post(&format!("/api/users/{worker}/unlock"), json!({}))
        .await;
    assert_eq!(
        (s, &u["locked_until"]),
        (StatusCode::OK, &Value::Null),
        "{u}"
    );
    let worker_api = app.login("grid_worker").await;

    // Password reset: rules apply; the old password and sessions stop working.
    let (s, r) = admin
        .post(
            &format!("/api/users/{worker}/reset-password"),
            json!({"password": "short"}),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("weak_password"))
    );
    let (s, _) = admin
        .post(
            &format!("/api/users/{worker}/reset-password"),
            json!({"password": "Reset@2026x"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        worker_api.get("/api/auth/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    app.login_pw("grid_worker", "Reset@2026x").await;

    // Out of scope: a township operator cannot manage a county account; nobody disables themselves.
    let town = app.login("town_centre").await;
    assert_eq!(
        town.post(&format!("/api/users/{county}/unlock"), json!({}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (_, me) = admin.get("/api/auth/me").await;
    let (s, _) = admin
        .patch(
            &format!("/api/users/{}", me["id"].as_str().unwrap()),
            json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        admin.patch("/api/users/nobody", json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('update_user', 'unlock_user', 'reset_password')")
            .await,
        5
    );
}
both!(user_admin);
