use crate::both;
use crate::support::*;
use reqwest::StatusCode;

async fn health_docs_and_errors(b: Backend) {
    let app = spawn_app(b).await;
    let api = app.anon();
    let (s, body) = api.get("/api/health").await;
    assert_eq!(
        (s, body),
        (StatusCode::OK, serde_json::json!({"status": "ok"}))
    );
    let (s, spec) = api.get("/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(spec["openapi"], "3.1.0");
    let res = reqwest::get(format!("{}/api/docs/", app.base))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text().await.unwrap().contains("swagger"),
        "Swagger UI is served offline"
    );
    // Unknown routes and missing sessions answer in the one error shape.
    let (s, body) = api.get("/api/no-such-thing").await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("route_not_found"))
    );
    let (s, body) = api.get("/api/areas/3715").await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    assert!(body["message"].as_str().unwrap().contains("登录"));
    // Oversized bodies are refused before they are read.
    let big = "x".repeat(3 * 1024 * 1024);
    let (s, body) = api
        .post(
            "/api/auth/login",
            serde_json::json!({"username": big, "password": "x"}),
        )
        .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
    );
    // Broken JSON.
    let res = reqwest::Client::new()
        .post(format!("{}/api/auth/login", app.base))
        .header("content-type", "application/json")
        .body("{bad")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "invalid_json");
}
both!(health_docs_and_errors);

/// Every route is documented, and the document changes only on purpose.
#[test]
fn openapi_snapshot() {
    let spec = serde_json::to_value(civgrid_server::app::openapi()).unwrap();
    let paths: Vec<&String> = spec["paths"].as_object().unwrap().keys().collect();
    for p in [
        "/api/health",
        "/api/auth/login",
        "/api/grids",
        "/api/grids/locate",
        "/api/areas/{code}/subtree",
    ] {
        assert!(paths.iter().any(|x| *x == p), "{p} missing from the spec");
    }
    insta::assert_json_snapshot!("openapi", spec);
}

/// The web apps: the console at `/`, the field app at `/field/`, client routes fall back to
/// `index.html`, a missing asset is a 404, and `/api/config` tells the apps their settings.
async fn web_apps_and_client_config(b: Backend) {
    let app = spawn_app(b).await;
    let (s, cfg) = app.anon().get("/api/config").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(cfg["idle_timeout_minutes"], 30);
    assert_eq!(cfg["tile_url"], serde_json::Value::Null);

    let web = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |p: &str| http.get(format!("{}{p}", app.base)).send();
    for (path, dist) in [
        ("/", "console"),
        ("/events/abc", "console"),
        ("/field/", "field"),
        ("/field/tasks", "field"),
    ] {
        let res = get(path).await.unwrap();
        let built = std::path::Path::new(&format!("{web}/{dist}/dist/index.html")).exists();
        let (status, ctype) = (
            res.status(),
            res.headers()[reqwest::header::CONTENT_TYPE].clone(),
        );
        assert!(
            ctype.to_str().unwrap().starts_with("text/html"),
            "{path}: {ctype:?}"
        );
        let body = res.text().await.unwrap();
        if built {
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(body.contains("<div id=\"app\""), "{path}: {body}");
        } else {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
            assert!(body.contains("npm run build"), "{path}");
        }
    }
    let res = get("/field").await.unwrap();
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(res.headers()[reqwest::header::LOCATION], "/field/");
    assert_eq!(
        get("/field/assets/missing.js").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/assets/missing.css").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}
both!(web_apps_and_client_config);
