//! The image pipeline, run on a bounded pool (`Uploads::image_workers`) off the async
//! threads: the header is read first and an image over the pixel limit is refused before a
//! byte of it is decoded (a decompression bomb costs nothing); the decoder runs under
//! `image::Limits`; the picture is turned upright by its EXIF orientation and re-encoded, so
//! what is stored carries no EXIF, GPS or other metadata; a JPEG thumbnail is made beside it.

use std::io::{BufReader, Cursor};
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_PX: u32 = 320;
/// JPEG quality of re-encoded photos and of thumbnails.
const PHOTO_QUALITY: u8 = 85;
const THUMBNAIL_QUALITY: u8 = 80;

/// A re-encoded image and its thumbnail.
#[derive(Debug)]
pub struct Processed {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    pub thumbnail: Vec<u8>,
}

/// Why an image was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImageRefusal {
    #[error("the image is {width}×{height} pixels; the maximum is {max} pixels")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the image cannot be read: {0}")]
    Unreadable(String),
}

/// Decodes the image at `path` (of sniffed type `mime`) and re-encodes it. Blocking.
pub fn process(path: &Path, mime: &str, max_pixels: u64) -> Result<Processed, ImageRefusal> {
    let format = match mime {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        "image/gif" => ImageFormat::Gif,
        "image/webp" => ImageFormat::WebP,
        other => {
            return Err(ImageRefusal::Unreadable(format!(
                "{other} is not an image type"
            )))
        }
    };
    let reader = || -> Result<_, ImageRefusal> {
        let file = std::fs::File::open(path).map_err(unreadable)?;
        Ok(ImageReader::with_format(BufReader::new(file), format))
    };
    let (width, height) = reader()?.into_dimensions().map_err(unreadable)?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ImageRefusal::TooManyPixels {
            width,
            height,
            max: max_pixels,
        });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // The decoded picture (at most 16 bytes a pixel) and the decoder's own buffers.
    limits.max_alloc = Some(max_pixels.saturating_mul(16).max(64 << 20));
    let mut reader = reader()?;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    picture.apply_orientation(orientation);

    // Lossless stays lossless; a photo stays a JPEG; a GIF or WebP becomes whichever of the
    // two fits (the first frame of an animation).
    let keep_png = format == ImageFormat::Png || picture.color().has_alpha();
    let (bytes, mime) = if keep_png {
        (encode_png(&picture)?, "image/png")
    } else {
        (encode_jpeg(&picture, PHOTO_QUALITY)?, "image/jpeg")
    };
    let thumbnail = encode_jpeg(
        &picture.thumbnail(THUMBNAIL_PX, THUMBNAIL_PX),
        THUMBNAIL_QUALITY,
    )?;
    Ok(Processed {
        bytes,
        mime,
        width: picture.width(),
        height: picture.height(),
        thumbnail,
    })
}

fn encode_png(picture: &DynamicImage) -> Result<Vec<u8>, ImageRefusal> {
    let mut out = Cursor::new(Vec::new());
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive);
    picture.write_with_encoder(encoder).map_err(unreadable)?;
    Ok(out.into_inner())
}

/// JPEG has no alpha: transparent parts are laid on white.
fn encode_jpeg(picture: &DynamicImage, quality: u8) -> Result<Vec<u8>, ImageRefusal> {
    let rgb = if picture.color().has_alpha() {
        let mut rgba = picture.to_rgba8();
        for pixel in rgba.pixels_mut() {
            let alpha = u16::from(pixel[3]);
            for channel in 0..3 {
                let over_white = (u16::from(pixel[channel]) * alpha + 255 * (255 - alpha)) / 255;
                pixel[channel] = u8::try_from(over_white).unwrap_or(u8::MAX);
            }
        }
        DynamicImage::ImageRgba8(rgba).to_rgb8()
    } else {
        picture.to_rgb8()
    };
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .map_err(unreadable)?;
    Ok(out)
}

fn unreadable(e: impl std::fmt::Display) -> ImageRefusal {
    ImageRefusal::Unreadable(e.to_string())
}
