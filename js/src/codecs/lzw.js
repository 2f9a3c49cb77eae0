// virtual_geotiff.lzw: TIFF LZW (MSB-first codes, 9..12 bits, early change), stopping at a full chunk.
import { configure, itemSize, product, readOnly, VirtualGeoTiffCodecError } from "../chunk.js";

const NAME = "virtual_geotiff.lzw";
const CLEAR = 256;
const EOI = 257;
const FIRST = 258;
const MAX_CODES = 4096;

export class LzwCodec {
	kind = "bytes_to_bytes";
	encode = readOnly(NAME);

	/** @param {unknown} config @param {{dataType: string, shape: number[]}} meta */
	constructor(config, meta) {
		// exact: nothing after this codec pads a short chunk, so one decoding short is corrupt
		this.exact = configure(NAME, config, { exact: false }).exact;
		this.want = product(meta.shape) * itemSize(NAME, meta.dataType);
	}

	/** @param {any} config @param {any} meta */
	static fromConfig(config, meta) {
		return new LzwCodec(config, meta);
	}

	/**
	 * Table entries are (start, length) spans of the output itself: the new entry "previous string + first
	 * byte of this one" is the previous string's span one byte longer, since this string follows it directly.
	 * @param {Uint8Array} bytes
	 */
	async decode(bytes) {
		if (bytes.length >= 2 && bytes[0] === 0 && (bytes[1] & 1) === 1) {
			throw new VirtualGeoTiffCodecError(NAME, "old-style (LSB-first) LZW is not supported");
		}
		const want = this.want;
		const out = new Uint8Array(want + MAX_CODES + 1); // slack: the last string may run past the chunk
		const start = new Int32Array(MAX_CODES);
		const length = new Int32Array(MAX_CODES);
		let o = 0;
		let width = 9;
		let next = FIRST;
		let prevAt = -1; // span of the previous string; -1 right after a ClearCode
		let prevLen = 0;
		let acc = 0;
		let held = 0;
		let i = 0;
		while (o < want) {
			while (held < width && i < bytes.length) {
				acc = ((acc << 8) | bytes[i++]) & 0xffffff;
				held += 8;
			}
			if (held < width) break; // the input ended without EOI
			held -= width;
			const code = (acc >>> held) & ((1 << width) - 1);
			if (code === EOI) break;
			if (code === CLEAR) {
				width = 9;
				next = FIRST;
				prevAt = -1;
				continue;
			}
			const at = o;
			if (code < 256) {
				out[o++] = code;
			} else if (prevAt === -1 || code > next || code === CLEAR || code === EOI) {
				throw new VirtualGeoTiffCodecError(NAME, `invalid code ${code} (next free code ${next}); the chunk is corrupt`);
			} else if (code < next) {
				out.copyWithin(o, start[code], start[code] + length[code]);
				o += length[code];
			} else {
				out.copyWithin(o, prevAt, prevAt + prevLen); // code === next: previous string + its first byte
				o += prevLen;
				out[o++] = out[prevAt];
			}
			if (prevAt !== -1 && next < MAX_CODES) {
				start[next] = prevAt;
				length[next] = prevLen + 1;
				next++;
				if (next >= (1 << width) - 1 && width < 12) width++;
			}
			prevAt = at;
			prevLen = o - at;
		}
		if (this.exact && o < want) {
			throw new VirtualGeoTiffCodecError(NAME, `a chunk decoded to ${o} bytes, not the ${want} of a full chunk; the chunk is corrupt`);
		}
		return out.subarray(0, Math.min(o, want));
	}
}
