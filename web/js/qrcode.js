// QR Code encoder (ISO/IEC 18004:2015, Model 2), written for this dashboard.
//
// Why it exists: two-factor enrolment needs the otpauth:// URI shown as a
// scannable code, and the web UI may not load third-party code or anything
// from the network at run time, so the encoder lives here.
//
// What of the standard it implements:
//   * byte mode only (8.4.4): the text is encoded as UTF-8 without an ECI
//     header, which is what authenticator apps and common readers expect;
//     otpauth URIs are plain ASCII anyway;
//   * error correction levels L, M, Q, H; versions 1..40, the smallest one
//     that fits is chosen (7.4.10, table 9 for block structure);
//   * Reed-Solomon codes over GF(2^8) with the polynomial 0x11D (7.5.2),
//     split into blocks and interleaved (7.6);
//   * finder, separator, timing and alignment patterns (6.3, annex E),
//     the dark module, format information with its BCH(15,5) code and mask
//     (7.9.1), version information with its BCH(18,6) code for v >= 7 (7.10);
//   * codeword placement (7.7.3) and all eight data masks, picking the one
//     with the lowest penalty under the four rules of 7.8.3.1.
// Not implemented: numeric/alphanumeric/kanji modes, ECI, structured append,
// Micro QR. Byte mode alone costs at most a version or two for our inputs.

const LEVELS = {
  // Index into the tables below, and the two format bits (table 12).
  L: { index: 0, bits: 0b01 },
  M: { index: 1, bits: 0b00 },
  Q: { index: 2, bits: 0b11 },
  H: { index: 3, bits: 0b10 },
};

// Table 9: error correction codewords per block, by level then version 1..40.
const EC_PER_BLOCK = [
  [7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
    28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
    26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
  [13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
    28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  [17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
    30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
];

// Table 9: number of error correction blocks, by level then version 1..40.
const BLOCKS = [
  [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
    8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
  [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
    17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
  [1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
    23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
  [1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
    25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
];

const sizeOf = (version) => 17 + 4 * version;

// Annex E: alignment pattern centres. The spacing is even and equal except
// for the first gap, which absorbs the remainder; version 32 is the one
// version where the table deviates from the rounding rule.
function alignmentPositions(version) {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const last = sizeOf(version) - 7;
  const step = version === 32 ? 26 : Math.ceil((last - 6) / (count - 1) / 2) * 2;
  const pos = [6];
  for (let i = count - 2; i >= 0; i--) pos.push(last - i * step);
  return pos;
}

// Modules left for codewords once every function pattern and the format and
// version areas are taken out (table 1 "data modules"); counted here rather
// than tabulated so it cannot drift from how the matrix is actually drawn.
function rawDataModules(version) {
  const n = alignmentPositions(version).length;
  const size = sizeOf(version);
  let used = 3 * 64 + 2 * (size - 16) + 31; // finders+separators, timing, format+dark module
  if (n > 0) {
    // n*n patterns minus the three that would sit on finders; those on row or
    // column 6 share 5 modules each with a timing line already counted.
    used += (n * n - 3) * 25 - 2 * (n - 2) * 5;
  }
  if (version >= 7) used += 36;
  return size * size - used;
}

function capacity(version, level) {
  const total = Math.floor(rawDataModules(version) / 8);
  const blocks = BLOCKS[level.index][version - 1];
  const ec = EC_PER_BLOCK[level.index][version - 1];
  return { total, blocks, ec, data: total - blocks * ec };
}

// ---- GF(256) and Reed-Solomon ----------------------------------------------------

const EXP = new Uint8Array(512); // doubled so products skip a modulo
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
}
const gfMul = (a, b) => (a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]);

const generators = new Map();
// Generator polynomial (x - a^0)(x - a^1)...(x - a^(n-1)), highest power first,
// leading 1 dropped because the division below never needs it.
function generator(n) {
  let g = generators.get(n);
  if (g) return g;
  const poly = [1];
  for (let i = 0; i < n; i++) {
    poly.push(0);
    for (let j = poly.length - 1; j > 0; j--) poly[j] = poly[j] ^ gfMul(poly[j - 1], EXP[i]);
  }
  g = poly.slice(1);
  generators.set(n, g);
  return g;
}

function reedSolomon(data, n) {
  const g = generator(n);
  const rem = new Array(n).fill(0);
  for (const byte of data) {
    const factor = byte ^ rem.shift();
    rem.push(0);
    for (let i = 0; i < n; i++) rem[i] ^= gfMul(g[i], factor);
  }
  return rem;
}

// ---- data codewords --------------------------------------------------------------

function utf8(text) {
  return new TextEncoder().encode(String(text));
}

function chooseVersion(length, level) {
  for (let v = 1; v <= 40; v++) {
    const countBits = v <= 9 ? 8 : 16;
    if (4 + countBits + 8 * length <= capacity(v, level).data * 8) return v;
  }
  const max = capacity(40, level).data - 3; // mode + 16-bit count take 3 bytes
  throw new Error(
    `qrcode: input is ${length} bytes, more than a version 40 QR code holds ` +
      `at error correction level ${level.name} (${max} bytes)`,
  );
}

function dataCodewords(bytes, version, dataLength) {
  const bits = [];
  const put = (value, count) => {
    for (let i = count - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  put(0b0100, 4); // byte mode
  put(bytes.length, version <= 9 ? 8 : 16);
  for (const b of bytes) put(b, 8);
  const capacityBits = dataLength * 8;
  put(0, Math.min(4, capacityBits - bits.length)); // terminator, may be cut short
  put(0, (8 - (bits.length % 8)) % 8);
  const out = [];
  for (let i = 0; i < bits.length; i += 8) {
    let b = 0;
    for (let j = 0; j < 8; j++) b = (b << 1) | bits[i + j];
    out.push(b);
  }
  for (let pad = 0xec; out.length < dataLength; pad ^= 0xec ^ 0x11) out.push(pad);
  return out;
}

// 7.6: shorter blocks come first; data then ECC are read out column by column.
function interleave(data, cap) {
  const shortCount = cap.blocks - (cap.total % cap.blocks);
  const shortData = Math.floor(cap.total / cap.blocks) - cap.ec;
  const blocks = [];
  let offset = 0;
  for (let i = 0; i < cap.blocks; i++) {
    const len = shortData + (i < shortCount ? 0 : 1);
    const d = data.slice(offset, offset + len);
    offset += len;
    blocks.push({ d, e: reedSolomon(d, cap.ec) });
  }
  const out = [];
  for (let i = 0; i <= shortData; i++) {
    for (const b of blocks) if (i < b.d.length) out.push(b.d[i]);
  }
  for (let i = 0; i < cap.ec; i++) for (const b of blocks) out.push(b.e[i]);
  return out;
}

// ---- matrix ----------------------------------------------------------------------

// BCH remainder of `value` (already shifted left by the degree) by `poly`.
function bchRemainder(value, poly) {
  const degree = 31 - Math.clz32(poly);
  let r = value;
  while (31 - Math.clz32(r) >= degree) r ^= poly << (31 - Math.clz32(r) - degree);
  return r;
}

function formatBits(level, mask) {
  const data = (level.bits << 3) | mask;
  return ((data << 10) | bchRemainder(data << 10, 0x537)) ^ 0x5412;
}

function versionBits(version) {
  return (version << 12) | bchRemainder(version << 12, 0x1f25);
}

class Grid {
  constructor(size) {
    this.size = size;
    this.dark = Array.from({ length: size }, () => new Array(size).fill(false));
    this.fixed = Array.from({ length: size }, () => new Array(size).fill(false));
  }
  set(row, col, dark) {
    this.dark[row][col] = dark;
    this.fixed[row][col] = true;
  }
}

function drawFunctionPatterns(grid, version) {
  const size = grid.size;
  for (const [r0, c0] of [[0, 0], [0, size - 7], [size - 7, 0]]) {
    // 7x7 finder plus its one-module light separator, clipped at the edge.
    for (let dr = -1; dr <= 7; dr++) {
      for (let dc = -1; dc <= 7; dc++) {
        const r = r0 + dr;
        const c = c0 + dc;
        if (r < 0 || c < 0 || r >= size || c >= size) continue;
        const ring = Math.max(Math.abs(dr - 3), Math.abs(dc - 3));
        grid.set(r, c, ring !== 2 && ring !== 4);
      }
    }
  }
  for (let i = 8; i < size - 8; i++) {
    grid.set(6, i, i % 2 === 0);
    grid.set(i, 6, i % 2 === 0);
  }
  const pos = alignmentPositions(version);
  const first = pos[0];
  const last = pos[pos.length - 1];
  for (const r of pos) {
    for (const c of pos) {
      // The three corners that hold finders get no alignment pattern.
      if ((r === first && (c === first || c === last)) || (r === last && c === first)) continue;
      for (let dr = -2; dr <= 2; dr++) {
        for (let dc = -2; dc <= 2; dc++) {
          grid.set(r + dr, c + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
        }
      }
    }
  }
  // Reserve the format areas now (real bits come after masking) so codeword
  // placement steps around them.
  drawFormat(grid, 0);
  grid.set(size - 8, 8, true); // the dark module
  if (version >= 7) {
    const bits = versionBits(version);
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) === 1;
      const a = size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      grid.set(a, b, dark);
      grid.set(b, a, dark);
    }
  }
}

// Bit 14 is the most significant; figure 25 lays the two copies out so that
// each reads in the same order starting from the finder corner.
function drawFormat(grid, bits) {
  const size = grid.size;
  const bit = (i) => ((bits >>> i) & 1) === 1;
  for (let i = 0; i <= 5; i++) grid.set(i, 8, bit(i));
  grid.set(7, 8, bit(6));
  grid.set(8, 8, bit(7));
  grid.set(8, 7, bit(8));
  for (let i = 9; i < 15; i++) grid.set(8, 14 - i, bit(i));
  for (let i = 0; i < 8; i++) grid.set(8, size - 1 - i, bit(i));
  for (let i = 8; i < 15; i++) grid.set(size - 15 + i, 8, bit(i));
}

// 7.7.3: two-module-wide columns, right to left, snaking up and down, with
// the vertical timing column skipped entirely. Remainder bits stay light.
function placeCodewords(grid, codewords) {
  const size = grid.size;
  const total = codewords.length * 8;
  let k = 0;
  let upward = true;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let step = 0; step < size; step++) {
      const row = upward ? size - 1 - step : step;
      for (const col of [right, right - 1]) {
        if (grid.fixed[row][col]) continue;
        if (k < total) {
          grid.dark[row][col] = ((codewords[k >>> 3] >>> (7 - (k & 7))) & 1) === 1;
          k++;
        }
      }
    }
    upward = !upward;
  }
}

const MASKS = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (r, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
];

function applyMask(grid, mask) {
  const fn = MASKS[mask];
  for (let r = 0; r < grid.size; r++) {
    for (let c = 0; c < grid.size; c++) {
      if (!grid.fixed[r][c] && fn(r, c)) grid.dark[r][c] = !grid.dark[r][c];
    }
  }
}

// 7.8.3.1. For the 1:1:3:1:1 rule the area outside the symbol counts as
// light, as the quiet zone is what a reader actually sees there.
function penalty(m) {
  const size = m.length;
  let score = 0;
  const at = (line, i) => (i < 0 || i >= size ? false : line(i));
  const FINDER = [true, false, true, true, true, false, true];
  const lineScore = (line) => {
    let s = 0;
    let run = 1;
    for (let i = 1; i <= size; i++) {
      if (i < size && line(i) === line(i - 1)) run++;
      else {
        if (run >= 5) s += 3 + (run - 5);
        run = 1;
      }
    }
    for (let i = -4; i < size; i++) {
      let match = true;
      for (let j = 0; j < 7 && match; j++) match = at(line, i + j) === FINDER[j];
      if (!match) continue;
      let lightBefore = true;
      let lightAfter = true;
      for (let j = 1; j <= 4; j++) {
        if (at(line, i - j)) lightBefore = false;
        if (at(line, i + 6 + j)) lightAfter = false;
      }
      if (lightBefore) s += 40;
      if (lightAfter) s += 40;
    }
    return s;
  };
  let dark = 0;
  for (let r = 0; r < size; r++) {
    score += lineScore((i) => m[r][i]);
    score += lineScore((i) => m[i][r]);
    for (let c = 0; c < size; c++) {
      if (m[r][c]) dark++;
      if (r + 1 < size && c + 1 < size) {
        const v = m[r][c];
        if (m[r][c + 1] === v && m[r + 1][c] === v && m[r + 1][c + 1] === v) score += 3;
      }
    }
  }
  const percent = (dark * 100) / (size * size);
  score += Math.floor(Math.abs(percent - 50) / 5) * 10;
  return score;
}

function levelOf(ecc) {
  const name = String(ecc).toUpperCase();
  const level = LEVELS[name];
  if (!level) throw new Error(`qrcode: unknown error correction level ${JSON.stringify(ecc)} (use L, M, Q or H)`);
  return { ...level, name };
}

/**
 * Encode `text` (as UTF-8, byte mode) into a QR code.
 * Returns `{ size, modules }`: `modules[row][col]` is true for dark, no quiet zone.
 * Throws if the text does not fit in version 40 at the chosen level.
 */
export function qrMatrix(text, { ecc = "M" } = {}) {
  const level = levelOf(ecc);
  const bytes = utf8(text);
  const version = chooseVersion(bytes.length, level);
  const cap = capacity(version, level);
  const codewords = interleave(dataCodewords(bytes, version, cap.data), cap);

  const grid = new Grid(sizeOf(version));
  drawFunctionPatterns(grid, version);
  placeCodewords(grid, codewords);

  let best = null;
  for (let mask = 0; mask < 8; mask++) {
    applyMask(grid, mask);
    drawFormat(grid, formatBits(level, mask));
    const score = penalty(grid.dark);
    if (best === null || score < best.score) best = { score, modules: grid.dark.map((row) => row.slice()) };
    applyMask(grid, mask); // XOR again to undo
  }
  return { size: grid.size, modules: best.modules };
}

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Render `text` as an <svg> QR code: a white background and one path for the
 * dark modules, sized in whole pixels per module so edges stay crisp.
 * Uses attributes only (no style=), so it works under a strict CSP.
 */
export function qrSvgElement(text, { ecc = "M", margin = 4, pixelsPerModule = 4, title = "QR code" } = {}) {
  const { size, modules } = qrMatrix(text, { ecc });
  const full = size + 2 * margin;
  const px = full * pixelsPerModule;

  // Horizontal runs, one subpath each, keep `d` short for large versions.
  let d = "";
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; ) {
      if (!modules[r][c]) {
        c++;
        continue;
      }
      const start = c;
      while (c < size && modules[r][c]) c++;
      const len = c - start;
      d += `M${start + margin} ${r + margin}h${len}v1h-${len}z`;
    }
  }

  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${full} ${full}`);
  svg.setAttribute("width", String(px));
  svg.setAttribute("height", String(px));
  svg.setAttribute("role", "img");
  svg.setAttribute("shape-rendering", "crispEdges");

  const titleEl = document.createElementNS(SVG_NS, "title");
  titleEl.textContent = title;
  svg.append(titleEl);

  const bg = document.createElementNS(SVG_NS, "rect");
  bg.setAttribute("width", String(full));
  bg.setAttribute("height", String(full));
  bg.setAttribute("fill", "#fff");
  svg.append(bg);

  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(path);
  return svg;
}
