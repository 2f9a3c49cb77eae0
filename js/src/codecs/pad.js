// virtual_geotiff.pad: zero-pad a short decoded strip to the full chunk (or drop bytes after it).
import { configure, itemSize, product, readOnly, VirtualGeoTiffCodecError } from "../chunk.js";

const NAME = "virtual_geotiff.pad";

export class PadCodec {
	kind = "bytes_to_bytes";
	encode = readOnly(NAME);

	/** @param {{min_bytes?: number, row_bytes?: number}} config @param {{dataType: string, shape: number[]}} meta */
	constructor(config, meta) {
		const { min_bytes, row_bytes } = configure(NAME, config, { min_bytes: 0, row_bytes: 0 });
		this.minBytes = min_bytes;
		this.rowBytes = row_bytes; // when set, a short chunk must be exactly the short last strip
		this.want = product(meta.shape) * itemSize(NAME, meta.dataType);
	}

	/** @param {any} config @param {any} meta */
	static fromConfig(config, meta) {
		return new PadCodec(config, meta);
	}

	/** @param {Uint8Array} bytes */
	async decode(bytes) {
		const want = this.want;
		if (bytes.length === want) return bytes;
		if (bytes.length > want) return bytes.subarray(0, want);
		if (bytes.length < this.minBytes) {
			throw new VirtualGeoTiffCodecError(
				NAME,
				`a chunk decoded to ${bytes.length} bytes, fewer than the ${this.minBytes} even the short last strip ` +
					`holds (a full chunk is ${want}); the chunk is corrupt`,
			);
		}
		if (this.rowBytes && bytes.length !== this.minBytes) {
			throw new VirtualGeoTiffCodecError(
				NAME,
				`a chunk decoded to ${bytes.length} bytes: neither a full chunk (${want}) nor the short last strip ` +
					`(${this.minBytes}); the chunk is corrupt`,
			);
		}
		const out = new Uint8Array(want);
		out.set(bytes);
		return out;
	}
}
