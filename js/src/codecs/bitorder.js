// virtual_geotiff.bitorder: reverse the bits of every byte (TIFF FillOrder=2).
import { configure, readOnly } from "../chunk.js";

const NAME = "virtual_geotiff.bitorder";
const REVERSED = new Uint8Array(256).map((_, b) => {
	let r = 0;
	for (let i = 0; i < 8; i++) r |= ((b >> i) & 1) << (7 - i);
	return r;
});

export class BitOrderCodec {
	kind = "bytes_to_bytes";
	encode = readOnly(NAME);

	/** @param {unknown} config */
	constructor(config) {
		configure(NAME, config, {});
	}

	/** @param {any} config */
	static fromConfig(config) {
		return new BitOrderCodec(config);
	}

	/** @param {Uint8Array} bytes */
	async decode(bytes) {
		const out = new Uint8Array(bytes.length);
		for (let i = 0; i < bytes.length; i++) out[i] = REVERSED[bytes[i]];
		return out;
	}
}
