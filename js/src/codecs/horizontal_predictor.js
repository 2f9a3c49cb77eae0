// virtual_geotiff.horizontal_predictor: undo TIFF Predictor=2, a wrapping cumulative sum along each row.
import { configure, readOnly, UNSIGNED, VirtualGeoTiffCodecError } from "../chunk.js";

const NAME = "virtual_geotiff.horizontal_predictor";
const ALLOWED = new Set(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16"]);

export class HorizontalPredictorCodec {
	kind = "array_to_array";
	encode = readOnly(NAME);

	/** @param {{axis?: number}} config @param {{dataType: string, shape: number[]}} meta */
	constructor(config, meta) {
		const { axis } = configure(NAME, config, { axis: -1 });
		if (!Number.isInteger(axis)) throw new VirtualGeoTiffCodecError(NAME, `axis must be an integer, got ${axis}`);
		if (!ALLOWED.has(meta.dataType)) {
			throw new VirtualGeoTiffCodecError(NAME, `Predictor=2 is not defined for ${meta.dataType} samples`);
		}
		this.axis = axis;
	}

	/** @param {any} config @param {any} meta */
	static fromConfig(config, meta) {
		return new HorizontalPredictorCodec(config, meta);
	}

	/**
	 * Sums along `axis` on the samples' unsigned words (typed-array stores wrap modulo 2^bits), honouring the
	 * chunk's strides: after zarrita's `transpose` the chunk is a strided view.
	 * @param {{data: any, shape: number[], stride: number[]}} chunk
	 */
	decode(chunk) {
		const { shape, stride } = chunk;
		const data = chunk.data.slice(); // never mutate the input: it may be a cached store buffer
		const Words = UNSIGNED[/** @type {1|2|4|8} */ (data.BYTES_PER_ELEMENT)];
		const w = /** @type {any} */ (new Words(data.buffer, data.byteOffset, data.length)); // number or bigint words
		const rank = shape.length;
		const axis = this.axis < 0 ? this.axis + rank : this.axis;
		if (axis < 0 || axis >= rank) throw new VirtualGeoTiffCodecError(NAME, `axis ${this.axis} out of range`);
		const n = shape[axis];
		const step = stride[axis];
		const others = shape.map((_, i) => i).filter((i) => i !== axis);
		const index = new Array(others.length).fill(0);
		const lines = others.reduce((acc, i) => acc * shape[i], 1);
		for (let line = 0; line < lines; line++) {
			let base = 0;
			for (let k = 0; k < others.length; k++) base += index[k] * stride[others[k]];
			for (let i = 1, at = base + step; i < n; i++, at += step) w[at] += w[at - step];
			for (let k = others.length - 1; k >= 0; k--) {
				if (++index[k] < shape[others[k]]) break;
				index[k] = 0;
			}
		}
		return { data, shape, stride };
	}
}
