//! Grids: creation with auto codes, invalid geometry, members, boundary change requests and
//! approval with history, and point-in-grid.

use crate::both;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

const VILLAGE: &str = "371502001002";

async fn create_and_validate(b: Backend) {
    let app = TestApp::demo(b).await;
    let api = app.login("town_centre").await;
    let existing = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM grids WHERE village_code = '{VILLAGE}'"
        ))
        .await;
    let body = |boundary| {
        json!({"village_code": VILLAGE, "name": "学校专属网格", "grid_type": "dedicated",
               "household_target": 0, "population_target": 2000, "boundary": boundary})
    };
    // Far from the demo layout, so it overlaps nothing.
    let (s, g) = api
        .post("/api/grids", body(square(117.0, 37.0, 0.002)))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let code = g["code"].as_str().unwrap().to_owned();
    assert_eq!(code, format!("{VILLAGE}{:03}", existing + 1));
    assert_eq!(g["grid_type_label"], "专属网格");
    let (s, g2) = api
        .post("/api/grids", body(square(117.01, 37.0, 0.002)))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        g2["code"].as_str().unwrap(),
        format!("{VILLAGE}{:03}", existing + 2)
    );

    // A boundary over an existing grid is refused, naming that grid; touching is fine.
    let first = format!("{VILLAGE}001");
    let (_, demo) = api.get(&format!("/api/grids/{first}")).await;
    let (s, r) = api.post("/api/grids", body(demo["boundary"].clone())).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("grid_overlap")),
        "{r}"
    );
    assert_eq!(r["details"]["grid"], first.as_str());
    let (s, r) = api
        .post("/api/grids", body(square(117.001, 37.001, 0.0005)))
        .await;
    assert_eq!(
        (s, r["details"]["grid"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(code.as_str()))
    );

    // Invalid geometry, each with its own code; nothing is written.
    let cases = [
        (
            json!({"type": "Polygon", "coordinates": [[[117.0, 37.0], [117.1, 37.0], [117.1, 37.1], [117.0, 37.1]]]}),
            "geometry_unclosed_ring",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[117.0, 37.0], [117.1, 37.1], [117.1, 37.0], [117.0, 37.1], [117.0, 37.0]]]}),
            "geometry_self_intersection",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[190.0, 37.0], [117.1, 37.0], [117.1, 37.1], [190.0, 37.0]]]}),
            "geometry_out_of_range",
        ),
        (
            json!({"type": "Polygon", "coordinates": []}),
            "geometry_empty",
        ),
        (
            json!({"type": "MultiPolygon", "coordinates": []}),
            "geometry_empty",
        ),
        (
            json!({"type": "Point", "coordinates": [117.0, 37.0]}),
            "geometry_bad_type",
        ),
        (json!("not geometry"), "geometry_bad_type"),
    ];
    for (geom, code) in cases {
        let (s, r) = api.post("/api/grids", body(geom)).await;
        assert_eq!(
            (s, r["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code))
        );
        assert!(!r["message"].as_str().unwrap().is_empty());
    }
    let (s, r) = api.post("/api/grids", json!({"village_code": "371502001", "name": "x", "grid_type": "basic", "boundary": square(117.0, 37.0, 0.1)})).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_a_village"))
    );
    let (s, r) = api.post("/api/grids", json!({"village_code": VILLAGE, "name": "  ", "grid_type": "basic", "boundary": square(117.0, 37.0, 0.1)})).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    let (s, r) = api.post("/api/grids", json!({"village_code": VILLAGE, "name": "x", "grid_type": "giant", "boundary": square(117.0, 37.0, 0.1)})).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM grids WHERE village_code = '{VILLAGE}'"
        ))
        .await,
        existing + 2
    );

    // Listing as GeoJSON.
    let (s, fc) = api.get(&format!("/api/grids?within={VILLAGE}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(fc["type"], "FeatureCollection");
    let feats = fc["features"].as_array().unwrap();
    assert_eq!(feats.len() as i64, existing + 2);
    let f = feats
        .iter()
        .find(|f| f["properties"]["code"] == code.as_str())
        .unwrap();
    assert_eq!(f["properties"]["type"], "dedicated");
    assert_eq!(f["properties"]["name"], "学校专属网格");
    assert_eq!(f["geometry"]["type"], "Polygon");

    // Members: a grid worker (one or more) and a chief, with the right roles.
    let admin = app.login("admin").await;
    let (_, users) = admin.get("/api/users").await;
    let id = |name: &str| {
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
    let (s, r) = api
        .put(
            &format!("/api/grids/{code}/members"),
            json!({"workers": [id("grid_worker")], "chief": id("grid_chief")}),
        )
        .await;
    // The demo worker sits at another grid: not in this grid's area.
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "{r}"
    );
    let (s, w) = admin
        .post("/api/users", json!({"username": "worker2", "display_name": "李娜", "area_code": code, "roles": ["grid_worker"], "password": PW}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{w}");
    let (s, r) = api
        .put(
            &format!("/api/grids/{code}/members"),
            json!({"workers": [w["id"]], "chief": null}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["members"][0]["display_name"], "李娜");
    let (s, r) = api
        .put(
            &format!("/api/grids/{code}/members"),
            json!({"workers": [id("grid_chief")]}),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "a chief is not a worker"
    );
}
both!(create_and_validate);

async fn boundary_change_and_locate(b: Backend) {
    let app = TestApp::demo(b).await;
    let town = app.login("town_centre").await;
    let instructor = app.login("grid_instructor").await;
    let (s, g) = town.post("/api/grids", json!({"village_code": VILLAGE, "name": "测试网格", "grid_type": "basic", "boundary": square(117.0, 37.0, 0.01)})).await;
    assert_eq!(s, StatusCode::CREATED);
    let code = g["code"].as_str().unwrap().to_owned();
    let (s, g2) = town.post("/api/grids", json!({"village_code": VILLAGE, "name": "相邻网格", "grid_type": "basic", "boundary": square(117.01, 37.0, 0.01)})).await;
    assert_eq!(s, StatusCode::CREATED);
    let code2 = g2["code"].as_str().unwrap().to_owned();

    // Locate: inside, on the shared edge (always the smaller code), nearest, none.
    let loc = |lon: f64, lat: f64| {
        let town = town.clone();
        async move {
            town.get(&format!("/api/grids/locate?lon={lon}&lat={lat}"))
                .await
        }
    };
    let (s, r) = loc(117.005, 37.005).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (r["match_type"].as_str(), r["grid"]["code"].as_str()),
        (Some("inside"), Some(code.as_str()))
    );
    assert_eq!(r["ancestors"].as_array().unwrap().len(), 5);
    assert_eq!(r["ancestors"][4]["code"], VILLAGE);
    let (_, r) = loc(117.015, 37.005).await;
    assert_eq!(r["grid"]["code"].as_str(), Some(code2.as_str()));
    for _ in 0..3 {
        let (_, r) = loc(117.01, 37.005).await;
        assert_eq!(
            r["grid"]["code"].as_str(),
            Some(code.as_str()),
            "shared edge resolves to the smaller code"
        );
    }
    let (_, r) = loc(117.021, 37.005).await; // ~89 m east of the second grid
    assert_eq!(r["match_type"], "nearest");
    assert_eq!(r["grid"]["code"].as_str(), Some(code2.as_str()));
    let d = r["distance_m"].as_f64().unwrap();
    assert!((80.0..100.0).contains(&d), "{d}");
    let (_, r) = loc(117.5, 37.5).await;
    assert_eq!(r["match_type"], "none");
    assert!(r["grid"].is_null());
    let (s, r) = loc(200.0, 37.0).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    let (s, r) = town.get("/api/grids/locate?lon=abc&lat=1").await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );

    // A change request from the field; nothing moves until it is approved.
    let moved = square(117.1, 37.1, 0.01);
    let (s, r) = town
        .post(
            &format!("/api/grids/{code}/boundary-requests"),
            json!({"boundary": moved, "reason": ""}),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    let (s, r) = town.post(&format!("/api/grids/{code}/boundary-requests"), json!({"boundary": {"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]}, "reason": "x"})).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("geometry_self_intersection")
        )
    );
    let (s, req) = town
        .post(
            &format!("/api/grids/{code}/boundary-requests"),
            json!({"boundary": moved, "reason": "道路改线，边界随之调整"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{req}");
    assert_eq!(req["status"], "pending");
    let id = req["id"].as_str().unwrap().to_owned();
    let (_, r) = loc(117.105, 37.105).await;
    assert_eq!(r["match_type"], "none");
    let (_, list) = town.get("/api/grid-change-requests").await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str())
    );
    let (_, detail) = town.get(&format!("/api/grids/{code}")).await;
    assert_eq!(detail["pending_requests"], 1);

    // Only a township centre decides: not the grid instructor, not the county centre.
    let (s, r) = instructor
        .post(
            &format!("/api/grid-change-requests/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{r}");
    let county = app.login("county_centre").await;
    let (s, r) = county
        .post(
            &format!("/api/grid-change-requests/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_township_centre"))
    );
    let (s, r) = town
        .post(
            &format!("/api/grid-change-requests/{id}/reject"),
            json!({"note": ""}),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "a rejection needs a reason"
    );
    let (s, r) = town
        .post(
            &format!("/api/grid-change-requests/{id}/approve"),
            json!({"note": "同意"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "approved");
    let (s, r) = town
        .post(
            &format!("/api/grid-change-requests/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_decided"))
    );

    // The index follows at once; history keeps the old boundary with its validity.
    let (_, r) = loc(117.105, 37.105).await;
    assert_eq!(r["grid"]["code"].as_str(), Some(code.as_str()));
    let (_, r) = loc(117.005, 37.005).await;
    assert_eq!(r["match_type"], "nearest", "old place is no longer inside");
    let (s, hist) = town.get(&format!("/api/grids/{code}/boundaries")).await;
    assert_eq!(s, StatusCode::OK);
    let hist = hist.as_array().unwrap();
    assert_eq!(hist.len(), 2);
    assert!(hist[0]["valid_to"].is_null());
    assert_eq!(hist[0]["request_id"], id.as_str());
    assert_eq!(hist[1]["valid_to"], hist[0]["valid_from"]);

    // A request over the neighbour is refused at once.
    let (s, r) = town
        .post(
            &format!("/api/grids/{code2}/boundary-requests"),
            json!({"boundary": moved, "reason": "扩大"}),
        )
        .await;
    assert_eq!(
        (s, r["details"]["grid"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(code.as_str()))
    );

    // A rejected request changes nothing.
    let (_, req2) = request(&instructor, &code2).await;
    let (s, r) = town
        .post(
            &format!("/api/grid-change-requests/{req2}/reject"),
            json!({"note": "与相邻网格重叠"}),
        )
        .await;
    assert_eq!(
        (s, r["status"].as_str()),
        (StatusCode::OK, Some("rejected"))
    );
    let (_, hist) = town.get(&format!("/api/grids/{code2}/boundaries")).await;
    assert_eq!(hist.as_array().unwrap().len(), 1);

    // A restarted server rebuilds the index from the approved boundaries.
    let state = civgrid_server::state::AppState::new(app.db.clone(), Default::default())
        .await
        .unwrap();
    let idx = state.grids.read().unwrap();
    assert_eq!(
        idx.locate([117.105, 37.105]).map(String::as_str),
        Some(code.as_str())
    );
}
both!(boundary_change_and_locate);

async fn request(api: &Api, code: &str) -> (StatusCode, String) {
    let (s, r) = api
        .post(
            &format!("/api/grids/{code}/boundary-requests"),
            json!({"boundary": square(117.3, 37.3, 0.01), "reason": "调整"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    (s, r["id"].as_str().unwrap().to_owned())
}
