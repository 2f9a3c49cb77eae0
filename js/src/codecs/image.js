// Image codecs: the decoder returns interleaved pixels (y, x[, samples]); a transpose follows for several samples.
import { configure, itemSize, product, readOnly, VirtualGeoTiffCodecError } from "../chunk.js";
import { jsquashDecoder } from "../wasm.js";

/**
 * Keep the first `channels` of every RGBA pixel.
 * @param {Uint8ClampedArray | Uint8Array} rgba @param {number} pixels @param {number} channels
 */
function fromRgba(rgba, pixels, channels) {
	if (channels === 4) return new Uint8Array(rgba.buffer, rgba.byteOffset, pixels * 4).slice();
	const out = new Uint8Array(pixels * channels);
	for (let p = 0, o = 0, i = 0; p < pixels; p++, i += 4) {
		for (let c = 0; c < channels; c++) out[o++] = rgba[i + c];
	}
	return out;
}

/**
 * Samples per pixel the chunk expects, from its size and the decoded image's.
 * @param {string} codec @param {number} chunkItems @param {number} width @param {number} height
 */
function channelsOf(codec, chunkItems, width, height) {
	const channels = chunkItems / (width * height);
	if (![1, 3, 4].includes(channels)) {
		throw new VirtualGeoTiffCodecError(
			codec,
			`a ${width} x ${height} image does not fill a chunk of ${chunkItems} samples; the chunk is corrupt`,
		);
	}
	return channels;
}

const JPEG = "virtual_geotiff.jpeg";
const JCS_GRAYSCALE = 1;
const JCS_RGB = 2;
// APP14 "Adobe" segment, transform 0: tells libjpeg a 3-component stream is RGB (not YCbCr).
const ADOBE_RGB = Uint8Array.from([
	0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00,
]);

/** @param {Uint8Array} bytes @param {number} marker */
function hasMarker(bytes, marker) {
	for (let i = 2; i + 3 < bytes.length; ) {
		if (bytes[i] !== 0xff) return false;
		const m = bytes[i + 1];
		if (m === marker) return true;
		if (m === 0xda) return false; // start of scan: no more header segments
		i += 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
	}
	return false;
}

/** @param {Uint8Array} bytes */
function isJfif(bytes) {
	return new TextDecoder("latin1").decode(bytes.subarray(0, 32)).includes("JFIF");
}

export class JpegCodec {
	kind = "bytes_to_bytes";
	encode = readOnly(JPEG);

	/**
	 * @param {{tables?: string|null, colorspace?: number|string|null, outcolorspace?: number|string|null, bits?: number}} config
	 * @param {{dataType: string, shape: number[]}} meta
	 */
	constructor(config, meta) {
		const c = configure(JPEG, config, { tables: null, colorspace: null, outcolorspace: null, bits: 8 });
		if (c.bits !== 8) {
			throw new VirtualGeoTiffCodecError(JPEG, `${c.bits}-bit JPEG has no JavaScript decoder here; read it with Python`);
		}
		if (![null, JCS_GRAYSCALE, JCS_RGB].includes(c.outcolorspace) || ![null, JCS_RGB].includes(c.colorspace)) {
			throw new VirtualGeoTiffCodecError(
				JPEG,
				`colour spaces ${c.colorspace} -> ${c.outcolorspace} (CMYK, YCCK, ...) are decoded by Python only`,
			);
		}
		this.tables = c.tables ? Uint8Array.from(atob(c.tables), (ch) => ch.charCodeAt(0)) : null;
		this.colorspace = c.colorspace;
		this.outcolorspace = c.outcolorspace;
		this.items = product(meta.shape);
	}

	/** @param {any} config @param {any} meta */
	static fromConfig(config, meta) {
		return new JpegCodec(config, meta);
	}

	/**
	 * The chunk as a complete JPEG stream: the JPEGTables segments spliced in after its SOI (as libtiff loads
	 * them first), and an Adobe RGB marker when the TIFF says the components are RGB.
	 * @param {Uint8Array} bytes
	 */
	stream(bytes) {
		const parts = [bytes.subarray(0, 2)];
		if (this.colorspace === JCS_RGB && !isJfif(bytes) && !hasMarker(bytes, 0xee)) parts.push(ADOBE_RGB);
		if (this.tables) parts.push(this.tables.subarray(2, this.tables.length - 2));
		parts.push(bytes.subarray(2));
		const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
		let o = 0;
		for (const p of parts) {
			out.set(p, o);
			o += p.length;
		}
		return out;
	}

	/** @param {Uint8Array} bytes */
	async decode(bytes) {
		const decode = await jsquashDecoder("jpeg");
		const image = await decode(this.stream(bytes).buffer);
		const channels = channelsOf(JPEG, this.items, image.width, image.height);
		if (channels === 4) throw new VirtualGeoTiffCodecError(JPEG, "4-component JPEG (CMYK) is decoded by Python only");
		return fromRgba(image.data, image.width * image.height, channels);
	}
}

const WEBP = "virtual_geotiff.webp";

export class WebpCodec {
	kind = "bytes_to_bytes";
	encode = readOnly(WEBP);

	/** @param {unknown} config @param {{dataType: string, shape: number[]}} meta */
	constructor(config, meta) {
		configure(WEBP, config, { alpha: false }); // libwebp decodes to RGBA: a stream without alpha gets 255
		this.items = product(meta.shape);
	}

	/** @param {any} config @param {any} meta */
	static fromConfig(config, meta) {
		return new WebpCodec(config, meta);
	}

	/** @param {Uint8Array} bytes */
	async decode(bytes) {
		const decode = await jsquashDecoder("webp");
		const image = await decode(bytes.slice().buffer);
		return fromRgba(image.data, image.width * image.height, channelsOf(WEBP, this.items, image.width, image.height));
	}
}

const PNG = "virtual_geotiff.png";

export class PngCodec {
	kind = "bytes_to_bytes";
	encode = readOnly(PNG);

	/** @param {unknown} config @param {{dataType: string, shape: number[]}} meta */
	constructor(config, meta) {
		configure(PNG, config, {});
		this.bytes = product(meta.shape) * itemSize(PNG, meta.dataType);
	}

	/** @param {any} config @param {any} meta */
	static fromConfig(config, meta) {
		return new PngCodec(config, meta);
	}

	/** @param {Uint8Array} bytes */
	async decode(bytes) {
		const { decode } = await import("fast-png");
		const image = decode(bytes);
		if (image.palette) throw new VirtualGeoTiffCodecError(PNG, "palette PNG is not a TIFF PNG tile");
		const data = image.data; // Uint8Array, or Uint16Array (native order) for 16-bit PNG
		const out = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
		if (out.length !== this.bytes) {
			throw new VirtualGeoTiffCodecError(PNG, `decoded ${out.length} bytes, a chunk holds ${this.bytes}`);
		}
		return out;
	}
}

/**
 * A codec with no JavaScript decoder in this package: registered so that a read fails with a message naming
 * the codec and the way out, instead of zarrita's generic UnknownCodecError.
 * @param {string} name
 * @param {"bytes_to_bytes" | "array_to_bytes"} [kind] its place in the chain (complex_int and libtiff replace `bytes`)
 */
export function pythonOnly(name, kind = "bytes_to_bytes") {
	return class PythonOnlyCodec {
		kind = kind;
		encode = readOnly(name);
		static fromConfig() {
			return new PythonOnlyCodec();
		}
		async decode() {
			throw new VirtualGeoTiffCodecError(
				name,
				"has no JavaScript decoder in @virtual-geotiff/zarr-codecs; read this array with the Python package " +
					(name === "virtual_geotiff.libtiff"
						? "virtual-geotiff and its libtiff extra (pip install 'virtual-geotiff[libtiff]')"
						: "virtual-geotiff") +
					", or rewrite the source with a codec listed as portable",
			);
		}
	};
}
