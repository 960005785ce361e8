// Draws the console's icons (apps/web/public/icons/): one design, written as an SVG (the favicon and the manifest's
// scalable icon) and rasterised here to the PNGs the web app manifest and iOS need, with Node alone (no browser,
// no image library): each pixel is 4×4 samples of the same shapes the SVG has, encoded as an RGBA PNG.
// The PNGs are committed; run this again after changing the design:  node tooling/make-icons.mjs
// `--check` exits 1 when a committed icon differs from what this script draws.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const OUT = path.resolve(import.meta.dirname, '../apps/web/public/icons');

// The console's --accent (light theme) behind a white slashed zero: "alter0".
const BACKGROUND = [0x24, 0x57, 0xc5];
const FOREGROUND = [0xff, 0xff, 0xff];

/**
 * The design on a 1×1 canvas. `full`: the background fills the square (maskable and Apple icons, which the
 * platform crops to its own shape; the zero stays inside the maskable safe zone, a circle of radius 0.4).
 */
function design(full) {
  const scale = full ? 0.8 : 1;
  const rx = 0.2 * scale;
  const ry = 0.29 * scale;
  const stroke = 0.085 * scale;
  const slash = 0.6;
  return {
    corner: full ? 0 : 0.22,
    zero: { cx: 0.5, cy: 0.5, rx, ry, stroke },
    slash: {
      x1: 0.5 - rx * slash,
      y1: 0.5 + ry * slash,
      x2: 0.5 + rx * slash,
      y2: 0.5 - ry * slash,
      stroke: stroke * 0.85,
    },
  };
}

const hex = (rgb) => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
const n = (x, size) => +(x * size).toFixed(2);

function svg(d, size = 512) {
  const { zero: z, slash: s } = d;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" width="${size}" height="${size}">
  <title>alter0</title>
  <rect width="${size}" height="${size}" rx="${n(d.corner, size)}" fill="${hex(BACKGROUND)}"/>
  <g fill="none" stroke="${hex(FOREGROUND)}" stroke-linecap="round">
    <ellipse cx="${n(z.cx, size)}" cy="${n(z.cy, size)}" rx="${n(z.rx - z.stroke / 2, size)}" ry="${n(z.ry - z.stroke / 2, size)}" stroke-width="${n(z.stroke, size)}"/>
    <line x1="${n(s.x1, size)}" y1="${n(s.y1, size)}" x2="${n(s.x2, size)}" y2="${n(s.y2, size)}" stroke-width="${n(s.stroke, size)}"/>
  </g>
</svg>
`;
}

function inRoundedSquare(x, y, r) {
  const dx = Math.max(r - x, 0, x - (1 - r));
  const dy = Math.max(r - y, 0, y - (1 - r));
  return dx * dx + dy * dy <= r * r;
}

function inEllipse(x, y, cx, cy, rx, ry) {
  return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
}

function nearSegment(x, y, { x1, y1, x2, y2, stroke }) {
  const vx = x2 - x1;
  const vy = y2 - y1;
  const t = Math.max(0, Math.min(1, ((x - x1) * vx + (y - y1) * vy) / (vx * vx + vy * vy)));
  return Math.hypot(x - (x1 + t * vx), y - (y1 + t * vy)) <= stroke / 2;
}

/** What a point of the 1×1 canvas shows: 0 nothing, 1 background, 2 foreground. */
function sample(d, x, y) {
  if (!inRoundedSquare(x, y, d.corner)) return 0;
  const { cx, cy, rx, ry, stroke } = d.zero;
  const ring = inEllipse(x, y, cx, cy, rx, ry) && !inEllipse(x, y, cx, cy, rx - stroke, ry - stroke);
  return ring || nearSegment(x, y, d.slash) ? 2 : 1;
}

const SAMPLES = 4;

function pixels(d, size) {
  const rgba = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let bg = 0;
      let fg = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const hit = sample(d, (px + (sx + 0.5) / SAMPLES) / size, (py + (sy + 0.5) / SAMPLES) / size);
          if (hit === 1) bg++;
          else if (hit === 2) fg++;
        }
      }
      const covered = bg + fg;
      const o = (py * size + px) * 4;
      for (let c = 0; c < 3; c++)
        rgba[o + c] = covered ? Math.round((BACKGROUND[c] * bg + FOREGROUND[c] * fg) / covered) : 0;
      rgba[o + 3] = Math.round((255 * covered) / (SAMPLES * SAMPLES));
    }
  }
  return rgba;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function png(rgba, size) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits per channel, RGBA, deflate, no filter method, no interlace
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const ICONS = [
  ['icon.svg', () => svg(design(false))],
  ['icon-192.png', () => png(pixels(design(false), 192), 192)],
  ['icon-512.png', () => png(pixels(design(false), 512), 512)],
  ['icon-maskable-512.png', () => png(pixels(design(true), 512), 512)],
  ['apple-touch-icon.png', () => png(pixels(design(true), 180), 180)],
];

const check = process.argv.includes('--check');
let stale = 0;
fs.mkdirSync(OUT, { recursive: true });
for (const [name, draw] of ICONS) {
  const file = path.join(OUT, name);
  const want = Buffer.from(draw());
  if (check) {
    const same = fs.existsSync(file) && fs.readFileSync(file).equals(want);
    if (!same) stale++;
    console.log(`${same ? 'ok   ' : 'STALE'} ${path.relative(process.cwd(), file)}`);
  } else {
    fs.writeFileSync(file, want);
    console.log(`wrote ${path.relative(process.cwd(), file)} (${want.length} bytes)`);
  }
}
if (stale) {
  console.error(`${stale} icon(s) differ from tooling/make-icons.mjs: run node tooling/make-icons.mjs`);
  process.exit(1);
}
