// virtual_geotiff.floating_point_predictor: undo TIFF Predictor=3 (byte planes, differenced), bytes -> samples.
import {
	cStrides,
	configure,
	itemSize,
	LITTLE_ENDIAN,
	product,
	readOnly,
	representationShape,
	rowsOf,
	typedArrayFor,
	VirtualGeoTiffCodecError,
} from "../chunk.js";

const NAME = "virtual_geotiff.floating_point_predictor";

export class FloatingPointPredictorCodec {
	kind = "array_to_bytes";
	encode = readOnly(NAME);

	/** @param {{samples?: number}} config @param {{dataType: string, shape: number[], codecs: any[]}} meta */
	constructor(config, meta) {
		const { samples } = configure(NAME, config, { samples: 1 });
		if (!Number.isInteger(samples) || samples < 1) {
			throw new VirtualGeoTiffCodecError(NAME, `samples must be a positive integer, got ${samples}`);
		}
		if (!["float16", "float32", "float64"].includes(meta.dataType)) {
			throw new VirtualGeoTiffCodecError(NAME, `Predictor=3 is not defined for ${meta.dataType} samples`);
		}
		this.samples = samples;
		this.shape = meta.shape;
		this.dataType = meta.dataType;
		this.size = itemSize(NAME, meta.dataType);
		const rep = representationShape(meta, NAME);
		const { perRow, rows } = rowsOf(rep, samples);
		this.perRow = perRow;
		this.rows = rows;
		this.total = product(rep);
	}

	/** @param {any} config @param {any} meta */
	static fromConfig(config, meta) {
		return new FloatingPointPredictorCodec(config, meta);
	}

	/** @param {Uint8Array} bytes */
	decode(bytes) {
		const { perRow: n, rows, samples, size: s } = this;
		const rowBytes = n * s;
		if (bytes.length !== rows * rowBytes) {
			throw new VirtualGeoTiffCodecError(
				NAME,
				`chunk holds ${bytes.length} bytes, expected ${rows * rowBytes}; the chunk is corrupt`,
			);
		}
		const out = new Uint8Array(rows * rowBytes);
		const tmp = new Uint8Array(rowBytes);
		for (let r = 0; r < rows; r++) {
			const start = r * rowBytes;
			tmp.set(bytes.subarray(start, start + rowBytes));
			for (let i = samples; i < rowBytes; i++) tmp[i] = (tmp[i] + tmp[i - samples]) & 0xff;
			for (let j = 0; j < s; j++) {
				// plane j holds the byte of significance j (0 = most significant) of every sample
				const dst = LITTLE_ENDIAN ? s - 1 - j : j;
				const plane = j * n;
				for (let k = 0; k < n; k++) out[start + k * s + dst] = tmp[plane + k];
			}
		}
		const Ctr = typedArrayFor(NAME, this.dataType);
		return { data: new Ctr(out.buffer, 0, this.total), shape: this.shape, stride: cStrides(this.shape) };
	}
}
