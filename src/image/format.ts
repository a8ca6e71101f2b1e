// Tells the image format from the first bytes, the way a decoder would.

export type SupportedFormat = 'png' | 'jpeg' | 'webp' | 'gif';

export type Sniffed = { format: SupportedFormat } | { unsupported: string } | { unknown: true };

function startsWith(bytes: Uint8Array, sig: number[], at = 0): boolean {
  if (bytes.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (bytes[at + i] !== sig[i]) return false;
  return true;
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

export function sniffFormat(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { format: 'png' };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { format: 'jpeg' };
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return { format: 'gif' };
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return { format: 'webp' };
  // Formats PIL could open but whose pixels we have not proven equal: refuse by name.
  if (startsWith(bytes, ascii('BM'))) return { unsupported: 'BMP' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { unsupported: 'TIFF' };
  }
  if (startsWith(bytes, ascii('ftyp'), 4)) return { unsupported: 'HEIF/AVIF' };
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return { unsupported: 'ICO' };
  if (startsWith(bytes, ascii('8BPS'))) return { unsupported: 'PSD' };
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) {
    return { unsupported: 'JPEG XL' };
  }
  if (startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50])) return { unsupported: 'JPEG 2000' };
  if (startsWith(bytes, ascii('P')) && bytes.length > 1 && bytes[1] >= 0x31 && bytes[1] <= 0x37) {
    return { unsupported: 'PNM' };
  }
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return { unsupported: 'SVG' };
  return { unknown: true };
}
