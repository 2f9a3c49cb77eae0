// virtual_geotiff.mask_8bit: GDAL's 0/255 view of a 1-bit mask (non-zero -> 255).
import { configure, readOnly } from "../chunk.js";

const NAME = "virtual_geotiff.mask_8bit";

export class Mask8BitCodec {
	kind = "array_to_array";
	encode = readOnly(NAME);

	/** @param {unknown} config */
	constructor(config) {
		configure(NAME, config, {});
	}

	/** @param {any} config */
	static fromConfig(config) {
		return new Mask8BitCodec(config);
	}

	/** @param {{data: any, shape: number[], stride: number[]}} chunk */
	decode(chunk) {
		const data = new chunk.data.constructor(chunk.data.length);
		for (let i = 0; i < data.length; i++) data[i] = chunk.data[i] !== 0 ? 255 : 0;
		return { data, shape: chunk.shape, stride: chunk.stride };
	}
}
