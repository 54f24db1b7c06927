//! The division tree: node, children with counts, subtree, search, bad codes.

use crate::both;
use crate::support::*;
use reqwest::StatusCode;

async fn tree_queries(b: Backend) {
    let app = TestApp::demo(b).await;
    let api = app.login("county_centre").await;
    let (s, d) = api.get("/api/areas/371502").await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["area"]["name"], "东昌府区");
    assert_eq!(d["area"]["level"], "county");
    let names: Vec<&str> = d["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["山东省", "聊城市"]);
    let grids_in_county = app
        .scalar("SELECT COUNT(*) FROM grids WHERE village_code LIKE '371502%'")
        .await;
    assert_eq!(d["area"]["counts"]["townships"], 24);
    assert_eq!(d["area"]["counts"]["villages"], 338);
    assert_eq!(d["area"]["counts"]["grids"], grids_in_county);

    let (s, kids) = api.get("/api/areas/371502/children").await;
    assert_eq!(s, StatusCode::OK);
    let kids = kids.as_array().unwrap();
    assert_eq!(kids.len(), 24);
    let sum: i64 = kids
        .iter()
        .map(|k| k["counts"]["villages"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 338);

    // A village's children are its grids.
    let (s, grids) = api.get("/api/areas/371502001001/children").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        grids
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["level"] == "grid" && g["code"].as_str().unwrap().len() == 15)
    );

    // The subtree carries the same counts as the flat queries.
    let (s, tree) = api.get("/api/areas/371502/subtree").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(tree["counts"]["villages"], 338);
    assert_eq!(tree["counts"]["grids"], grids_in_county);
    assert_eq!(tree["children"].as_array().unwrap().len(), 24);
    let village = &tree["children"][0]["children"][0];
    assert_eq!(village["level"], "village");
    assert!(
        village["children"][0]["code"]
            .as_str()
            .unwrap()
            .starts_with(village["code"].as_str().unwrap())
    );

    // A grid node has the chain above it.
    let grid = grids[0]["code"].as_str().unwrap();
    let (s, g) = api.get(&format!("/api/areas/{grid}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(g["ancestors"].as_array().unwrap().len(), 5);

    // Search is scoped and safe with LIKE metacharacters and quotes.
    let (s, found) = api
        .get("/api/areas/search?q=%E7%A4%BE%E5%8C%BA&limit=5")
        .await; // 社区
    assert_eq!(s, StatusCode::OK);
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 5);
    assert!(
        found
            .iter()
            .all(|f| f["code"].as_str().unwrap().starts_with("371502"))
    );
    for q in ["%25", "_", "'%20OR%201=1%20--", "%5C"] {
        let (s, r) = api.get(&format!("/api/areas/search?q={q}")).await;
        assert_eq!(s, StatusCode::OK, "{q}");
        assert_eq!(r.as_array().unwrap().len(), 0, "{q}");
    }
    let (s, r) = api.get("/api/areas/search?q=").await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );

    // Unknown and malformed codes.
    let (s, r) = api.get("/api/areas/371502999").await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("area_not_found"))
    );
    for bad in [
        "37150",
        "abc",
        "..%2F..%2Fetc%2Fpasswd",
        "3715'%20OR%20'1'='1",
    ] {
        let (s, r) = api.get(&format!("/api/areas/{bad}")).await;
        assert_eq!(
            (s, r["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_area_code")),
            "{bad}"
        );
    }
}
both!(tree_queries);
