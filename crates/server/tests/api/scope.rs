//! The scope matrix: every role × in-scope / out-of-scope → the expected status. Out of scope
//! is always 403 or 404 and never data.

use crate::both;
use crate::support::*;
use civgrid_server::areas::import::{self, Options, Source};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A second city (德州市) with one community and one grid, outside every demo account.
const OTHER: &[(&str, &str)] = &[
    ("provinces.csv", "code,name\n37,\"山东省\"\n"),
    ("cities.csv", "code,name,provinceCode\n3714,\"德州市\",37\n"),
    (
        "areas.csv",
        "code,name,cityCode,provinceCode\n371402,\"德城区\",3714,37\n",
    ),
    (
        "streets.csv",
        "code,name,areaCode,provinceCode,cityCode\n371402001,\"新湖街道\",371402,37,3714\n",
    ),
    (
        "villages.csv",
        "code,name,streetCode,provinceCode,cityCode,areaCode\n371402001001,\"东风社区居委会\",371402001,37,3714,371402\n",
    ),
];
const OUT_GRID: &str = "371402001001001";

async fn setup_outside(app: &TestApp) -> String {
    let r = import::import(
        &app.db,
        Source::Embedded(OTHER),
        &Options {
            within: Some("3714".parse().unwrap()),
            strict: true,
            year: 2023,
        },
    )
    .await
    .unwrap();
    assert!(r.errors.is_empty());
    // A grid and a pending change request there, made by a local account.
    app.add_user("dezhou_town", "德州街道", "371402001", "centre_operator")
        .await;
    let local = app.login("dezhou_town").await;
    let (s, r) = local.post("/api/grids", json!({"village_code": "371402001001", "name": "东风第1网格", "grid_type": "basic", "boundary": square(116.3, 37.4, 0.01)})).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::CREATED, Some(OUT_GRID)),
        "{r}"
    );
    let (s, r) = local
        .post(
            &format!("/api/grids/{OUT_GRID}/boundary-requests"),
            json!({"boundary": square(116.0, 37.0, 0.01), "reason": "调整"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    r["id"].as_str().unwrap().to_owned()
}

fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

async fn scope_matrix(b: Backend) {
    let app = TestApp::demo(b).await;
    let out_req = setup_outside(&app).await;
    let admin = app.login("admin").await;
    let (_, users) = admin.get("/api/users").await;
    let users: Vec<(String, String, String)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["username"].as_str().unwrap().into(),
                u["roles"][0]["code"].as_str().unwrap().into(),
                u["area_code"].as_str().unwrap().into(),
            )
        })
        .collect();
    let in_city = app
        .scalar("SELECT COUNT(*) FROM users WHERE area_code LIKE '3715%'")
        .await;
    assert!(
        in_city > 12,
        "the demo has a worker per grid and liaisons too"
    );
    assert_eq!(
        users.len() as i64,
        in_city,
        "the admin at 3715 sees only 聊城 accounts"
    );
    assert!(users.iter().all(|u| u.2.starts_with("3715")));
    let roles: std::collections::HashSet<&str> = users.iter().map(|u| u.1.as_str()).collect();
    assert_eq!(roles.len(), 9, "every role is covered");

    // The named demo accounts (one or more per role), not every grid worker and liaison.
    let named: Vec<&(String, String, String)> = users
        .iter()
        .filter(|u| !u.0.starts_with("gw") && !u.0.starts_with("liaison_"))
        .collect();
    assert_eq!(named.len(), 12);
    for (i, (username, role, area)) in named.into_iter().enumerate() {
        let x = 118.0 + i as f64 * 0.01;
        let api = app.login(username).await;
        let who = format!("{username} ({role} @ {area})");
        // In scope: the first grid under the account's own node.
        let (s, fc) = api.get(&format!("/api/grids?within={area}")).await;
        assert_eq!(s, StatusCode::OK, "{who}");
        let in_grid = fc["features"][0]["properties"]["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let village = &in_grid[..12];
        assert_eq!(
            api.get(&format!("/api/areas/{area}")).await.0,
            StatusCode::OK,
            "{who}"
        );
        assert_eq!(
            api.get(&format!("/api/areas/{area}/children")).await.0,
            StatusCode::OK,
            "{who}"
        );
        assert_eq!(
            api.get(&format!("/api/grids/{in_grid}")).await.0,
            StatusCode::OK,
            "{who}"
        );
        assert_eq!(
            api.get(&format!("/api/grids/{in_grid}/boundaries")).await.0,
            StatusCode::OK,
            "{who}"
        );

        // Out of scope: 403 or 404, with an error body and no data.
        for path in [
            "/api/areas/3714".to_string(),
            "/api/areas/371402001001/children".into(),
            "/api/areas/3714/subtree".into(),
            format!("/api/grids/{OUT_GRID}"),
            format!("/api/grids/{OUT_GRID}/boundaries"),
            "/api/grids?within=3714".into(),
            "/api/grids/locate?lon=116.3005&lat=37.4005".into(),
            format!("/api/grid-change-requests/{out_req}"),
        ] {
            let (s, r) = api.get(&path).await;
            assert!(
                s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
                "{who} {path}: {s}"
            );
            assert!(
                !code(&r).is_empty() && r.get("features").is_none() && r.get("area").is_none(),
                "{who} {path}: {r}"
            );
        }
        let (_, list) = api.get("/api/grid-change-requests").await;
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .all(|r| r["id"] != out_req.as_str()),
            "{who}"
        );
        let (_, found) = api.get("/api/areas/search?q=%E5%BE%B7").await; // 德
        assert!(
            found
                .as_array()
                .unwrap()
                .iter()
                .all(|a| !a["code"].as_str().unwrap().starts_with("3714")),
            "{who}"
        );

        // Creating a grid: centres and admins in scope; nobody outside.
        let new_grid = json!({"village_code": village, "name": "矩阵网格", "grid_type": "basic", "boundary": square(x, 38.0, 0.001)});
        let (s, r) = api.post("/api/grids", new_grid).await;
        let may_manage = matches!(role.as_str(), "centre_operator" | "admin");
        assert_eq!(
            s,
            if may_manage {
                StatusCode::CREATED
            } else {
                StatusCode::FORBIDDEN
            },
            "{who}: {r}"
        );
        let (s, _) = api.post("/api/grids", json!({"village_code": "371402001001", "name": "越界", "grid_type": "basic", "boundary": square(118.0, 38.0, 0.001)})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");

        // Requesting a boundary change.
        let (s, req) = api
            .post(
                &format!("/api/grids/{in_grid}/boundary-requests"),
                json!({"boundary": square(x, 38.5, 0.001), "reason": "矩阵"}),
            )
            .await;
        let may_request = matches!(
            role.as_str(),
            "grid_worker" | "grid_chief" | "grid_instructor" | "centre_operator" | "admin"
        );
        assert_eq!(
            s,
            if may_request {
                StatusCode::CREATED
            } else {
                StatusCode::FORBIDDEN
            },
            "{who}: {req}"
        );
        let (s, _) = api
            .post(
                &format!("/api/grids/{OUT_GRID}/boundary-requests"),
                json!({"boundary": square(118.5, 38.5, 0.001), "reason": "越界"}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");

        // Approving: township centres and admins, in scope only.
        let (_, pending) = admin
            .post(
                &format!("/api/grids/{in_grid}/boundary-requests"),
                json!({"boundary": square(x, 38.6, 0.001), "reason": "待批"}),
            )
            .await;
        let id = pending["id"].as_str().unwrap();
        let (s, r) = api
            .post(
                &format!("/api/grid-change-requests/{id}/approve"),
                json!({}),
            )
            .await;
        let township_centre = role == "centre_operator" && area.len() == 9;
        let expected = if township_centre || role == "admin" {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(s, expected, "{who}: {r}");
        let (s, _) = api
            .post(
                &format!("/api/grid-change-requests/{out_req}/approve"),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{who}");

        // Account administration is the admin's.
        let (s, _) = api.get("/api/users").await;
        assert_eq!(
            s,
            if role == "admin" {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            },
            "{who}"
        );
    }
    // The outside request is untouched.
    let (s, r) = app
        .login("dezhou_town")
        .await
        .get(&format!("/api/grid-change-requests/{out_req}"))
        .await;
    assert_eq!((s, r["status"].as_str()), (StatusCode::OK, Some("pending")));
}
both!(scope_matrix);
