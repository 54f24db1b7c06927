// Camera photos are shrunk in the browser before they are queued: long side at most 1600 px,
// JPEG at quality 0.8 (a 12-megapixel photo of 4–6 MB becomes about 200–400 KB).
const LONG_SIDE = 1600;
const QUALITY = 0.8;

async function decode(file: Blob): Promise<ImageBitmap | HTMLImageElement> {
  if ('createImageBitmap' in window) {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch {
      /* fall back to an <img> below */
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

export async function compress(file: Blob): Promise<Blob> {
  let img: ImageBitmap | HTMLImageElement;
  try {
    img = await decode(file);
  } catch {
    return file; // not decodable here; the server checks the format
  }
  const w = img.width;
  const h = img.height;
  const scale = Math.min(1, LONG_SIDE / Math.max(w, h));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(w * scale));
  canvas.height = Math.max(1, Math.round(h * scale));
  const ctx = canvas.getContext('2d');
  if (!ctx) return file;
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  if ('close' in img) img.close();
  const out = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
  // A small JPEG can grow when re-encoded; keep whichever is smaller.
  if (!out || (file.type === 'image/jpeg' && scale === 1 && out.size >= file.size)) return file;
  return out;
}
