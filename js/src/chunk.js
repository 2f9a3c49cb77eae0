// Shared helpers: data types, the Zarr v3 representation shape a codec sees, C strides, the error type.

/** An error from a virtual_geotiff codec: the chunk is corrupt, or the codec cannot decode it here. */
export class VirtualGeoTiffCodecError extends Error {
	/** @param {string} codec @param {string} message */
	constructor(codec, message) {
		super(`${codec}: ${message}`);
		this.name = "VirtualGeoTiffCodecError";
		this.codec = codec;
	}
}

const TYPED = {
	int8: Int8Array,
	int16: Int16Array,
	int32: Int32Array,
	int64: BigInt64Array,
	uint8: Uint8Array,
	uint16: Uint16Array,
	uint32: Uint32Array,
	uint64: BigUint64Array,
	float32: Float32Array,
	float64: Float64Array,
};

/** Unsigned typed array of each item size: the words a wrapping sum or byte shuffle works on. */
export const UNSIGNED = { 1: Uint8Array, 2: Uint16Array, 4: Uint32Array, 8: BigUint64Array };

/**
 * The typed-array constructor of a Zarr data type name.
 * float16 needs the platform's Float16Array (Node >= 24, recent browsers), as zarrita itself does.
 * @param {string} codec @param {string} dataType
 */
export function typedArrayFor(codec, dataType) {
	if (dataType === "float16") {
		const ctr = /** @type {any} */ (globalThis).Float16Array;
		if (!ctr) throw new VirtualGeoTiffCodecError(codec, "float16 needs a platform Float16Array (Node >= 24)");
		return ctr;
	}
	const ctr = TYPED[/** @type {keyof typeof TYPED} */ (dataType)];
	if (!ctr) throw new VirtualGeoTiffCodecError(codec, `data type ${dataType} is not supported`);
	return ctr;
}

/** @param {string} codec @param {string} dataType */
export function itemSize(codec, dataType) {
	return dataType === "float16" ? 2 : typedArrayFor(codec, dataType).BYTES_PER_ELEMENT;
}

/** @param {number[]} shape */
export function product(shape) {
	return shape.reduce((a, b) => a * b, 1);
}

/** @param {number[]} shape */
export function cStrides(shape) {
	const stride = new Array(shape.length);
	let step = 1;
	for (let i = shape.length - 1; i >= 0; i--) {
		stride[i] = step;
		step *= shape[i];
	}
	return stride;
}

/**
 * The shape of the chunk representation codec `name` sees under the Zarr v3 specification: the chunk shape
 * permuted by every `transpose` listed before it. zarrita hands codecs the untransposed chunk shape (and
 * re-strides after decoding), so the codecs that need image rows compute it from the codec list.
 * @param {{shape: number[], codecs: {name: string, configuration?: any}[]}} meta @param {string} name
 */
export function representationShape(meta, name) {
	let shape = [...meta.shape];
	for (const codec of meta.codecs ?? []) {
		if (codec.name === name) break;
		const order = codec.name === "transpose" ? codec.configuration?.order : undefined;
		if (Array.isArray(order)) shape = order.map((axis) => shape[axis]);
	}
	return shape;
}

/**
 * Samples per image row and rows of a representation: rows are the last axis, or the last two
 * (x, samples) when `samples > 1`.
 * @param {number[]} shape @param {number} samples
 */
export function rowsOf(shape, samples) {
	const width = samples > 1 ? shape[shape.length - 2] : shape[shape.length - 1];
	const perRow = width * samples;
	return { perRow, rows: product(shape) / perRow };
}

/**
 * A typed array over `bytes`, copying when the view is not aligned to the item size.
 * @param {any} Ctr @param {Uint8Array} bytes
 */
export function view(Ctr, bytes) {
	const size = Ctr.BYTES_PER_ELEMENT;
	if (bytes.byteOffset % size !== 0) bytes = bytes.slice();
	return new Ctr(bytes.buffer, bytes.byteOffset, bytes.byteLength / size);
}

/**
 * Check and read a codec configuration: unknown fields are an error, missing ones get defaults.
 * @template {Record<string, any>} T
 * @param {string} codec @param {unknown} config @param {T} defaults @returns {T}
 */
export function configure(codec, config, defaults) {
	const given = /** @type {Record<string, any>} */ (config ?? {});
	for (const key of Object.keys(given)) {
		if (!(key in defaults)) throw new VirtualGeoTiffCodecError(codec, `unknown configuration field ${key}`);
	}
	return /** @type {T} */ ({ ...defaults, ...given });
}

/** @param {string} codec */
export function readOnly(codec) {
	return () => {
		throw new VirtualGeoTiffCodecError(codec, "is read-only: it decodes existing TIFF chunks only");
	};
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
