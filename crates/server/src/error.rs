//! The one error type at the HTTP edge: `{"code": "...", "message": "<中文>", "details": {...}}`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use civgrid_core::geo::GeometryError;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// Error body of every failed API call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code; clients branch on it.
    pub code: String,
    /// Message for people, in Chinese.
    pub message: String,
    /// Extra facts (field, remaining lock time, …).
    pub details: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not authenticated")]
    Unauthenticated,
    #[error("session expired")]
    SessionExpired,
    #[error("invalid credentials")]
    InvalidCredentials { remaining_attempts: Option<i64> },
    #[error("account locked")]
    AccountLocked { remaining_seconds: i64 },
    #[error("account disabled")]
    AccountDisabled,
    #[error("forbidden")]
    Forbidden,
    #[error("out of scope")]
    OutOfScope,
    #[error("area not found")]
    AreaNotFound,
    #[error("grid not found")]
    GridNotFound,
    #[error("change request not found")]
    ChangeRequestNotFound,
    #[error("user not found")]
    UserNotFound,
    #[error("route not found")]
    RouteNotFound,
    #[error("invalid area code")]
    InvalidAreaCode,
    #[error("invalid geometry: {0}")]
    Geometry(GeometryError),
    #[error("validation failed on {field}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error("weak password")]
    WeakPassword(String),
    #[error("conflict")]
    Conflict,
    #[error("username taken")]
    UsernameTaken,
    #[error("boundary overlaps grid {0}")]
    GridOverlap(String),
    #[error("not a village")]
    NotAVillage,
    #[error("grid codes exhausted")]
    GridCodesExhausted,
    #[error("change request already decided")]
    AlreadyDecided,
    #[error("not a township account")]
    NotTownshipCentre,
    #[error("event not found")]
    EventNotFound,
    #[error("unknown category")]
    UnknownCategory,
    #[error("category not admitted")]
    CategoryNotAdmitted(String),
    #[error("location outside the grids; nearest {nearest:?}")]
    LocationOutside {
        nearest: Option<(String, String, f64)>,
    },
    #[error("photo required")]
    PhotoRequired,
    #[error("photo too large")]
    PhotoTooLarge { max_bytes: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("move not allowed: {0}")]
    MoveNotAllowed(String),
    #[error("separation of duties")]
    SeparationOfDuties,
    #[error("department not found")]
    DepartmentNotFound,
    #[error("not found: {0}")]
    RecordNotFound(&'static str),
    #[error("file not found")]
    FileNotFound,
    #[error("invalid api key")]
    InvalidApiKey,
    #[error("invalid calendar: {0}")]
    InvalidCalendar(String),
    #[error("invalid json: {0}")]
    InvalidJson(String),
    #[error("invalid body: {0}")]
    InvalidBody(String),
    #[error("body too large")]
    BodyTooLarge,
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// Several fields of one record are wrong (base data): each with its own code.
    #[error("invalid record")]
    Invalid(Vec<crate::records::Issue>),
    #[error("invalid import file: {0}")]
    InvalidImportFile(String),
    /// A strict import found errors and wrote nothing; the report says where.
    #[error("import rejected")]
    ImportRejected(Value),
    #[error("not checked in")]
    NotCheckedIn,
    /// The server lacks the CJK font that PDFs need.
    #[error("font not found: {0}")]
    FontNotFound(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("internal: {0}")]
    Internal(#[from] anyhow::Error),
}

/// Every code the API can answer with, and its Chinese message (tested to be complete).
pub const CODES: &[(&str, &str)] = &[
    ("unauthenticated", "请先登录"),
    ("session_expired", "登录已超时，请重新登录"),
    ("invalid_credentials", "用户名或密码错误"),
    ("account_locked", "登录失败次数过多，账号已锁定"),
    ("account_disabled", "账号已停用"),
    ("forbidden", "没有执行此操作的权限"),
    ("out_of_scope", "无权访问辖区以外的数据"),
    ("area_not_found", "区划不存在"),
    ("grid_not_found", "网格不存在"),
    ("change_request_not_found", "边界变更申请不存在"),
    ("user_not_found", "用户不存在"),
    ("route_not_found", "接口不存在"),
    ("invalid_area_code", "区划代码格式不正确"),
    (
        "geometry_bad_type",
        "边界必须是 GeoJSON Polygon 或 MultiPolygon",
    ),
    ("geometry_malformed", "边界坐标格式不正确"),
    ("geometry_empty", "边界为空"),
    (
        "geometry_unclosed_ring",
        "边界的环未闭合（首尾坐标必须相同）",
    ),
    ("geometry_too_few_points", "边界的环至少需要 4 个坐标点"),
    ("geometry_out_of_range", "坐标超出 WGS-84 经纬度范围"),
    ("geometry_self_intersection", "边界自相交"),
    ("geometry_too_complex", "边界顶点过多"),
    ("validation_failed", "输入内容不符合要求"),
    ("weak_password", "密码强度不足"),
    ("conflict", "数据已被他人修改，请刷新后重试"),
    ("username_taken", "用户名已被占用"),
    ("grid_overlap", "边界与其他网格重叠"),
    ("not_a_village", "网格只能建在村（社区）之下"),
    ("grid_codes_exhausted", "该村（社区）的网格编号已用完"),
    ("already_decided", "该申请已处理，不能重复审批"),
    (
        "not_township_centre",
        "边界变更须由乡镇（街道）综治中心审批",
    ),
    ("event_not_found", "事件不存在"),
    ("unknown_category", "事件分类不存在"),
    (
        "category_not_admitted",
        "该事项不在准入清单内，不能以此来源上报",
    ),
    ("location_outside", "位置不在本市任何网格内"),
    ("photo_required", "该类事件必须附现场照片"),
    ("photo_too_large", "照片过大"),
    (
        "unsupported_media_type",
        "仅支持 JPEG、PNG、WebP 格式的图片",
    ),
    ("move_not_allowed", "事件当前状态下不能执行此操作"),
    (
        "separation_of_duties",
        "采办分离：处置本事件的人不能核查，上报的网格员不能评价结案",
    ),
    ("department_not_found", "部门不存在"),
    ("record_not_found", "记录不存在"),
    ("file_not_found", "文件不存在"),
    ("invalid_api_key", "接口密钥无效或已停用"),
    ("invalid_calendar", "工作日历文件不正确"),
    ("invalid_json", "请求内容不是有效的 JSON"),
    ("invalid_body", "请求内容缺少字段或字段类型不正确"),
    ("body_too_large", "请求内容过大"),
    ("invalid_query", "请求参数不正确"),
    ("invalid_import_file", "导入文件格式不正确"),
    ("import_rejected", "导入文件有错误，未写入任何数据"),
    ("not_checked_in", "尚未签到，请先签到"),
    (
        "font_not_found",
        "服务器缺少中文字体（fonts-noto-cjk），无法生成 PDF",
    ),
    ("internal_error", "服务器内部错误，请稍后重试"),
];

pub fn message(code: &str) -> &'static str {
    CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, m)| *m)
        .unwrap_or("服务器内部错误，请稍后重试")
}

impl AppError {
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        AppError::Validation {
            field,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::SessionExpired => "session_expired",
            AppError::InvalidCredentials { .. } => "invalid_credentials",
            AppError::AccountLocked { .. } => "account_locked",
            AppError::AccountDisabled => "account_disabled",
            AppError::Forbidden => "forbidden",
            AppError::OutOfScope => "out_of_scope",
            AppError::AreaNotFound => "area_not_found",
            AppError::GridNotFound => "grid_not_found",
            AppError::ChangeRequestNotFound => "change_request_not_found",
            AppError::UserNotFound => "user_not_found",
            AppError::RouteNotFound => "route_not_found",
            AppError::InvalidAreaCode => "invalid_area_code",
            AppError::Geometry(g) => g.code(),
            AppError::Validation { .. } | AppError::Invalid(_) => "validation_failed",
            AppError::InvalidImportFile(_) => "invalid_import_file",
            AppError::ImportRejected(_) => "import_rejected",
            AppError::WeakPassword(_) => "weak_password",
            AppError::Conflict => "conflict",
            AppError::UsernameTaken => "username_taken",
            AppError::GridOverlap(_) => "grid_overlap",
            AppError::NotAVillage => "not_a_village",
            AppError::GridCodesExhausted => "grid_codes_exhausted",
            AppError::AlreadyDecided => "already_decided",
            AppError::NotTownshipCentre => "not_township_centre",
            AppError::EventNotFound => "event_not_found",
            AppError::UnknownCategory => "unknown_category",
            AppError::CategoryNotAdmitted(_) => "category_not_admitted",
            AppError::LocationOutside { .. } => "location_outside",
            AppError::PhotoRequired => "photo_required",
            AppError::PhotoTooLarge { .. } => "photo_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::MoveNotAllowed(_) => "move_not_allowed",
            AppError::SeparationOfDuties => "separation_of_duties",
            AppError::DepartmentNotFound => "department_not_found",
            AppError::RecordNotFound(_) => "record_not_found",
            AppError::FileNotFound => "file_not_found",
            AppError::InvalidApiKey => "invalid_api_key",
            AppError::InvalidCalendar(_) => "invalid_calendar",
            AppError::InvalidJson(_) => "invalid_json",
            AppError::InvalidBody(_) => "invalid_body",
            AppError::BodyTooLarge => "body_too_large",
            AppError::InvalidQuery(_) => "invalid_query",
            AppError::NotCheckedIn => "not_checked_in",
            AppError::FontNotFound(_) => "font_not_found",
            AppError::Db(_) | AppError::Internal(_) => "internal_error",
        }
    }

    pub fn status(&self) -> StatusCode {
        use AppError::*;
        match self {
            Unauthenticated | SessionExpired | InvalidCredentials { .. } | InvalidApiKey => {
                StatusCode::UNAUTHORIZED
            }
            AccountLocked { .. } => StatusCode::LOCKED,
            AccountDisabled | Forbidden | OutOfScope | NotTownshipCentre | SeparationOfDuties => {
                StatusCode::FORBIDDEN
            }
            AreaNotFound
            | GridNotFound
            | ChangeRequestNotFound
            | UserNotFound
            | RouteNotFound
            | EventNotFound
            | DepartmentNotFound
            | RecordNotFound(_)
            | FileNotFound => StatusCode::NOT_FOUND,
            PhotoTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            InvalidJson(_) | InvalidQuery(_) | InvalidAreaCode => StatusCode::BAD_REQUEST,
            BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Conflict | UsernameTaken | AlreadyDecided | GridCodesExhausted | MoveNotAllowed(_)
            | NotCheckedIn => StatusCode::CONFLICT,
            Geometry(_)
            | GridOverlap(_)
            | InvalidBody(_)
            | Validation { .. }
            | Invalid(_)
            | InvalidImportFile(_)
            | ImportRejected(_)
            | WeakPassword(_)
            | NotAVillage
            | UnknownCategory
            | CategoryNotAdmitted(_)
            | LocationOutside { .. }
            | PhotoRequired
            | InvalidCalendar(_) => StatusCode::UNPROCESSABLE_ENTITY,
            FontNotFound(_) => StatusCode::SERVICE_UNAVAILABLE,
            Db(_) | Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn details(&self) -> Value {
        match self {
            AppError::InvalidCredentials {
                remaining_attempts: Some(n),
            } => {
                json!({"remaining_attempts": n})
            }
            AppError::AccountLocked { remaining_seconds } => {
                json!({"remaining_seconds": remaining_seconds})
            }
            AppError::Validation { field, message } => json!({"field": field, "reason": message}),
            AppError::Invalid(issues) => json!({
                "field": issues.first().map(|i| i.field.as_str()),
                "reason": issues.first().map(|i| i.message.as_str()),
                "issues": issues,
            }),
            AppError::InvalidImportFile(reason) => json!({"reason": reason}),
            AppError::ImportRejected(report) => report.clone(),
            AppError::WeakPassword(reason) => json!({"reason": reason}),
            AppError::GridOverlap(grid) => json!({"grid": grid}),
            AppError::LocationOutside {
                nearest: Some((code, name, d)),
            } => json!({"nearest_code": code, "nearest_name": name, "distance_m": d.round()}),
            AppError::PhotoTooLarge { max_bytes } => json!({"max_bytes": max_bytes}),
            AppError::CategoryNotAdmitted(reason) | AppError::InvalidCalendar(reason) => {
                json!({"reason": reason})
            }
            AppError::RecordNotFound(what) => json!({"record": what}),
            AppError::InvalidJson(reason)
            | AppError::InvalidBody(reason)
            | AppError::InvalidQuery(reason) => {
                json!({"reason": reason})
            }
            _ => json!({}),
        }
    }

    /// The Chinese message shown to people.
    pub fn user_message(&self) -> String {
        match self {
            AppError::AccountLocked { remaining_seconds } => format!(
                "登录失败次数过多，账号已锁定，请 {} 分钟后再试",
                (remaining_seconds + 59) / 60
            ),
            AppError::InvalidCredentials {
                remaining_attempts: Some(n),
            } => {
                format!("用户名或密码错误，还可尝试 {n} 次")
            }
            AppError::Validation { message, .. } => message.clone(),
            AppError::Invalid(issues) => issues
                .iter()
                .map(|i| i.message.as_str())
                .collect::<Vec<_>>()
                .join("；"),
            AppError::InvalidImportFile(reason) => format!("导入文件格式不正确：{reason}"),
            AppError::WeakPassword(reason) => format!("密码强度不足：{reason}"),
            AppError::GridOverlap(grid) => format!("边界与网格 {grid} 重叠"),
            AppError::LocationOutside {
                nearest: Some((_, name, d)),
            } => format!("位置不在本市任何网格内，最近的是 {name}（约 {d:.0} 米）"),
            AppError::PhotoTooLarge { max_bytes } => {
                format!("照片过大，单张不能超过 {} MB", max_bytes / 1024 / 1024)
            }
            AppError::MoveNotAllowed(msg) => msg.clone(),
            AppError::CategoryNotAdmitted(reason) => reason.clone(),
            AppError::InvalidCalendar(reason) => format!("工作日历文件不正确：{reason}"),
            other => message(other.code()).to_owned(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // The body says nothing; the cause goes to the log.
            tracing::error!(error = %self, "request failed");
        }
        let body = ErrorBody {
            code: self.code().to_owned(),
            message: self.user_message(),
            details: self.details(),
        };
        (status, axum::Json(body)).into_response()
    }
}

impl From<GeometryError> for AppError {
    fn from(e: GeometryError) -> Self {
        AppError::Geometry(e)
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => AppError::InvalidBody(e.body_text()),
            r if r.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::BodyTooLarge,
            r => AppError::InvalidJson(r.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::InvalidQuery(r.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        AppError::InvalidQuery(r.body_text())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// `axum::Json` whose rejections answer in our error shape.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with our error shape.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` with our error shape.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_used_and_has_a_unique_chinese_message() {
        let mut listed = std::collections::HashSet::new();
        for (code, msg) in CODES {
            assert!(listed.insert(*code), "duplicate {code}");
            assert!(
                msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{code}"
            );
        }
        let geometry = [
            GeometryError::BadType,
            GeometryError::Malformed,
            GeometryError::Empty,
            GeometryError::UnclosedRing,
            GeometryError::TooFewPoints,
            GeometryError::OutOfRange,
            GeometryError::SelfIntersection,
            GeometryError::TooComplex,
        ];
        let mut errors = vec![
            AppError::Unauthenticated,
            AppError::SessionExpired,
            AppError::InvalidCredentials {
                remaining_attempts: Some(1),
            },
            AppError::AccountLocked {
                remaining_seconds: 60,
            },
            AppError::AccountDisabled,
            AppError::Forbidden,
            AppError::OutOfScope,
            AppError::AreaNotFound,
            AppError::GridNotFound,
            AppError::ChangeRequestNotFound,
            AppError::UserNotFound,
            AppError::RouteNotFound,
            AppError::InvalidAreaCode,
            AppError::validation("x", "格式不正确"),
            AppError::WeakPassword("x".into()),
            AppError::Conflict,
            AppError::UsernameTaken,
            AppError::NotAVillage,
            AppError::GridOverlap("371502001001001".into()),
            AppError::GridCodesExhausted,
            AppError::AlreadyDecided,
            AppError::NotTownshipCentre,
            AppError::EventNotFound,
            AppError::UnknownCategory,
            AppError::CategoryNotAdmitted("该事项不在准入清单内".into()),
            AppError::LocationOutside { nearest: None },
            AppError::PhotoRequired,
            AppError::PhotoTooLarge { max_bytes: 1 << 20 },
            AppError::UnsupportedMediaType,
            AppError::MoveNotAllowed("事件当前为“已结案”，不能执行“派遣”".into()),
            AppError::SeparationOfDuties,
            AppError::DepartmentNotFound,
            AppError::RecordNotFound("supervision"),
            AppError::FileNotFound,
            AppError::InvalidApiKey,
            AppError::InvalidCalendar("x".into()),
            AppError::InvalidJson("x".into()),
            AppError::InvalidBody("x".into()),
            AppError::BodyTooLarge,
            AppError::InvalidQuery("x".into()),
            AppError::Invalid(vec![crate::records::Issue::new(
                "id_no",
                "id_check",
                "身份证号校验位错误，应为 X",
            )]),
            AppError::InvalidImportFile("缺少必填列：姓名".into()),
            AppError::ImportRejected(serde_json::json!({"errors": []})),
            AppError::NotCheckedIn,
            AppError::FontNotFound("/usr/share/fonts".into()),
            AppError::Internal(anyhow::anyhow!("x")),
        ];
        errors.extend(geometry.into_iter().map(AppError::Geometry));
        let used: std::collections::HashSet<&str> = errors.iter().map(AppError::code).collect();
        assert_eq!(
            used, listed,
            "CODES and the AppError variants must match one to one"
        );
        for e in &errors {
            let msg = e.user_message();
            assert!(
                msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{}",
                e.code()
            );
        }
    }
}
