// @virtual-geotiff/zarr-codecs: the virtual_geotiff.* Zarr v3 codecs for zarrita.js.
// Specification: docs/codec-specs/ of the virtual-geotiff repository.
import { BitOrderCodec } from "./codecs/bitorder.js";
import { BitUnpackCodec } from "./codecs/bitunpack.js";
import { FloatingPointPredictorCodec } from "./codecs/floating_point_predictor.js";
import { HorizontalPredictorCodec } from "./codecs/horizontal_predictor.js";
import { JpegCodec, PngCodec, pythonOnly, WebpCodec } from "./codecs/image.js";
import { LzwCodec } from "./codecs/lzw.js";
import { Mask8BitCodec } from "./codecs/mask_8bit.js";
import { PackBitsCodec } from "./codecs/packbits.js";
import { PadCodec } from "./codecs/pad.js";

export { VirtualGeoTiffCodecError } from "./chunk.js";
export {
	BitOrderCodec,
	BitUnpackCodec,
	FloatingPointPredictorCodec,
	HorizontalPredictorCodec,
	JpegCodec,
	LzwCodec,
	Mask8BitCodec,
	PackBitsCodec,
	PadCodec,
	PngCodec,
	WebpCodec,
};

/** Codecs decoded in JavaScript by this package. */
export const CODECS = Object.freeze({
	"virtual_geotiff.horizontal_predictor": HorizontalPredictorCodec,
	"virtual_geotiff.floating_point_predictor": FloatingPointPredictorCodec,
	"virtual_geotiff.pad": PadCodec,
	"virtual_geotiff.bitunpack": BitUnpackCodec,
	"virtual_geotiff.bitorder": BitOrderCodec,
	"virtual_geotiff.mask_8bit": Mask8BitCodec,
	"virtual_geotiff.packbits": PackBitsCodec,
	"virtual_geotiff.lzw": LzwCodec,
	"virtual_geotiff.jpeg": JpegCodec,
	"virtual_geotiff.webp": WebpCodec,
	"virtual_geotiff.png": PngCodec,
});

/** Codecs registered only to fail with a clear message: decode these arrays with Python virtual-geotiff. */
export const PYTHON_ONLY = Object.freeze([
	"virtual_geotiff.jpegxl",
	"virtual_geotiff.jpeg2000",
	"virtual_geotiff.lerc",
	// array->bytes: CInt16/CInt32 to complex64 (zarrita has no complex data type)
	"virtual_geotiff.complex_int",
	// array->bytes: CCITT, SGILOG, YCbCr without JPEG, ... decoded by GDAL's libtiff (Python extra [libtiff])
	"virtual_geotiff.libtiff",
]);

/** Python-only codecs that stand where `bytes` stands in the chain (array->bytes), not after it. */
const ARRAY_TO_BYTES = new Set(["virtual_geotiff.complex_int", "virtual_geotiff.libtiff"]);

/**
 * One loader function per name, created once, so registering twice leaves the registry unchanged.
 * @type {Map<string, () => Promise<unknown>>}
 */
const LOADERS = new Map(/** @type {[string, () => Promise<unknown>][]} */ ([
	...Object.entries(CODECS).map(([name, codec]) => [name, async () => codec]),
	...PYTHON_ONLY.map((name) => {
		const codec = pythonOnly(name, ARRAY_TO_BYTES.has(name) ? "array_to_bytes" : "bytes_to_bytes");
		return [name, async () => codec];
	}),
]));

/**
 * Add every virtual_geotiff codec to zarrita's codec registry (idempotent).
 * @param {{registry: Map<string, () => Promise<unknown>>} | Map<string, () => Promise<unknown>>} zarr
 *   the zarrita module (`import * as zarr from "zarrita"`) or its `registry` Map
 * @returns {string[]} the registered codec names
 */
export function register(zarr) {
	const registry = zarr instanceof Map ? zarr : zarr?.registry;
	if (!(registry instanceof Map)) {
		throw new TypeError("register(zarr) needs the zarrita module (import * as zarr from 'zarrita') or its registry");
	}
	for (const [name, load] of LOADERS) registry.set(name, load);
	return [...LOADERS.keys()];
}
