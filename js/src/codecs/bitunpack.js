// virtual_geotiff.bitunpack: 1..32-bit MSB-first packed samples (rows byte-aligned) -> unsigned integers.
import {
	cStrides,
	configure,
	product,
	readOnly,
	representationShape,
	rowsOf,
	typedArrayFor,
	VirtualGeoTiffCodecError,
} from "../chunk.js";

const NAME = "virtual_geotiff.bitunpack";

export class BitUnpackCodec {
	kind = "array_to_bytes";
	encode = readOnly(NAME);

	/**
	 * @param {{bits?: number, samples?: number, min_rows?: number}} config
	 * @param {{dataType: string, shape: number[], codecs: any[]}} meta
	 */
	constructor(config, meta) {
		const { bits, samples, min_rows } = configure(NAME, config, { bits: 1, samples: 1, min_rows: 0 });
		if (!Number.isInteger(bits) || bits < 1 || bits > 32) {
			throw new VirtualGeoTiffCodecError(NAME, `bits must be an integer in 1..32, got ${bits}`);
		}
		if (!Number.isInteger(samples) || samples < 1) {
			throw new VirtualGeoTiffCodecError(NAME, `samples must be a positive integer, got ${samples}`);
		}
		if (!["uint8", "uint16", "uint32"].includes(meta.dataType)) {
			throw new VirtualGeoTiffCodecError(NAME, `unpacks to uint8/16/32, not ${meta.dataType}`);
		}
		this.bits = bits;
		this.samples = samples;
		this.minRows = min_rows;
		this.shape = meta.shape;
		this.Ctr = typedArrayFor(NAME, meta.dataType);
		const rep = representationShape(meta, NAME);
		this.perRow = rowsOf(rep, samples).perRow;
		this.total = product(rep);
	}

	/** @param {any} config @param {any} meta */
	static fromConfig(config, meta) {
		return new BitUnpackCodec(config, meta);
	}

	/** @param {Uint8Array} bytes */
	decode(bytes) {
		const { bits, perRow: n, total } = this;
		const rowBytes = Math.ceil((n * bits) / 8);
		const rows = Math.min(Math.floor(bytes.length / rowBytes), total / n);
		if (rows < this.minRows) {
			throw new VirtualGeoTiffCodecError(
				NAME,
				`a ${bits}-bit chunk holds ${rows} full rows of ${rowBytes} bytes (${bytes.length} bytes), fewer ` +
					`than the ${this.minRows} rows even the shortest chunk has; the chunk is corrupt`,
			);
		}
		const out = new this.Ctr(total);
		for (let r = 0; r < rows; r++) {
			let at = r * rowBytes;
			let acc = 0; // < 2^40: exact in a double
			let held = 0;
			for (let k = 0, o = r * n; k < n; k++, o++) {
				while (held < bits) {
					acc = acc * 256 + bytes[at++];
					held += 8;
				}
				held -= bits;
				const scale = 2 ** held;
				const value = Math.floor(acc / scale);
				acc -= value * scale;
				out[o] = value;
			}
		}
		return { data: out, shape: this.shape, stride: cStrides(this.shape) };
	}
}
