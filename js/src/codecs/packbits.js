// virtual_geotiff.packbits: TIFF PackBits run-length decoding (not numcodecs.packbits).
import { configure, itemSize, product, readOnly, VirtualGeoTiffCodecError } from "../chunk.js";

const NAME = "virtual_geotiff.packbits";

export class PackBitsCodec {
	kind = "bytes_to_bytes";
	encode = readOnly(NAME);

	/** @param {unknown} config @param {{dataType: string, shape: number[]}} meta */
	constructor(config, meta) {
		// exact: nothing after this codec pads a short chunk, so one decoding short is corrupt
		this.exact = configure(NAME, config, { exact: false }).exact;
		this.expected = product(meta.shape) * itemSize(NAME, meta.dataType);
	}

	/** @param {any} config @param {any} meta */
	static fromConfig(config, meta) {
		return new PackBitsCodec(config, meta);
	}

	/** @param {Uint8Array} bytes */
	async decode(bytes) {
		let out = new Uint8Array(Math.max(this.expected, 16));
		let o = 0;
		const room = (/** @type {number} */ n) => {
			if (o + n <= out.length) return;
			const bigger = new Uint8Array(Math.max(out.length * 2, o + n));
			bigger.set(out.subarray(0, o));
			out = bigger;
		};
		let i = 0;
		while (i < bytes.length) {
			const h = (bytes[i++] << 24) >> 24; // signed header byte
			if (h >= 0) {
				const n = Math.min(h + 1, bytes.length - i);
				room(n);
				out.set(bytes.subarray(i, i + n), o);
				o += n;
				i += n;
			} else if (h !== -128) {
				if (i >= bytes.length) break;
				const n = 1 - h;
				room(n);
				out.fill(bytes[i++], o, o + n);
				o += n;
			}
		}
		if (this.exact && o < this.expected) {
			throw new VirtualGeoTiffCodecError(
				NAME,
				`a chunk decoded to ${o} bytes, not the ${this.expected} of a full chunk; the chunk is corrupt`,
			);
		}
		return out.subarray(0, this.exact ? this.expected : o);
	}
}
