//! Photos: checked to be real JPEG / PNG / WebP images, stored on disk under their SHA-256
//! (the same photo uploaded twice is stored once) with a 320-pixel JPEG thumbnail, and the
//! EXIF GPS position read when the camera recorded one.

use crate::error::{AppError, AppResult};
use image::ImageFormat;
use sha2::{Digest, Sha256};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// Longest side of a thumbnail in pixels.
const THUMB: u32 = 320;

#[derive(Debug, Clone, PartialEq)]
pub struct StoredPhoto {
    pub sha256: String,
    pub mime: &'static str,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    /// WGS-84 position from EXIF, when present.
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

/// Where a photo (or its thumbnail) lives: `<dir>/<first two hex digits>/<sha256>[.thumb.jpg]`.
pub fn path(dir: &Path, sha256: &str, thumb: bool) -> Option<PathBuf> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let name = if thumb {
        format!("{sha256}.thumb.jpg")
    } else {
        sha256.to_owned()
    };
    Some(dir.join(&sha256[..2]).join(name))
}

/// Checks and stores one photo (on a blocking thread: decoding is CPU work).
pub async fn store(dir: PathBuf, data: Vec<u8>, max_bytes: usize) -> AppResult<StoredPhoto> {
    if data.len() > max_bytes {
        return Err(AppError::PhotoTooLarge { max_bytes });
    }
    tokio::task::spawn_blocking(move || store_blocking(&dir, &data))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
}

fn store_blocking(dir: &Path, data: &[u8]) -> AppResult<StoredPhoto> {
    let format = image::guess_format(data).map_err(|_| AppError::UnsupportedMediaType)?;
    let mime = match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
        ImageFormat::WebP => "image/webp",
        _ => return Err(AppError::UnsupportedMediaType),
    };
    let img = image::load_from_memory_with_format(data, format)
        .map_err(|_| AppError::UnsupportedMediaType)?;
    let sha256 = hex::encode(Sha256::digest(data));
    let (lon, lat) = exif_position(data).unzip();
    let file = path(dir, &sha256, false).expect("sha256 is hex");
    let thumb = path(dir, &sha256, true).expect("sha256 is hex");
    if !file.exists() {
        let parent = file.parent().expect("has a parent");
        std::fs::create_dir_all(parent).map_err(anyhow::Error::from)?;
        let mut t = Vec::new();
        img.thumbnail(THUMB, THUMB)
            .into_rgb8()
            .write_to(&mut Cursor::new(&mut t), ImageFormat::Jpeg)
            .map_err(anyhow::Error::from)?;
        write_atomic(&thumb, &t)?;
        write_atomic(&file, data)?;
    }
    Ok(StoredPhoto {
        sha256,
        mime,
        bytes: data.len() as i64,
        width: img.width() as i64,
        height: img.height() as i64,
        lon,
        lat,
    })
}

/// Writes through a temporary file and a rename, so a reader never sees half a photo.
fn write_atomic(path: &Path, data: &[u8]) -> AppResult<()> {
    let tmp = path.with_extension(format!("tmp{}", uuid::Uuid::now_v7().simple()));
    std::fs::write(&tmp, data).map_err(anyhow::Error::from)?;
    std::fs::rename(&tmp, path).map_err(anyhow::Error::from)?;
    Ok(())
}

/// (longitude, latitude) from the EXIF GPS tags, if the photo carries them.
pub fn exif_position(data: &[u8]) -> Option<(f64, f64)> {
    use exif::{In, Tag, Value};
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(data))
        .ok()?;
    let coord = |tag: Tag, ref_tag: Tag, negative: u8| -> Option<f64> {
        let f = exif.get_field(tag, In::PRIMARY)?;
        let v = match &f.value {
            Value::Rational(r) if r.len() >= 3 => {
                r[0].to_f64() + r[1].to_f64() / 60.0 + r[2].to_f64() / 3600.0
            }
            _ => return None,
        };
        let sign = match exif.get_field(ref_tag, In::PRIMARY).map(|f| &f.value) {
            Some(Value::Ascii(a)) if a.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * v).filter(|v| v.is_finite())
    };
    let lat = coord(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let lon = coord(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lon, lat))
}

/// A request body that is either JSON, or `multipart/form-data` with the same JSON in a
/// `data` part and photos in `photo` parts (at most nine).
pub struct Submission<T> {
    pub data: T,
    pub photos: Vec<Vec<u8>>,
}

pub const MAX_PHOTOS: usize = 9;

impl<T> axum::extract::FromRequest<crate::state::AppState> for Submission<T>
where
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = AppError;

    async fn from_request(
        req: axum::extract::Request,
        state: &crate::state::AppState,
    ) -> AppResult<Self> {
        use axum::extract::Multipart;
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("multipart/form-data"));
        if !multipart {
            let crate::error::Json(data) =
                crate::error::Json::<T>::from_request(req, state).await?;
            return Ok(Submission {
                data,
                photos: vec![],
            });
        }
        let bad = |e: axum::extract::multipart::MultipartError| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::BodyTooLarge
            } else {
                AppError::InvalidBody(e.body_text())
            }
        };
        let mut mp = Multipart::from_request(req, state)
            .await
            .map_err(|e| AppError::InvalidBody(e.body_text()))?;
        let mut data = None;
        let mut photos = Vec::new();
        while let Some(field) = mp.next_field().await.map_err(bad)? {
            match field.name() {
                Some("data") => data = Some(field.text().await.map_err(bad)?),
                Some("photo" | "photos") => {
                    if photos.len() == MAX_PHOTOS {
                        return Err(AppError::validation(
                            "photo",
                            format!("照片最多 {MAX_PHOTOS} 张"),
                        ));
                    }
                    photos.push(field.bytes().await.map_err(bad)?.to_vec());
                }
                _ => {}
            }
        }
        let data = data.ok_or_else(|| AppError::validation("data", "缺少 data 部分"))?;
        let data = serde_json::from_str(&data).map_err(|e| AppError::InvalidBody(e.to_string()))?;
        Ok(Submission { data, photos })
    }
}

/// Stores every photo of a submission.
pub async fn store_all(
    state: &crate::state::AppState,
    photos: Vec<Vec<u8>>,
) -> AppResult<Vec<StoredPhoto>> {
    let mut out = Vec::with_capacity(photos.len());
    for p in photos {
        out.push(
            store(
                state.cfg.files_dir.clone().into(),
                p,
                state.cfg.max_photo_bytes,
            )
            .await?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[tokio::test]
    async fn stores_once_with_a_thumbnail() {
        let dir = tempfile::tempdir().unwrap();
        let data = png(800, 400);
        let a = store(dir.path().into(), data.clone(), 1 << 20)
            .await
            .unwrap();
        let b = store(dir.path().into(), data, 1 << 20).await.unwrap();
        assert_eq!(a, b);
        assert_eq!((a.width, a.height, a.mime), (800, 400, "image/png"));
        let thumb = image::open(path(dir.path(), &a.sha256, true).unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 160));
        assert!(path(dir.path(), "../etc/passwd", false).is_none());
    }

    #[tokio::test]
    async fn refuses_what_is_not_an_image() {
        let dir = tempfile::tempdir().unwrap();
        let e = store(dir.path().into(), b"GIF89a....".to_vec(), 1 << 20).await;
        assert!(matches!(e, Err(AppError::UnsupportedMediaType)));
        let e = store(dir.path().into(), b"hello".to_vec(), 1 << 20).await;
        assert!(matches!(e, Err(AppError::UnsupportedMediaType)));
        let mut broken = png(10, 10);
        broken.truncate(40);
        let e = store(dir.path().into(), broken, 1 << 20).await;
        assert!(matches!(e, Err(AppError::UnsupportedMediaType)));
        let e = store(dir.path().into(), png(100, 100), 10).await;
        assert!(matches!(e, Err(AppError::PhotoTooLarge { .. })));
    }

    /// A JPEG carrying an EXIF GPS position (东经 115°59'24", 北纬 36°27'0").
    pub fn jpeg_with_gps() -> Vec<u8> {
        use exif::{Field, In, Rational, Tag, Value};
        let r = |n: u32| Rational { num: n, denom: 1 };
        let fields = [
            Field {
                tag: Tag::GPSLatitudeRef,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![b"N".to_vec()]),
            },
            Field {
                tag: Tag::GPSLatitude,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![r(36), r(27), r(0)]),
            },
            Field {
                tag: Tag::GPSLongitudeRef,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![b"E".to_vec()]),
            },
            Field {
                tag: Tag::GPSLongitude,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![r(115), r(59), r(24)]),
            },
        ];
        let mut w = exif::experimental::Writer::new();
        for f in &fields {
            w.push_field(f);
        }
        let mut tiff = Cursor::new(Vec::new());
        w.write(&mut tiff, false).unwrap();
        let tiff = tiff.into_inner();
        let img =
            image::RgbImage::from_fn(32, 32, |x, y| image::Rgb([x as u8 * 8, y as u8 * 8, 128]));
        let mut jpeg = Vec::new();
        img.write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        // SOI, then an APP1 "Exif" segment, then the rest of the JPEG.
        let mut out = jpeg[..2].to_vec();
        let len = (2 + 6 + tiff.len()) as u16;
        out.extend([0xFF, 0xE1]);
        out.extend(len.to_be_bytes());
        out.extend(b"Exif\0\0");
        out.extend(&tiff);
        out.extend(&jpeg[2..]);
        out
    }

    #[tokio::test]
    async fn reads_the_exif_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = store(dir.path().into(), jpeg_with_gps(), 1 << 20)
            .await
            .unwrap();
        let (lon, lat) = (p.lon.unwrap(), p.lat.unwrap());
        assert!(
            (lon - 115.99).abs() < 1e-9 && (lat - 36.45).abs() < 1e-9,
            "{lon} {lat}"
        );
        assert_eq!(p.mime, "image/jpeg");
        assert_eq!(exif_position(&png(4, 4)), None);
    }
}
